import { describe, expect, it } from "vitest";
import { failedOperationsMax, runClosedLoop } from "./load.ts";

/** A clock that moves only when the test says so. */
function manualClock(): { nowMs: () => number; advance: (ms: number) => void } {
  let currentMs = 0;
  return { nowMs: () => currentMs, advance: (ms) => (currentMs += ms) };
}

describe("runClosedLoop", () => {
  it("issues every index exactly once with at most inFlight outstanding", async () => {
    const clock = manualClock();
    const seen: number[] = [];
    let active = 0;
    let activeMax = 0;
    const result = await runClosedLoop({
      inFlight: 4,
      operationsMax: 50,
      durationMsMax: 1000,
      nowMs: clock.nowMs,
      operation: async (index) => {
        active++;
        activeMax = Math.max(activeMax, active);
        await new Promise((resolve) => setImmediate(resolve));
        active--;
        seen.push(index);
      },
    });
    expect(result.completed).toBe(50);
    expect(result.stoppedBy).toBe("count");
    expect(activeMax).toBe(4);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("records each operation's latency from the clock", async () => {
    const clock = manualClock();
    const result = await runClosedLoop({
      inFlight: 1,
      operationsMax: 3,
      durationMsMax: 1000,
      nowMs: clock.nowMs,
      operation: async (index) => clock.advance(index + 1),
    });
    expect([...result.latenciesMs]).toEqual([1, 2, 3]);
    expect(result.elapsedMs).toBe(6);
  });

  it("stops issuing once the time bound has passed", async () => {
    const clock = manualClock();
    const result = await runClosedLoop({
      inFlight: 2,
      operationsMax: 1000,
      durationMsMax: 10,
      nowMs: clock.nowMs,
      operation: async () => clock.advance(1),
    });
    expect(result.stoppedBy).toBe("time");
    expect(result.completed).toBeGreaterThanOrEqual(10);
    expect(result.completed).toBeLessThan(13);
  });

  it("gives up after failedOperationsMax failures and keeps the first error", async () => {
    const clock = manualClock();
    let calls = 0;
    const result = await runClosedLoop({
      inFlight: 1,
      operationsMax: 10_000,
      durationMsMax: 1000,
      nowMs: clock.nowMs,
      operation: async () => {
        calls++;
        throw new Error(`refused ${calls}`);
      },
    });
    expect(result.stoppedBy).toBe("errors");
    expect(result.failed).toBe(failedOperationsMax);
    expect(result.completed).toBe(0);
    expect(result.firstError).toBe("refused 1");
  });

  it("refuses an in-flight count of zero", async () => {
    const clock = manualClock();
    await expect(runClosedLoop({ inFlight: 0, operationsMax: 1, durationMsMax: 1, nowMs: clock.nowMs, operation: async () => {} })).rejects.toThrow(/in-flight/);
  });
});
