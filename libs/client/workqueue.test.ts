import { describe, expect, it } from "vitest";
import { backoffDelayMs, RateLimitingQueue, TokenBucket, type QueueClock } from "./workqueue.ts";

/** A clock whose time moves only when the test says so; due timers fire in order. */
class ManualClock implements QueueClock {
  now = 1_000;
  #timers: { dueMs: number; callback: () => void; id: number }[] = [];
  #nextId = 0;

  nowMs(): number {
    return this.now;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const id = this.#nextId++;
    this.#timers.push({ dueMs: this.now + delayMs, callback, id });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.#timers.filter((timer) => timer.dueMs <= this.now).sort((a, b) => a.dueMs - b.dueMs);
    this.#timers = this.#timers.filter((timer) => timer.dueMs > this.now);
    for (const timer of due) timer.callback();
  }

  get pending(): number {
    return this.#timers.length;
  }
}

describe("RateLimitingQueue", () => {
  it("hands a key added twice out once", async () => {
    const queue = new RateLimitingQueue({ clock: new ManualClock() });
    queue.add("default/a");
    queue.add("default/a");
    queue.add("default/b");
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe("default/a");
    expect(await queue.get()).toBe("default/b");
    expect(queue.length).toBe(0);
  });

  it("does not hand a key to a second worker while the first processes it, and replays it at done()", async () => {
    const queue = new RateLimitingQueue({ clock: new ManualClock() });
    queue.add("k");
    const first = await queue.get();
    queue.add("k");
    expect(queue.length).toBe(0);
    let second: string | undefined = "unset";
    const waiting = queue.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).toBe("unset");
    queue.done(first as string);
    await waiting;
    expect(second).toBe("k");
  });

  it("resolves a waiting get() when a key arrives and undefined after shutDown()", async () => {
    const queue = new RateLimitingQueue({ clock: new ManualClock() });
    const pending = queue.get();
    queue.add("x");
    expect(await pending).toBe("x");
    const afterShutdown = queue.get();
    queue.shutDown();
    expect(await afterShutdown).toBeUndefined();
    queue.add("y");
    expect(await queue.get()).toBeUndefined();
  });

  it("requeueWithBackoff() doubles the delay from 5 ms and forget() resets it", () => {
    const clock = new ManualClock();
    const queue = new RateLimitingQueue({ clock });
    queue.requeueWithBackoff("k");
    expect(queue.length).toBe(0);
    clock.advance(4);
    expect(queue.length).toBe(0);
    clock.advance(1);
    expect(queue.length).toBe(1);
    queue.requeueWithBackoff("j");
    clock.advance(4);
    queue.requeueWithBackoff("j");
    expect(queue.failures("j")).toBe(2);
    clock.advance(1);
    // The second requeue (10 ms) does not postpone the first one's earlier due time.
    expect(queue.length).toBe(2);
    queue.forget("j");
    expect(queue.failures("j")).toBe(0);
  });

  it("addAfter() keeps the earlier due time of a key already waiting", () => {
    const clock = new ManualClock();
    const queue = new RateLimitingQueue({ clock });
    queue.addAfter("k", 100);
    queue.addAfter("k", 50);
    queue.addAfter("k", 500);
    expect(clock.pending).toBe(1);
    clock.advance(50);
    expect(queue.length).toBe(1);
  });

  it("delays by the token bucket once the burst is spent", () => {
    const clock = new ManualClock();
    const queue = new RateLimitingQueue({ clock, bucketRatePerSecond: 10, bucketBurst: 2 });
    for (const key of ["a", "b", "c"]) queue.requeueWithBackoff(key);
    clock.advance(5);
    expect(queue.length).toBe(2);
    clock.advance(94);
    expect(queue.length).toBe(2);
    clock.advance(1);
    expect(queue.length).toBe(3);
  });
});

describe("backoff bounds", () => {
  it("backoffDelayMs() starts at 5 ms and stops at 1000 s", () => {
    expect(backoffDelayMs(0)).toBe(5);
    expect(backoffDelayMs(1)).toBe(10);
    expect(backoffDelayMs(10)).toBe(5 * 1024);
    expect(backoffDelayMs(17)).toBe(655_360);
    expect(backoffDelayMs(18)).toBe(1_000_000);
    expect(backoffDelayMs(10_000)).toBe(1_000_000);
  });

  it("TokenBucket refills at its rate and never beyond its burst", () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([0, 0, 0, 100]);
    const refilled = new TokenBucket(10, 3, 0);
    refilled.reserve(0);
    expect(refilled.reserve(60_000)).toBe(0);
    expect(refilled.reserve(60_000)).toBe(0);
    expect(refilled.reserve(60_000)).toBe(0);
    expect(refilled.reserve(60_000)).toBe(100);
  });
});
