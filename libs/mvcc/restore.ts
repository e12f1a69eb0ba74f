/**
 * Rebuilding memory from stored records (after a restart, or from a snapshot). Everything is
 * decoded and checked before the live state is touched, so corrupt input leaves the store as it was.
 */
import { bytesToBinary, emptyBytes } from "./bytes.ts";
import { decodeKeyValue, decodeLease, decodeRevisionKey, decodeUint64, encodeUint64, type LeaseRecord } from "./codec.ts";
import { CorruptDataError } from "./errors.ts";
import type { RevisionRecord } from "./key-index.ts";
import { metaCompactRevisionKey, metaCurrentRevisionKey, type KeySpace } from "./keyspace.ts";
import type { Lessor } from "./lessor.ts";
import type { PersistRecord, StoredRecord } from "./types.ts";

export interface RestoreReport {
  /** Deletions that finish an interrupted compaction; write them like any other records. */
  readonly cleanup: readonly PersistRecord[];
  readonly revisions: number;
  readonly keys: number;
  readonly leases: number;
}

interface DecodedState {
  readonly revisions: RevisionRecord[];
  readonly leases: LeaseRecord[];
  currentRevision: number;
  compactRevision: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function decodeRevision(record: StoredRecord): RevisionRecord {
  const revision = decodeRevisionKey(record.key);
  const stored = decodeKeyValue(record.value);
  if (stored.key.length === 0) throw new CorruptDataError(`revision ${revision.main}.${revision.sub} without a key`);
  // A tombstone stores only its key; the event form carries the deleting revision.
  const kv = revision.tombstone
    ? { key: stored.key, createRevision: 0, modRevision: revision.main, version: 0, value: emptyBytes, lease: 0n }
    : stored;
  if (!revision.tombstone && kv.modRevision !== revision.main) throw new CorruptDataError(`revision ${revision.main} holds mod revision ${kv.modRevision}`);
  return { main: revision.main, sub: revision.sub, tombstone: revision.tombstone, kv, keyString: bytesToBinary(kv.key) };
}

function decodeMeta(record: StoredRecord, state: DecodedState): void {
  if (sameBytes(record.key, metaCurrentRevisionKey)) state.currentRevision = decodeUint64(record.value);
  else if (sameBytes(record.key, metaCompactRevisionKey)) state.compactRevision = decodeUint64(record.value);
  // Unknown meta keys belong to newer versions or to the caller; they are not ours to judge.
}

function decodeAll(records: Iterable<StoredRecord>): DecodedState {
  const state: DecodedState = { revisions: [], leases: [], currentRevision: 1, compactRevision: -1 };
  for (const record of records) {
    if (record.bucket === "key") state.revisions.push(decodeRevision(record));
    else if (record.bucket === "lease") state.leases.push(decodeLease(record.value));
    else decodeMeta(record, state);
  }
  state.revisions.sort((a, b) => a.main - b.main || a.sub - b.sub);
  for (let i = 1; i < state.revisions.length; i++) {
    const previous = state.revisions[i - 1] as RevisionRecord;
    const record = state.revisions[i] as RevisionRecord;
    if (previous.main === record.main && previous.sub === record.sub) throw new CorruptDataError(`revision ${record.main}.${record.sub} stored twice`);
  }
  return state;
}

export function restoreState(space: KeySpace, lessor: Lessor, records: Iterable<StoredRecord>): RestoreReport {
  const state = decodeAll(records);
  lessor.clear();
  for (const lease of state.leases) lessor.restore(lease.id, lease.ttlSeconds, lease.remainingTtlSeconds);
  space.restore(state.revisions, state.currentRevision, state.compactRevision);
  const cleanup = space.recompact();
  return { cleanup, revisions: space.history.length, keys: space.indexedKeys, leases: lessor.size };
}

export function metaRecords(currentRevision: number, compactRevision: number): StoredRecord[] {
  const records: StoredRecord[] = [{ bucket: "meta", key: metaCurrentRevisionKey, value: encodeUint64(currentRevision) }];
  if (compactRevision >= 0) records.push({ bucket: "meta", key: metaCompactRevisionKey, value: encodeUint64(compactRevision) });
  return records;
}
