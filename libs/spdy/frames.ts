/**
 * SPDY/3.1 framing shared by the API server's port-forward session, kubectl's port-forward
 * client and the agent's exec client to containerd: the protocol constants, SPDY/3's header
 * compression dictionary, header blocks (encoded, decoded, and sync-flushed through the one zlib
 * stream a connection keeps per direction), control and data frame builders, and a reader that
 * cuts a byte stream into whole frames under a size bound.
 */
import { constants as zlibConstants, type Deflate, type Inflate } from "node:zlib";

export const spdyVersion = 3;
/** High bit of a frame's first byte: set on control frames, clear on data frames. */
export const controlBit = 0x80;
export const flagFin = 0x01;
export const typeSynStream = 1;
export const typeSynReply = 2;
export const typeRstStream = 3;
export const typePing = 6;
export const typeGoAway = 7;
export const frameHeaderBytes = 8;
/** Bytes before a SYN_STREAM's header block: stream id, associated id, priority and slot. */
export const synStreamPrefixBytes = 10;
const streamIdMask = 0x7fffffff;
const frameLengthMask = 0xffffff;

/** The header names of SPDY/3's compression dictionary, each stored with a 4-byte length. */
const dictionaryWords = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding", "accept-language",
  "accept-ranges", "age", "allow", "authorization", "cache-control", "connection", "content-base", "content-encoding",
  "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type", "date", "etag",
  "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
  "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
  "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
  "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
];
/** The dictionary's raw tail: status codes, reason phrases, dates, content types. */
const dictionaryTail =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript," +
  "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

export function spdyDictionary(): Buffer {
  const parts: Buffer[] = [];
  for (const word of dictionaryWords) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(word.length);
    parts.push(length, Buffer.from(word, "latin1"));
  }
  parts.push(Buffer.from(dictionaryTail, "latin1"));
  return Buffer.concat(parts);
}

/** Writes `input` through a connection's zlib stream and returns what one sync flush yields. */
export async function syncFlushed(stream: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const collect = (chunk: Buffer): number => chunks.push(chunk);
  stream.on("data", collect);
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once("error", reject);
      stream.write(input);
      stream.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        stream.off("error", reject);
        resolve();
      });
    });
  } finally {
    stream.off("data", collect);
  }
  return Buffer.concat(chunks);
}

/** An uncompressed header block: a pair count, then each name and value with a 4-byte length. */
export function encodeHeaders(headers: Iterable<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  let pairs = 0;
  for (const pair of headers) {
    pairs += 1;
    for (const text of pair) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(text));
      parts.push(length, Buffer.from(text));
    }
  }
  const count = Buffer.alloc(4);
  count.writeUInt32BE(pairs);
  return Buffer.concat([count, ...parts]);
}

/** Reads an uncompressed header block; names are lowercased; more than `pairsMax` pairs throws. */
export function decodeHeaders(block: Buffer, pairsMax: number): Map<string, string> {
  const headers = new Map<string, string>();
  let offset = 4;
  const pairs = block.readUInt32BE(0);
  if (pairs > pairsMax) throw new Error(`SPDY header block has ${pairs} pairs (at most ${pairsMax})`);
  for (let pair = 0; pair < pairs; pair++) {
    const nameLength = block.readUInt32BE(offset);
    const name = block.subarray(offset + 4, offset + 4 + nameLength).toString("utf8");
    offset += 4 + nameLength;
    const valueLength = block.readUInt32BE(offset);
    const value = block.subarray(offset + 4, offset + 4 + valueLength).toString("utf8");
    offset += 4 + valueLength;
    headers.set(name.toLowerCase(), value);
  }
  return headers;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header[0] = controlBit;
  header[1] = spdyVersion;
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE(payload.length, 4);
  header[4] = flags;
  return Buffer.concat([header, payload]);
}

export function dataFrame(streamId: number, data: Uint8Array, fin: boolean): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header.writeUInt32BE(streamId & streamIdMask, 0);
  header.writeUInt32BE(data.length, 4);
  header[4] = fin ? flagFin : 0;
  return Buffer.concat([header, data]);
}

/** A SYN_STREAM opening `streamId` with an already compressed header block. */
export function synStreamFrame(streamId: number, compressedBlock: Buffer): Buffer {
  const prefix = Buffer.alloc(synStreamPrefixBytes);
  prefix.writeUInt32BE(streamId, 0);
  return controlFrame(typeSynStream, 0, Buffer.concat([prefix, compressedBlock]));
}

export function isControlFrame(frame: Buffer): boolean {
  return ((frame[0] ?? 0) & controlBit) !== 0;
}

/** The stream id of a data frame, or of the payload of a control frame that starts with one. */
export function streamIdAt(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) & streamIdMask;
}

/** What a session tells its user about the streams' data, whichever side opened them. */
export interface SpdyDataHandlers {
  onData(streamId: number, data: Buffer): void;
  /** The peer closed its half (FIN) or reset the stream (reset true). */
  onStreamEnd(streamId: number, reset: boolean): void;
}

/** Hands a data frame's payload (a copy, if any) and then its FIN to `handlers`. */
export function deliverDataFrame(frame: Buffer, handlers: SpdyDataHandlers): void {
  const streamId = streamIdAt(frame, 0);
  const payload = frame.subarray(frameHeaderBytes);
  if (payload.length > 0) handlers.onData(streamId, Buffer.from(payload));
  if (((frame[4] ?? 0) & flagFin) !== 0) handlers.onStreamEnd(streamId, false);
}

/** Cuts a byte stream into whole frames; a frame longer than `frameBytesMax` is refused. */
export class SpdyFrameReader {
  readonly #frameBytesMax: number;
  #buffered: Buffer = Buffer.alloc(0);

  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  /** Hands each whole frame to `onFrame` in order; false once a frame is over the bound. */
  read(bytes: Buffer, onFrame: (frame: Buffer) => void): boolean {
    this.#buffered = Buffer.concat([this.#buffered, bytes]);
    while (this.#buffered.length >= frameHeaderBytes) {
      const length = this.#buffered.readUInt32BE(4) & frameLengthMask;
      if (length > this.#frameBytesMax) return false;
      if (this.#buffered.length < frameHeaderBytes + length) return true;
      const frame = this.#buffered.subarray(0, frameHeaderBytes + length);
      this.#buffered = this.#buffered.subarray(frameHeaderBytes + length);
      onFrame(frame);
    }
    return true;
  }
}
