/**
 * The small part of the etcd v3 API the storage layer uses, as an interface: libs/etcd-client's
 * EtcdClient satisfies it (against Flotilla's store or a real etcd), and unit tests pass an
 * in-memory fake. Also: reading the store's errors by their gRPC code and etcd's wire texts.
 */
import type {
  RangeRequest,
  RangeResponse__Output,
  ResponseHeader__Output,
  TxnRequest,
  TxnResponse__Output,
  WatchCreateRequest,
  WatchResponse__Output,
} from "../../../libs/etcdpb/index.ts";
import { assert } from "../../../libs/assert/index.ts";
import { StorageUnavailableError, TimeoutError, type StorageError } from "./errors.ts";

/** One etcd watch: its responses in order, until the stream ends (or throws when it breaks). */
export interface KvWatch extends AsyncIterable<WatchResponse__Output> {
  cancel(): void;
}

export interface KvClient {
  /** `timeoutMs` (optional) replaces the client's own deadline for this call. */
  range(request: RangeRequest, endpoint?: string, timeoutMs?: number): Promise<RangeResponse__Output>;
  txn(request: TxnRequest): Promise<TxnResponse__Output>;
  watch(create: WatchCreateRequest): KvWatch;
}

/** gRPC status codes the store answers with (google.golang.org/grpc/codes). */
const grpcCode = { deadlineExceeded: 4, outOfRange: 11, unavailable: 14 } as const;

/** etcd's texts, which clients match on (etcd's rpctypes). */
const etcdText = {
  compacted: "required revision has been compacted",
  futureRevision: "required revision is a future revision",
  timedOut: "request timed out",
} as const;

export type KvErrorKind = "compacted" | "futureRevision" | "timeout" | "unavailable" | "other";

/** What kind of failure a store call reported, from its gRPC code and etcd's message text. */
export function kvErrorKind(error: unknown): KvErrorKind {
  if (typeof error !== "object" || error === null) return "other";
  const { code, details, message } = error as { code?: unknown; details?: unknown; message?: unknown };
  const text = typeof details === "string" && details !== "" ? details : typeof message === "string" ? message : "";
  if (code === grpcCode.outOfRange && text.includes(etcdText.compacted)) return "compacted";
  if (code === grpcCode.outOfRange && text.includes(etcdText.futureRevision)) return "futureRevision";
  if (code === grpcCode.deadlineExceeded || text.includes(etcdText.timedOut)) return "timeout";
  if (code === grpcCode.unavailable) return "unavailable";
  return "other";
}

/** The storage error for a failed store call, or undefined when the caller must decide (compaction, future revision, other). */
export function transportError(error: unknown, operation: string): StorageError | undefined {
  const kind = kvErrorKind(error);
  const text = error instanceof Error ? error.message : String(error);
  if (kind === "timeout") return new TimeoutError(`${operation}: ${text}`, { cause: error });
  if (kind === "unavailable") return new StorageUnavailableError(`${operation}: ${text}`, { cause: error });
  return undefined;
}

type WireInt = string | number | null | undefined;

/** A wire int64 (a decimal string from proto-loader) as a number; revisions stay far below 2^53. */
export function wireNumber(value: WireInt): number {
  if (value === null || value === undefined || value === "") return 0;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : 0;
}

/** The revision a response reflects; etcd and Flotilla's store put a header on every response. */
export function headerRevision(header: ResponseHeader__Output | null): number {
  assert(header !== null, "store responses carry a header");
  return wireNumber(header.revision);
}
