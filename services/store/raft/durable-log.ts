/**
 * The durable half of a Raft member: hard state, log entries, the latest snapshot, the state
 * machine's records and its applied index, in one LevelDB (through `level`). Every record carries
 * a CRC-32C over its key and body, checked on every read; a mismatch stops `open()` with an error
 * naming the record, so a member never serves data it cannot vouch for.
 *
 * Layout (keys are bytes; one-letter prefixes keep them short and readable in a dump):
 *   "v"            format version
 *   "b"            the ConfState this member bootstrapped with (initial voters, or empty to join)
 *   "h"            HardState (term, vote, commit)
 *   "e" + u64be    log entry at that index; big-endian so LevelDB's order is index order
 *   "s"            latest snapshot: metadata, data checksum, and the data inline or a file name
 *   "a"            the state machine's applied index
 *   "p"            member addresses (id -> peer URL)
 *   "r"            ids of members removed from the cluster
 *   "k" + key      the state machine's own records
 * Each value is [crc32c(key ++ body) u32be][body].
 *
 * Writes go through one ordered queue: each call's batch is issued after every batch queued
 * before it, and batches that queue up while LevelDB is busy are merged into one LevelDB batch
 * (fsynced when any of them asks for it), so that concurrent callers share an fsync and a later
 * write never overtakes an earlier one. Writes that need not be durable yet (the state
 * machine's records and applied index, a hard state that only moves the commit index) are
 * deferred: they wait, in order, and ride in the next synced batch, or are written (synced) on
 * their own after deferredWriteDelayMs. So a deferred write is only ever written as part of a
 * synced batch: LevelDB does not fsync a log file it rotates away from, so an unsynced batch
 * could be lost while a later synced one survives, which would leave state records with a gap.
 * Bookkeeping that later calls build on (the applied index, the range of entries on disk) moves
 * when a write is queued; `storage` mirrors a write once it is on disk.
 *
 * Crash safety rests on three facts. (1) A LevelDB batch is atomic: after a crash either all of
 * it is visible or none (its write-ahead log record is checksummed; a torn tail is dropped).
 * (2) Writes become durable in the order they were issued, and a `sync: true` write is durable
 * when its promise resolves, together with everything issued before it. (3) Each step below
 * leaves a state that `open()` accepts and that Raft can continue from:
 *   - persist(): snapshot + deletion of the whole old log + new entries + hard state go in ONE
 *     batch, so a reader never sees a snapshot beside a log it replaced, nor a hard state whose
 *     commit points past entries that are missing. Raft sends acknowledgements only after this
 *     resolves (messagesAfterPersist), so nothing acknowledged can be lost.
 *   - saveApplied(): the state machine's records and `applied = N` go in ONE batch, so the
 *     records on disk always correspond to exactly the entries through N. A crash before it
 *     leaves applied at the previous value and the entries (durable since persist()) are
 *     applied again at restart; entries before N are never applied twice.
 *   - createSnapshot(): a large snapshot's file is written to a temporary name, fsynced, renamed
 *     and its directory fsynced BEFORE the record that names it is written (sync); a crash in
 *     between leaves an unreferenced file, deleted by the next open(). The old snapshot's file is
 *     deleted only after the new record is durable.
 *   - compact(): runs only after the snapshot covering the deleted entries is durable, and
 *     deletes from the front in ascending batches, so a crash leaves a contiguous suffix of the
 *     log (checked by open()); entries it failed to delete are harmless and deleted next time.
 */
import { mkdir, open as openFile, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Level } from "level";
import { assert } from "../../../libs/assert/index.ts";
import { bootstrapLog, MemoryStorage, type ConfState, type Entry, type HardState, type NodeId, type Snapshot } from "../../../libs/raft/index.ts";
import {
  ByteWriter,
  ByteReader,
  CodecError,
  decodeApplied,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMemberIds,
  decodePeers,
  decodeSnapshotRecord,
  encodeApplied,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMemberIds,
  encodePeers,
  encodeSnapshotRecord,
  type SnapshotRecord,
} from "./codec.ts";
import { crc32c } from "../../../libs/crc32c/index.ts";

