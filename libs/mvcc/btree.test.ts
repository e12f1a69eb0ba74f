import { describe, expect, it } from "vitest";
import { createPrng } from "../prng/index.ts";
import { WeightedTree } from "./btree.ts";

function randomKey(nextInt: (n: number) => number): string {
  let key = "";
  const length = 1 + nextInt(4);
  for (let i = 0; i < length; i++) key += String.fromCharCode(nextInt(256));
  return key;
}

describe("WeightedTree", () => {
  it("keeps order, values and weight sums through thousands of inserts and weight changes", () => {
    const prng = createPrng(11);
    const tree = new WeightedTree<number>();
    const model = new Map<string, { value: number; weight: number }>();
    for (let i = 0; i < 6000; i++) {
      const key = randomKey((n) => prng.nextInt(n));
      if (model.has(key)) {
        const weight = prng.nextInt(2);
        tree.setWeight(key, weight);
        (model.get(key) as { weight: number }).weight = weight;
      } else {
        const weight = prng.nextInt(2);
        tree.insert(key, i, weight);
        model.set(key, { value: i, weight });
      }
    }
    const sorted = [...model.keys()].sort();
    expect(tree.size).toBe(sorted.length);
    const scanned: string[] = [];
    tree.scan("", (key) => {
      scanned.push(key);
      return true;
    });
    expect(scanned).toEqual(sorted);
    for (let probe = 0; probe < 200; probe++) {
      const bound = randomKey((n) => prng.nextInt(n));
      const expected = sorted.filter((key) => key < bound).reduce((sum, key) => sum + (model.get(key)?.weight ?? 0), 0);
      expect(tree.weightBelow(bound)).toBe(expected);
      const firstFive: string[] = [];
      tree.scan(bound, (key) => firstFive.push(key) < 5);
      expect(firstFive).toEqual(sorted.filter((key) => key >= bound).slice(0, 5));
      expect(tree.get(bound)).toBe(model.get(bound)?.value);
      const upper = randomKey((n) => prng.nextInt(n));
      const between: number[] = [];
      tree.scanValues(bound, upper, (value) => between.push(value) < 1000);
      const expectedBetween = sorted.filter((key) => key >= bound && key < upper).slice(0, 1000);
      expect(between).toEqual(expectedBetween.map((key) => model.get(key)?.value));
      const unbounded: number[] = [];
      tree.scanValues(bound, "", (value) => unbounded.push(value) < 70);
      expect(unbounded).toEqual(sorted.filter((key) => key >= bound).slice(0, 70).map((key) => model.get(key)?.value));
    }
    expect(tree.totalWeight).toBe(sorted.reduce((sum, key) => sum + (model.get(key)?.weight ?? 0), 0));
  });

  it("rebuild replaces the content and still accepts inserts afterwards", () => {
    const tree = new WeightedTree<string>();
    const entries = Array.from({ length: 5000 }, (_, i) => ({ key: `k${String(i).padStart(5, "0")}`, value: `v${i}`, weight: i % 2 }));
    tree.rebuild(entries);
    expect(tree.size).toBe(5000);
    expect(tree.totalWeight).toBe(2500);
    expect(tree.weightBelow("k01000")).toBe(500);
    tree.insert("k00000a", "new", 1);
    expect(tree.weightBelow("k00001")).toBe(1);
    expect(tree.get("k00000a")).toBe("new");
    tree.rebuild([]);
    expect(tree.size).toBe(0);
    expect(tree.get("k00000a")).toBeUndefined();
  });
});
