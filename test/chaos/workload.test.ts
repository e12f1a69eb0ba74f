import { describe, expect, it } from "vitest";
import { createPrng } from "../../libs/prng/index.ts";
import type { KvOperation } from "../../libs/lincheck/index.ts";
import { nextOperation, observedValue } from "./workload.ts";

function drawMany(count: number, lastSeen: ReadonlyMap<string, string | null>): KvOperation[] {
  const prng = createPrng(7);
  let sequence = 0;
  return Array.from({ length: count }, () => nextOperation(prng, ["a", "b"], lastSeen, () => `v${sequence++}`));
}

describe("the chaos load", () => {
  it("draws every kind of operation, on the given keys only", () => {
    const operations = drawMany(400, new Map());
    expect(new Set(operations.map((operation) => operation.kind))).toEqual(new Set(["put", "get", "cas", "delete"]));
    expect(new Set(operations.map((operation) => operation.key))).toEqual(new Set(["a", "b"]));
  });

  it("writes a value never written before in every put and cas", () => {
    const written = drawMany(400, new Map()).flatMap((operation) => (operation.kind === "put" || operation.kind === "cas" ? [operation.value] : []));
    expect(new Set(written).size).toBe(written.length);
  });

  it("makes a cas expect the value the client last saw, or absence", () => {
    const cases = drawMany(400, new Map([["a", "seen-a"]])).filter((operation) => operation.kind === "cas");
    expect(cases.length).toBeGreaterThan(0);
    for (const operation of cases) expect(operation.expected).toBe(operation.key === "a" ? "seen-a" : null);
  });

  it("learns the key's value from reads, writes and successful cas only", () => {
    expect(observedValue({ kind: "get", key: "a" }, { kind: "get", value: "x" })).toBe("x");
    expect(observedValue({ kind: "put", key: "a", value: "y" }, { kind: "put" })).toBe("y");
    expect(observedValue({ kind: "delete", key: "a" }, { kind: "delete", deleted: 0 })).toBeNull();
    expect(observedValue({ kind: "cas", key: "a", expected: null, value: "z" }, { kind: "cas", succeeded: true })).toBe("z");
    expect(observedValue({ kind: "cas", key: "a", expected: null, value: "z" }, { kind: "cas", succeeded: false })).toBeUndefined();
  });
});
