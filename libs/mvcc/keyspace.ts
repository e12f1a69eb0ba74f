/**
 * The multi-version key space: a key index (B+tree of keyIndex, plus a Map for exact lookups), the
 * history of every stored revision in revision order (what etcd keeps in its "key" bucket), and the
 * current and compacted revisions. It knows nothing of requests; store.ts gives etcd's request
 * semantics on top. Writes happen inside a WriteTxn: all changes share main revision
 * beginRevision + 1, numbered by sub, and the revision advances once at endWrite.
 */
import { assert } from "../assert/index.ts";
import { WeightedTree, type TreeEntry } from "./btree.ts";
import { bytesToBinary, copyBytes, emptyBytes, spanContains, type KeySpan } from "./bytes.ts";
import { encodeKeyValue, encodeRevisionKey, encodeTombstone, encodeUint64 } from "./codec.ts";
import { Crc32c } from "../crc32c/index.ts";
import { MvccError } from "./errors.ts";
import { KeyIndex, revisionAfter, type RevisionRecord } from "./key-index.ts";
import type { Lessor } from "./lessor.ts";
import { EventType, type Event, type KeyValue, type PersistRecord } from "./types.ts";

export const metaCurrentRevisionKey = new Uint8Array([0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74]); // "current"
export const metaCompactRevisionKey = new Uint8Array([0x63, 0x6f, 0x6d, 0x70, 0x61, 0x63, 0x74]); // "compact"
const keyBucketName = new Uint8Array([0x6b, 0x65, 0x79]); // "key", as etcd's hash starts
/** A past-revision count corrects today's count when fewer records than this plus the range's keys follow it. */
const countCorrectionSlackRecords = 1024;

/** The state of one write transaction; see KeySpace.beginWrite. */
export class WriteTxn {
  readonly beginRevision: number;
  changes = 0;
  readonly events: Event[] = [];
  readonly records: PersistRecord[] = [];

  constructor(beginRevision: number) {
    this.beginRevision = beginRevision;
  }

  /** The revision reads inside the txn see: its own writes once it has any (etcd's tw.Range). */
  get readRevision(): number {
    return this.changes > 0 ? this.beginRevision + 1 : this.beginRevision;
  }
}

export interface RangeKeysResult {
  readonly kvs: KeyValue[];
  readonly count: number;
}

export interface KvHash {
  readonly hash: number;
  readonly compactRevision: number;
  readonly hashRevision: number;
}

export function storedValue(record: RevisionRecord): Uint8Array {
  return record.tombstone ? encodeTombstone(record.kv.key) : encodeKeyValue(record.kv);
}

export function storedKey(record: RevisionRecord): Uint8Array {
  return encodeRevisionKey(record.main, record.sub, record.tombstone);
}

export class KeySpace {
  readonly lessor: Lessor;
  readonly #tree = new WeightedTree<KeyIndex>();
  readonly #keys = new Map<string, KeyIndex>();
  #history: RevisionRecord[] = [];
  #currentRevision = 1;
  #compactRevision = -1;
  #open: WriteTxn | undefined;

  constructor(lessor: Lessor) {
    this.lessor = lessor;
  }

  /** The revision of the last completed write; a fresh store is at 1, as etcd. */
  get currentRevision(): number {
    return this.#currentRevision;
  }

  /** The last compaction's revision; -1 before any, as etcd. */
  get compactRevision(): number {
    return this.#compactRevision;
  }

  /** Keys in the index, live or deleted-but-not-yet-compacted. */
  get indexedKeys(): number {
    return this.#keys.size;
  }

  get liveKeys(): number {
    return this.#tree.totalWeight;
  }

  get history(): readonly RevisionRecord[] {
    return this.#history;
  }

  get writing(): boolean {
    return this.#open !== undefined;
  }

