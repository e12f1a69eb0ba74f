import { describe, expect, it } from "vitest";
import { builtinSchema, builtinSchemaKinds } from "./builtin-schema.ts";
import { PatchFormatError } from "./errors.ts";
import { deducedSchema, emptyPatchMeta, lookupField, schemaFromTable, splitPatchStrategies } from "./schema.ts";
import type { PatchSchema } from "./schema.ts";

function schemaOf(apiVersion: string, kind: string): PatchSchema {
  const schema = builtinSchema(apiVersion, kind);
  if (schema === undefined) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return schema;
}

const podSpecPath = ["spec", "template", "spec"];

describe("builtinSchema()", () => {
  it("knows upstream's merge keys for a Deployment's pod template", () => {
    const deployment = schemaOf("apps/v1", "Deployment");
    const containers = lookupField(deployment, [...podSpecPath, "containers"]);
    expect(containers.meta.patchStrategies).toEqual(["merge"]);
    expect(containers.meta.patchMergeKey).toBe("name");
    expect(lookupField(deployment, [...podSpecPath, "containers", "ports"]).meta.patchMergeKey).toBe("containerPort");
    expect(lookupField(deployment, [...podSpecPath, "containers", "env"]).meta.patchMergeKey).toBe("name");
    expect(lookupField(deployment, [...podSpecPath, "containers", "volumeMounts"]).meta.patchMergeKey).toBe("mountPath");
    expect(lookupField(deployment, [...podSpecPath, "volumes"]).meta.patchStrategies).toEqual(["merge", "retainKeys"]);
    expect(lookupField(deployment, [...podSpecPath, "imagePullSecrets"]).meta.patchMergeKey).toBe("name");
    expect(lookupField(deployment, ["spec", "strategy"]).meta.patchStrategies).toEqual(["retainKeys"]);
    expect(lookupField(deployment, ["status", "conditions"]).meta.patchMergeKey).toBe("type");
  });

  it("replaces tolerations whole: upstream gives them no patch strategy", () => {
    const tolerations = lookupField(schemaOf("v1", "Pod"), ["spec", "tolerations"]);
    expect(tolerations.meta.patchStrategies).toEqual([]);
    expect(tolerations.meta.listType).toBe("atomic");
  });

  it("keys service ports by port and protocol for apply, by port for strategic merge", () => {
    const ports = lookupField(schemaOf("v1", "Service"), ["spec", "ports"]);
    expect(ports.meta.patchMergeKey).toBe("port");
    expect(ports.meta.listMapKeys).toEqual(["port", "protocol"]);
    expect(ports.meta.listMapKeyDefaults).toEqual({ protocol: "TCP" });
  });

  it("merges metadata lists on every kind: ownerReferences by uid, finalizers as a set", () => {
    for (const [apiVersion, kind] of builtinSchemaKinds()) {
      const schema = schemaOf(apiVersion, kind);
      expect(lookupField(schema, ["metadata", "ownerReferences"]).meta.patchMergeKey).toBe("uid");
      const finalizers = lookupField(schema, ["metadata", "finalizers"]).meta;
      expect(finalizers.patchStrategies).toEqual(["merge"]);
      expect(finalizers.listType).toBe("set");
    }
  });

  it("knows nothing about custom resources", () => {
    expect(builtinSchema("example.com/v1", "Widget")).toBeUndefined();
  });

  it("falls back to no tags for fields it does not list", () => {
    const field = lookupField(schemaOf("apps/v1", "Deployment"), ["spec", "somethingNew", "list"]);
    expect(field.meta).toEqual(emptyPatchMeta);
    expect(field.schema.namedFields).toBe(true);
    expect(deducedSchema.field("anything").schema.namedFields).toBe(false);
  });
});

describe("schemaFromTable()", () => {
  it("resolves recursive types lazily", () => {
    const schema = schemaFromTable({ Node: { fields: { children: { type: "Node", patchStrategy: "merge", patchMergeKey: "id" } } } }, "Node");
    expect(lookupField(schema, ["children", "children", "children"]).meta.patchMergeKey).toBe("id");
  });

  it("crashes on a table that names a type it does not define", () => {
    expect(() => schemaFromTable({ A: { fields: { b: { type: "Missing" } } } }, "A")).toThrow(/invariant broken/);
  });
});

describe("splitPatchStrategies()", () => {
  it("separates retainKeys from the other strategy", () => {
    expect(splitPatchStrategies({ ...emptyPatchMeta, patchStrategies: ["merge", "retainKeys"] })).toEqual({ retainKeys: true, strategy: "merge" });
    expect(splitPatchStrategies({ ...emptyPatchMeta, patchStrategies: ["retainKeys"] })).toEqual({ retainKeys: true, strategy: "" });
    expect(splitPatchStrategies(emptyPatchMeta)).toEqual({ retainKeys: false, strategy: "" });
  });

  it("rejects two strategies that are not retainKeys plus one", () => {
    expect(() => splitPatchStrategies({ ...emptyPatchMeta, patchStrategies: ["merge", "replace"] })).toThrow(PatchFormatError);
  });
});
