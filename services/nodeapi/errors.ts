/** The node API's refusals, each with the gRPC status it is sent as (mapped at the edge only). */
import { status as GrpcStatus } from "@grpc/grpc-js";

export class NodeApiError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
    this.name = "NodeApiError";
  }
}

export const unauthenticated = (message: string): NodeApiError => new NodeApiError(GrpcStatus.UNAUTHENTICATED, message);
export const permissionDenied = (message: string): NodeApiError => new NodeApiError(GrpcStatus.PERMISSION_DENIED, message);
export const invalidArgument = (message: string): NodeApiError => new NodeApiError(GrpcStatus.INVALID_ARGUMENT, message);
export const alreadyExists = (message: string): NodeApiError => new NodeApiError(GrpcStatus.ALREADY_EXISTS, message);
export const notFound = (message: string): NodeApiError => new NodeApiError(GrpcStatus.NOT_FOUND, message);
export const unavailable = (message: string): NodeApiError => new NodeApiError(GrpcStatus.UNAVAILABLE, message);