/** The stored data is damaged: `record` names what failed its check ("entry 42", "hard state"). */
export class CorruptRecordError extends Error {
  readonly record: string;
  constructor(dataDir: string, record: string, detail: string) {
    super(`raft data in ${dataDir} is corrupt: ${record}: ${detail}; refusing to start`);
    this.name = "CorruptRecordError";
    this.record = record;
  }
}

/** One write of the state machine, persisted with the applied index of the entries that caused it. */
export type StateRecord =
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: Uint8Array };

export interface DurableLogOptions {
  /** Used only when the data directory is new; afterwards what is on disk wins. */
  readonly bootstrap: {
    /** The initial voters for a new cluster, or empty voters and learners to join an existing one. */
    readonly confState: ConfState;
    /** Peer URLs of the members known at start (this one included). */
    readonly peers: ReadonlyMap<NodeId, string>;
  };
  /** Snapshots larger than this go to a file beside the database instead of into a record. */
  readonly snapshotInlineBytesMax?: number;
}

/** The part of a Ready that must reach disk before acknowledgements leave. */
export interface RaftUpdate {
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
}

export interface AppliedUpdate {
  readonly appliedIndex: number;
  readonly records: readonly StateRecord[];
  /** Delete every existing state-machine record first (the state was replaced by a snapshot). */
  readonly replaceState?: boolean;
  /** The member address book, when applying changed it. */
  readonly peers?: ReadonlyMap<NodeId, string>;
  /** The removed members, when applying changed them. */
  readonly removedMembers?: ReadonlySet<NodeId>;
  readonly sync: boolean;
  /**
   * Write it with the next synced batch (or on its own within deferredWriteDelayMs) instead of
   * now: for records that a crash may lose because the log can replay them. `sync` must be false.
   */
  readonly deferred?: boolean;
}

export const defaultSnapshotInlineBytesMax = 512 * 1024;
/** Queued writes merged into one LevelDB batch (more wait for the next one). */
const writesPerBatchMax = 64;
/**
 * Writes waiting in the queue. The Raft driver awaits its own log writes, so only a few state
 * machine writes can be outstanding behind them; more is a bug.
 */
const queuedWritesMax = 1024;
/** A deferred write waits at most this long for a synced batch to ride in (etcd commits its backend every 100 ms). */
const deferredWriteDelayMs = 100;
/** Entries read or deleted per LevelDB call: bounds memory per step, not the total. */
const entriesPerBatchMax = 4096;
/** State records deleted per read step when a snapshot replaces the state machine. */
const stateKeysPerReadMax = 4096;
const formatVersion = 1;
const databaseDirName = "db";
const snapshotDirName = "snap";
const snapshotFileSuffix = ".snap";
const temporaryFileSuffix = ".tmp";

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const keyFormat = ascii("v");
const keyBootstrap = ascii("b");
const keyHardState = ascii("h");
const keySnapshot = ascii("s");
const keyApplied = ascii("a");
const keyPeers = ascii("p");
const keyRemovedMembers = ascii("r");
const entryPrefix = 0x65; // "e"
const statePrefix = 0x6b; // "k"
const entryRange = { gte: Uint8Array.of(entryPrefix), lt: Uint8Array.of(entryPrefix + 1) };
const stateRange = { gte: Uint8Array.of(statePrefix), lt: Uint8Array.of(statePrefix + 1) };

function entryKey(index: number): Uint8Array {
  const key = new ByteWriter(9).u8(entryPrefix).u64(index).finish();
  return key;
}

function entryKeyIndex(key: Uint8Array): number {
  const reader = new ByteReader(key);
  reader.u8("entry key prefix");
  const index = reader.u64("entry key index");
  reader.end("entry key");
  return index;
}

function stateKey(key: Uint8Array): Uint8Array {
  const prefixed = new Uint8Array(key.length + 1);
  prefixed[0] = statePrefix;
  prefixed.set(key, 1);
  return prefixed;
}

/** [crc32c(key ++ body)][body]: covering the key catches a record stored under the wrong key. */
function seal(key: Uint8Array, body: Uint8Array): Uint8Array {
  const sealed = new Uint8Array(4 + body.length);
  new DataView(sealed.buffer).setUint32(0, crc32c(body, crc32c(key)));
  sealed.set(body, 4);
  return sealed;
}

type Db = Level<Uint8Array, Uint8Array>;
type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

