import { describe, expect, it } from "vitest";
import { percentile, ratePerSecond, summarize } from "./stats.ts";

const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

describe("percentile", () => {
  it("takes the nearest rank, so p99 of 1..100 is 99 and not the maximum", () => {
    expect(percentile(oneToHundred, 0.99)).toBe(99);
    expect(percentile(oneToHundred, 0.5)).toBe(50);
    expect(percentile(oneToHundred, 1)).toBe(100);
  });

  it("gives the only sample for every fraction of a single-sample set", () => {
    expect(percentile([7], 0.01)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it("refuses an empty sample and a fraction outside (0, 1]", () => {
    expect(() => percentile([], 0.5)).toThrow(/non-empty/);
    expect(() => percentile([1], 0)).toThrow(/fraction/);
  });
});

describe("summarize", () => {
  it("sorts unsorted samples numerically before taking percentiles", () => {
    // Lexical order would put 10 before 9 and make the p50 wrong.
    const summary = summarize([10, 9, 1, 100, 2]);
    expect(summary).toEqual({ count: 5, meanMs: 24.4, p50Ms: 9, p99Ms: 100, maxMs: 100 });
  });

  it("returns undefined when nothing completed", () => {
    expect(summarize([])).toBeUndefined();
  });
});

describe("ratePerSecond", () => {
  it("divides operations by elapsed seconds", () => {
    expect(ratePerSecond(500, 250)).toBe(2000);
  });

  it("is zero when no time passed or nothing completed", () => {
    expect(ratePerSecond(10, 0)).toBe(0);
    expect(ratePerSecond(0, 100)).toBe(0);
  });
});
