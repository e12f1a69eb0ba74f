/**
 * The errors the store returns to clients, with etcd's gRPC status codes and message texts:
 * clients (clientv3, etcdctl, the etcd3 npm package) recognise errors by these exact strings.
 * Mapped to gRPC statuses only at the API edge.
 */
import { status as grpcStatus, type ServiceError, Metadata } from "@grpc/grpc-js";

export class EtcdError extends Error {
  readonly code: grpcStatus;
  constructor(code: grpcStatus, message: string) {
    super(message);
    this.name = "EtcdError";
    this.code = code;
  }
}

const error = (code: grpcStatus, message: string) => new EtcdError(code, message);

export const etcdErrors = {
  emptyKey: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: key is not provided"),
  keyNotFound: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: key not found"),
  valueProvided: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: value is provided"),
  leaseProvided: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: lease is provided"),
  tooManyOps: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"),
  duplicateKey: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"),
  compacted: error(grpcStatus.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"),
  futureRevision: error(grpcStatus.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"),
  noSpace: error(grpcStatus.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"),
  leaseNotFound: error(grpcStatus.NOT_FOUND, "etcdserver: requested lease not found"),
  leaseExists: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: lease already exists"),
  leaseTtlTooLarge: error(grpcStatus.OUT_OF_RANGE, "etcdserver: too large lease TTL"),
  memberExists: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: member ID already exist"),
  peerUrlExists: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"),
  memberNotEnoughStarted: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: re-configuration failed due to not enough started members"),
  memberBadUrls: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid"),
  memberNotFound: error(grpcStatus.NOT_FOUND, "etcdserver: member not found"),
  memberNotLearner: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"),
  learnerNotReady: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member which is in sync with leader"),
  tooManyLearners: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster"),
  requestTooLarge: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: request is too large"),
  tooManyRequests: error(grpcStatus.RESOURCE_EXHAUSTED, "etcdserver: too many requests"),
  noLeader: error(grpcStatus.UNAVAILABLE, "etcdserver: no leader"),
  notLeader: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: not leader"),
  leaderChanged: error(grpcStatus.UNAVAILABLE, "etcdserver: leader changed"),
  stopped: error(grpcStatus.UNAVAILABLE, "etcdserver: server stopped"),
  timeout: error(grpcStatus.UNAVAILABLE, "etcdserver: request timed out"),
  timeoutDueToLeaderFail: error(grpcStatus.UNAVAILABLE, "etcdserver: request timed out, possibly due to previous leader failure"),
  unhealthy: error(grpcStatus.UNAVAILABLE, "etcdserver: unhealthy cluster"),
  corrupt: error(grpcStatus.DATA_LOSS, "etcdserver: corrupt cluster"),
  notSupportedForLearner: error(grpcStatus.UNAVAILABLE, "etcdserver: rpc not supported for learner"),
  badLeaderTransferee: error(grpcStatus.FAILED_PRECONDITION, "etcdserver: bad leader transferee"),
  leaderTransferTimeout: error(grpcStatus.UNAVAILABLE, "etcdserver: request timed out, leader transfer took too long"),
  ttlZero: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: ttl is 0"),
  /** Ours: etcd ignores an unknown alarm type; we say so instead of doing nothing. */
  alarmUnknown: error(grpcStatus.INVALID_ARGUMENT, "etcdserver: unknown alarm type (want NOSPACE or CORRUPT)"),
} as const;

/** A gRPC ServiceError for grpc-js callbacks; anything that is not an EtcdError becomes UNKNOWN. */
export function toServiceError(cause: unknown): Partial<ServiceError> {
  if (cause instanceof EtcdError) return { code: cause.code, details: cause.message, metadata: new Metadata() };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code: grpcStatus.UNKNOWN, details: message, metadata: new Metadata() };
}
