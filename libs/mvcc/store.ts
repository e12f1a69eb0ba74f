/**
 * MvccStore: etcd v3's KV, lease and maintenance semantics over the key space, applied from
 * committed Raft entries. Pure and deterministic: the same sequence of calls gives the same
 * responses, events and records on every member. Writes return a WriteResult whose records the
 * caller persists in the same batch as the applied index; reads return responses only. A write
 * that throws (an MvccError) has changed nothing.
 */
import { assert } from "../assert/index.ts";
import { bytesToBinary, binaryToBytes, keySpan } from "./bytes.ts";
import { encodeLease, encodeLeaseKey } from "./codec.ts";
import { Crc32c } from "../crc32c/index.ts";
import { MvccError } from "./errors.ts";
import { KeySpace, storedKey, storedValue, type WriteTxn } from "./keyspace.ts";
import { Lessor } from "./lessor.ts";
import { assembleRange, filterKvs, indexLimit, sortKvs } from "./range.ts";
import { metaRecords, restoreState, type RestoreReport } from "./restore.ts";
import { parseSnapshot, writeSnapshot } from "./snapshot.ts";
import {
  compareKeyValue,
  txnOpsMaxDefault,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "./txn.ts";
import {
  CompareTarget,
  type Compare,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type HashKvResult,
  type HashResult,
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
  type ResponseOp,
  type StoredRecord,
  type TxnRequest,
  type TxnResponse,
  type WriteResult,
} from "./types.ts";

export interface MvccStoreOptions {
  /** Grants below this get this TTL (etcd: 1.5 election timeouts); see minLeaseTtlSeconds(). */
  readonly minLeaseTtlSeconds: number;
  /** etcd's --max-txn-ops; 128 by default. */
  readonly txnOpsMax?: number;
}

/** Which branch each (nested) txn takes, decided before any write as etcd's compareToPath does. */
interface TxnPath {
  readonly succeeded: boolean;
  /** One entry per requestTxn op of the taken branch, in order. */
  readonly nested: readonly TxnPath[];
}

function chosenOps(request: TxnRequest, path: TxnPath): readonly RequestOp[] {
  return (path.succeeded ? request.success : request.failure) ?? [];
}

export class MvccStore {
  readonly #lessor: Lessor;
  readonly #space: KeySpace;
  readonly #txnOpsMax: number;
  #epoch = 0;

  constructor(options: MvccStoreOptions) {
    this.#lessor = new Lessor(options.minLeaseTtlSeconds);
    this.#space = new KeySpace(this.#lessor);
    this.#txnOpsMax = options.txnOpsMax ?? txnOpsMaxDefault;
  }

  get currentRevision(): number {
    return this.#space.currentRevision;
  }

  get compactRevision(): number {
    return this.#space.compactRevision;
  }

  /** Bumped by every restore; the watch hub resynchronises its watchers when it changes. */
  get epoch(): number {
    return this.#epoch;
  }

  /** For the watch hub (same library): history and point reads. */
  get keySpace(): KeySpace {
    return this.#space;
  }

  range(request: RangeRequest): RangeResponse {
    validateRangeRequest(request);
    assert(!this.#space.writing, "range outside a write txn");
    return this.#executeRange(request, this.#space.currentRevision);
  }

  #executeRange(request: RangeRequest, readRevision: number): RangeResponse {
    const span = keySpan(request.key, request.rangeEnd);
    const found = this.#space.rangeKeys(span, request.revision ?? 0, indexLimit(request), request.countOnly === true, readRevision);
    const kvs = sortKvs(filterKvs(found.kvs, request), request);
    return assembleRange(kvs, found.count, readRevision, request);
  }

  put(request: PutRequest): WriteResult<PutResponse> {
    validatePutRequest(request);
    this.#checkPut(request);
    return this.#write((txn) => this.#executePut(txn, request));
  }

  deleteRange(request: DeleteRangeRequest): WriteResult<DeleteRangeResponse> {
    validateDeleteRangeRequest(request);
    return this.#write((txn) => this.#executeDeleteRange(txn, request));
  }

  txn(request: TxnRequest): WriteResult<TxnResponse> {
    validateTxnRequest(request, this.#txnOpsMax);
    assert(!this.#space.writing, "txn outside a write txn");
    const path = this.#compareToPath(request);
    this.#checkTxn(request, path);
    const result = this.#write((txn) => this.#executeTxn(txn, request, path));
    // etcd: txn.Rev(), plus one when the txn wrote; after endWrite that is the current revision.
    return { ...result, response: { ...result.response, header: { revision: this.#space.currentRevision } } };
  }

  /** Runs `body` in one write txn: one revision for all its changes, none if it changed nothing. */
  #write<Response>(body: (txn: WriteTxn) => Response): WriteResult<Response> {
    const txn = this.#space.beginWrite();
    let response: Response;
    try {
      response = body(txn);
    } finally {
      this.#space.endWrite(txn);
    }
    return { response, events: txn.events, records: txn.records };
  }

  /** etcd's checkLease then checkAndGetPrevKV, against the state before any write. */
  #checkPut(request: PutRequest): void {
    const lease = request.lease ?? 0n;
    if (lease !== 0n && this.#lessor.lookup(lease) === undefined) throw new MvccError("leaseNotFound");
    if (request.ignoreValue === true || request.ignoreLease === true) {
      if (this.#space.getKey(bytesToBinary(request.key)) === undefined) throw new MvccError("keyNotFound");
    }
  }

  #executePut(txn: WriteTxn, request: PutRequest): PutResponse {
    const previous = this.#space.getKey(bytesToBinary(request.key));
    const ignoring = request.ignoreValue === true || request.ignoreLease === true;
    assert(!ignoring || previous !== undefined, "ignore_value/ignore_lease checked before the write");
    const value = request.ignoreValue === true ? (previous?.value as Uint8Array) : (request.value ?? new Uint8Array(0));
    const lease = request.ignoreLease === true ? (previous?.lease as bigint) : (request.lease ?? 0n);
    this.#space.put(txn, request.key, value, lease);
    const header = { revision: txn.beginRevision + 1 };
    return request.prevKv === true && previous !== undefined ? { header, prevKv: previous } : { header };
  }

  #executeDeleteRange(txn: WriteTxn, request: DeleteRangeRequest): DeleteRangeResponse {
    const keyIndexes = this.#space.liveKeyIndexes(keySpan(request.key, request.rangeEnd));
    const prevKvs = request.prevKv === true ? keyIndexes.map((keyIndex) => keyIndex.currentKv).filter((kv) => kv !== undefined) : [];
    for (const keyIndex of keyIndexes) this.#space.deleteKey(txn, keyIndex);
    const revision = keyIndexes.length > 0 || txn.changes > 0 ? txn.beginRevision + 1 : txn.beginRevision;
    return { header: { revision }, deleted: keyIndexes.length, prevKvs };
  }

  #compareToPath(request: TxnRequest): TxnPath {
    const succeeded = (request.compare ?? []).every((comparison) => this.#applyCompare(comparison));
    const ops = (succeeded ? request.success : request.failure) ?? [];
    const nested = ops.flatMap((op) => ("requestTxn" in op ? [this.#compareToPath(op.requestTxn)] : []));
    return { succeeded, nested };
  }

  /** etcd's applyCompare: every key of the range must satisfy it; a missing key is all zeros. */
  #applyCompare(comparison: Compare): boolean {
    const span = keySpan(comparison.key, comparison.rangeEnd);
    const current = this.#space.currentRevision;
    const kvs = this.#space.rangeKeys(span, 0, 0, false, current).kvs;
    if (kvs.length === 0) {
      // There is no way to tell a missing value from an empty one, so value compares fail.
      if (comparison.target === CompareTarget.Value) return false;
      return compareKeyValue(comparison, { key: comparison.key, createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n });
    }
    return kvs.every((kv) => compareKeyValue(comparison, kv));
  }

  /** etcd's checkTxn: fails the whole txn before any write. */
  #checkTxn(request: TxnRequest, path: TxnPath): void {
    let nestedIndex = 0;
    for (const op of chosenOps(request, path)) {
      if ("requestRange" in op) this.#checkRangeRevision(op.requestRange.revision ?? 0);
      else if ("requestPut" in op) this.#checkPut(op.requestPut);
      else if ("requestTxn" in op) this.#checkTxn(op.requestTxn, path.nested[nestedIndex++] as TxnPath);
    }
  }

  #checkRangeRevision(revision: number): void {
    if (revision === 0) return;
    if (revision > this.#space.currentRevision) throw new MvccError("futureRevision");
    if (revision < this.#space.compactRevision) throw new MvccError("compacted");
  }

  #executeTxn(txn: WriteTxn, request: TxnRequest, path: TxnPath): TxnResponse {
    let nestedIndex = 0;
    const responses: ResponseOp[] = chosenOps(request, path).map((op): ResponseOp => {
      if ("requestRange" in op) return { responseRange: this.#executeRange(op.requestRange, txn.readRevision) };
      if ("requestPut" in op) return { responsePut: this.#executePut(txn, op.requestPut) };
      if ("requestDeleteRange" in op) return { responseDeleteRange: this.#executeDeleteRange(txn, op.requestDeleteRange) };
      const nestedPath = path.nested[nestedIndex++] as TxnPath;
      return { responseTxn: this.#executeTxn(txn, op.requestTxn, nestedPath) };
    });
    // Like etcd, only the outermost txn response gets a header revision; nested ones keep 0.
    return { header: { revision: 0 }, succeeded: path.succeeded, responses };
  }

  compact(revision: number): WriteResult<CompactionResponse> {
    const records = this.#space.compact(revision);
    return { response: { header: { revision: this.#space.currentRevision } }, events: [], records };
  }

  leaseGrant(id: bigint, ttlSeconds: number): WriteResult<LeaseGrantResponse> {
    const lease = this.#lessor.grant(id, ttlSeconds);
    const record: PersistRecord = { op: "put", bucket: "lease", key: encodeLeaseKey(id), value: encodeLease(lease) };
    const response = { header: { revision: this.#space.currentRevision }, id, ttlSeconds: lease.ttlSeconds };
    return { response, events: [], records: [record] };
  }

  /** Deletes the lease's keys in one revision (in key order, as etcd) and the lease with them. */
  leaseRevoke(id: bigint): WriteResult<LeaseRevokeResponse> {
    const lease = this.#lessor.lookup(id);
    if (lease === undefined) throw new MvccError("leaseNotFound");
    const keys = [...lease.keys].sort();
    const result = this.#write((txn) => {
      for (const key of keys) {
        const keyIndexes = this.#space.liveKeyIndexes({ start: key, end: null });
        assert(keyIndexes.length === 1, "a lease's keys are live");
        this.#space.deleteKey(txn, keyIndexes[0] as (typeof keyIndexes)[0]);
      }
      this.#lessor.remove(id);
      txn.records.push({ op: "del", bucket: "lease", key: encodeLeaseKey(id) });
    });
    return { ...result, response: { header: { revision: this.#space.currentRevision } } };
  }

  /** Records remaining TTLs the leader reported; unknown leases are skipped, as in etcd. */
  leaseCheckpoint(checkpoints: readonly LeaseCheckpoint[]): WriteResult<LeaseCheckpointResponse> {
    const records: PersistRecord[] = [];
    for (const checkpoint of checkpoints) {
      const lease = this.#lessor.lookup(checkpoint.id);
      if (lease === undefined) continue;
      lease.remainingTtlSeconds = checkpoint.remainingTtlSeconds;
      records.push({ op: "put", bucket: "lease", key: encodeLeaseKey(lease.id), value: encodeLease(lease) });
    }
    return { response: { header: { revision: this.#space.currentRevision } }, events: [], records };
  }

  /** Undefined for an unknown lease (the service answers TTL -1, as etcd does). */
  leaseTimeToLive(id: bigint, withKeys: boolean): LeaseTimeToLive | undefined {
    const lease = this.#lessor.lookup(id);
    if (lease === undefined) return undefined;
    const keys = withKeys ? [...lease.keys].sort().map(binaryToBytes) : [];
    return { id, grantedTtlSeconds: lease.ttlSeconds, remainingTtlSeconds: lease.remainingTtlSeconds, keyCount: lease.keys.size, keys };
  }

  /** Every lease ordered by id; what a new leader needs to arm expiry deadlines. */
  leases(): LeaseInfo[] {
    return this.#lessor.all().map((lease) => ({
      id: lease.id,
      grantedTtlSeconds: lease.ttlSeconds,
      remainingTtlSeconds: lease.remainingTtlSeconds,
      keyCount: lease.keys.size,
    }));
  }

  /** The lease a live key is attached to (0n when none or when the key is absent). */
  leaseOfKey(key: Uint8Array): bigint {
    return this.#space.getKey(bytesToBinary(key))?.lease ?? 0n;
  }

  hashKv(revision: number): HashKvResult {
    const result = this.#space.hashKv(revision);
    return { header: { revision: this.#space.currentRevision }, ...result };
  }

  /** CRC-32C over the key bucket then the lease bucket, each prefixed with its name. */
  hash(): HashResult {
    const crc = new Crc32c();
    for (const record of this.storedRecords()) {
      if (record.bucket === "meta") continue;
      crc.update(record.key).update(record.value);
    }
    return { header: { revision: this.#space.currentRevision }, hash: crc.digest() };
  }

  /** Everything the caller's database should hold: key bucket in revision order, leases, meta. */
  storedRecords(): StoredRecord[] {
    const records: StoredRecord[] = this.#space.history.map((record) => ({ bucket: "key", key: storedKey(record), value: storedValue(record) }));
    for (const lease of this.#lessor.all()) records.push({ bucket: "lease", key: encodeLeaseKey(lease.id), value: encodeLease(lease) });
    return records.concat(metaRecords(this.#space.currentRevision, this.#space.compactRevision));
  }

  /**
   * Rebuilds memory from the caller's database after a restart. The report's `cleanup` records
   * (normally none) finish a compaction that was interrupted between batches.
   */
  restore(records: Iterable<StoredRecord>): RestoreReport {
    assert(!this.#space.writing, "restore outside a write txn");
    const report = restoreState(this.#space, this.#lessor, records);
    this.#epoch++;
    return report;
  }

  /** A Raft snapshot of the whole state: versioned, CRC-32C checked. */
  serializeSnapshot(): Uint8Array {
    return writeSnapshot(this.storedRecords());
  }

  /**
   * Replaces the state with a snapshot's. Throws CorruptDataError on damaged input and then leaves
   * the state untouched. Returns the records the caller must write after emptying its buckets.
   */
  restoreSnapshot(bytes: Uint8Array): PersistRecord[] {
    const records = parseSnapshot(bytes);
    const report = this.restore(records);
    // The snapshot's records are what the database should hold (they are views into `bytes`).
    return [...records.map((record): PersistRecord => ({ op: "put", ...record })), ...report.cleanup];
  }
}
