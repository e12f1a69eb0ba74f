import { describe, expect, it } from "vitest";
import { LeaseIdGenerator, LessorClock } from "./lessor-clock.ts";

const lease = (id: bigint, ttlSeconds: number) => ({ id, ttlSeconds });

describe("LessorClock", () => {
  it("expired() returns nothing on a follower, whatever the time", () => {
    const clock = new LessorClock();
    clock.granted(1n, 5, 0);
    expect(clock.primary).toBe(false);
    expect(clock.size).toBe(0);
    expect(clock.expired(1_000_000)).toEqual([]);
  });

  it("a lease expires once its full TTL has passed since promotion, not before", () => {
    const clock = new LessorClock();
    clock.promote([lease(7n, 10)], 1000);
    expect(clock.expired(10_999)).toEqual([]);
    expect(clock.remainingMs(7n, 10_999)).toBe(1);
    expect(clock.expired(11_000)).toEqual([7n]);
  });

  it("promote() gives every lease a full TTL from now, forgetting an older leader's progress", () => {
    const clock = new LessorClock();
    clock.promote([lease(1n, 10)], 0);
    clock.demote();
    expect(clock.size).toBe(0);
    clock.promote([lease(1n, 10), lease(2n, 4)], 9000);
    expect(clock.expired(12_999)).toEqual([]);
    expect(clock.expired(13_000)).toEqual([2n]);
    clock.revoked(2n);
    expect(clock.expired(18_999)).toEqual([]);
    expect(clock.expired(19_000)).toEqual([1n]);
  });

  it("a lease granted while primary counts its TTL from the grant's apply", () => {
    const clock = new LessorClock();
    clock.promote([], 0);
    clock.granted(3n, 2, 5000);
    expect(clock.expired(6999)).toEqual([]);
    expect(clock.expired(7000)).toEqual([3n]);
  });

  it("renew() restarts the TTL, and the superseded deadline does not expire the lease", () => {
    const clock = new LessorClock();
    clock.promote([lease(1n, 10)], 0);
    expect(clock.renew(1n, 8000)).toEqual({ kind: "renewed", ttlSeconds: 10 });
    expect(clock.expired(10_000)).toEqual([]);
    expect(clock.remainingMs(1n, 10_000)).toBe(8000);
    expect(clock.expired(18_000)).toEqual([1n]);
  });

  it("renew() refuses an unknown lease and one already handed out as expired", () => {
    const clock = new LessorClock();
    clock.promote([lease(1n, 1), lease(2n, 1)], 0);
    expect(clock.renew(9n, 0)).toEqual({ kind: "notFound" });
    expect(clock.expired(1000).sort()).toEqual([1n, 2n]);
    expect(clock.renew(1n, 1000)).toEqual({ kind: "notFound" });
    expect(clock.remainingMs(1n, 1000)).toBe(0);
  });

  it("renew() refuses a lease whose deadline passed even before expired() ran", () => {
    const clock = new LessorClock();
    clock.promote([lease(1n, 1)], 0);
    expect(clock.renew(1n, 1000)).toEqual({ kind: "notFound" });
  });

  it("expired() hands out at most revokeBatchMax leases per call, earliest deadline first", () => {
    const clock = new LessorClock({ revokeBatchMax: 3 });
    clock.promote(
      [5n, 4n, 3n, 2n, 1n].map((id) => lease(id, Number(id))),
      0,
    );
    expect(clock.expired(100_000)).toEqual([1n, 2n, 3n]);
    expect(clock.expired(100_000)).toEqual([4n, 5n]);
    expect(clock.expired(100_000)).toEqual([]);
  });

  it("expired() hands out no more than the caller's limit (revokes still in flight count against the batch)", () => {
    const clock = new LessorClock({ revokeBatchMax: 10 });
    clock.promote([1n, 2n, 3n].map((id) => lease(id, Number(id))), 0);
    expect(clock.expired(5000, 2)).toEqual([1n, 2n]);
    expect(clock.expired(5000, 0)).toEqual([]);
    expect(clock.expired(5000, 50)).toEqual([3n]);
  });

  it("an expired lease whose revoke did not apply is handed out again after the retry interval", () => {
    const clock = new LessorClock({ revokeRetryMs: 3000 });
    clock.promote([lease(1n, 1)], 0);
    expect(clock.expired(1000)).toEqual([1n]);
    expect(clock.expired(3999)).toEqual([]);
    expect(clock.expired(4000)).toEqual([1n]);
    clock.revoked(1n);
    expect(clock.expired(100_000)).toEqual([]);
    expect(clock.has(1n)).toBe(false);
  });

  it("keeps its heap bounded under many renewals of few leases", () => {
    const clock = new LessorClock();
    clock.promote([lease(1n, 5), lease(2n, 7)], 0);
    for (let nowMs = 1; nowMs <= 10_000; nowMs++) {
      clock.renew(1n, nowMs);
      clock.renew(2n, nowMs);
    }
    // Both deadlines moved with the renewals; the stale entries never surface as expiries.
    expect(clock.expired(14_999)).toEqual([]);
    expect(clock.expired(15_000)).toEqual([1n]);
    expect(clock.expired(17_000)).toEqual([2n]);
  });

  it("matches a brute-force model over random grants, renewals, revokes and time steps", () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const clock = new LessorClock({ revokeBatchMax: 4, revokeRetryMs: 500 });
    const model = new Map<bigint, { ttlMs: number; deadlineMs: number; revoking: boolean }>();
    clock.promote([], 0);
    let nowMs = 0;
    for (let step = 0; step < 3000; step++) {
      const id = BigInt(1 + random(20));
      const action = random(4);
      if (action === 0 && !model.has(id)) {
        const ttlSeconds = 1 + random(3);
        clock.granted(id, ttlSeconds, nowMs);
        model.set(id, { ttlMs: ttlSeconds * 1000, deadlineMs: nowMs + ttlSeconds * 1000, revoking: false });
      } else if (action === 1) {
        const entry = model.get(id);
        const alive = entry !== undefined && !entry.revoking && entry.deadlineMs > nowMs;
        expect(clock.renew(id, nowMs).kind).toBe(alive ? "renewed" : "notFound");
        if (alive) entry.deadlineMs = nowMs + entry.ttlMs;
      } else if (action === 2) {
        clock.revoked(id);
        model.delete(id);
      } else {
        nowMs += random(400);
        const got = clock.expired(nowMs);
        const due = [...model].filter(([, entry]) => entry.deadlineMs <= nowMs).sort((a, b) => a[1].deadlineMs - b[1].deadlineMs);
        expect(got.length).toBe(Math.min(4, due.length));
        for (const gotId of got) {
          const entry = model.get(gotId);
          expect(entry !== undefined && entry.deadlineMs <= nowMs).toBe(true);
          if (entry !== undefined) {
            entry.revoking = true;
            entry.deadlineMs = nowMs + 500;
          }
        }
      }
    }
  });
});

describe("LeaseIdGenerator", () => {
  it("gives distinct positive int64 ids carrying the member's low 15 bits (the 16th is the sign)", () => {
    const generator = new LeaseIdGenerator(0x1234_abcd, 1_700_000_000_000);
    const ids = Array.from({ length: 1000 }, () => generator.next());
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(id > 0n && id < 1n << 63n).toBe(true);
      expect(id >> 48n).toBe(0x2bcdn);
    }
  });

  it("two members started in the same millisecond never collide", () => {
    const a = new LeaseIdGenerator(1, 5000);
    const b = new LeaseIdGenerator(2, 5000);
    const fromA = new Set(Array.from({ length: 300 }, () => a.next()));
    for (let i = 0; i < 300; i++) expect(fromA.has(b.next())).toBe(false);
  });

  it("never returns 0, even when the prefix bits vanish and the counter wraps", () => {
    // Member id 0x10000 keeps no low bits; a start time of all ones makes the suffix wrap at once.
    const generator = new LeaseIdGenerator(0x1_0000, 2 ** 40 - 1);
    for (let i = 0; i < 300; i++) expect(generator.next()).not.toBe(0n);
  });
});
