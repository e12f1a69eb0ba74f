/**
 * Bookkeeping for requests waiting on Raft: proposals matched to applied entries by request id,
 * and linearizable reads batched into one ReadIndex request at a time. Pure data structures with
 * time passed in; the driver (raft-node.ts) owns the clock and the Raft node.
 */
import { assert } from "../../../libs/assert/index.ts";
import type { ReadState } from "../../../libs/raft/index.ts";

export interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  readonly deadlineMs: number;
}

export interface Proposal extends Waiter<unknown> {
  readonly requestId: bigint;
  /**
   * The bytes that carry the request id in the log: a normal entry's whole data, or a conf
   * change's context. An applied entry completes this proposal only if they are equal, so a
   * request id reused by another member cannot complete the wrong request.
   */
  readonly envelope: Uint8Array;
  /** Where the proposal's entry landed in this member's log, once known. */
  index?: number;
}

const requestCounterModulus = 2 ** 48;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Proposals waiting to be applied, in submission order (so also in deadline order). */
export class ProposalTracker {
  readonly #pending = new Map<bigint, Proposal>();
  readonly #requestIdByIndex = new Map<number, bigint>();
  readonly #requestIdPrefix: bigint;
  #requestCounter: number;

  /**
   * Request ids are [member id low 16 bits][48-bit counter], the counter starting from the
   * clock (ms * 256) like etcd's id generator, so ids differ across members and restarts.
   */
  constructor(memberId: number, nowMs: number) {
    this.#requestIdPrefix = BigInt(memberId % 0x1_0000) << 48n;
    this.#requestCounter = (nowMs * 256) % requestCounterModulus;
  }

  get size(): number {
    return this.#pending.size;
  }

  nextRequestId(): bigint {
    const id = this.#requestIdPrefix | BigInt(this.#requestCounter);
    this.#requestCounter = (this.#requestCounter + 1) % requestCounterModulus;
    return id;
  }

