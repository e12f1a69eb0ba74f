/**
 * Seeded property tests: a computed patch applied to its original gives back the modified document,
 * for random documents shaped like upstream's test struct (merge lists keyed by name, primitive
 * merge lists, plain lists and maps). A failing seed is printed so it can be replayed.
 */
import { describe, expect, it } from "vitest";
import { createPrng } from "../../prng/index.ts";
import type { Prng } from "../../prng/index.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import { isJsonObject } from "./json.ts";
import { apply } from "./managed-fields.ts";
import { applyMergePatch, createMergePatch } from "./merge-patch.ts";
import { schemaFromTable } from "./schema.ts";
import { createThreeWayMergePatch, createTwoWayMergePatch } from "./strategic-diff.ts";
import { applyStrategicMergePatch } from "./strategic-merge.ts";

const seedsCount = 300;
const listItemsMax = 4;
const nestingDepthMax = 2;

const schema = schemaFromTable(
  {
    Item: {
      fields: {
        mergingList: { type: "Item", patchStrategy: "merge", patchMergeKey: "name", listType: "map", listMapKeys: ["name"] },
        nonMergingList: { type: "Item" },
        mergingIntList: { patchStrategy: "merge", listType: "set" },
      },
    },
  },
  "Item",
);

function pick<T>(prng: Prng, values: readonly T[]): T {
  return values[prng.nextInt(values.length)] as T;
}

/** A random document; item names are unique within a list, as merge keys must be. */
function randomItem(prng: Prng, depth: number, name?: number): JsonObject {
  const item: JsonObject = {};
  if (name !== undefined) item["name"] = name;
  if (prng.nextInt(2) === 0) item["value"] = pick(prng, ["a", "b", "c"]);
  if (prng.nextInt(3) === 0) item["other"] = pick(prng, [1, 2, true, "x"]);
  if (prng.nextInt(3) === 0) item["simpleMap"] = randomMap(prng);
  if (prng.nextInt(3) === 0) item["mergingIntList"] = randomDistinct(prng, 6);
  if (depth < nestingDepthMax && prng.nextInt(2) === 0) {
    item["mergingList"] = randomDistinct(prng, 6).map((itemName) => randomItem(prng, depth + 1, itemName as number));
  }
  if (depth < nestingDepthMax && prng.nextInt(4) === 0) item["nonMergingList"] = [randomItem(prng, depth + 1)];
  return item;
}

function randomMap(prng: Prng): JsonObject {
  const map: JsonObject = {};
  for (const key of ["k1", "k2", "k3"]) if (prng.nextInt(2) === 0) map[key] = pick(prng, ["v1", "v2"]);
  return map;
}

/** Up to listItemsMax distinct integers below `bound`, in random order. */
function randomDistinct(prng: Prng, bound: number): JsonValue[] {
  const values: number[] = [];
  const count = prng.nextInt(listItemsMax + 1);
  while (values.length < count) {
    const value = prng.nextInt(bound);
    if (!values.includes(value)) values.push(value);
  }
  return values;
}

function forEachSeed(check: (prng: Prng, seed: number) => void): void {
  for (let seed = 1; seed <= seedsCount; seed++) {
    try {
      check(createPrng(seed), seed);
    } catch (error) {
      throw new Error(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

describe("round trips over random documents", () => {
  it("createMergePatch() then applyMergePatch() turns the original into the modified document", () => {
    forEachSeed((prng) => {
      const original = randomItem(prng, 0);
      const modified = randomItem(prng, 0);
      expect(applyMergePatch(original, createMergePatch(original, modified))).toEqual(modified);
    });
  });

  it("createTwoWayMergePatch() then applyStrategicMergePatch() turns the original into the modified document", () => {
    forEachSeed((prng) => {
      const original = randomItem(prng, 0);
      const modified = randomItem(prng, 0);
      const patch = createTwoWayMergePatch(original, modified, schema);
      expect(applyStrategicMergePatch(original, patch, schema)).toEqual(modified);
    });
  });

  it("a three-way patch against an unchanged live object gives the modified document", () => {
    forEachSeed((prng) => {
      const original = randomItem(prng, 0);
      const modified = randomItem(prng, 0);
      const patch = createThreeWayMergePatch(original, modified, original, schema);
      expect(applyStrategicMergePatch(original, patch, schema)).toEqual(modified);
    });
  });
});

/**
 * Drops empty lists: a list applied empty owns nothing, so server-side apply may drop it (after
 * pruning its old items) or keep it (when it was absent before); upstream's typed objects omit both.
 */
function withoutEmptyLists(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutEmptyLists);
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (!(Array.isArray(member) && member.length === 0)) result[key] = withoutEmptyLists(member);
  }
  return result;
}

function withoutManagedFields(object: JsonObject): JsonObject {
  const copy = structuredClone(object);
  delete (copy["metadata"] as JsonObject)["managedFields"];
  return copy;
}

describe("server-side apply over random documents", () => {
  it("is idempotent, and one manager applying A then B ends with B", () => {
    forEachSeed((prng) => {
      // Every document sets a field: an object whose applier owns nothing is "untracked", and its
      // next apply hands its fields to before-first-apply (upstream does the same).
      const header = { apiVersion: "example.com/v1", kind: "Item", metadata: { name: "x" }, label: "set" };
      const first = { ...header, ...randomItem(prng, 0) };
      const second = { ...header, ...randomItem(prng, 0) };
      const once = apply(undefined, first, "m", false, { schema });
      expect(apply(once, first, "m", false, { schema })).toEqual(once);
      const both = apply(once, second, "m", false, { schema });
      expect(withoutEmptyLists(withoutManagedFields(both))).toEqual(withoutEmptyLists(withoutManagedFields(second)));
    });
  });
});
