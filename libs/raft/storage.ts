/**
 * The read side of the log that the Raft core consults, synchronously. The caller owns
 * durability: it keeps a MemoryStorage (or its own implementation) in step with what it has
 * persisted, appending entries and applying snapshots after each Ready is written to disk.
 */
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

export interface Storage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one when any exist, stopping once their total data size would
   * exceed `maxSizeBytes`. Throws CompactedError below firstIndex(), UnavailableError past lastIndex().
   */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of the entry at `index`; valid for [firstIndex()-1, lastIndex()]. */
  term(index: number): number;
  /** Index of the first entry still held (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}
