/**
 * The leader's view of one follower: how much of the log it holds (match), what to send next
 * (next), and how to send it (the Probe / Replicate / Snapshot flow-control states).
 */
import { assert } from "../assert/index.ts";
import { ProgressState } from "./types.ts";
import type { ProgressStatus } from "./types.ts";

/**
 * The last indexes of append messages in flight to one follower, oldest first, in a ring of
 * fixed capacity (maxInflightMessages). A full window pauses replication to that follower.
 */
export class Inflights {
  readonly capacity: number;
  #buffer: number[];
  #start = 0;
  #count = 0;

  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, "inflight capacity is a positive integer");
    this.capacity = capacity;
    this.#buffer = new Array<number>(capacity).fill(0);
  }

  get count(): number {
    return this.#count;
  }

  full(): boolean {
    return this.#count === this.capacity;
  }

  /** Records an append whose last entry is `index`; indexes only grow. */
  add(index: number): void {
    assert(!this.full(), "no append is added to a full inflight window");
    const slot = (this.#start + this.#count) % this.capacity;
    this.#buffer[slot] = index;
    this.#count++;
  }

  /** Frees every append whose last index is <= `index` (the follower acknowledged them). */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.#count && (this.#buffer[(this.#start + freed) % this.capacity] as number) <= index) freed++;
    this.#start = (this.#start + freed) % this.capacity;
    this.#count -= freed;
    if (this.#count === 0) this.#start = 0;
  }

  /** Frees the oldest append: a heartbeat response proves the follower is alive, so let one more go. */
  freeFirstOne(): void {
    if (this.#count === 0) return;
    this.#start = (this.#start + 1) % this.capacity;
    this.#count--;
  }

  reset(): void {
    this.#start = 0;
    this.#count = 0;
  }

  /** The in-flight indexes, oldest first (for tests and status). */
  indexes(): number[] {
    const result: number[] = [];
    for (let i = 0; i < this.#count; i++) result.push(this.#buffer[(this.#start + i) % this.capacity] as number);
    return result;
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** While in Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (CheckQuorum counts these). */
  recentActive = false;
  /** In Probe state: one append is outstanding, so wait for an answer before sending another. */
  probeSent = false;
  isLearner: boolean;
  /** Highest commit index sent in an append or heartbeat: whether a follower may need telling. */
  sentCommit = 0;
  readonly inflights: Inflights;

  constructor(options: { match: number; next: number; isLearner: boolean; maxInflightMessages: number }) {
    this.match = options.match;
    this.next = options.next;
    this.isLearner = options.isLearner;
    this.inflights = new Inflights(options.maxInflightMessages);
  }

  #resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it: the follower holds at least that much.
    if (this.state === ProgressState.Snapshot) {
      const pendingSnapshot = this.pendingSnapshot;
      this.#resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.#resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.#resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Raises match (and next) on an acknowledgement; false when the message is stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is the highest index where the
   * logs may agree. Moves next back and returns true, or returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Appends are pipelined here, so a rejection at or below match is an old one.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In Probe state only the last probe (at next-1) is outstanding; anything else is stale.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records that an append with `entryCount` entries ending at `lastIndex` was sent. */
  sentEntries(entryCount: number, lastIndex: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entryCount > 0) {
        this.next = lastIndex + 1; // optimistic: pipeline the next append right away
        this.inflights.add(lastIndex);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    } else {
      assert(false, "no append is sent to a follower receiving a snapshot");
    }
  }

  /** Whether an (empty) append could raise the follower's commit index. */
  canBumpCommit(committed: number): boolean {
    return this.sentCommit < committed;
  }

  /** Whether sending appends to this follower must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  toStatus(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
    };
  }

  describe(): string {
    let text = `${this.state} match=${this.match} next=${this.next}`;
    if (this.isLearner) text += " learner";
    if (this.state === ProgressState.Snapshot) text += ` pendingSnapshot=${this.pendingSnapshot}`;
    if (this.isPaused()) text += " paused";
    if (this.inflights.count > 0) text += ` inflight=${this.inflights.count}`;
    if (this.inflights.full()) text += "[full]";
    return text;
  }
}
