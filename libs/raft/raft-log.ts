/**
 * The replicated log as the Raft core sees it: the persisted prefix in Storage followed by the
 * unstable suffix, with the commit index and the applied index.
 */
import { assert } from "../assert/index.ts";
import { CompactedError, UnavailableError } from "./errors.ts";
import type { Storage } from "./storage.ts";
import type { Entry, Snapshot } from "./types.ts";
import { Unstable } from "./unstable.ts";
import { limitSize, unlimitedBytes } from "./util.ts";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the caller has applied to its state machine. */
  applied: number;
  readonly #maxCommittedBytesPerReady: number;

  constructor(storage: Storage, maxCommittedBytesPerReady: number) {
    this.storage = storage;
    this.#maxCommittedBytesPerReady = maxCommittedBytesPerReady;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new Unstable(lastIndex + 1);
    // Everything up to the snapshot is committed and applied (the caller restored it).
    this.committed = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, "the last entry's term is known");
    return term;
  }

  /** Term of the entry at `index`, or undefined when compacted or past the end. */
  term(index: number): number | undefined {
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== undefined) return unstableTerm;
    // The valid range is [firstIndex-1, lastIndex]: the term just before the first entry is
    // kept so that appends right after a snapshot can be matched.
    if (index + 1 < this.firstIndex() || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof CompactedError || error instanceof UnavailableError) return undefined;
      throw error;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /**
   * The last index whose entries are durable in Storage and agree with this log. A leader counts
   * its own log toward commitment only up to here (see RawNode.advance).
   */
  persistedLastIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return Math.min(this.unstable.offset - 1, this.lastIndex());
  }

  /** Raft §5.4.1: a log is at least as up-to-date if its last term is higher, or equal and it is as long. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The follower's side of AppendEntries: when the entry at `index` has term `logTerm`, append
   * `entries` (dropping any conflicting suffix) and advance the commit index to what the leader
   * committed, bounded by the last entry this message vouches for. Returns the index of the
   * last new entry, or undefined when the previous entry does not match.
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert(conflictIndex > this.committed, "a committed entry is never overwritten", () =>
        `conflict=${conflictIndex} committed=${this.committed}`,
      );
      this.append(entries.slice(conflictIndex - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends entries at the end (after truncating a conflicting suffix); returns the last index. */
  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1 >= this.committed, "an append never truncates committed entries", () =>
      `after=${first.index - 1} committed=${this.committed}`,
    );
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry that is new or whose term differs from ours, or 0 when every
   * entry is already in the log.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term (0 when unknown).
   * Used on both sides of a rejected append to skip a whole term of mismatching entries at once
   * instead of one entry per round trip. The walk is bounded by `index` steps.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const ourTerm = this.term(i);
      // Outside the known range we cannot tell; assume a possible match there.
      if (ourTerm === undefined) return { index: i, term: 0 };
      if (ourTerm <= term) return { index: i, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== undefined) return false;
    return this.committed > this.applied;
  }

  /** Committed entries not yet applied, at most maxCommittedBytesPerReady (but at least one). */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    return this.slice(lo, this.committed + 1, this.#maxCommittedBytesPerReady);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return; // never decrease the commit index
    assert(index <= this.lastIndex(), "commit index is within the log (was it truncated or lost?)", () =>
      `commit=${index} last=${this.lastIndex()}`,
    );
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(this.applied <= index && index <= this.committed, "applied index stays between applied and committed", () =>
      `index=${index} applied=${this.applied} committed=${this.committed}`,
    );
    this.applied = index;
  }

  stableTo(index: number, term: number): boolean {
    return this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /**
   * Raft §5.4.2: the leader commits by counting replicas only entries of its current term;
   * older entries become committed indirectly through them.
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** Entries from `index` to the end, at most `maxSizeBytes`; throws CompactedError below firstIndex. */
  entriesFrom(index: number, maxSizeBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxSizeBytes);
  }

  allEntries(): Entry[] {
    return this.entriesFrom(this.firstIndex(), unlimitedBytes);
  }

  /** Entries in [lo, hi) from Storage and then the unstable suffix, limited by size. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    this.#checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      const stored = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes);
      // Storage stopped early because of the size limit: do not add unstable entries after it.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      result = stored;
    }
    if (hi > offset) {
      const fresh = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length > 0 ? [...result, ...fresh] : fresh;
    }
    return limitSize(result, maxSizeBytes);
  }

  #checkOutOfBounds(lo: number, hi: number): void {
    assert(lo <= hi, "log slice range is ordered", () => `lo=${lo} hi=${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo, first);
    const limit = this.lastIndex() + 1;
    assert(hi <= limit, "log slice stays within the log", () => `[${lo},${hi}) of [${first},${limit})`);
  }
}
