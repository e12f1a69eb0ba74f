import { describe, expect, it } from "vitest";
import { builtinSchema } from "./builtin-schema.ts";
import { PatchFormatError } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import { deducedSchema, schemaFromTable } from "./schema.ts";
import type { PatchSchema } from "./schema.ts";
import { applyStrategicMergePatch } from "./strategic-merge.ts";

function schemaOf(apiVersion: string, kind: string): PatchSchema {
  const schema = builtinSchema(apiVersion, kind);
  if (schema === undefined) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return schema;
}

const podSchema = schemaOf("v1", "Pod");
const deploymentSchema = schemaOf("apps/v1", "Deployment");

/** The struct upstream's own tests use: merge lists by "name", primitive merge lists, retainKeys. */
const mergeItemSchema = schemaFromTable(
  {
    MergeItem: {
      fields: {
        mergingList: { type: "MergeItem", patchStrategy: "merge", patchMergeKey: "name" },
        nonMergingList: { type: "MergeItem" },
        mergingIntList: { patchStrategy: "merge" },
        replacingItem: { patchStrategy: "replace" },
        retainKeysMap: { patchStrategy: "retainKeys" },
      },
    },
  },
  "MergeItem",
);

function pod(containers: JsonObject[]): JsonObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "web" }, spec: { containers } };
}

describe("applyStrategicMergePatch() on merge lists", () => {
  it("adds a container by name and merges an existing one field by field", () => {
    const live = pod([{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] }]);
    const patch = { spec: { containers: [{ name: "nginx", image: "nginx:1.27" }, { name: "sidecar", image: "envoy" }] } };
    expect(applyStrategicMergePatch(live, patch, podSchema)).toEqual(
      pod([
        { name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] },
        { name: "sidecar", image: "envoy" },
      ]),
    );
  });

  it("removes a container with $patch: delete and leaves the others", () => {
    const live = pod([
      { name: "nginx", image: "nginx" },
      { name: "sidecar", image: "envoy" },
    ]);
    const patch = { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } };
    expect(applyStrategicMergePatch(live, patch, podSchema)).toEqual(pod([{ name: "nginx", image: "nginx" }]));
  });

  it("deletes one env var by name inside a container", () => {
    const live = pod([{ name: "app", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] }]);
    const patch = { spec: { containers: [{ name: "app", env: [{ name: "A", $patch: "delete" }] }] } };
    expect(applyStrategicMergePatch(live, patch, podSchema)).toEqual(pod([{ name: "app", env: [{ name: "B", value: "2" }] }]));
  });

  it("merges container ports by containerPort, not by position", () => {
    const live = pod([{ name: "app", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443 }] }]);
    const patch = { spec: { containers: [{ name: "app", ports: [{ containerPort: 443, name: "https" }] }] } };
    const result = applyStrategicMergePatch(live, patch, podSchema);
    expect(result).toEqual(pod([{ name: "app", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443, name: "https" }] }]));
  });

  it("replaces a whole merge list when an item says $patch: replace", () => {
    const live = pod([{ name: "a" }, { name: "b" }]);
    const patch = { spec: { containers: [{ $patch: "replace" }, { name: "c", image: "busybox" }] } };
    expect(applyStrategicMergePatch(live, patch, podSchema)).toEqual(pod([{ name: "c", image: "busybox" }]));
  });

  it("replaces lists without a merge strategy (tolerations) whole", () => {
    const live = { spec: { tolerations: [{ key: "a", operator: "Exists" }] } };
    const patch = { spec: { tolerations: [{ key: "b", operator: "Exists" }] } };
    expect(applyStrategicMergePatch(live, patch, podSchema)).toEqual(patch);
  });

  it("refuses a merge-list item without its merge key", () => {
    const live = pod([{ name: "a" }]);
    expect(() => applyStrategicMergePatch(live, { spec: { containers: [{ image: "x" }] } }, podSchema)).toThrow(
      /does not contain declared merge key: name/,
    );
  });
});

describe("applyStrategicMergePatch() on maps", () => {
  it("deletes a field patched to null", () => {
    const live = { spec: { replicas: 3, paused: true } };
    expect(applyStrategicMergePatch(live, { spec: { paused: null } }, deploymentSchema)).toEqual({ spec: { replicas: 3 } });
  });

  it("replaces a map that says $patch: replace instead of merging into it", () => {
    const live = { metadata: { labels: { app: "web", tier: "front" } } };
    const patch = { metadata: { labels: { $patch: "replace", app: "api" } } };
    expect(applyStrategicMergePatch(live, patch, deploymentSchema)).toEqual({ metadata: { labels: { app: "api" } } });
  });

  it("empties a map that says $patch: delete", () => {
    const live = { metadata: { labels: { app: "web" } } };
    expect(applyStrategicMergePatch(live, { metadata: { labels: { $patch: "delete" } } }, deploymentSchema)).toEqual({ metadata: { labels: {} } });
  });

  it("rejects an unknown $patch directive", () => {
    expect(() => applyStrategicMergePatch({ a: {} }, { a: { $patch: "frobnicate" } }, deploymentSchema)).toThrow(/unknown patch type: frobnicate/);
  });

  it("clears the keys $retainKeys does not list (a Deployment's strategy)", () => {
    const live = { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } };
    const patch = { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } };
    expect(applyStrategicMergePatch(live, patch, deploymentSchema)).toEqual({ spec: { strategy: { type: "Recreate" } } });
  });

  it("rejects a patch that sets a key its $retainKeys does not list", () => {
    const patch = { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: { maxSurge: 2 } } } };
    expect(() => applyStrategicMergePatch({ spec: { strategy: {} } }, patch, deploymentSchema)).toThrow(/invalid patch format of retainKeys/);
  });

  it("never stores directives that arrive inside a newly added value", () => {
    const patch = { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } };
    expect(applyStrategicMergePatch({ spec: {} }, patch, deploymentSchema)).toEqual({ spec: { strategy: { type: "Recreate" } } });
  });

  it("does not modify the live object or the patch", () => {
    const live = pod([{ name: "a", image: "x" }]);
    const patch = { spec: { containers: [{ name: "a", image: "y" }] } };
    const liveCopy = structuredClone(live);
    const patchCopy = structuredClone(patch);
    applyStrategicMergePatch(live, patch, podSchema);
    expect(live).toEqual(liveCopy);
    expect(patch).toEqual(patchCopy);
  });

  it("rejects a patch that is not an object", () => {
    expect(() => applyStrategicMergePatch({}, [1, 2], podSchema)).toThrow(PatchFormatError);
  });
});

