/**
 * libs/mvcc: etcd v3's multi-version key space, applied from committed Raft entries. Pure and
 * deterministic; the caller persists the records each write returns. See README.md.
 */
export { bytesOf, bytesToBinary, binaryToBytes, compareBytes, prefixRangeEnd } from "./bytes.ts";
export { crc32c } from "../crc32c/index.ts";
export { CorruptDataError, GrpcCode, isMvccError, MvccError, type MvccErrorKind } from "./errors.ts";
export { leaseTtlSecondsMax, minLeaseTtlSeconds } from "./lessor.ts";
export type { RestoreReport } from "./restore.ts";
export { snapshotFormatVersion } from "./snapshot.ts";
export { MvccStore, type MvccStoreOptions } from "./store.ts";
export {
  checkDuplicateKeys,
  txnOpsMaxDefault,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "./txn.ts";
export {
  CompareResult,
  CompareTarget,
  EventType,
  SortOrder,
  SortTarget,
  type Bucket,
  type Compare,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  type HashKvResult,
  type HashResult,
  type KeyValue,
  type LeaseCheckpoint,
  type LeaseCheckpointResponse,
  type LeaseGrantResponse,
  type LeaseInfo,
  type LeaseRevokeResponse,
  type LeaseTimeToLive,
  type PersistRecord,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type StoredRecord,
  type TxnRequest,
  type TxnResponse,
  type WriteResult,
} from "./types.ts";
export {
  watchHubDefaults,
  WatchFilterType,
  WatchHub,
  type WatchCreateRequest,
  type WatchHubOptions,
  type WatchHubStats,
  type WatchResponse,
} from "./watch.ts";
