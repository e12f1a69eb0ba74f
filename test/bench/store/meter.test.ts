import { describe, expect, it } from "vitest";
import { cpuMeter, membersCpuDeltaMs } from "./meter.ts";

describe("cpu meter", () => {
  it("gives no members' CPU across a restart, where a pid changed", () => {
    const before = new Map([["m0/10", 100], ["m1/11", 200]]);
    expect(membersCpuDeltaMs(before, new Map([["m0/10", 150], ["m1/11", 260]]))).toBe(110);
    expect(membersCpuDeltaMs(before, new Map([["m0/10", 150], ["m1/99", 5]]))).toBeUndefined();
  });

  it("charges the members only for what they used between begin and end", () => {
    let readings = 0;
    const meter = cpuMeter(() => new Map([["m0/10", 1000 + 250 * readings++]]));
    const end = meter.begin();
    const cost = end();
    expect(cost.membersCpuMs).toBe(250);
    expect(cost.wallMs).toBeGreaterThanOrEqual(0);
    expect(cost.clientCpuMs).toBeGreaterThanOrEqual(0);
  });

  it("knows no members' CPU when a member could not be read", () => {
    const meter = cpuMeter(() => undefined);
    expect(meter.begin()().membersCpuMs).toBeUndefined();
  });
});