  beginWrite(): WriteTxn {
    assert(this.#open === undefined, "one write txn at a time");
    this.#open = new WriteTxn(this.#currentRevision);
    return this.#open;
  }

  endWrite(txn: WriteTxn): void {
    assert(this.#open === txn, "endWrite of the open txn");
    this.#open = undefined;
    if (txn.changes === 0) return;
    this.#currentRevision = txn.beginRevision + 1;
    txn.records.push({ op: "put", bucket: "meta", key: metaCurrentRevisionKey, value: encodeUint64(this.#currentRevision) });
  }

  /** Checks a read revision against etcd's rules; returns the revision to read at. */
  #readRevision(revision: number, currentRevision: number): number {
    if (revision > currentRevision) throw new MvccError("futureRevision");
    const atRevision = revision <= 0 ? currentRevision : revision;
    if (atRevision < this.#compactRevision) throw new MvccError("compacted");
    return atRevision;
  }

  /**
   * etcd's rangeKeys: the keys of `span` visible at `revision` (0 = `currentRevision`, the caller's
   * read view), at most `limit` (<= 0: all) of them, and how many there are in total.
   */
  rangeKeys(span: KeySpan, revision: number, limit: number, countOnly: boolean, currentRevision: number): RangeKeysResult {
    const atRevision = this.#readRevision(revision, currentRevision);
    // The index's newest state is exactly the read view's revision: live flags answer directly.
    const newest = atRevision === currentRevision;
    if (span.end === null) {
      const keyIndex = this.#keys.get(span.start);
      const kv = newest ? keyIndex?.currentKv : keyIndex?.get(atRevision)?.kv;
      if (kv === undefined) return { kvs: [], count: 0 };
      return { kvs: countOnly ? [] : [kv], count: 1 };
    }
    if (countOnly) return { kvs: [], count: newest ? this.#countLive(span) : this.#countAt(span, atRevision) };
    const kvs = newest ? this.#scanLive(span, limit) : this.#scanAt(span, atRevision, limit);
    // A scan that stopped short of its limit saw the whole range: its length is the count.
    if (limit <= 0 || kvs.length < limit) return { kvs, count: kvs.length };
    return { kvs, count: newest ? this.#countLive(span) : this.#countAt(span, atRevision) };
  }

  #countLive(span: KeySpan): number {
    const end = span.end as string;
    if (end === "") return this.#tree.totalWeight - this.#tree.weightBelow(span.start);
    if (end <= span.start) return 0;
    return this.#tree.weightBelow(end) - this.#tree.weightBelow(span.start);
  }

  #scanLive(span: KeySpan, limit: number): KeyValue[] {
    const kvs: KeyValue[] = [];
    this.#tree.scanValues(span.start, span.end as string, (keyIndex) => {
      const kv = keyIndex.currentKv;
      if (kv !== undefined) kvs.push(kv);
      return limit <= 0 || kvs.length < limit;
    });
    return kvs;
  }

  #scanAt(span: KeySpan, atRevision: number, limit: number): KeyValue[] {
    const kvs: KeyValue[] = [];
    this.#tree.scanValues(span.start, span.end as string, (keyIndex) => {
      const record = keyIndex.get(atRevision);
      if (record !== undefined) kvs.push(record.kv);
      return limit <= 0 || kvs.length < limit;
    });
    return kvs;
  }

