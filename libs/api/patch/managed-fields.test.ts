import { describe, expect, it } from "vitest";
import { ApplyConflictError, PatchFormatError } from "./errors.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import { ancientChangesManager, apply, beforeFirstApplyManager, updateManagedFields, updateManagersMax } from "./managed-fields.ts";
import type { ManagedFieldsEntry } from "./managed-fields.ts";

interface DeploymentOptions {
  readonly replicas?: number;
  readonly image?: string;
  readonly ports?: number[];
  readonly labels?: Record<string, string>;
  readonly containers?: string[];
}

/** An applied configuration for a Deployment, as a user writes it. */
function deployment(options: DeploymentOptions = {}): JsonObject {
  const containers = (options.containers ?? ["nginx"]).map((name) => {
    const container: JsonObject = { name, image: name === "nginx" ? (options.image ?? "nginx:1.25") : name };
    if (name === "nginx" && options.ports !== undefined) container["ports"] = options.ports.map((containerPort) => ({ containerPort }));
    return container;
  });
  const spec: JsonObject = {
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers } },
  };
  if (options.replicas !== undefined) spec["replicas"] = options.replicas;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: options.labels ?? { app: "web" } }, spec };
}

function managedFields(object: JsonObject): ManagedFieldsEntry[] {
  return ((object["metadata"] as JsonObject)["managedFields"] ?? []) as unknown as ManagedFieldsEntry[];
}

function entryOf(object: JsonObject, manager: string): ManagedFieldsEntry {
  const entry = managedFields(object).find((candidate) => candidate.manager === manager);
  if (entry === undefined) throw new Error(`${manager} owns nothing`);
  return entry;
}

function spec(object: JsonObject): JsonObject {
  return object["spec"] as JsonObject;
}

function containers(object: JsonObject): JsonObject[] {
  return (spec(object)["template"] as { spec: { containers: JsonObject[] } }).spec.containers;
}

function conflictOf(run: () => unknown): ApplyConflictError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApplyConflictError) return error;
    throw error;
  }
  throw new Error("no conflict");
}

