/**
 * The key space's data types, mirroring etcd's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto
 * field for field (camelCase, as protobufjs names them) with two deliberate changes: int64
 * revisions, versions and counts are safe-integer numbers (2^53 revisions is ample), and lease ids
 * are bigint because etcd draws them from the whole int64 range. Lease 0n means "no lease".
 * Everything handed out is shared with the store's memory: callers must never mutate it.
 */

export interface KeyValue {
  readonly key: Uint8Array;
  /** Revision of the put that created the key's current life (0 in a DELETE event). */
  readonly createRevision: number;
  readonly modRevision: number;
  /** 1 for the creating put, +1 per put since; a delete resets it (0 in a DELETE event). */
  readonly version: number;
  readonly value: Uint8Array;
  readonly lease: bigint;
}

export interface ResponseHeader {
  /** The store revision the response reflects; cluster id, member id and raft term are the caller's. */
  readonly revision: number;
}

export enum SortOrder {
  None = 0,
  Ascend = 1,
  Descend = 2,
}

export enum SortTarget {
  Key = 0,
  Version = 1,
  Create = 2,
  Mod = 3,
  Value = 4,
}

export interface RangeRequest {
  readonly key: Uint8Array;
  /** Absent or empty: the single key. "\0": every key >= key. Otherwise the exclusive end. */
  readonly rangeEnd?: Uint8Array;
  /** 0 or negative: no limit. */
  readonly limit?: number;
  /** 0: the current revision. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  /** Accepted for shape compatibility; read consistency is the caller's business. */
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface RangeResponse {
  readonly header: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  /** True when `limit` cut the result short. */
  readonly more: boolean;
  /** Keys in the range at the read revision, before limit and before the revision filters. */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly lease?: bigint;
  readonly prevKv?: boolean;
  readonly ignoreValue?: boolean;
  readonly ignoreLease?: boolean;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prevKv?: boolean;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export enum CompareResult {
  Equal = 0,
  Greater = 1,
  Less = 2,
  NotEqual = 3,
}

export enum CompareTarget {
  Version = 0,
  Create = 1,
  Mod = 2,
  Value = 3,
  Lease = 4,
}

/** The operand is the field named after `target` (etcd's target_union); a missing one is zero/empty. */
export interface Compare {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly version?: number;
  readonly createRevision?: number;
  readonly modRevision?: number;
  readonly value?: Uint8Array;
  readonly lease?: bigint;
}

export type RequestOp =
  | { readonly requestRange: RangeRequest }
  | { readonly requestPut: PutRequest }
  | { readonly requestDeleteRange: DeleteRangeRequest }
  | { readonly requestTxn: TxnRequest };

export type ResponseOp =
  | { readonly responseRange: RangeResponse }
  | { readonly responsePut: PutResponse }
  | { readonly responseDeleteRange: DeleteRangeResponse }
  | { readonly responseTxn: TxnResponse };

export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly RequestOp[];
  readonly failure?: readonly RequestOp[];
}

export interface TxnResponse {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionResponse {
  readonly header: ResponseHeader;
}

export enum EventType {
  Put = 0,
  Delete = 1,
}

export interface Event {
  readonly type: EventType;
  /** For DELETE: only key and modRevision (the deleting revision) are set, as in etcd. */
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

/** Where a persisted record lives; the caller maps buckets to its own key prefixes or sublevels. */
export type Bucket = "key" | "lease" | "meta";

export type PersistRecord =
  | { readonly op: "put"; readonly bucket: Bucket; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: "del"; readonly bucket: Bucket; readonly key: Uint8Array };

/** One stored entry as read back from disk for restore(). */
export interface StoredRecord {
  readonly bucket: Bucket;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * What an applied write hands back: the client's response, the events for the watch hub (in
 * revision order) and the records to write in the same batch as the applied index.
 */
export interface WriteResult<Response> {
  readonly response: Response;
  readonly events: readonly Event[];
  readonly records: readonly PersistRecord[];
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** The granted TTL after the minimum-TTL rule. */
  readonly ttlSeconds: number;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

export interface LeaseCheckpoint {
  readonly id: bigint;
  readonly remainingTtlSeconds: number;
}

export interface LeaseCheckpointResponse {
  readonly header: ResponseHeader;
}

export interface LeaseInfo {
  readonly id: bigint;
  readonly grantedTtlSeconds: number;
  /** The last checkpointed remaining TTL; 0 when never checkpointed (etcd's remainingTTL). */
  readonly remainingTtlSeconds: number;
  readonly keyCount: number;
}

export interface LeaseTimeToLive extends LeaseInfo {
  /** The attached keys in bytewise order, or empty when keys were not asked for. */
  readonly keys: readonly Uint8Array[];
}

export interface HashKvResult {
  readonly header: ResponseHeader;
  /** CRC-32C over the key bucket as etcd computes it (comparable across members at one revision). */
  readonly hash: number;
  readonly compactRevision: number;
  readonly hashRevision: number;
}

export interface HashResult {
  readonly header: ResponseHeader;
  /** CRC-32C over every key and lease record (etcd's Maintenance.Hash, for tests and debugging). */
  readonly hash: number;
}