  /**
   * Keys of `span` live at a past revision. Counting through the whole range costs one step per
   * key; correcting today's count by the keys changed since costs one step per later revision.
   * Paginated lists read slightly in the past, so the correction is usually far cheaper.
   */
  #countAt(span: KeySpan, atRevision: number): number {
    const first = this.#firstHistoryIndexAbove(atRevision);
    const liveNow = this.#countLive(span);
    if (this.#history.length - first > liveNow + countCorrectionSlackRecords) return this.#scanCount(span, atRevision);
    let count = liveNow;
    const seen = new Set<string>();
    for (let i = first; i < this.#history.length; i++) {
      const key = (this.#history[i] as RevisionRecord).keyString;
      if (seen.has(key) || !spanContains(span, key)) continue;
      seen.add(key);
      const keyIndex = this.#keys.get(key) as KeyIndex;
      count += (keyIndex.get(atRevision) === undefined ? 0 : 1) - (keyIndex.live ? 1 : 0);
    }
    return count;
  }

  #scanCount(span: KeySpan, atRevision: number): number {
    let count = 0;
    this.#tree.scanValues(span.start, span.end as string, (keyIndex) => {
      if (keyIndex.get(atRevision) !== undefined) count++;
      return true;
    });
    return count;
  }

  /** The live keys of `span` at the newest revision, in key order. */
  liveKeyIndexes(span: KeySpan): KeyIndex[] {
    if (span.end === null) {
      const keyIndex = this.#keys.get(span.start);
      return keyIndex?.live === true ? [keyIndex] : [];
    }
    const found: KeyIndex[] = [];
    this.#tree.scanValues(span.start, span.end, (keyIndex) => {
      if (keyIndex.live) found.push(keyIndex);
      return true;
    });
    return found;
  }

  /** The newest put of a key, or its put visible at `atRevision` (undefined below compaction). */
  getKey(keyString: string, atRevision?: number): KeyValue | undefined {
    const keyIndex = this.#keys.get(keyString);
    if (keyIndex === undefined) return undefined;
    if (atRevision === undefined) return keyIndex.currentKv;
    if (atRevision < this.#compactRevision) return undefined;
    return keyIndex.get(atRevision)?.kv;
  }

  put(txn: WriteTxn, key: Uint8Array, value: Uint8Array, lease: bigint): void {
    assert(this.#open === txn, "put inside the open txn");
    const keyString = bytesToBinary(key);
    const revision = txn.beginRevision + 1;
    let keyIndex = this.#keys.get(keyString);
    const previous = keyIndex?.current;
    // A txn writes each key at most once (the duplicate-key check guarantees it), so watchers
    // never see two changes of one key in one revision.
    assert(keyIndex?.last === undefined || keyIndex.last.main < revision, "one change per key per revision");
    const kv: KeyValue = {
      key: copyBytes(key),
      createRevision: previous === undefined ? revision : previous.kv.createRevision,
      modRevision: revision,
      version: previous === undefined ? 1 : previous.kv.version + 1,
      value: copyBytes(value),
      lease,
    };
    const record: RevisionRecord = { main: revision, sub: txn.changes, tombstone: false, kv, keyString };
    if (keyIndex === undefined) {
      keyIndex = new KeyIndex(kv.key, keyString);
      this.#keys.set(keyString, keyIndex);
      this.#tree.insert(keyString, keyIndex, 1);
    } else if (!keyIndex.live) {
      this.#tree.setWeight(keyString, 1);
    }
    keyIndex.put(record);
    this.#record(txn, record, previous?.kv);
    this.#moveLease(keyString, previous?.kv.lease ?? 0n, lease);
  }

  #moveLease(keyString: string, oldLease: bigint, newLease: bigint): void {
    if (oldLease === newLease) return;
    if (oldLease !== 0n) this.lessor.detach(oldLease, keyString);
    if (newLease !== 0n) this.lessor.attach(newLease, keyString);
  }

  deleteKey(txn: WriteTxn, keyIndex: KeyIndex): void {
    assert(this.#open === txn, "delete inside the open txn");
    const previous = keyIndex.current;
    assert(previous !== undefined, "delete of a live key");
    const revision = txn.beginRevision + 1;
    assert(previous.main < revision, "one change per key per revision");
    const kv: KeyValue = { key: keyIndex.key, createRevision: 0, modRevision: revision, version: 0, value: emptyBytes, lease: 0n };
    const record: RevisionRecord = { main: revision, sub: txn.changes, tombstone: true, kv, keyString: keyIndex.keyString };
    keyIndex.tombstone(record);
    this.#tree.setWeight(keyIndex.keyString, 0);
    this.#record(txn, record, previous.kv);
    if (previous.kv.lease !== 0n) this.lessor.detach(previous.kv.lease, keyIndex.keyString);
  }

  #record(txn: WriteTxn, record: RevisionRecord, prevKv: KeyValue | undefined): void {
    this.#history.push(record);
    txn.changes++;
    txn.records.push({ op: "put", bucket: "key", key: storedKey(record), value: storedValue(record) });
    const type = record.tombstone ? EventType.Delete : EventType.Put;
    txn.events.push(prevKv === undefined ? { type, kv: record.kv } : { type, kv: record.kv, prevKv });
  }

  /**
   * Compacts the history at `revision` (etcd's Compact: errors for a revision at or below the last
   * compaction, or beyond the current one). Returns the records to delete and the new meta record.
   */
  compact(revision: number): PersistRecord[] {
    assert(this.#open === undefined, "compact outside a write txn");
    if (revision <= this.#compactRevision) throw new MvccError("compacted");
    if (revision > this.#currentRevision) throw new MvccError("futureRevision");
    const available = this.#compactIndex(revision);
    const records = this.#compactHistory(revision, available);
    this.#compactRevision = revision;
    records.push({ op: "put", bucket: "meta", key: metaCompactRevisionKey, value: encodeUint64(revision) });
    return records;
  }

  #compactIndex(revision: number): Set<RevisionRecord> {
    const available = new Set<RevisionRecord>();
    const survivors: TreeEntry<KeyIndex>[] = [];
    this.#tree.scan("", (key, keyIndex) => {
      keyIndex.compact(revision, available);
      if (keyIndex.isEmpty()) this.#keys.delete(key);
      else survivors.push({ key, value: keyIndex, weight: keyIndex.live ? 1 : 0 });
      return true;
    });
    if (survivors.length !== this.#tree.size) this.#tree.rebuild(survivors);
    return available;
  }

  #compactHistory(revision: number, available: Set<RevisionRecord>): PersistRecord[] {
    const end = this.#firstHistoryIndexAbove(revision);
    const kept: RevisionRecord[] = [];
    const removed: PersistRecord[] = [];
    for (let i = 0; i < end; i++) {
      const record = this.#history[i] as RevisionRecord;
      if (available.has(record)) kept.push(record);
      else removed.push({ op: "del", bucket: "key", key: storedKey(record) });
    }
    if (removed.length > 0) this.#history = kept.concat(this.#history.slice(end));
    return removed;
  }

  /**
   * Re-runs the last compaction after a restore: a crash between writing a compaction's records in
   * several batches would leave revisions it meant to delete. Returns their deletions (normally none).
   */
  recompact(): PersistRecord[] {
    if (this.#compactRevision < 0) return [];
    return this.#compactHistory(this.#compactRevision, this.#compactIndex(this.#compactRevision));
  }

  /** Index of the first history record with main revision > revision. */
  #firstHistoryIndexAbove(revision: number): number {
    let low = 0;
    let high = this.#history.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#history[middle] as RevisionRecord).main <= revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Index of the first history record with main revision >= revision. */
  firstHistoryIndexAtOrAbove(revision: number): number {
    return this.#firstHistoryIndexAbove(revision - 1);
  }

  /** etcd's hashByRev: CRC-32C of the key bucket as of `revision` (0 = current). */
  hashKv(revision: number): KvHash {
    if (revision > 0 && revision < this.#compactRevision) throw new MvccError("compacted");
    if (revision > 0 && revision > this.#currentRevision) throw new MvccError("futureRevision");
    const hashRevision = revision === 0 ? this.#currentRevision : revision;
    const keep = new Set<RevisionRecord>();
    this.#tree.scan("", (_key, keyIndex) => {
      keyIndex.keep(hashRevision, keep);
      return true;
    });
    const crc = new Crc32c().update(keyBucketName);
    for (const record of this.#history) {
      if (record.main > hashRevision) break;
      if (record.main <= this.#compactRevision && keep.size > 0 && !keep.has(record)) continue;
      if (record.main === this.#compactRevision && record.tombstone) continue;
      crc.update(storedKey(record)).update(storedValue(record));
    }
    return { hash: crc.digest(), compactRevision: this.#compactRevision, hashRevision };
  }

  /**
   * Replaces the whole state with stored revisions (sorted by revision), reattaching keys to
   * leases that exist. The revisions are the content of the key bucket; meta values come separately.
   */
  restore(records: readonly RevisionRecord[], currentRevision: number, compactRevision: number): void {
    assert(this.#open === undefined, "restore outside a write txn");
    this.#keys.clear();
    this.#history = [];
    let previous: RevisionRecord | undefined;
    for (const record of records) {
      assert(previous === undefined || revisionAfter(record, previous), "restore records sorted by revision");
      previous = record;
      let keyIndex = this.#keys.get(record.keyString);
      if (keyIndex === undefined) {
        keyIndex = new KeyIndex(record.kv.key, record.keyString);
        this.#keys.set(record.keyString, keyIndex);
      }
      keyIndex.restore(record);
      this.#history.push(record);
    }
    const sortedKeys = [...this.#keys.keys()].sort();
    this.#tree.rebuild(sortedKeys.map((key) => this.#treeEntry(key)));
    this.#compactRevision = compactRevision;
    this.#currentRevision = Math.max(1, currentRevision, compactRevision, previous?.main ?? 0);
  }

  #treeEntry(key: string): TreeEntry<KeyIndex> {
    const keyIndex = this.#keys.get(key) as KeyIndex;
    const current = keyIndex.current;
    if (current !== undefined && current.kv.lease !== 0n && this.lessor.lookup(current.kv.lease) !== undefined) {
      this.lessor.attach(current.kv.lease, key);
    }
    return { key, value: keyIndex, weight: keyIndex.live ? 1 : 0 };
  }
}
