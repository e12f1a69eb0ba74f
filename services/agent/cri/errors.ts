/**
 * Errors from the container runtime, carrying the CRI method and the gRPC status, so callers can
 * branch on kind (NotFound is "already gone" for a level-triggered agent) and logs say which call
 * failed against which socket.
 */
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";

export type RuntimeErrorKind = "NotFound" | "Unavailable" | "DeadlineExceeded" | "Other";

export class RuntimeError extends Error {
  readonly method: string;
  readonly kind: RuntimeErrorKind;
  /** gRPC status code name, e.g. "NOT_FOUND"; "" when the failure was not a gRPC status. */
  readonly grpcCode: string;

  constructor(method: string, kind: RuntimeErrorKind, grpcCode: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RuntimeError";
    this.method = method;
    this.kind = kind;
    this.grpcCode = grpcCode;
  }
}

function kindOf(code: GrpcStatus): RuntimeErrorKind {
  switch (code) {
    case GrpcStatus.NOT_FOUND:
      return "NotFound";
    case GrpcStatus.UNAVAILABLE:
      return "Unavailable";
    case GrpcStatus.DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    default:
      return "Other";
  }
}

/** Wraps a gRPC failure of `method` on `address` into a RuntimeError that says what was tried. */
export function runtimeErrorFromGrpc(method: string, address: string, timeoutMs: number, error: ServiceError): RuntimeError {
  const kind = kindOf(error.code);
  const codeName = GrpcStatus[error.code] ?? String(error.code);
  const detail = error.details === "" ? error.message : error.details;
  const hint =
    kind === "Unavailable"
      ? ` (is containerd running and listening on ${address}?)`
      : kind === "DeadlineExceeded"
        ? ` (no answer within ${timeoutMs} ms)`
        : "";
  return new RuntimeError(method, kind, codeName, `CRI ${method} on ${address}: ${codeName}: ${detail}${hint}`, { cause: error });
}

export function isNotFound(error: unknown): boolean {
  return error instanceof RuntimeError && error.kind === "NotFound";
}
