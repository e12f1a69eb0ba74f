/**
 * The client side of SPDY/3.1 framing, as much as port-forward and exec need: streams this side opens
 * (SYN_STREAM with a zlib header block, SPDY/3's dictionary, one zlib stream for the connection,
 * each block sync-flushed), DATA frames with FIN, and from the server SYN_REPLY (ignored), DATA,
 * RST_STREAM, PING (echoed) and GOAWAY. Everything sent goes through one queue so a stream's
 * data never overtakes its SYN_STREAM while its header block is being compressed.
 */
import { createDeflate } from "node:zlib";
import {
  controlFrame,
  dataFrame,
  deliverDataFrame,
  encodeHeaders,
  frameHeaderBytes,
  isControlFrame,
  SpdyFrameReader,
  spdyDictionary,
  streamIdAt,
  synStreamFrame,
  syncFlushed,
  typeGoAway,
  typePing,
  typeRstStream,
} from "./frames.ts";
import type { SpdyDataHandlers } from "./frames.ts";

/** Bound on one frame, either way (the port-forward server's own bound, and containerd's). */
export const clientFrameBytesMax = 1024 * 1024;

export interface SpdyClientHandlers extends SpdyDataHandlers {
  /** The session ended: `failed` when a frame was over the bound or a write failed. */
  onClose(failed: boolean): void;
}

export class SpdyClientSession {
  readonly #write: (bytes: Buffer) => void;
  readonly #handlers: SpdyClientHandlers;
  readonly #deflate = createDeflate({ dictionary: spdyDictionary() });
  #nextStreamId = 1;
  readonly #reader = new SpdyFrameReader(clientFrameBytesMax);
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(write: (bytes: Buffer) => void, handlers: SpdyClientHandlers) {
    this.#write = write;
    this.#handlers = handlers;
  }

  #enqueue(step: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(step).catch(() => this.#end(true));
  }

  /** Opens a stream with these headers; returns its id at once (frames keep their order). */
  open(headers: ReadonlyMap<string, string>): number {
    const streamId = this.#nextStreamId;
    this.#nextStreamId += 2;
    this.#enqueue(async () => {
      const block = await syncFlushed(this.#deflate, encodeHeaders(headers));
      if (!this.#closed) this.#write(synStreamFrame(streamId, block));
    });
    return streamId;
  }

  send(streamId: number, data: Buffer, fin = false): void {
    this.#enqueue(() => {
      for (let offset = 0; offset < data.length || (offset === 0 && fin); ) {
        const chunk = data.subarray(offset, offset + clientFrameBytesMax);
        offset += Math.max(chunk.length, 1);
        if (!this.#closed) this.#write(dataFrame(streamId, chunk, fin && offset >= data.length));
      }
    });
  }

  received(bytes: Buffer): void {
    if (!this.#reader.read(bytes, (frame) => this.#frame(frame))) this.#end(true);
  }

  #frame(frame: Buffer): void {
    const payload = frame.subarray(frameHeaderBytes);
    if (!isControlFrame(frame)) return deliverDataFrame(frame, this.#handlers);
    const type = frame.readUInt16BE(2);
    if (type === typeRstStream) this.#handlers.onStreamEnd(streamIdAt(payload, 0), true);
    else if (type === typePing) this.#enqueue(() => this.#write(controlFrame(typePing, 0, Buffer.from(payload))));
    else if (type === typeGoAway) this.close();
    // SYN_REPLY (the server accepts our stream), SETTINGS, WINDOW_UPDATE: nothing to do.
  }

  close(): void {
    this.#end(false);
  }

  #end(failed: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deflate.close();
    this.#handlers.onClose(failed);
  }
}
