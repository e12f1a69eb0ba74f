import { describe, expect, it } from "vitest";
import { planFragments, StreamWatchIds } from "./watch-parts.ts";

describe("StreamWatchIds", () => {
  it("assigns 0, 1, 2... when the client asks for none, as etcd does", () => {
    const ids = new StreamWatchIds();
    expect([ids.allocate(0), ids.allocate(0), ids.allocate(0)]).toEqual([0, 1, 2]);
  });

  it("accepts a client-chosen id and refuses it again while it is in use", () => {
    const ids = new StreamWatchIds();
    expect(ids.allocate(7)).toBe(7);
    expect(ids.allocate(7)).toBeUndefined();
    expect(ids.release(7)).toBe(true);
    expect(ids.allocate(7)).toBe(7);
  });

  it("skips ids that clients chose when assigning", () => {
    const ids = new StreamWatchIds();
    ids.allocate(1);
    ids.allocate(2);
    expect(ids.allocate(0)).toBe(0);
    expect(ids.allocate(0)).toBe(3);
  });

  it("does not hand out a canceled assigned id again", () => {
    const ids = new StreamWatchIds();
    const first = ids.allocate(0);
    expect(first).toBe(0);
    ids.release(0);
    expect(ids.allocate(0)).toBe(1);
    expect(ids.has(0)).toBe(false);
    expect(ids.size).toBe(1);
  });

  it("refuses a client id that an earlier assignment took", () => {
    const ids = new StreamWatchIds();
    ids.allocate(0);
    ids.allocate(0);
    expect(ids.allocate(1)).toBeUndefined();
  });
});

describe("planFragments", () => {
  it("keeps a response whole when it is below the limit", () => {
    expect(planFragments(20, [10, 10, 10], 100)).toEqual([3]);
  });

  it("keeps a single event whole even when it alone passes the limit", () => {
    expect(planFragments(20, [500], 100)).toEqual([1]);
  });

  it("splits a large response into slices that each stay below the limit", () => {
    const plan = planFragments(10, [30, 30, 30, 30, 30], 100);
    expect(plan).toEqual([2, 2, 1]);
    expect(plan.reduce((sum, count) => sum + count, 0)).toBe(5);
  });

  it("puts an oversized event alone in its fragment and carries on after it", () => {
    expect(planFragments(10, [30, 300, 30, 30], 100)).toEqual([1, 1, 2]);
  });

  it("treats a response exactly at the limit as too big, as etcd does", () => {
    expect(planFragments(40, [30, 30], 100)).toEqual([1, 1]);
    expect(planFragments(39, [30, 30], 100)).toEqual([2]);
  });

  it("every fragment of a random plan is below the limit or holds a single event", () => {
    let seed = 99;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const base = 1 + random(50);
      const events = Array.from({ length: 1 + random(40) }, () => 1 + random(120));
      const maxBytes = 60 + random(400);
      const plan = planFragments(base, events, maxBytes);
      expect(plan.reduce((sum, count) => sum + count, 0)).toBe(events.length);
      if (plan.length === 1) continue;
      let index = 0;
      for (const count of plan) {
        const slice = events.slice(index, index + count);
        index += count;
        const bytes = slice.reduce((sum, size) => sum + size, base);
        expect(count === 1 || bytes < maxBytes).toBe(true);
        // Greedy: the next event would not have fit.
        const next = events[index];
        if (next !== undefined) expect(bytes + next >= maxBytes).toBe(true);
      }
    }
  });
});
