/**
 * Operating errors of the key space, with etcd's exact texts. Clients (etcdctl, the etcd3 npm
 * client, kube-apiserver) match on the gRPC message, so each error carries both etcd's internal
 * text (`message`, e.g. "mvcc: required revision has been compacted") and the text etcd puts on the
 * wire (`grpcMessage`, e.g. "etcdserver: mvcc: required revision has been compacted") with the gRPC
 * status code. Mapping to a gRPC status happens at the edge (services/store), never here.
 */

/** gRPC status codes used by the etcd v3 API (google.golang.org/grpc/codes). */
export const GrpcCode = {
  Canceled: 1,
  InvalidArgument: 3,
  ResourceExhausted: 8,
  NotFound: 5,
  FailedPrecondition: 9,
  OutOfRange: 11,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

export type MvccErrorKind =
  | "compacted"
  | "futureRevision"
  | "keyNotFound"
  | "emptyKey"
  | "valueProvided"
  | "leaseProvided"
  | "tooManyOps"
  | "duplicateKey"
  | "invalidSortOption"
  | "leaseNotFound"
  | "leaseExists"
  | "leaseTtlTooLarge"
  | "tooManyWatchers";

interface ErrorText {
  readonly message: string;
  readonly grpcMessage: string;
  readonly code: GrpcCode;
}

const errorTexts: Readonly<Record<MvccErrorKind, ErrorText>> = {
  compacted: {
    message: "mvcc: required revision has been compacted",
    grpcMessage: "etcdserver: mvcc: required revision has been compacted",
    code: GrpcCode.OutOfRange,
  },
  futureRevision: {
    message: "mvcc: required revision is a future revision",
    grpcMessage: "etcdserver: mvcc: required revision is a future revision",
    code: GrpcCode.OutOfRange,
  },
  keyNotFound: { message: "etcdserver: key not found", grpcMessage: "etcdserver: key not found", code: GrpcCode.InvalidArgument },
  emptyKey: { message: "etcdserver: key is not provided", grpcMessage: "etcdserver: key is not provided", code: GrpcCode.InvalidArgument },
  valueProvided: { message: "etcdserver: value is provided", grpcMessage: "etcdserver: value is provided", code: GrpcCode.InvalidArgument },
  leaseProvided: { message: "etcdserver: lease is provided", grpcMessage: "etcdserver: lease is provided", code: GrpcCode.InvalidArgument },
  tooManyOps: {
    message: "etcdserver: too many operations in txn request",
    grpcMessage: "etcdserver: too many operations in txn request",
    code: GrpcCode.InvalidArgument,
  },
  duplicateKey: {
    message: "etcdserver: duplicate key given in txn request",
    grpcMessage: "etcdserver: duplicate key given in txn request",
    code: GrpcCode.InvalidArgument,
  },
  invalidSortOption: {
    message: "etcdserver: invalid sort option",
    grpcMessage: "etcdserver: invalid sort option",
    code: GrpcCode.InvalidArgument,
  },
  leaseNotFound: { message: "lease not found", grpcMessage: "etcdserver: requested lease not found", code: GrpcCode.NotFound },
  leaseExists: { message: "lease already exists", grpcMessage: "etcdserver: lease already exists", code: GrpcCode.FailedPrecondition },
  leaseTtlTooLarge: { message: "too large lease TTL", grpcMessage: "etcdserver: too large lease TTL", code: GrpcCode.OutOfRange },
  // Not an etcd error (etcd has no watcher bound); worded in its style.
  tooManyWatchers: { message: "mvcc: too many watchers", grpcMessage: "etcdserver: too many watchers", code: GrpcCode.ResourceExhausted },
};

export class MvccError extends Error {
  readonly kind: MvccErrorKind;
  readonly code: GrpcCode;
  readonly grpcMessage: string;

  constructor(kind: MvccErrorKind) {
    const text = errorTexts[kind];
    super(text.message);
    this.name = "MvccError";
    this.kind = kind;
    this.code = text.code;
    this.grpcMessage = text.grpcMessage;
  }
}

export function isMvccError(error: unknown, kind?: MvccErrorKind): error is MvccError {
  return error instanceof MvccError && (kind === undefined || error.kind === kind);
}

/** A snapshot or persisted record that fails its checks: corrupt input, not a bug in this process. */
export class CorruptDataError extends Error {
  constructor(detail: string) {
    super(`mvcc: corrupt data: ${detail}`);
    this.name = "CorruptDataError";
  }
}
