/**
 * The server side of SPDY/3.1 framing, as much as kubectl's port-forward uses: streams the client
 * opens (SYN_STREAM, answered with SYN_REPLY), data frames with FIN, RST_STREAM, PING (echoed),
 * SETTINGS, WINDOW_UPDATE and GOAWAY (read and ignored). Header blocks are zlib with SPDY/3's
 * dictionary, one zlib stream per direction for the whole connection, each block sync-flushed.
 * kubectl 1.32 speaks it inside a WebSocket ("SPDY/3.1+portforward.k8s.io") or, as a fallback,
 * on the upgraded HTTP connection itself; both give this module a byte transport. The frame
 * layer itself is libs/spdy.
 */
import { createDeflate, createInflate } from "node:zlib";
import {
  controlFrame,
  dataFrame,
  decodeHeaders,
  deliverDataFrame,
  encodeHeaders,
  flagFin,
  frameHeaderBytes,
  isControlFrame,
  SpdyFrameReader,
  spdyDictionary,
  streamIdAt,
  synStreamPrefixBytes,
  syncFlushed,
  typeGoAway,
  typePing,
  typeRstStream,
  typeSynReply,
  typeSynStream,
} from "../../../libs/spdy/index.ts";
import type { SpdyDataHandlers } from "../../../libs/spdy/index.ts";

/** Largest frame accepted (SPDY's length field allows 16 MiB; port-forward frames are 32 KiB). */
export const frameBytesMax = 1024 * 1024;
/** Header pairs one header block may carry. */
const headerPairsMax = 64;

export interface SpdyTransport {
  write(bytes: Buffer): void;
  close(): void;
}

export interface SpdyStreamHandlers extends SpdyDataHandlers {
  /** A stream the client opened, with its (lowercase) headers; reply happens before this is called. */
  onStream(streamId: number, headers: ReadonlyMap<string, string>): void;
}

/** One SPDY connection: feed it the client's bytes; it answers through the transport. */
export class SpdyServerSession {
  readonly #transport: SpdyTransport;
  readonly #handlers: SpdyStreamHandlers;
  readonly #inflate = createInflate({ dictionary: spdyDictionary() });
  readonly #deflate = createDeflate({ dictionary: spdyDictionary() });
  readonly #reader = new SpdyFrameReader(frameBytesMax);
  /** Frames are handled one at a time: header blocks share one zlib stream each way. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(transport: SpdyTransport, handlers: SpdyStreamHandlers) {
    this.#transport = transport;
    this.#handlers = handlers;
  }

  received(bytes: Buffer): void {
    const within = this.#reader.read(bytes, (frame) => {
      this.#queue = this.#queue.then(async () => this.#frame(frame)).catch(() => this.close());
    });
    if (!within) this.close();
  }

  async #frame(frame: Buffer): Promise<void> {
    if (this.#closed) return;
    const flags = frame[4] ?? 0;
    const payload = frame.subarray(frameHeaderBytes);
    if (!isControlFrame(frame)) return deliverDataFrame(frame, this.#handlers);
    const type = frame.readUInt16BE(2);
    if (type === typeSynStream) {
      const streamId = streamIdAt(payload, 0);
      const headers = decodeHeaders(await syncFlushed(this.#inflate, payload.subarray(synStreamPrefixBytes)), headerPairsMax);
      await this.#reply(streamId);
      this.#handlers.onStream(streamId, headers);
      if ((flags & flagFin) !== 0) this.#handlers.onStreamEnd(streamId, false);
    } else if (type === typeRstStream) {
      this.#handlers.onStreamEnd(streamIdAt(payload, 0), true);
    } else if (type === typePing) {
      this.#transport.write(controlFrame(typePing, 0, Buffer.from(payload)));
    } else if (type === typeGoAway) {
      this.close();
    }
    // SETTINGS, WINDOW_UPDATE, HEADERS: nothing this server needs from them.
  }

  async #reply(streamId: number): Promise<void> {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(streamId);
    const block = await syncFlushed(this.#deflate, encodeHeaders(new Map()));
    this.#transport.write(controlFrame(typeSynReply, 0, Buffer.concat([id, block])));
  }

  /** Data to the client on a stream; fin closes the server's half. */
  send(streamId: number, data: Buffer, fin = false): void {
    if (this.#closed) return;
    for (let offset = 0; offset < data.length || (offset === 0 && fin); ) {
      const chunk = data.subarray(offset, offset + frameBytesMax);
      offset += Math.max(chunk.length, 1);
      this.#transport.write(dataFrame(streamId, chunk, fin && offset >= data.length));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inflate.close();
    this.#deflate.close();
    this.#transport.close();
  }
}
