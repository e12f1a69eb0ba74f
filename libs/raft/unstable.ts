/**
 * The part of the log not yet persisted: an incoming snapshot and/or entries starting at
 * `offset`. Entries below `offset` are in Storage. The caller persists what Ready hands out,
 * and advance() moves it to Storage by calling stableTo / stableSnapTo.
 */
import { assert } from "../assert/index.ts";
import type { Entry, Snapshot } from "./types.ts";

export class Unstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  /** Index of entries[0] (or where the next entry goes when there are none). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index covered by a pending snapshot, if any. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const meta = this.snapshot?.metadata;
      return meta !== undefined && meta.index === index ? meta.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return (this.entries[index - this.offset] as Entry).term;
  }

  /**
   * Entries up to `index` were persisted. Ignored when the entry there has since been replaced
   * (its term differs) or is no longer unstable: then a later Ready persists the replacement.
   */
  stableTo(index: number, term: number): boolean {
    const ourTerm = this.maybeTerm(index);
    if (ourTerm === undefined || ourTerm !== term || index < this.offset) return false;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    return true;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  /** Appends entries, replacing any unstable suffix they conflict with. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const e of entries) this.entries.push(e);
    } else if (after <= this.offset) {
      // The new entries replace everything unstable (and the caller truncates storage).
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = [...this.slice(this.offset, after), ...entries];
    }
  }

  /** Entries in [lo, hi). */
  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    assert(this.offset <= lo && lo <= hi && hi <= upper, "unstable slice is within bounds", () =>
      `[${lo},${hi}) of [${this.offset},${upper})`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
