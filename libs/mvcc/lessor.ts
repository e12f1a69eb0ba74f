/**
 * Lease state as etcd's lessor keeps it, minus the clock: which leases exist, their granted TTL,
 * their last checkpointed remaining TTL and the keys attached to them. Expiry is the leader's job
 * (it tracks deadlines with its own clock and proposes revokes through the log); after a restart or
 * a leader change it re-arms every lease from `leases()` (etcd's Promote does the same).
 */
import { assert } from "../assert/index.ts";
import { MvccError } from "./errors.ts";

/** etcd's MaxLeaseTTL: grants above it fail with "too large lease TTL". */
export const leaseTtlSecondsMax = 9_000_000_000;

/**
 * etcd's minimum lease TTL: 1.5 election timeouts (computed as ⌊3·electionTicks/2⌋ heartbeats),
 * rounded up to whole seconds, so a lease cannot expire during a routine leader election.
 */
export function minLeaseTtlSeconds(electionTicks: number, heartbeatMs: number): number {
  assert(Number.isInteger(electionTicks) && electionTicks > 0, "electionTicks is a positive integer");
  assert(heartbeatMs > 0, "heartbeatMs is positive");
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000);
}

export interface LeaseState {
  readonly id: bigint;
  ttlSeconds: number;
  remainingTtlSeconds: number;
  /** Attached keys as binary strings. */
  readonly keys: Set<string>;
}

export class Lessor {
  readonly minTtlSeconds: number;
  readonly #leases = new Map<bigint, LeaseState>();

  constructor(minTtlSeconds: number) {
    assert(Number.isSafeInteger(minTtlSeconds) && minTtlSeconds >= 0, "minTtlSeconds is a non-negative integer");
    this.minTtlSeconds = minTtlSeconds;
  }

  get size(): number {
    return this.#leases.size;
  }

  lookup(id: bigint): LeaseState | undefined {
    return this.#leases.get(id);
  }

  /** Validates and adds a lease; etcd's error order: id 0, TTL too large, already exists. */
  grant(id: bigint, ttlSeconds: number): LeaseState {
    if (id === 0n) throw new MvccError("leaseNotFound");
    if (ttlSeconds > leaseTtlSecondsMax) throw new MvccError("leaseTtlTooLarge");
    if (this.#leases.has(id)) throw new MvccError("leaseExists");
    const lease: LeaseState = { id, ttlSeconds: Math.max(ttlSeconds, this.minTtlSeconds), remainingTtlSeconds: 0, keys: new Set() };
    this.#leases.set(id, lease);
    return lease;
  }

  /** Adds a lease read back from disk or a snapshot; the minimum TTL applies again, as in etcd. */
  restore(id: bigint, ttlSeconds: number, remainingTtlSeconds: number): void {
    this.#leases.set(id, { id, ttlSeconds: Math.max(ttlSeconds, this.minTtlSeconds), remainingTtlSeconds, keys: new Set() });
  }

  remove(id: bigint): void {
    assert(this.#leases.delete(id), "remove of an existing lease");
  }

  attach(id: bigint, key: string): void {
    const lease = this.#leases.get(id);
    assert(lease !== undefined, "attach to an existing lease");
    lease.keys.add(key);
  }

  detach(id: bigint, key: string): void {
    // A missing lease is tolerated as in etcd (it logs): restore may meet keys of a lost lease.
    this.#leases.get(id)?.keys.delete(key);
  }

  clear(): void {
    this.#leases.clear();
  }

  /** Every lease ordered by id, the order snapshots and hashes use. */
  all(): LeaseState[] {
    return [...this.#leases.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
