/**
 * The client side of SPDY/3.1 framing, as much as port-forward needs: streams this side opens
 * (SYN_STREAM with a zlib header block, SPDY/3's dictionary, one zlib stream for the connection,
 * each block sync-flushed), DATA frames with FIN, and from the server SYN_REPLY (ignored), DATA,
 * RST_STREAM, PING (echoed) and GOAWAY. Everything sent goes through one queue so a stream's
 * data never overtakes its SYN_STREAM while its header block is being compressed.
 */
import { constants as zlibConstants, createDeflate } from "node:zlib";
import { spdyDictionary } from "../../apiserver/streaming/spdy.ts";

const spdyVersion = 3;
const controlBit = 0x80;
const flagFin = 0x01;
const typeSynStream = 1;
const typeRstStream = 3;
const typePing = 6;
const typeGoAway = 7;
const frameHeaderBytes = 8;
/** Bound on one frame, either way (the server's own bound). */
export const clientFrameBytesMax = 1024 * 1024;

export interface SpdyClientHandlers {
  onData(streamId: number, data: Buffer): void;
  /** The server closed its half (FIN) or reset the stream. */
  onStreamEnd(streamId: number, reset: boolean): void;
  onClose(): void;
}

function encodeHeaders(headers: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(headers.size);
  parts.push(count);
  for (const [name, value] of headers) {
    for (const text of [name, value]) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(text));
      parts.push(length, Buffer.from(text));
    }
  }
  return Buffer.concat(parts);
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header[0] = controlBit;
  header[1] = spdyVersion;
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE(payload.length, 4);
  header[4] = flags;
  return Buffer.concat([header, payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header.writeUInt32BE(streamId & 0x7fffffff, 0);
  header.writeUInt32BE(data.length, 4);
  header[4] = fin ? flagFin : 0;
  return Buffer.concat([header, data]);
}

export class SpdyClientSession {
  readonly #write: (bytes: Buffer) => void;
  readonly #handlers: SpdyClientHandlers;
  readonly #deflate = createDeflate({ dictionary: spdyDictionary() });
  #nextStreamId = 1;
  #buffered = Buffer.alloc(0);
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(write: (bytes: Buffer) => void, handlers: SpdyClientHandlers) {
    this.#write = write;
    this.#handlers = handlers;
  }

  async #compress(block: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer): number => chunks.push(chunk);
    this.#deflate.on("data", collect);
    try {
      await new Promise<void>((resolve) => {
        this.#deflate.write(block);
        this.#deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve());
      });
    } finally {
      this.#deflate.off("data", collect);
    }
    return Buffer.concat(chunks);
  }

  #enqueue(step: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(step).catch(() => this.close());
  }

  /** Opens a stream with these headers; returns its id at once (frames keep their order). */
  open(headers: ReadonlyMap<string, string>): number {
    const streamId = this.#nextStreamId;
    this.#nextStreamId += 2;
    this.#enqueue(async () => {
      const ids = Buffer.alloc(10);
      ids.writeUInt32BE(streamId, 0);
      const block = await this.#compress(encodeHeaders(headers));
      if (!this.#closed) this.#write(controlFrame(typeSynStream, 0, Buffer.concat([ids, block])));
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
    this.#buffered = Buffer.concat([this.#buffered, bytes]);
    while (this.#buffered.length >= frameHeaderBytes) {
      const length = this.#buffered.readUInt32BE(4) & 0xffffff;
      if (length > clientFrameBytesMax) return this.close();
      if (this.#buffered.length < frameHeaderBytes + length) return;
      const frame = this.#buffered.subarray(0, frameHeaderBytes + length);
      this.#buffered = this.#buffered.subarray(frameHeaderBytes + length);
      this.#frame(frame);
    }
  }

  #frame(frame: Buffer): void {
    const flags = frame[4] ?? 0;
    const payload = frame.subarray(frameHeaderBytes);
    if (((frame[0] ?? 0) & controlBit) === 0) {
      const streamId = frame.readUInt32BE(0) & 0x7fffffff;
      if (payload.length > 0) this.#handlers.onData(streamId, Buffer.from(payload));
      if ((flags & flagFin) !== 0) this.#handlers.onStreamEnd(streamId, false);
      return;
    }
    const type = frame.readUInt16BE(2);
    if (type === typeRstStream) this.#handlers.onStreamEnd(payload.readUInt32BE(0) & 0x7fffffff, true);
    else if (type === typePing) this.#enqueue(() => this.#write(controlFrame(typePing, 0, Buffer.from(payload))));
    else if (type === typeGoAway) this.close();
    // SYN_REPLY (the server accepts our stream), SETTINGS, WINDOW_UPDATE: nothing to do.
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deflate.close();
    this.#handlers.onClose();
  }
}
