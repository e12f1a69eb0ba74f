/**
 * The leader's lease deadlines, with time passed in (pure: no clock, no timers). Only the leader
 * decides that a lease expired: when it becomes leader it gives every lease a full TTL from that
 * moment (etcd's Promote), a lease granted later gets its TTL from the moment the leader applies
 * the grant, a renewal restarts the TTL, and expired leases come out in bounded batches for the
 * caller to revoke through the log. A follower's clock is not primary and holds nothing.
 *
 * Deadlines sit in a binary min-heap with lazy deletion: a renewal pushes a new entry and the old
 * one is skipped when it surfaces. The heap is rebuilt when stale entries outnumber live ones, so
 * its size stays within twice the lease count (plus a constant).
 */
import { assert } from "../../libs/assert/index.ts";

export const lessorClockDefaults = {
  /** Expired leases handed out per expired() call (etcd revokes at most 1000/s, checked twice a second). */
  revokeBatchMax: 500,
  /** An expired lease whose revoke has not applied after this long is handed out again (etcd: 3 s). */
  revokeRetryMs: 3000,
  /** Stale heap entries tolerated beyond the live count before a rebuild. */
  heapSlackEntries: 64,
} as const;

export interface LessorClockOptions {
  readonly revokeBatchMax?: number;
  readonly revokeRetryMs?: number;
}

interface LeaseDeadline {
  readonly ttlSeconds: number;
  deadlineMs: number;
  /** Handed out as expired; renewals are refused until its revoke applies (or the retry). */
  revoking: boolean;
}

interface HeapEntry {
  readonly id: bigint;
  readonly deadlineMs: number;
}

export type RenewResult = { readonly kind: "renewed"; readonly ttlSeconds: number } | { readonly kind: "notFound" };

export class LessorClock {
  readonly #revokeBatchMax: number;
  readonly #revokeRetryMs: number;
  readonly #leases = new Map<bigint, LeaseDeadline>();
  #heap: HeapEntry[] = [];
  #primary = false;