describe("apply()", () => {
  it("records exactly the applied fields, keyed list items and set values in FieldsV1", () => {
    const config = deployment({ replicas: 2, ports: [80] });
    (config["metadata"] as JsonObject)["finalizers"] = ["example.com/a"];
    const created = apply(undefined, config, "kubectl", false, { time: "2024-05-01T10:00:00Z" });
    expect(managedFields(created)).toEqual([
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: "2024-05-01T10:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:finalizers": { 'v:"example.com/a"': {} }, "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it("changes nothing when the same configuration is applied again", () => {
    const created = apply(undefined, deployment({ replicas: 2 }), "kubectl", false);
    expect(apply(created, deployment({ replicas: 2 }), "kubectl", false)).toEqual(created);
  });

  it("reports a conflict with a client-side apply that owns replicas, in upstream's words", () => {
    const live = updateManagedFields(undefined, deployment({ replicas: 3 }), "kubectl-client-side-apply", "Update", { time: "2024-05-01T10:00:00Z" });
    const conflict = conflictOf(() => apply(live, deployment({ replicas: 5 }), "kubectl", false));
    expect(conflict.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(conflict.conflicts).toEqual([
      { manager: "kubectl-client-side-apply", operation: "Update", apiVersion: "apps/v1", subresource: "", time: "2024-05-01T10:00:00Z", field: ".spec.replicas" },
    ]);
    expect(spec(live)["replicas"]).toBe(3);
  });

  it("shares a field without conflict when the applied value equals the owner's", () => {
    const live = updateManagedFields(undefined, deployment({ replicas: 3 }), "kubectl-client-side-apply", "Update");
    const applied = apply(live, deployment({ replicas: 3 }), "kubectl", false);
    expect(entryOf(applied, "kubectl").fieldsV1["f:spec"]).toHaveProperty("f:replicas");
    expect(entryOf(applied, "kubectl-client-side-apply").fieldsV1["f:spec"]).toHaveProperty("f:replicas");
  });

  it("moves ownership to the applier when forced", () => {
    const live = updateManagedFields(undefined, deployment({ replicas: 3 }), "kubectl-client-side-apply", "Update");
    const forced = apply(live, deployment({ replicas: 5, image: "nginx:1.27" }), "kubectl", true);
    expect(spec(forced)["replicas"]).toBe(5);
    expect(containers(forced)[0]?.["image"]).toBe("nginx:1.27");
    const previousOwner = JSON.stringify(entryOf(forced, "kubectl-client-side-apply").fieldsV1);
    expect(previousOwner).not.toContain("f:replicas");
    expect(previousOwner).not.toContain("f:image");
    expect(previousOwner).toContain("f:selector");
  });

  it("lists several conflicts grouped by manager", () => {
    const first = apply(undefined, deployment({ replicas: 1, labels: { app: "web", tier: "a" } }), "alpha", false);
    const conflict = conflictOf(() => apply(first, deployment({ replicas: 2, labels: { app: "web", tier: "b" } }), "beta", false));
    expect(conflict.message).toBe('Apply failed with 2 conflicts: conflicts with "alpha":\n- .metadata.labels.tier\n- .spec.replicas');
    expect(conflict.conflicts.map((item) => item.field)).toEqual([".metadata.labels.tier", ".spec.replicas"]);
  });

  it("removes a field the applier stopped applying and nobody else owns", () => {
    const first = apply(undefined, deployment({ labels: { app: "web", tier: "front" } }), "kubectl", false);
    const second = apply(first, deployment({ labels: { app: "web" } }), "kubectl", false);
    expect((second["metadata"] as JsonObject)["labels"]).toEqual({ app: "web" });
    expect(JSON.stringify(entryOf(second, "kubectl").fieldsV1)).not.toContain("tier");
  });

  it("keeps a field the applier stopped applying when another manager owns it too", () => {
    const first = apply(undefined, deployment({ labels: { app: "web", tier: "front" } }), "kubectl", false);
    const shared = apply(first, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { tier: "front" } } }, "ops", false);
    const second = apply(shared, deployment({ labels: { app: "web" } }), "kubectl", false);
    expect((second["metadata"] as JsonObject)["labels"]).toEqual({ app: "web", tier: "front" });
  });

  it("removes a container and its ports when the applier drops it", () => {
    const first = apply(undefined, deployment({ containers: ["nginx", "sidecar"], ports: [80] }), "kubectl", false);
    const second = apply(first, deployment({ containers: ["nginx"], ports: [80] }), "kubectl", false);
    expect(containers(second).map((container) => container["name"])).toEqual(["nginx"]);
  });

  it("removes a container port the applier dropped but keeps one a client-side apply still owns", () => {
    const created = updateManagedFields(undefined, deployment({ ports: [80] }), "kubectl-client-side-apply", "Update");
    const adopted = apply(created, deployment({ ports: [80, 443] }), "kubectl", false);
    const dropped = apply(adopted, deployment({ ports: [8080] }), "kubectl", false);
    expect(containers(dropped)[0]?.["ports"]).toEqual([{ containerPort: 80 }, { containerPort: 8080 }]);
  });

  it("leaves replicas that a controller set alone when the manifest never applies them", () => {
    const created = apply(undefined, deployment(), "kubectl", false);
    const scaled = updateManagedFields(created, { ...created, spec: { ...spec(created), replicas: 4 } }, "kube-controller-manager", "Update", { subresource: "scale" });
    const reapplied = apply(scaled, deployment({ image: "nginx:1.27" }), "kubectl", false);
    expect(spec(reapplied)["replicas"]).toBe(4);
    expect(entryOf(reapplied, "kube-controller-manager").subresource).toBe("scale");
  });

  it("keeps the applied order of shared list items and live-only items near their neighbours", () => {
    const live = apply(undefined, deployment({ containers: ["a", "x", "b"] }), "other", false);
    const result = apply(live, deployment({ containers: ["b", "a"] }), "kubectl", false);
    expect(containers(result).map((container) => container["name"])).toEqual(["x", "b", "a"]);
  });

  it("gives the fields of an untracked object to before-first-apply", () => {
    const untracked = deployment({ replicas: 3 });
    const conflict = conflictOf(() => apply(untracked, deployment({ replicas: 4 }), "kubectl", false));
    expect(conflict.conflicts[0]?.manager).toBe(beforeFirstApplyManager);
    expect(conflict.conflicts[0]?.field).toBe(".spec.replicas");
  });

  it("records no ownership of ignored fields (status through the main resource)", () => {
    const config = { ...deployment(), status: { replicas: 9 } };
    const created = apply(undefined, config, "kubectl", false, { ignoredFields: [["status"]] });
    expect(JSON.stringify(entryOf(created, "kubectl").fieldsV1)).not.toContain("status");
  });

  it("removes a field applied as null", () => {
    const created = apply(undefined, deployment({ replicas: 2 }), "kubectl", false);
    const config = deployment();
    spec(config)["replicas"] = null;
    expect(spec(apply(created, config, "kubectl", false))).not.toHaveProperty("replicas");
  });
});

describe("updateManagedFields()", () => {
  it("gives an updater the fields it changed and takes them from their previous owner", () => {
    const created = apply(undefined, deployment({ replicas: 2 }), "kubectl", false);
    const scaled = updateManagedFields(created, { ...created, spec: { ...spec(created), replicas: 6 } }, "hpa", "Update", { time: "2024-05-02T00:00:00Z" });
    expect(entryOf(scaled, "hpa")).toEqual({
      manager: "hpa",
      operation: "Update",
      apiVersion: "apps/v1",
      time: "2024-05-02T00:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { "f:replicas": {} } },
    });
    expect(JSON.stringify(entryOf(scaled, "kubectl").fieldsV1)).not.toContain("replicas");
  });

  it("keeps a manager's other fields when another updater changes one", () => {
    const created = updateManagedFields(undefined, deployment({ replicas: 1, image: "a" }), "first", "Update");
    const edited = structuredClone(created);
    containers(edited)[0]!["image"] = "b";
    const result = updateManagedFields(created, edited, "second", "Update");
    expect(JSON.stringify(entryOf(result, "first").fieldsV1)).toContain("f:replicas");
    expect(JSON.stringify(entryOf(result, "first").fieldsV1)).not.toContain("f:image");
    expect(JSON.stringify(entryOf(result, "second").fieldsV1)).toContain("f:image");
  });

  it("stops tracking removed fields for every manager", () => {
    const created = updateManagedFields(undefined, deployment({ labels: { app: "web", tier: "a" } }), "first", "Update");
    const edited = structuredClone(created);
    (edited["metadata"] as JsonObject)["labels"] = { app: "web" };
    const result = updateManagedFields(created, edited, "second", "Update");
    expect(JSON.stringify(managedFields(result))).not.toContain("tier");
  });

  it("does not start tracking an existing object that has no managed fields", () => {
    const old = deployment({ replicas: 1 });
    const result = updateManagedFields(old, deployment({ replicas: 2 }), "kubectl", "Update");
    expect((result["metadata"] as JsonObject)["managedFields"]).toBeUndefined();
  });

  it("resets ownership when the request sets managedFields to [{}]", () => {
    const created = updateManagedFields(undefined, deployment({ replicas: 1 }), "first", "Update");
    const reset = structuredClone(created);
    (reset["metadata"] as JsonObject)["managedFields"] = [{}];
    spec(reset)["replicas"] = 2;
    const result = updateManagedFields(created, reset, "second", "Update");
    expect(managedFields(result).map((entry) => entry.manager)).toEqual(["second"]);
    expect(entryOf(result, "second").fieldsV1).toEqual({ "f:spec": { "f:replicas": {} } });
  });

  it(`folds the oldest of more than ${updateManagersMax} updaters into ${ancientChangesManager}`, () => {
    let object = updateManagedFields(undefined, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: {} }, "creator", "Update", { time: "2024-01-01T00:00:00Z" });
    for (let index = 0; index < updateManagersMax + 1; index++) {
      const next = structuredClone(object);
      (next["data"] as JsonObject)[`key${index}`] = "v";
      object = updateManagedFields(object, next, `writer-${index}`, "Update", { time: `2024-01-02T00:00:${String(10 + index)}Z` });
    }
    const updaters = managedFields(object).filter((entry) => entry.operation === "Update");
    expect(updaters).toHaveLength(updateManagersMax);
    expect(updaters.map((entry) => entry.manager)).toContain(ancientChangesManager);
  });

  it("rejects managed fields with an unknown operation", () => {
    const broken = deployment();
    (broken["metadata"] as JsonObject)["managedFields"] = [{ manager: "x", operation: "Patch", apiVersion: "apps/v1", fieldsType: "FieldsV1", fieldsV1: {} }] as JsonValue[];
    expect(() => apply(broken, deployment(), "kubectl", false)).toThrow(PatchFormatError);
  });
});
