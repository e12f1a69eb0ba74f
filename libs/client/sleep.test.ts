import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sleepOrAbort } from "./sleep.ts";

describe("sleepOrAbort", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("resolves only once the delay has passed", async () => {
    let woke = false;
    const sleeping = sleepOrAbort(1_000, new AbortController().signal).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(woke).toBe(true);
  });

  it("resolves at once when the signal aborts and leaves no timer behind", async () => {
    const controller = new AbortController();
    let woke = false;
    const sleeping = sleepOrAbort(60_000, controller.signal).then(() => (woke = true));
    controller.abort();
    await sleeping;
    expect(woke).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not start a timer when the signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await sleepOrAbort(60_000, controller.signal);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sleeps the full delay without a signal", async () => {
    let woke = false;
    const sleeping = sleepOrAbort(500, undefined).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(woke).toBe(true);
  });
});
