/**
 * What an error from the store means for the history: did the request definitely not take
 * effect ("failed"), or may it have taken effect ("unknown")? Getting this wrong in the
 * "failed" direction hides bugs or invents them, so only errors that prove the request never
 * reached a store, or that the store refused it before proposing it, count as failed; every
 * other error is unknown. A read changes nothing, so a read that errs is simply failed.
 */
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import type { KvOperation } from "../../libs/lincheck/index.ts";

export type ErrorOutcome = "failed" | "unknown";

/** grpc-js's picker says this when the channel has no connection: the call never left. */
const noConnectionDetails = "No connection established";
/** Thrown by grpc-js when a call is started on a closed client: nothing was sent. */
const closedChannelMessage = "Channel has been shut down";

export function classifyError(kind: KvOperation["kind"], error: unknown): ErrorOutcome {
  if (kind === "get") return "failed";
  if (typeof error !== "object" || error === null) return "unknown";
  const serviceError = error as Partial<ServiceError>;
  if (serviceError.code === grpcStatus.UNAVAILABLE && typeof serviceError.details === "string" && serviceError.details.startsWith(noConnectionDetails)) {
    return "failed";
  }
  // etcd answers "etcdserver: too many requests" when its apply loop lags, before proposing.
  if (serviceError.code === grpcStatus.RESOURCE_EXHAUSTED) return "failed";
  if (error instanceof Error && serviceError.code === undefined && error.message.includes(closedChannelMessage)) return "failed";
  return "unknown";
}