  add(proposal: Proposal): void {
    assert(!this.#pending.has(proposal.requestId), "request ids are unique");
    this.#pending.set(proposal.requestId, proposal);
  }

  isPending(requestId: bigint): boolean {
    return this.#pending.has(requestId);
  }

  /** Forgets a proposal that failed before reaching the log; returns it if it was pending. */
  remove(requestId: bigint): Proposal | undefined {
    const proposal = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    if (proposal?.index !== undefined) this.#requestIdByIndex.delete(proposal.index);
    return proposal;
  }

  /** An entry carrying `requestId` was appended to this member's log at `index`. */
  noteAppended(index: number, requestId: bigint, envelope: Uint8Array): void {
    const proposal = this.#pending.get(requestId);
    if (proposal === undefined || !equalBytes(proposal.envelope, envelope)) return;
    if (proposal.index !== undefined) this.#requestIdByIndex.delete(proposal.index);
    proposal.index = index;
    this.#requestIdByIndex.set(index, requestId);
  }

  /**
   * The entry at `index` was applied, carrying `requestId` and `envelope` (both undefined for an
   * entry without one). Returns the proposal it completes; a different proposal that was waiting
   * at this index lost its place in the log and is rejected with `displacedError()`.
   */
  complete(index: number, requestId: bigint | undefined, envelope: Uint8Array | undefined, displacedError: () => Error): Proposal | undefined {
    let completed: Proposal | undefined;
    if (requestId !== undefined && envelope !== undefined) {
      const proposal = this.#pending.get(requestId);
      if (proposal !== undefined && equalBytes(proposal.envelope, envelope)) completed = this.remove(requestId);
    }
    const expected = this.#requestIdByIndex.get(index);
    this.#requestIdByIndex.delete(index);
    if (expected !== undefined && expected !== completed?.requestId) this.remove(expected)?.reject(displacedError());
    return completed;
  }

  /** A snapshot through `index` was applied: outcomes of proposals at or below it are unknown. */
  rejectThrough(index: number, error: () => Error): void {
    for (const proposal of [...this.#pending.values()]) {
      if (proposal.index !== undefined && proposal.index <= index) this.remove(proposal.requestId)?.reject(error());
    }
  }

  /** Removes and returns proposals whose deadline has passed (the oldest come first). */
  expire(nowMs: number): Proposal[] {
    const expired: Proposal[] = [];
    for (const proposal of this.#pending.values()) {
      if (proposal.deadlineMs > nowMs) break;
      expired.push(proposal);
    }
    for (const proposal of expired) this.remove(proposal.requestId);
    return expired;
  }

  rejectAll(error: Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#requestIdByIndex.clear();
    for (const proposal of all) proposal.reject(error);
  }
}

interface ReadBatch {
  /** Every context sent for this batch (a retry adds one); a ReadState for any of them answers it. */
  readonly contextKeys: Set<string>;
  readonly waiters: Array<Waiter<void>>;
  lastSentMs: number;
}

interface ReadPoint {
  readonly index: number;
  readonly waiters: Array<Waiter<void>>;
}

/**
 * Linearizable reads: all reads that arrive while one ReadIndex request is out share the next
 * one, so N concurrent reads cost one heartbeat round, not N.
 */
export class ReadBatcher {
  readonly #waitersMax: number;
  readonly #memberId: number;
  #waiting: Array<Waiter<void>> = [];
  #inFlight: ReadBatch | undefined;
  #awaitingApply: ReadPoint[] = [];
  #contextCounter = 0;

  constructor(waitersMax: number, memberId: number) {
    this.#waitersMax = waitersMax;
    this.#memberId = memberId;
  }

  get size(): number {
    const inFlight = this.#inFlight?.waiters.length ?? 0;
    return this.#waiting.length + inFlight + this.#awaitingApply.reduce((sum, point) => sum + point.waiters.length, 0);
  }

  /** Queues a read; false when the bound is reached. */
  add(waiter: Waiter<void>): boolean {
    if (this.size >= this.#waitersMax) return false;
    this.#waiting.push(waiter);
    return true;
  }

  /**
   * The context of a ReadIndex request to issue now, if any: a new batch when none is out and
   * reads wait, or a retry of the batch that is out when it has gone unanswered for retryMs.
   */
  nextRequest(nowMs: number, retryMs: number): Uint8Array | undefined {
    const inFlight = this.#inFlight;
    if (inFlight !== undefined) {
      if (nowMs - inFlight.lastSentMs < retryMs) return undefined;
      inFlight.lastSentMs = nowMs;
      return this.#newContext(inFlight);
    }
    if (this.#waiting.length === 0) return undefined;
    const batch: ReadBatch = { contextKeys: new Set(), waiters: this.#waiting, lastSentMs: nowMs };
    this.#waiting = [];
    this.#inFlight = batch;
    return this.#newContext(batch);
  }

  #newContext(batch: ReadBatch): Uint8Array {
    // The member id makes contexts unique at the leader, which refuses a repeated pending one.
    const context = new Uint8Array(16);
    const view = new DataView(context.buffer);
    view.setBigUint64(0, BigInt(this.#memberId));
    view.setBigUint64(8, BigInt(this.#contextCounter++));
    batch.contextKeys.add(contextKey(context));
    return context;
  }

  onReadStates(readStates: readonly ReadState[]): void {
    for (const readState of readStates) {
      const batch = this.#inFlight;
      if (batch === undefined || !batch.contextKeys.has(contextKey(readState.requestContext))) continue;
      this.#awaitingApply.push({ index: readState.index, waiters: batch.waiters });
      this.#inFlight = undefined;
    }
  }

  /** Resolves every read whose read point has been applied. */
  resolveApplied(appliedIndex: number): void {
    if (this.#awaitingApply.length === 0) return;
    const ready = this.#awaitingApply.filter((point) => point.index <= appliedIndex);
    this.#awaitingApply = this.#awaitingApply.filter((point) => point.index > appliedIndex);
    for (const point of ready) for (const waiter of point.waiters) waiter.resolve();
  }

  /** Rejects reads past their deadline. */
  expire(nowMs: number, error: () => Error): void {
    const keep = (waiter: Waiter<void>): boolean => {
      if (waiter.deadlineMs > nowMs) return true;
      waiter.reject(error());
      return false;
    };
    this.#waiting = this.#waiting.filter(keep);
    if (this.#inFlight !== undefined) {
      const remaining = this.#inFlight.waiters.filter(keep);
      this.#inFlight.waiters.length = 0;
      this.#inFlight.waiters.push(...remaining);
      if (remaining.length === 0) this.#inFlight = undefined;
    }
    this.#awaitingApply = this.#awaitingApply
      .map((point) => ({ index: point.index, waiters: point.waiters.filter(keep) }))
      .filter((point) => point.waiters.length > 0);
  }

  rejectAll(error: Error): void {
    const all = [...this.#waiting, ...(this.#inFlight?.waiters ?? []), ...this.#awaitingApply.flatMap((point) => point.waiters)];
    this.#waiting = [];
    this.#inFlight = undefined;
    this.#awaitingApply = [];
    for (const waiter of all) waiter.reject(error);
  }
}

function contextKey(context: Uint8Array): string {
  return Buffer.from(context).toString("hex");
}