interface QueuedWrite {
  readonly ops: readonly BatchOp[];
  readonly sync: boolean;
  resolve(): void;
  reject(error: Error): void;
}

interface Loaded {
  readonly bootstrapConfState: ConfState;
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly snapshotRecord: SnapshotRecord | undefined;
  readonly entries: Entry[];
  readonly appliedIndex: number;
  readonly peers: Map<NodeId, string>;
  readonly removedMembers: Set<NodeId>;
}

export class DurableLog {
  readonly dataDir: string;
  readonly storage: MemoryStorage;
  readonly #db: Db;
  readonly #snapshotDir: string;
  readonly #snapshotInlineBytesMax: number;
  #appliedIndex: number;
  #peers: Map<NodeId, string>;
  #removedMembers: Set<NodeId>;
  #snapshotRecord: SnapshotRecord | undefined;
  /** Entries on disk are exactly [diskFirstIndex, diskLastIndex]; empty when first > last. */
  #diskFirstIndex: number;
  #diskLastIndex: number;
  #closed = false;
  readonly #queue: QueuedWrite[] = [];
  /** Writes waiting for a synced batch to ride in, oldest first (they are synced too). */
  readonly #deferred: QueuedWrite[] = [];
  #deferredTimer: NodeJS.Timeout | undefined;
  /** The LevelDB batch being written, if any; the queue drains behind it. */
  #writing: Promise<void> | undefined;
  /** Set by a failed write: the state on disk is unknown, so every later write fails too. */
  #writeFailure: Error | undefined;

  private constructor(dataDir: string, db: Db, loaded: Loaded, snapshotInlineBytesMax: number) {
    this.dataDir = dataDir;
    this.#db = db;
    this.#snapshotDir = join(dataDir, snapshotDirName);
    this.#snapshotInlineBytesMax = snapshotInlineBytesMax;
    this.#appliedIndex = loaded.appliedIndex;
    this.#peers = loaded.peers;
    this.#removedMembers = loaded.removedMembers;
    this.#snapshotRecord = loaded.snapshotRecord;
    const first = loaded.entries[0];
    const last = loaded.entries.at(-1);
    this.#diskFirstIndex = first?.index ?? (loaded.snapshot?.metadata.index ?? 0) + 1;
    this.#diskLastIndex = last?.index ?? this.#diskFirstIndex - 1;
    this.storage = buildStorage(loaded);
  }

