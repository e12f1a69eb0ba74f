/**
 * The server side of SPDY/3.1 framing, as much as kubectl's port-forward uses: streams the client
 * opens (SYN_STREAM, answered with SYN_REPLY), data frames with FIN, RST_STREAM, PING (echoed),
 * SETTINGS, WINDOW_UPDATE and GOAWAY (read and ignored). Header blocks are zlib with SPDY/3's
 * dictionary, one zlib stream per direction for the whole connection, each block sync-flushed.
 * kubectl 1.32 speaks it inside a WebSocket ("SPDY/3.1+portforward.k8s.io") or, as a fallback,
 * on the upgraded HTTP connection itself; both give this module a byte transport.
 */
import { constants as zlibConstants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";

const spdyVersion = 3;
const controlBit = 0x80;
export const flagFin = 0x01;
const typeSynStream = 1;
const typeSynReply = 2;
const typeRstStream = 3;
const typePing = 6;
const typeGoAway = 7;
const frameHeaderBytes = 8;
/** Largest frame accepted (SPDY's length field allows 16 MiB; port-forward frames are 32 KiB). */
export const frameBytesMax = 1024 * 1024;
/** Header pairs one header block may carry. */
const headerPairsMax = 64;

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

export interface SpdyTransport {
  write(bytes: Buffer): void;
  close(): void;
}

export interface SpdyStreamHandlers {
  /** A stream the client opened, with its (lowercase) headers; reply happens before this is called. */
  onStream(streamId: number, headers: ReadonlyMap<string, string>): void;
  onData(streamId: number, data: Buffer): void;
  /** The client closed its half (FIN) or reset the stream (reset true). */
  onStreamEnd(streamId: number, reset: boolean): void;
}

async function flushed(stream: Deflate | Inflate, input: Buffer): Promise<Buffer> {
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

function encodeHeaders(headers: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]?.writeUInt32BE(headers.size);
  for (const [name, value] of headers) {
    for (const text of [name, value]) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(text));
      parts.push(length, Buffer.from(text));
    }
  }
  return Buffer.concat(parts);
}

function decodeHeaders(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  let offset = 4;
  const pairs = block.readUInt32BE(0);
  if (pairs > headerPairsMax) throw new Error(`SPDY header block has ${pairs} pairs (at most ${headerPairsMax})`);
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

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header[0] = controlBit;
  header[1] = spdyVersion;
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE(payload.length, 4);
  header[4] = flags;
  return Buffer.concat([header, payload]);
}

/** One SPDY connection: feed it the client's bytes; it answers through the transport. */
export class SpdyServerSession {
  readonly #transport: SpdyTransport;
  readonly #handlers: SpdyStreamHandlers;
  readonly #inflate = createInflate({ dictionary: spdyDictionary() });
  readonly #deflate = createDeflate({ dictionary: spdyDictionary() });
  #buffered = Buffer.alloc(0);
  /** Frames are handled one at a time: header blocks share one zlib stream each way. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(transport: SpdyTransport, handlers: SpdyStreamHandlers) {
    this.#transport = transport;
    this.#handlers = handlers;
  }

  received(bytes: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, bytes]);
    while (this.#buffered.length >= frameHeaderBytes) {
      const length = this.#buffered.readUInt32BE(4) & 0xffffff;
      if (length > frameBytesMax) return this.close();
      if (this.#buffered.length < frameHeaderBytes + length) return;
      const frame = this.#buffered.subarray(0, frameHeaderBytes + length);
      this.#buffered = this.#buffered.subarray(frameHeaderBytes + length);
      this.#queue = this.#queue.then(async () => this.#frame(frame)).catch(() => this.close());
    }
  }

  async #frame(frame: Buffer): Promise<void> {
    if (this.#closed) return;
    const flags = frame[4] ?? 0;
    const payload = frame.subarray(frameHeaderBytes);
    if (((frame[0] ?? 0) & controlBit) === 0) {
      const streamId = frame.readUInt32BE(0) & 0x7fffffff;
      if (payload.length > 0) this.#handlers.onData(streamId, Buffer.from(payload));
      if ((flags & flagFin) !== 0) this.#handlers.onStreamEnd(streamId, false);
      return;
    }
    const type = frame.readUInt16BE(2);
    if (type === typeSynStream) {
      const streamId = payload.readUInt32BE(0) & 0x7fffffff;
      const headers = decodeHeaders(await flushed(this.#inflate, payload.subarray(10)));
      await this.#reply(streamId);
      this.#handlers.onStream(streamId, headers);
      if ((flags & flagFin) !== 0) this.#handlers.onStreamEnd(streamId, false);
    } else if (type === typeRstStream) {
      this.#handlers.onStreamEnd(payload.readUInt32BE(0) & 0x7fffffff, true);
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
    const block = await flushed(this.#deflate, encodeHeaders(new Map()));
    this.#transport.write(controlFrame(typeSynReply, 0, Buffer.concat([id, block])));
  }

  /** Data to the client on a stream; fin closes the server's half. */
  send(streamId: number, data: Buffer, fin = false): void {
    if (this.#closed) return;
    for (let offset = 0; offset < data.length || (offset === 0 && fin); ) {
      const chunk = data.subarray(offset, offset + frameBytesMax);
      offset += Math.max(chunk.length, 1);
      const last = offset >= data.length;
      const header = Buffer.alloc(frameHeaderBytes);
      header.writeUInt32BE(streamId & 0x7fffffff, 0);
      header.writeUInt32BE(chunk.length, 4);
      header[4] = fin && last ? flagFin : 0;
      this.#transport.write(Buffer.concat([header, chunk]));
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