  constructor(options: LessorClockOptions = {}) {
    this.#revokeBatchMax = options.revokeBatchMax ?? lessorClockDefaults.revokeBatchMax;
    this.#revokeRetryMs = options.revokeRetryMs ?? lessorClockDefaults.revokeRetryMs;
    assert(this.#revokeBatchMax > 0 && this.#revokeRetryMs > 0, "lessor clock bounds are positive");
  }

  /** True between promote() and demote(): this member is the leader and owns expiry. */
  get primary(): boolean {
    return this.#primary;
  }

  get size(): number {
    return this.#leases.size;
  }

  /** Becomes primary: every known lease gets its full TTL from `nowMs`. Safe to call again (refreshes). */
  promote(leases: Iterable<{ readonly id: bigint; readonly ttlSeconds: number }>, nowMs: number): void {
    this.#primary = true;
    this.#leases.clear();
    this.#heap = [];
    for (const lease of leases) this.#arm(lease.id, lease.ttlSeconds, nowMs);
  }

  /** Stops deciding expiry; the deadlines are forgotten (a later promote starts afresh). */
  demote(): void {
    this.#primary = false;
    this.#leases.clear();
    this.#heap = [];
  }

  /** A grant was applied: on the primary the lease's TTL starts now. */
  granted(id: bigint, ttlSeconds: number, nowMs: number): void {
    if (this.#primary) this.#arm(id, ttlSeconds, nowMs);
  }

  /** A revoke was applied (by expiry or by a client): forget the lease. */
  revoked(id: bigint): void {
    this.#leases.delete(id);
  }

  has(id: bigint): boolean {
    return this.#leases.has(id);
  }

  /** A keep-alive: restarts the TTL, unless the lease is unknown or already expired. */
  renew(id: bigint, nowMs: number): RenewResult {
    assert(this.#primary, "only the primary renews leases");
    const lease = this.#leases.get(id);
    if (lease === undefined || lease.revoking || lease.deadlineMs <= nowMs) return { kind: "notFound" };
    this.#setDeadline(id, lease, nowMs + lease.ttlSeconds * 1000);
    return { kind: "renewed", ttlSeconds: lease.ttlSeconds };
  }

  /** Milliseconds left before the lease expires (0 once expired); undefined for an unknown lease. */
  remainingMs(id: bigint, nowMs: number): number | undefined {
    const lease = this.#leases.get(id);
    if (lease === undefined) return undefined;
    return lease.revoking ? 0 : Math.max(0, lease.deadlineMs - nowMs);
  }

  /**
   * Up to revokeBatchMax (and `limit`) leases whose deadline passed, oldest deadline first. Each is marked as
   * revoking and handed out again after revokeRetryMs if its revoke has not applied by then.
   */
  expired(nowMs: number, limit: number = this.#revokeBatchMax): bigint[] {
    if (!this.#primary) return [];
    const ids: bigint[] = [];
    const count = Math.min(limit, this.#revokeBatchMax);
    while (ids.length < count && this.#heap.length > 0) {
      const top = this.#heap[0] as HeapEntry;
      if (top.deadlineMs > nowMs) break;
      this.#pop();
      const lease = this.#leases.get(top.id);
      if (lease === undefined || lease.deadlineMs !== top.deadlineMs) continue; // stale entry
      lease.revoking = true;
      this.#setDeadline(top.id, lease, nowMs + this.#revokeRetryMs);
      ids.push(top.id);
    }
    return ids;
  }

  #arm(id: bigint, ttlSeconds: number, nowMs: number): void {
    assert(ttlSeconds > 0, "a lease TTL is positive", () => `lease ${id} has TTL ${ttlSeconds}`);
    const lease: LeaseDeadline = { ttlSeconds, deadlineMs: 0, revoking: false };
    this.#leases.set(id, lease);
    this.#setDeadline(id, lease, nowMs + ttlSeconds * 1000);
  }

  #setDeadline(id: bigint, lease: LeaseDeadline, deadlineMs: number): void {
    lease.deadlineMs = deadlineMs;
    this.#push({ id, deadlineMs });
    if (this.#heap.length > 2 * this.#leases.size + lessorClockDefaults.heapSlackEntries) this.#rebuild();
  }

  #rebuild(): void {
    this.#heap = [];
    for (const [id, lease] of this.#leases) this.#push({ id, deadlineMs: lease.deadlineMs });
  }

  #push(entry: HeapEntry): void {
    const heap = this.#heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as HeapEntry).deadlineMs <= entry.deadlineMs) break;
      heap[index] = heap[parent] as HeapEntry;
      index = parent;
    }
    heap[index] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop() as HeapEntry;
    if (heap.length === 0) return;
    let index = 0;
    while (true) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as HeapEntry).deadlineMs < (heap[left] as HeapEntry).deadlineMs ? right : left;
      if ((heap[child] as HeapEntry).deadlineMs >= last.deadlineMs) break;
      heap[index] = heap[child] as HeapEntry;
      index = child;
    }
    heap[index] = last;
  }
}

const suffixMask = (1n << 48n) - 1n;
const positiveInt64Mask = (1n << 63n) - 1n;

/**
 * Lease ids the server picks for LeaseGrant with ID 0, shaped like etcd's request ids: the low 16
 * bits of the member id, then 40 bits of the start time in milliseconds and an 8-bit counter that
 * carries into the time bits, all cut to 63 bits so the id is a positive int64. Members differ in
 * the prefix; restarts differ in the time. Never 0.
 */
export class LeaseIdGenerator {
  readonly #prefix: bigint;
  #suffix: bigint;

  constructor(memberId: number, startMs: number) {
    assert(Number.isSafeInteger(memberId) && memberId > 0, "a member id is a positive safe integer");
    this.#prefix = BigInt(memberId & 0xffff) << 48n;
    this.#suffix = (BigInt(Math.floor(startMs)) & ((1n << 40n) - 1n)) << 8n;
  }

  next(): bigint {
    this.#suffix = (this.#suffix + 1n) & suffixMask;
    let id = (this.#prefix | this.#suffix) & positiveInt64Mask;
    // Zero only when the kept prefix bits are zero and the counter wrapped to zero: skip it.
    if (id === 0n) {
      this.#suffix = 1n;
      id = (this.#prefix | this.#suffix) & positiveInt64Mask;
    }
    return id;
  }
}
