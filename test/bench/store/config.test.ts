import { describe, expect, it } from "vitest";
import { parseBenchOptions, parseImplementations, parseScale, scaledSizes } from "./config.ts";

describe("bench options", () => {
  it("defaults to both implementations at scale 1", () => {
    const options = parseBenchOptions([], {});
    expect(options.implementations).toEqual(["flotilla", "etcd"]);
    expect(options.scale).toBe(1);
    expect(options.sizes.sequentialPuts).toBe(2000);
  });

  it("takes --impl and BENCH_SCALE", () => {
    const options = parseBenchOptions(["--impl", "etcd"], { BENCH_SCALE: "0.5" });
    expect(options.implementations).toEqual(["etcd"]);
    expect(options.sizes.concurrentPuts).toBe(10_000);
  });

  it("rejects an unknown implementation, an unknown flag and a scale out of range", () => {
    expect(() => parseImplementations("zookeeper")).toThrow(/--impl/);
    expect(() => parseBenchOptions(["--threads", "4"], {})).toThrow();
    expect(() => parseScale("0")).toThrow(/BENCH_SCALE/);
    expect(() => parseScale("lots")).toThrow(/BENCH_SCALE/);
    expect(() => parseScale("1000")).toThrow(/BENCH_SCALE/);
  });

  it("scales counts but never below one, and keeps three leader kills", () => {
    const sizes = scaledSizes(0.01);
    expect(sizes.sequentialPuts).toBe(20);
    expect(sizes.getKeys).toBe(10);
    expect(sizes.failoverRounds).toBe(3);
    expect(scaledSizes(2).phaseDurationMsMax).toBe(2 * scaledSizes(1).phaseDurationMsMax);
    expect(scaledSizes(0.1).phaseDurationMsMax).toBe(scaledSizes(1).phaseDurationMsMax);
  });
});
