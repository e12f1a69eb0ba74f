import { describe, expect, it } from "vitest";
import { createPrng } from "./index.ts";

describe("createPrng", () => {
  it("replays the same sequence for the same seed", () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const drawsA = Array.from({ length: 100 }, () => a.nextInt(1000));
    const drawsB = Array.from({ length: 100 }, () => b.nextInt(1000));
    expect(drawsA).toEqual(drawsB);
  });

  it("gives different sequences for different seeds", () => {
    const a = createPrng(1);
    const b = createPrng(2);
    const drawsA = Array.from({ length: 20 }, () => a.nextInt(1 << 30));
    const drawsB = Array.from({ length: 20 }, () => b.nextInt(1 << 30));
    expect(drawsA).not.toEqual(drawsB);
  });

  it("keeps nextInt within its bound and covers it", () => {
    const prng = createPrng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = prng.nextInt(10);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(10);
      seen.add(value);
    }
    expect(seen.size).toBe(10);
  });

  it("rejects a bound that is not a positive integer", () => {
    const prng = createPrng(7);
    expect(() => prng.nextInt(0)).toThrow(RangeError);
    expect(() => prng.nextInt(2.5)).toThrow(/nextInt bound/);
  });
});
