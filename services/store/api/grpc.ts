/** Small adapters between grpc-js callbacks and async handlers that throw EtcdErrors. */
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import type { Logger } from "../../../libs/log/index.ts";
import { EtcdError, toServiceError } from "../errors.ts";

/** Wraps an async unary handler: its result or its EtcdError goes back to the client. */
export function unary<Request, Response>(logger: Logger, method: string, handler: (request: Request) => Promise<Response>) {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    handler(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        if (!(error instanceof EtcdError)) logger.error({ err: error, method }, "request failed unexpectedly");
        callback(toServiceError(error), null);
      },
    );
  };
}
