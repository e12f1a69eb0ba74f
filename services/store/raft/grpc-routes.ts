/**
 * Taking chosen gRPC paths off a grpc-js Server and serving them straight from node:http2.
 *
 * Why: grpc-js's per-call and per-message machinery (interceptor objects, metadata, a promise per
 * message for decompression, stream wrappers) costs several times what the store's own work on a
 * message costs (test/bench/store/FINDINGS.md). The hottest paths (KV.Put and KV.Range on the
 * client port, the Raft message stream on the peer port) are simple on the wire, so they are
 * served here with gRPC's own framing (grpcFrame, FrameReader), and every other stream still goes
 * to grpc-js untouched: sessions, keepalive, TLS, shutdown and the other services stay grpc-js's.
 *
 * How it hooks in: grpc-js keeps its HTTP/2 servers in a private map and serves each through one
 * 'stream' listener. routeGrpcPaths() replaces that listener with one that takes the routed paths
 * and passes everything else on. The private shape is checked here, so a grpc-js upgrade that
 * changes it fails loudly at start (and in the tests beside this file) instead of silently.
 * A request a route does not want (compressed, not POST, not application/grpc) goes to grpc-js.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Server } from "@grpc/grpc-js";
import { assert } from "../../../libs/assert/index.ts";

/** Serves one stream whose path it was registered for. */
export type GrpcRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

/** Streams taken by the routes and streams passed on to grpc-js, for tests and metrics. */
export interface GrpcRouteCounters {
  routed: number;
  passedOn: number;
}

type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => void;

interface ListenerHost {
  listeners(event: "stream"): StreamListener[];
  removeAllListeners(event: "stream"): unknown;
  on(event: "stream", listener: StreamListener): unknown;
}

/** gRPC's length prefix: one compressed-flag byte, then the length as uint32 big-endian. */
export const grpcFramePrefixBytes = 5;

/** Takes `routes` (by :path) off the server's streams; call after bindAsync(). */
export function routeGrpcPaths(server: Server, routes: ReadonlyMap<string, GrpcRoute>): GrpcRouteCounters {
  const counters: GrpcRouteCounters = { routed: 0, passedOn: 0 };
  const http2Servers: unknown = Reflect.get(server, "http2Servers");
  assert(http2Servers instanceof Map && http2Servers.size > 0, "grpc-js keeps its bound HTTP/2 servers in http2Servers");
  for (const host of (http2Servers as Map<ListenerHost, unknown>).keys()) {
    const original = host.listeners("stream");
    assert(original.length === 1, "grpc-js serves each HTTP/2 server through one stream listener", () => `${original.length} listeners`);
    const grpcJs = original[0] as StreamListener;
    host.removeAllListeners("stream");
    host.on("stream", (stream, headers, ...rest) => {
      const path = headers[":path"];
      const route = path === undefined ? undefined : routes.get(path);
      if (route === undefined || !isPlainGrpc(headers)) {
        counters.passedOn += 1;
        grpcJs.call(host, stream, headers, ...rest);
        return;
      }
      counters.routed += 1;
      // A reset from the client (deadline, cancel, a closed peer) must not become an unhandled 'error'.
      stream.on("error", () => {});
      route(stream, headers);
    });
  }
  return counters;
}

/** A plain, uncompressed gRPC POST: anything else is grpc-js's to answer (or refuse). */
function isPlainGrpc(headers: IncomingHttpHeaders): boolean {
  const contentType = headers["content-type"];
  const encoding = headers["grpc-encoding"];
  return headers[":method"] === "POST" && typeof contentType === "string" && contentType.startsWith("application/grpc") && (encoding === undefined || encoding === "identity");
}

/** One message with gRPC's length prefix, uncompressed. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(grpcFramePrefixBytes + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, grpcFramePrefixBytes);
  return frame;
}

/** A message larger than the reader's limit (answered with RESOURCE_EXHAUSTED, as grpc-js does). */
export class GrpcMessageTooLargeError extends Error {
  constructor(messageBytes: number, messageBytesMax: number) {
    super(`Received message larger than max (${messageBytes} vs ${messageBytesMax})`);
    this.name = "GrpcMessageTooLargeError";
  }
}

/**
 * Splits a stream's DATA into gRPC messages. Chunks are kept as they come and joined once a whole
 * message is there, so a large message arriving in many chunks is copied once, not once per chunk.
 */
export class FrameReader {
  readonly #messageBytesMax: number;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #neededBytes = grpcFramePrefixBytes;

  constructor(messageBytesMax: number) {
    this.#messageBytesMax = messageBytesMax;
  }

  /** Bytes of an unfinished message (or prefix) held back. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Adds a chunk and calls `onMessage` for each message it completes; throws on a bad frame. */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    this.#chunks.push(chunk);
    this.#bufferedBytes += chunk.length;
    if (this.#bufferedBytes < this.#neededBytes) return;
    const data = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#bufferedBytes);
    let offset = 0;
    this.#neededBytes = grpcFramePrefixBytes;
    while (data.length - offset >= grpcFramePrefixBytes) {
      if (data[offset] !== 0) throw new Error("compressed gRPC message without a grpc-encoding");
      const length = data.readUInt32BE(offset + 1);
      if (length > this.#messageBytesMax) throw new GrpcMessageTooLargeError(length, this.#messageBytesMax);
      if (data.length - offset - grpcFramePrefixBytes < length) {
        this.#neededBytes = grpcFramePrefixBytes + length;
        break;
      }
      onMessage(data.subarray(offset + grpcFramePrefixBytes, offset + grpcFramePrefixBytes + length));
      offset += grpcFramePrefixBytes + length;
    }
    const rest = data.subarray(offset);
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.#bufferedBytes = rest.length;
  }
}

/** Response headers of a gRPC call that will end with trailers. */
export const grpcResponseHeaders = { ":status": 200, "content-type": "application/grpc" } as const;

/** A trailers-only response (an error before any message), as grpc-js sends it. */
export function respondGrpcStatus(stream: ServerHttp2Stream, code: number, details: string, metadata: Readonly<Record<string, string>> = {}): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ...grpcResponseHeaders, ...metadata, "grpc-status": String(code), "grpc-message": encodeURI(details) }, { endStream: true });
}
