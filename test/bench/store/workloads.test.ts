import { describe, expect, it } from "vitest";
import { valueBytes } from "./config.ts";
import { benchKey, paddedValue, rotatedEndpoints } from "./workloads.ts";

describe("workload helpers", () => {
  it("pads values to the configured size and keeps a leading timestamp readable", () => {
    const value = paddedValue("12345.678");
    expect(value.length).toBe(valueBytes);
    expect(Number.parseFloat(value.toString("latin1"))).toBe(12345.678);
    expect(paddedValue("x".repeat(500)).length).toBe(valueBytes);
  });

  it("gives distinct, ordered keys per phase", () => {
    expect(benchKey("put", 7).toString()).toBe("/bench/put/00000007");
    expect(benchKey("put", 7).equals(benchKey("get", 7))).toBe(false);
  });

  it("starts each client's endpoint list at the next member in turn", () => {
    expect(rotatedEndpoints(["a", "b", "c"], 4)).toEqual([
      ["a", "b", "c"],
      ["b", "c", "a"],
      ["c", "a", "b"],
      ["a", "b", "c"],
    ]);
  });
});
