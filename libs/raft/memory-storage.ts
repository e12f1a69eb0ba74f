/**
 * An in-memory Storage: the caller mirrors into it what it has persisted (snapshot, entries,
 * hard state) after each Ready. Like etcd's MemoryStorage, `#entries[0]` is a dummy entry at the
 * snapshot's index and term, so the term of the entry just before the first is always known.
 */
import { assert } from "../assert/index.ts";
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from "./errors.ts";
import { bootstrapLog } from "./bootstrap.ts";
import type { InitialState, Storage } from "./storage.ts";
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";
import { emptyBytes, entry, limitSize } from "./util.ts";

const emptyConfState: ConfState = { voters: [], learners: [] };

export class MemoryStorage implements Storage {
  #hardState: HardState = { term: 0, vote: 0, commit: 0 };
  #snapshot: Snapshot;
  #entries: Entry[];

  /**
   * A new cluster member bootstraps with its initial configuration: the index-0 ConfState, and
   * the log and hard state of `bootstrapLog` (one committed conf change per founding member at
   * indexes 1..N, term 1). A member that joins an existing cluster passes nothing, starts empty
   * and learns the configuration from the leader's log.
   */
  constructor(confState: ConfState = emptyConfState) {
    this.#snapshot = { data: emptyBytes, metadata: { confState: copyConfState(confState), index: 0, term: 0 } };
    this.#entries = [entry(0, 0)];
    const initial = bootstrapLog(confState);
    this.append(initial.entries);
    this.setHardState(initial.hardState);
  }

  initialState(): InitialState {
    return { hardState: this.#hardState, confState: this.#snapshot.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.#hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.#offset();
    if (lo <= offset) throw new CompactedError(lo, offset + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    assert(lo <= hi, "storage read range is ordered", () => `lo=${lo} hi=${hi}`);
    return limitSize(this.#entries.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(index: number): number {
    const offset = this.#offset();
    if (index < offset) throw new CompactedError(index, offset + 1);
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    return (this.#entries[index - offset] as Entry).term;
  }

  firstIndex(): number {
    return this.#offset() + 1;
  }

  lastIndex(): number {
    return this.#offset() + this.#entries.length - 1;
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Replaces the whole log with the snapshot; an older snapshot than the one held is refused. */
  applySnapshot(snapshot: Snapshot): void {
    const current = this.#snapshot.metadata.index;
    if (snapshot.metadata.index <= current) throw new SnapshotOutOfDateError(snapshot.metadata.index, current);
    this.#snapshot = snapshot;
    this.#entries = [entry(snapshot.metadata.term, snapshot.metadata.index)];
  }

  /** Records a snapshot of the state machine at `index` (which the caller must have applied). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const current = this.#snapshot.metadata.index;
    if (index <= current) throw new SnapshotOutOfDateError(index, current);
    assert(index <= this.lastIndex(), "snapshot index is within the log", () => `index=${index} last=${this.lastIndex()}`);
    const term = this.term(index);
    this.#snapshot = { data, metadata: { confState: copyConfState(confState), index, term } };
    return this.#snapshot;
  }

  /** Drops the entries up to and including `index`; their term stays known through the dummy. */
  compact(index: number): void {
    const offset = this.#offset();
    if (index <= offset) throw new CompactedError(index, offset + 1);
    assert(index <= this.lastIndex(), "compaction stays within the log", () => `index=${index} last=${this.lastIndex()}`);
    const rest = this.#entries.slice(index - offset + 1);
    this.#entries = [entry(this.term(index), index), ...rest];
  }

  /** Appends entries, first truncating any suffix of the log that they replace. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return;
    // Entries at or below the snapshot are already covered by it.
    if (last.index < this.firstIndex()) return;
    const kept = first.index < this.firstIndex() ? entries.slice(this.firstIndex() - first.index) : entries;
    const start = (kept[0] as Entry).index - this.#offset();
    assert(start <= this.#entries.length, "appended entries leave no gap in the log", () =>
      `first=${(kept[0] as Entry).index} last=${this.lastIndex()}`,
    );
    // Truncate in place, then push: appends are the hot path and must not copy the whole log.
    this.#entries.length = start;
    for (const e of kept) this.#entries.push(e);
  }

  #offset(): number {
    return (this.#entries[0] as Entry).index;
  }
}

function copyConfState(confState: ConfState): ConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}