  /**
   * Opens (or creates) the data directory and loads everything into `storage`. Throws
   * CorruptRecordError when any record fails its checks.
   */
  static async open(dataDir: string, options: DurableLogOptions): Promise<DurableLog> {
    await mkdir(join(dataDir, snapshotDirName), { recursive: true });
    const db: Db = new Level<Uint8Array, Uint8Array>(join(dataDir, databaseDirName), { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    try {
      const loader = new Loader(dataDir, db);
      const loaded = await loader.load(options);
      await removeUnreferencedSnapshotFiles(join(dataDir, snapshotDirName), loaded.snapshotRecord);
      return new DurableLog(dataDir, db, loaded, options.snapshotInlineBytesMax ?? defaultSnapshotInlineBytesMax);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  /** The state machine's applied index as last persisted by saveApplied(). */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  get peers(): ReadonlyMap<NodeId, string> {
    return this.#peers;
  }

  get removedMembers(): ReadonlySet<NodeId> {
    return this.#removedMembers;
  }

  /** Index of the latest stored snapshot, 0 when there is none. */
  get snapshotIndex(): number {
    return this.#snapshotRecord?.metadata.index ?? 0;
  }

  /** The range of entry indexes on disk (may start below the snapshot: the catch-up margin). */
  get diskEntryRange(): { readonly first: number; readonly last: number } {
    return { first: this.#diskFirstIndex, last: this.#diskLastIndex };
  }

  /**
   * Step 2 of a Ready: writes the snapshot, entries and hard state in one batch (fsynced when
   * `mustSync` or when a snapshot is present), then mirrors them into `storage`. An update that
   * only moves the commit index promises nothing durable: it is deferred (see the header).
   */
  async persist(update: RaftUpdate, mustSync: boolean): Promise<void> {
    this.#checkOpen();
    const ops: BatchOp[] = [];
    let range = { first: this.#diskFirstIndex, last: this.#diskLastIndex };
    let snapshotRecord: SnapshotRecord | undefined;
    if (update.snapshot !== undefined) {
      snapshotRecord = await this.#prepareSnapshot(update.snapshot);
      ops.push(this.#put(keySnapshot, encodeSnapshotRecord(snapshotRecord)));
      // The snapshot replaces the whole log: stale entries must go in the same batch.
      for (let index = range.first; index <= range.last; index++) ops.push({ type: "del", key: entryKey(index) });
      const next = update.snapshot.metadata.index + 1;
      range = { first: next, last: next - 1 };
    }
    range = appendOps(ops, update.entries, range);
    if (update.hardState !== undefined) ops.push(this.#put(keyHardState, encodeHardState(update.hardState)));
    if (ops.length === 0) return;
    this.#diskFirstIndex = range.first;
    this.#diskLastIndex = range.last;
    const commitOnly = !mustSync && update.entries.length === 0 && update.snapshot === undefined;
    await this.#write(ops, mustSync || update.snapshot !== undefined, commitOnly);
    if (update.snapshot !== undefined && snapshotRecord !== undefined) {
      await this.#replaceSnapshotRecord(snapshotRecord);
      this.storage.applySnapshot(update.snapshot);
    }
    if (update.entries.length > 0) this.storage.append(update.entries);
    if (update.hardState !== undefined) this.storage.setHardState(update.hardState);
  }

  /**
   * Step 4 of a Ready: the state machine's records and the applied index in one batch, so that
   * the records on disk always reflect exactly the entries through `appliedIndex`.
   */
  async saveApplied(update: AppliedUpdate): Promise<void> {
    this.#checkOpen();
    assert(update.appliedIndex >= this.#appliedIndex || update.replaceState === true, "applied index never moves back", () => `${update.appliedIndex} < ${this.#appliedIndex}`);
    assert(update.deferred !== true || (!update.sync && update.replaceState !== true), "a deferred state write is neither synced nor a replacement");
    // Deleting every state record needs to see every queued write first.
    if (update.replaceState === true) await this.#drain();
    const ops: BatchOp[] = update.replaceState === true ? await this.#deleteAllStateOps() : [];
    for (const record of update.records) {
      const key = stateKey(record.key);
      ops.push(record.type === "put" ? this.#put(key, record.value) : { type: "del", key });
    }
    ops.push(this.#put(keyApplied, encodeApplied(update.appliedIndex)));
    if (update.peers !== undefined) ops.push(this.#put(keyPeers, encodePeers(update.peers)));
    if (update.removedMembers !== undefined) ops.push(this.#put(keyRemovedMembers, encodeMemberIds(update.removedMembers)));
    this.#appliedIndex = update.appliedIndex;
    if (update.peers !== undefined) this.#peers = new Map(update.peers);
    if (update.removedMembers !== undefined) this.#removedMembers = new Set(update.removedMembers);
    await this.#write(ops, update.sync, update.deferred === true);
  }

  /**
   * Records a snapshot this member made of its own state at `index` (<= applied), durably, then
   * in `storage`. Log entries stay until compact().
   */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    this.#checkOpen();
    assert(index > this.snapshotIndex, "a new snapshot is newer than the stored one", () => `${index} <= ${this.snapshotIndex}`);
    assert(index <= this.#appliedIndex, "snapshots are taken at or below the applied index", () => `${index} > ${this.#appliedIndex}`);
    const snapshot: Snapshot = { data, metadata: { index, term: this.storage.term(index), confState } };
    const record = await this.#prepareSnapshot(snapshot);
    await this.#write([this.#put(keySnapshot, encodeSnapshotRecord(record))], true);
    await this.#replaceSnapshotRecord(record);
    return this.storage.createSnapshot(index, confState, data);
  }

  /**
   * Deletes entries up to and including `index`, which a durable snapshot must cover. Deletes in
   * ascending batches, so a crash leaves a contiguous suffix of the log.
   */
  async compact(index: number): Promise<void> {
    this.#checkOpen();
    assert(index <= this.snapshotIndex, "compaction stays within the stored snapshot", () => `${index} > ${this.snapshotIndex}`);
    const last = Math.min(index, this.#diskLastIndex);
    while (this.#diskFirstIndex <= last) {
      const batchLast = Math.min(last, this.#diskFirstIndex + entriesPerBatchMax - 1);
      const ops: BatchOp[] = [];
      for (let i = this.#diskFirstIndex; i <= batchLast; i++) ops.push({ type: "del", key: entryKey(i) });
      this.#diskFirstIndex = batchLast + 1;
      // No fsync: entries that survive a crash are re-deleted later and are consistent meanwhile.
      await this.#write(ops, false);
    }
    if (this.#diskFirstIndex > this.#diskLastIndex) this.#diskLastIndex = this.#diskFirstIndex - 1;
    if (index >= this.storage.firstIndex()) this.storage.compact(index);
  }

  /** The state machine's records, in key order, each checked against its checksum. */
  async *stateRecords(): AsyncGenerator<{ readonly key: Uint8Array; readonly value: Uint8Array }> {
    this.#checkOpen();
    for await (const [key, value] of this.#db.iterator(stateRange)) {
      const body = unseal(this.dataDir, `state record ${hex(key.subarray(1))}`, key, value);
      yield { key: Uint8Array.from(key.subarray(1)), value: body };
    }
  }

  /** Writes what was deferred, waits for every queued write (they fail or succeed), then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#drain().catch(() => undefined);
    await this.#db.close();
  }

  #checkOpen(): void {
    assert(!this.#closed, "durable log used after close");
  }

  /**
   * Queues `ops` behind every earlier write (deferred ones included); resolves once they are
   * written (durable when `sync`). A deferred write waits for the next one that is not.
   */
  #write(ops: readonly BatchOp[], sync: boolean, deferred = false): Promise<void> {
    if (this.#writeFailure !== undefined) return Promise.reject(this.#writeFailure);
    assert(this.#queue.length + this.#deferred.length < queuedWritesMax, "queued durable-log writes stay bounded", () => `${this.#queue.length} + ${this.#deferred.length} queued`);
    return new Promise<void>((resolve, reject) => {
      // Deferred writes are always written synced: see the header.
      const write: QueuedWrite = { ops, sync: sync || deferred, resolve, reject };
      if (deferred) {
        this.#deferred.push(write);
        this.#deferredTimer ??= setTimeout(() => this.#flushDeferred(), deferredWriteDelayMs);
        return;
      }
      // The deferred writes ride in the same LevelDB batch, ahead of this one.
      this.#releaseDeferred();
      this.#queue.push(write);
      this.#writing ??= this.#writeQueued();
    });
  }

  /** Moves the deferred writes to the queue, in order, ahead of anything queued after this. */
  #releaseDeferred(): void {
    clearTimeout(this.#deferredTimer);
    this.#deferredTimer = undefined;
    this.#queue.push(...this.#deferred.splice(0));
  }

  /** The deferred writes waited long enough for a synced batch: they go on their own. */
  #flushDeferred(): void {
    this.#releaseDeferred();
    if (this.#queue.length > 0) this.#writing ??= this.#writeQueued();
  }

  /** Writes the queue in order, merging what waits into one LevelDB batch at a time. */
  async #writeQueued(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0, writesPerBatchMax);
      try {
        if (this.#writeFailure !== undefined) throw this.#writeFailure;
        await this.#writeBatch(group);
      } catch (error) {
        this.#writeFailure ??= error instanceof Error ? error : new Error(String(error));
        for (const write of group) write.reject(this.#writeFailure);
        continue;
      }
      for (const write of group) write.resolve();
    }
    this.#writing = undefined;
  }

  /**
   * One LevelDB batch for a group of queued writes, built as a chained batch: abstract-level's
   * array form copies and checks every operation object, about three times the CPU per op.
   */
  async #writeBatch(group: readonly QueuedWrite[]): Promise<void> {
    const batch = this.#db.batch();
    try {
      for (const write of group) {
        for (const op of write.ops) {
          if (op.type === "put") batch.put(op.key, op.value);
          else batch.del(op.key);
        }
      }
    } catch (error) {
      await batch.close();
      throw error;
    }
    await batch.write({ sync: group.some((write) => write.sync) });
  }

  /** Resolves once everything queued or deferred so far is written; rejects if a write failed. */
  async #drain(): Promise<void> {
    this.#flushDeferred();
    while (this.#writing !== undefined) await this.#writing;
    if (this.#writeFailure !== undefined) throw this.#writeFailure;
  }

  #put(key: Uint8Array, body: Uint8Array): BatchOp {
    return { type: "put", key, value: seal(key, body) };
  }

  async #deleteAllStateOps(): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    const iterator = this.#db.keys(stateRange);
    try {
      while (true) {
        const keys = await iterator.nextv(stateKeysPerReadMax);
        if (keys.length === 0) break;
        for (const key of keys) ops.push({ type: "del", key });
      }
    } finally {
      await iterator.close();
    }
    return ops;
  }

  /** Puts large snapshot data in a durable file first; small data rides in the record. */
  async #prepareSnapshot(snapshot: Snapshot): Promise<SnapshotRecord> {
    const dataCrc32c = crc32c(snapshot.data);
    const base = { metadata: snapshot.metadata, dataBytes: snapshot.data.length, dataCrc32c };
    if (snapshot.data.length <= this.#snapshotInlineBytesMax) return { ...base, location: { kind: "inline", data: snapshot.data } };
    const fileName = snapshotFileName(snapshot, dataCrc32c);
    await writeFileDurably(this.#snapshotDir, fileName, snapshot.data);
    return { ...base, location: { kind: "file", fileName } };
  }

  /** After the new record is durable, the previous snapshot's file (if any) can go. */
  async #replaceSnapshotRecord(record: SnapshotRecord): Promise<void> {
    const previous = this.#snapshotRecord;
    this.#snapshotRecord = record;
    if (previous?.location.kind !== "file") return;
    if (record.location.kind === "file" && record.location.fileName === previous.location.fileName) return;
    await unlinkIfPresent(join(this.#snapshotDir, previous.location.fileName));
  }
}

/** Adds puts for `entries` and deletes for the stale suffix they replace; returns the new range. */
function appendOps(ops: BatchOp[], entries: readonly Entry[], range: { first: number; last: number }): { first: number; last: number } {
  const first = entries[0];
  const last = entries.at(-1);
  if (first === undefined || last === undefined) return range;
  assert(first.index <= range.last + 1, "appended entries leave no gap", () => `first ${first.index}, last on disk ${range.last}`);
  assert(first.index >= range.first, "appended entries do not rewrite compacted indexes", () => `first ${first.index}, first on disk ${range.first}`);
  entries.forEach((entry, offset) => {
    assert(entry.index === first.index + offset, "appended entries are contiguous");
    const key = entryKey(entry.index);
    ops.push({ type: "put", key, value: seal(key, encodeEntry(entry)) });
  });
  // A conflicting suffix beyond the new entries is truncated in the same batch.
  for (let index = last.index + 1; index <= range.last; index++) ops.push({ type: "del", key: entryKey(index) });
  return { first: range.first, last: last.index };
}

function buildStorage(loaded: Loaded): MemoryStorage {
  const storage = new MemoryStorage(loaded.bootstrapConfState);
  const snapshotIndex = loaded.snapshot?.metadata.index ?? 0;
  if (loaded.snapshot !== undefined) storage.applySnapshot(loaded.snapshot);
  // Entries at or below the snapshot (the catch-up margin) stay on disk but not in memory.
  const newer = loaded.entries.filter((entry) => entry.index > snapshotIndex);
  if (newer.length > 0) storage.append(newer);
  if (loaded.hardState !== undefined) storage.setHardState(loaded.hardState);
  return storage;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function unseal(dataDir: string, record: string, key: Uint8Array, value: Uint8Array): Uint8Array {
  if (value.length < 4) throw new CorruptRecordError(dataDir, record, `value of ${value.length} bytes is shorter than its checksum`);
  const stored = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  const body = value.subarray(4);
  const computed = crc32c(body, crc32c(key));
  if (stored !== computed) {
    throw new CorruptRecordError(dataDir, record, `checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`);
  }
  return body;
}

/** Reads and checks everything `open()` needs; each failure names the record. */
class Loader {
  readonly #dataDir: string;
  readonly #db: Db;

  constructor(dataDir: string, db: Db) {
    this.#dataDir = dataDir;
    this.#db = db;
  }

  #corrupt(record: string, detail: string): CorruptRecordError {
    return new CorruptRecordError(this.#dataDir, record, detail);
  }

  async #read<T>(key: Uint8Array, record: string, decode: (body: Uint8Array) => T): Promise<T | undefined> {
    const value = await this.#db.get(key);
    if (value === undefined) return undefined;
    const body = unseal(this.#dataDir, record, key, value);
    try {
      return decode(body);
    } catch (error) {
      if (error instanceof CodecError) throw this.#corrupt(record, error.message);
      throw error;
    }
  }

  async load(options: DurableLogOptions): Promise<Loaded> {
    await this.#initializeIfNew(options);
    const format = await this.#read(keyFormat, "format", (body) => decodeApplied(body));
    if (format !== formatVersion) throw this.#corrupt("format", `version ${String(format)} is not ${formatVersion}`);
    const bootstrapConfState = await this.#read(keyBootstrap, "bootstrap conf state", decodeConfState);
    if (bootstrapConfState === undefined) throw this.#corrupt("bootstrap conf state", "missing");
    const hardState = await this.#read(keyHardState, "hard state", decodeHardState);
    const snapshotRecord = await this.#read(keySnapshot, "snapshot", decodeSnapshotRecord);
    const snapshot = snapshotRecord === undefined ? undefined : await this.#snapshotData(snapshotRecord);
    const appliedIndex = (await this.#read(keyApplied, "applied index", decodeApplied)) ?? 0;
    const peers = (await this.#read(keyPeers, "peers", decodePeers)) ?? new Map<NodeId, string>();
    const removedMembers = (await this.#read(keyRemovedMembers, "removed members", decodeMemberIds)) ?? new Set<NodeId>();
    const entries = await this.#entries(snapshot);
    const loaded = { bootstrapConfState, hardState, snapshot, snapshotRecord, entries, appliedIndex, peers, removedMembers };
    this.#checkConsistency(loaded);
    return loaded;
  }

  /**
   * A brand-new directory gets its format, bootstrap ConfState, addresses and, for a founding
   * member, the committed bootstrap log (libs/raft bootstrapLog: one conf change per founding
   * member, identical on every founding member) with its hard state, in one sync batch.
   */
  async #initializeIfNew(options: DurableLogOptions): Promise<void> {
    if ((await this.#db.get(keyFormat)) !== undefined) return;
    const anyKeys = await this.#db.keys({ limit: 1 }).all();
    if (anyKeys.length > 0) throw this.#corrupt("format", "missing from a non-empty database");
    const put = (key: Uint8Array, body: Uint8Array): BatchOp => ({ type: "put", key, value: seal(key, body) });
    const initial = bootstrapLog(options.bootstrap.confState);
    const logOps = initial.entries.map((entry) => put(entryKey(entry.index), encodeEntry(entry)));
    if (initial.entries.length > 0) logOps.push(put(keyHardState, encodeHardState(initial.hardState)));
    await this.#db.batch(
      [
        put(keyBootstrap, encodeConfState(options.bootstrap.confState)),
        put(keyPeers, encodePeers(options.bootstrap.peers)),
        put(keyApplied, encodeApplied(0)),
        ...logOps,
        // Written last in the batch but atomic with it: its presence means the rest is there.
        put(keyFormat, encodeApplied(formatVersion)),
      ],
      { sync: true },
    );
  }

  async #snapshotData(record: SnapshotRecord): Promise<Snapshot> {
    const name = `snapshot ${record.metadata.index}`;
    let data: Uint8Array;
    if (record.location.kind === "inline") {
      data = record.location.data;
    } else {
      const path = join(this.#dataDir, snapshotDirName, record.location.fileName);
      try {
        data = new Uint8Array(await readFile(path));
      } catch (error) {
        throw this.#corrupt(`${name} data file ${path}`, error instanceof Error ? error.message : String(error));
      }
    }
    if (data.length !== record.dataBytes) throw this.#corrupt(`${name} data`, `${data.length} bytes, record says ${record.dataBytes}`);
    const computed = crc32c(data);
    if (computed !== record.dataCrc32c) {
      throw this.#corrupt(`${name} data`, `checksum mismatch (stored 0x${record.dataCrc32c.toString(16)}, computed 0x${computed.toString(16)})`);
    }
    return { data, metadata: record.metadata };
  }

  async #entries(snapshot: Snapshot | undefined): Promise<Entry[]> {
    const entries: Entry[] = [];
    const iterator = this.#db.iterator(entryRange);
    try {
      while (true) {
        const batch = await iterator.nextv(entriesPerBatchMax);
        if (batch.length === 0) break;
        for (const [key, value] of batch) entries.push(this.#entry(key, value, entries.at(-1)));
      }
    } finally {
      await iterator.close();
    }
    const first = entries[0];
    const snapshotIndex = snapshot?.metadata.index ?? 0;
    if (first !== undefined && first.index > snapshotIndex + 1) {
      throw this.#corrupt(`entry ${first.index}`, `the log starts after a gap (snapshot index ${snapshotIndex})`);
    }
    const atSnapshot = entries.find((entry) => entry.index === snapshotIndex);
    if (snapshot !== undefined && atSnapshot !== undefined && atSnapshot.term !== snapshot.metadata.term) {
      throw this.#corrupt(`entry ${snapshotIndex}`, `term ${atSnapshot.term} differs from the snapshot's term ${snapshot.metadata.term}`);
    }
    return entries;
  }

  #entry(key: Uint8Array, value: Uint8Array, previous: Entry | undefined): Entry {
    let keyIndex: number;
    try {
      keyIndex = entryKeyIndex(key);
    } catch (error) {
      throw this.#corrupt(`entry key ${hex(key)}`, error instanceof Error ? error.message : String(error));
    }
    const record = `entry ${keyIndex}`;
    const body = unseal(this.#dataDir, record, key, value);
    let entry: Entry;
    try {
      entry = decodeEntry(body);
    } catch (error) {
      throw this.#corrupt(record, error instanceof Error ? error.message : String(error));
    }
    if (entry.index !== keyIndex) throw this.#corrupt(record, `the record holds index ${entry.index}`);
    if (previous !== undefined && entry.index !== previous.index + 1) throw this.#corrupt(record, `gap after entry ${previous.index}`);
    if (previous !== undefined && entry.term < previous.term) throw this.#corrupt(record, `term ${entry.term} is below the previous entry's ${previous.term}`);
    return entry;
  }

  #checkConsistency(loaded: Loaded): void {
    const snapshotIndex = loaded.snapshot?.metadata.index ?? 0;
    const lastIndex = Math.max(snapshotIndex, loaded.entries.at(-1)?.index ?? 0);
    const commit = loaded.hardState?.commit ?? 0;
    if (commit > lastIndex) throw this.#corrupt("hard state", `commit ${commit} is beyond the last stored index ${lastIndex}`);
    if (loaded.appliedIndex > Math.max(commit, snapshotIndex)) {
      throw this.#corrupt("applied index", `${loaded.appliedIndex} is beyond the commit index ${commit}`);
    }
  }
}

function snapshotFileName(snapshot: Snapshot, dataCrc32c: number): string {
  const pad = (value: number): string => value.toString(16).padStart(16, "0");
  return `${pad(snapshot.metadata.index)}-${pad(snapshot.metadata.term)}-${dataCrc32c.toString(16).padStart(8, "0")}${snapshotFileSuffix}`;
}

/** Temporary name, write, fsync, rename, fsync the directory: the file is whole or absent. */
async function writeFileDurably(directory: string, fileName: string, data: Uint8Array): Promise<void> {
  const finalPath = join(directory, fileName);
  const temporaryPath = `${finalPath}${temporaryFileSuffix}`;
  const file = await openFile(temporaryPath, "w");
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporaryPath, finalPath);
  const directoryHandle = await openFile(directory, "r");
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Files left by a crash between writing a snapshot file and the record naming it. */
async function removeUnreferencedSnapshotFiles(directory: string, record: SnapshotRecord | undefined): Promise<void> {
  const keep = record?.location.kind === "file" ? record.location.fileName : undefined;
  for (const name of await readdir(directory)) {
    const ours = name.endsWith(snapshotFileSuffix) || name.endsWith(temporaryFileSuffix);
    if (ours && name !== keep) await unlinkIfPresent(join(directory, name));
  }
}