describe("applyStrategicMergePatch() on primitive lists", () => {
  it("unions a merge list of primitives (finalizers), patch items first", () => {
    const live = { metadata: { finalizers: ["a", "b"] } };
    expect(applyStrategicMergePatch(live, { metadata: { finalizers: ["c", "a"] } }, podSchema)).toEqual({ metadata: { finalizers: ["c", "a", "b"] } });
  });

  it("drops items listed in $deleteFromPrimitiveList", () => {
    const live = { metadata: { finalizers: ["a", "b", "c"] } };
    const patch = { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } };
    expect(applyStrategicMergePatch(live, patch, podSchema)).toEqual({ metadata: { finalizers: ["a", "c"] } });
  });

  it("never adds an item or a list through $deleteFromPrimitiveList", () => {
    expect(applyStrategicMergePatch({ mergingIntList: [1, 2] }, { "$deleteFromPrimitiveList/mergingIntList": [3] }, mergeItemSchema)).toEqual({ mergingIntList: [1, 2] });
    expect(applyStrategicMergePatch({ foo: ["bar"] }, { "$deleteFromPrimitiveList/mergingIntList": [3] }, mergeItemSchema)).toEqual({ foo: ["bar"] });
  });

  it("deletes from a list without merge strategy too", () => {
    expect(applyStrategicMergePatch({ nonMergingIntList: [1, 2, 3] }, { "$deleteFromPrimitiveList/nonMergingIntList": [2] }, mergeItemSchema)).toEqual({ nonMergingIntList: [1, 3] });
  });

  it("rejects a malformed parallel list key", () => {
    expect(() => applyStrategicMergePatch({}, { "$deleteFromPrimitiveListX/a": [1] }, mergeItemSchema)).toThrow(/invalid patch format of primitive list/);
  });
});

describe("applyStrategicMergePatch() with $setElementOrder", () => {
  it("orders patch items by the directive and keeps server-only items after the live items they followed", () => {
    // Upstream's "set elements order in a list with server-only items 2".
    const live = { mergingList: [{ name: 1, other: "a" }, { name: 2, value: 2 }, { name: 9 }, { name: 3, value: 3 }, { name: 4, value: 4 }] };
    const patch = { "$setElementOrder/mergingList": [{ name: 2 }, { name: 1 }, { name: 4 }, { name: 3 }] };
    expect(applyStrategicMergePatch(live, patch, mergeItemSchema)).toEqual({
      mergingList: [{ name: 2, value: 2 }, { name: 1, other: "a" }, { name: 9 }, { name: 4, value: 4 }, { name: 3, value: 3 }],
    });
  });

  it("places a new item and the server-only items the way upstream does when another item is deleted", () => {
    // Upstream's "add map and delete map from merging list": 4 stays ahead of the new 3.
    const live = { mergingList: [{ name: 1 }, { name: 2, other: "b" }, { name: 4, other: "c" }] };
    const patch = {
      "$setElementOrder/mergingList": [{ name: 2 }, { name: 3 }],
      mergingList: [{ name: 3 }, { name: 1, $patch: "delete" }],
    };
    expect(applyStrategicMergePatch(live, patch, mergeItemSchema)).toEqual({ mergingList: [{ name: 2, other: "b" }, { name: 4, other: "c" }, { name: 3 }] });
  });

  it("orders a primitive merge list and ignores directive items the list lacks", () => {
    expect(applyStrategicMergePatch({ mergingIntList: [1, 3] }, { "$setElementOrder/mergingIntList": [3, 2, 1] }, mergeItemSchema)).toEqual({ mergingIntList: [3, 1] });
  });

  it("rejects a patch list whose order contradicts the directive", () => {
    const patch = {
      "$setElementOrder/mergingList": [{ name: 1 }, { name: 2 }, { name: 3 }],
      mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }],
    };
    expect(() => applyStrategicMergePatch({ mergingList: [{ name: 1 }, { name: 3 }, { name: 2 }] }, patch, mergeItemSchema)).toThrow(/doesn't match/);
  });
});

describe("applyStrategicMergePatch() without schema tags", () => {
  it("behaves like a JSON merge patch: maps merge, lists are replaced, nulls delete", () => {
    const live = { spec: { items: [{ name: "a" }, { name: "b" }], map: { x: 1, y: 2 } } };
    const patch = { spec: { items: [{ name: "c" }], map: { y: null, z: 3 } } };
    expect(applyStrategicMergePatch(live, patch, deducedSchema)).toEqual({ spec: { items: [{ name: "c" }], map: { x: 1, z: 3 } } });
  });
});
