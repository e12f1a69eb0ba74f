/**
 * The hottest unary calls of the client port (KV.Put and KV.Range) served straight from
 * node:http2 (raft/grpc-routes.ts says why and how): one length-prefixed message in, one out, the
 * status in trailers. grpc-js spends about 75 us of the leader's main thread on one unary call,
 * several times the request's own work; this path spends a fraction of that. Every other method,
 * and any request this path does not want (compressed, say), is still served by grpc-js.
 */
import type { ServerHttp2Stream } from "node:http2";
import type { Server, ServiceDefinition, ServiceError, UntypedHandleCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import { assert } from "../../../libs/assert/index.ts";
import {
  FrameReader,
  GrpcMessageTooLargeError,
  grpcFrame,
  grpcResponseHeaders,
  respondGrpcStatus,
  routeGrpcPaths,
  type GrpcRoute,
  type GrpcRouteCounters,
} from "../raft/index.ts";

/** One method served on the fast path: its path, codecs and grpc-js style unary handler. */
export interface FastUnaryMethod {
  readonly path: string;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly responseSerialize: (value: unknown) => Buffer;
  readonly handler: UntypedHandleCall;
}

export interface FastUnaryOptions {
  /** Largest request message accepted (grpc.max_receive_message_length of the server). */
  readonly receiveMessageBytesMax: number;
}

const okTrailers = { "grpc-status": "0" } as const;

/** Routes the server's calls of `methods` through the fast path; call after bindAsync(). */
export function installFastUnary(server: Server, methods: readonly FastUnaryMethod[], options: FastUnaryOptions): GrpcRouteCounters {
  const routes = new Map<string, GrpcRoute>(methods.map((method) => [method.path, (stream) => serveUnary(stream, method, options.receiveMessageBytesMax)]));
  return routeGrpcPaths(server, routes);
}

/** The methods of a service definition and its implementation named in `names`, as fast methods. */
export function fastMethods(definition: ServiceDefinition, implementation: UntypedServiceImplementation, names: readonly string[]): FastUnaryMethod[] {
  return names.map((name) => {
    const attributes = definition[name];
    const handler = implementation[name];
    assert(attributes !== undefined && handler !== undefined, "a fast method is in the service", () => name);
    assert(!attributes.requestStream && !attributes.responseStream, "a fast method is unary", () => name);
    return {
      path: attributes.path,
      requestDeserialize: attributes.requestDeserialize as (bytes: Buffer) => unknown,
      responseSerialize: attributes.responseSerialize as (value: unknown) => Buffer,
      handler,
    };
  });
}

function serveUnary(stream: ServerHttp2Stream, method: FastUnaryMethod, receiveMessageBytesMax: number): void {
  const reader = new FrameReader(receiveMessageBytesMax);
  let message: Buffer | undefined;
  let refusal: string | undefined;
  let refused = false;
  const refuse = (code: number, details: string): void => {
    refused = true;
    respondGrpcStatus(stream, code, details);
  };
  stream.on("data", (chunk: Buffer) => {
    if (refused) return;
    try {
      reader.push(chunk, (received) => {
        if (message === undefined) message = received;
        else refusal = "a unary request must carry exactly one message";
      });
    } catch (error) {
      refuse(error instanceof GrpcMessageTooLargeError ? grpcStatus.RESOURCE_EXHAUSTED : grpcStatus.INTERNAL, error instanceof Error ? error.message : String(error));
    }
  });
  stream.on("end", () => {
    if (refused) return;
    if (message === undefined || refusal !== undefined || reader.bufferedBytes > 0) {
      refuse(grpcStatus.INTERNAL, refusal ?? "a unary request must carry exactly one message");
      return;
    }
    let request: unknown;
    try {
      request = method.requestDeserialize(message);
    } catch (error) {
      refuse(grpcStatus.INTERNAL, `Error deserializing request: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    invoke(stream, method, request);
  });
}

function invoke(stream: ServerHttp2Stream, method: FastUnaryMethod, request: unknown): void {
  // The store's handlers read only `request` (api/grpc.ts unary()); the rest of grpc-js's call
  // object is not offered here.
  const call = { request };
  const callback = (error: Partial<ServiceError> | null, response?: unknown): void => {
    if (error !== null && error !== undefined) {
      respondGrpcStatus(stream, error.code ?? grpcStatus.UNKNOWN, error.details ?? error.message ?? "");
      return;
    }
    let bytes: Buffer;
    try {
      bytes = method.responseSerialize(response);
    } catch (cause) {
      respondGrpcStatus(stream, grpcStatus.INTERNAL, `Error serializing response: ${cause instanceof Error ? cause.message : String(cause)}`);
      return;
    }
    if (stream.destroyed || stream.closed || stream.headersSent) return; // the client gave up
    stream.respond(grpcResponseHeaders, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers(okTrailers));
    stream.end(grpcFrame(bytes));
  };
  (method.handler as (call: unknown, callback: unknown) => void)(call, callback);
}
