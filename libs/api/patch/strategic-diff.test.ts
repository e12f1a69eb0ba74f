import { describe, expect, it } from "vitest";
import { builtinSchema } from "./builtin-schema.ts";
import { PreconditionFailedError } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import { schemaFromTable } from "./schema.ts";
import type { PatchSchema } from "./schema.ts";
import { createThreeWayMergePatch, createTwoWayMergePatch, kubectlApplyPreconditions } from "./strategic-diff.ts";
import { applyStrategicMergePatch } from "./strategic-merge.ts";

const deploymentSchema = builtinSchema("apps/v1", "Deployment") as PatchSchema;

interface ManifestOptions {
  readonly image?: string;
  readonly ports?: number[];
  readonly labels?: Record<string, string>;
  readonly replicas?: number;
}

/** A Deployment manifest as a user writes it. */
function manifest(options: ManifestOptions = {}): JsonObject {
  const container: JsonObject = { name: "web", image: options.image ?? "nginx:1.25" };
  if (options.ports !== undefined) container["ports"] = options.ports.map((containerPort) => ({ containerPort }));
  const spec: JsonObject = {
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [container] } },
  };
  if (options.replicas !== undefined) spec["replicas"] = options.replicas;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: options.labels ?? { app: "web" } }, spec };
}

/** What the API server stores after creating `object`: defaults and server fields filled in. */
function live(object: JsonObject, replicas = 1): JsonObject {
  const stored = structuredClone(object) as JsonObject & { spec: JsonObject & { template: { spec: { containers: JsonObject[] } } }; metadata: JsonObject };
  stored.metadata["uid"] = "0d3c";
  stored.metadata["resourceVersion"] = "41";
  stored.spec["replicas"] ??= replicas;
  stored.spec["strategy"] = { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
  for (const container of stored.spec.template.spec.containers) {
    container["imagePullPolicy"] = "IfNotPresent";
    const ports = container["ports"];
    if (Array.isArray(ports)) for (const port of ports as JsonObject[]) port["protocol"] = "TCP";
  }
  return stored;
}

function containersOf(object: JsonObject): JsonObject[] {
  return ((object["spec"] as JsonObject)["template"] as { spec: { containers: JsonObject[] } }).spec.containers;
}

describe("createThreeWayMergePatch() as kubectl apply uses it", () => {
  it("removes a container port deleted from the manifest and keeps the server's defaults", () => {
    const first = manifest({ ports: [80, 443] });
    const current = live(first);
    const second = manifest({ ports: [80] });
    const patch = createThreeWayMergePatch(first, second, current, deploymentSchema, kubectlApplyPreconditions);
    expect(patch).toEqual({
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }],
            containers: [{ name: "web", "$setElementOrder/ports": [{ containerPort: 80 }], ports: [{ containerPort: 443, $patch: "delete" }] }],
          },
        },
      },
    });
    const result = applyStrategicMergePatch(current, patch, deploymentSchema);
    expect(containersOf(result)).toEqual([{ name: "web", image: "nginx:1.25", imagePullPolicy: "IfNotPresent", ports: [{ containerPort: 80, protocol: "TCP" }] }]);
  });

  it("keeps replicas set by kubectl scale when the manifest never set them", () => {
    const first = manifest();
    const current = live(first, 5);
    const second = manifest({ image: "nginx:1.27" });
    const patch = createThreeWayMergePatch(first, second, current, deploymentSchema);
    expect(JSON.stringify(patch)).not.toContain("replicas");
    const result = applyStrategicMergePatch(current, patch, deploymentSchema);
    expect((result["spec"] as JsonObject)["replicas"]).toBe(5);
    expect(containersOf(result)[0]?.["image"]).toBe("nginx:1.27");
  });

  it("takes the manifest's value for a field both the manifest and someone else changed", () => {
    const first = manifest({ replicas: 2 });
    const current = live(first);
    (current["spec"] as JsonObject)["replicas"] = 7;
    const second = manifest({ replicas: 3 });
    const result = applyStrategicMergePatch(current, createThreeWayMergePatch(first, second, current, deploymentSchema), deploymentSchema);
    expect((result["spec"] as JsonObject)["replicas"]).toBe(3);
  });

  it("deletes a label the manifest dropped but not one another client added", () => {
    const first = manifest({ labels: { app: "web", tier: "front" } });
    const current = live(first);
    ((current["metadata"] as JsonObject)["labels"] as JsonObject)["team"] = "infra";
    const second = manifest({ labels: { app: "web" } });
    const patch = createThreeWayMergePatch(first, second, current, deploymentSchema);
    expect(patch).toEqual({ metadata: { labels: { tier: null } } });
    const result = applyStrategicMergePatch(current, patch, deploymentSchema);
    expect((result["metadata"] as JsonObject)["labels"]).toEqual({ app: "web", team: "infra" });
  });

  it("sends nothing when the manifest did not change", () => {
    const first = manifest({ ports: [80] });
    expect(createThreeWayMergePatch(first, first, live(first), deploymentSchema)).toEqual({});
  });

  it("reorders containers with $setElementOrder alone", () => {
    const twoContainers = (names: string[]): JsonObject => {
      const object = manifest();
      const spec = (object["spec"] as JsonObject)["template"] as { spec: { containers: JsonObject[] } };
      spec.spec.containers = names.map((name) => ({ name, image: name }));
      return object;
    };
    const first = twoContainers(["a", "b"]);
    const second = twoContainers(["b", "a"]);
    const current = live(first);
    const patch = createThreeWayMergePatch(first, second, current, deploymentSchema);
    expect(patch).toEqual({ spec: { template: { spec: { "$setElementOrder/containers": [{ name: "b" }, { name: "a" }] } } } });
    expect(containersOf(applyStrategicMergePatch(current, patch, deploymentSchema)).map((container) => container["name"])).toEqual(["b", "a"]);
  });

  it("fails kubectl's preconditions when the manifest changes the kind", () => {
    const first = manifest();
    const second = { ...manifest(), kind: "StatefulSet" };
    expect(() => createThreeWayMergePatch(first, second, live(first), deploymentSchema, kubectlApplyPreconditions)).toThrow(PreconditionFailedError);
  });
});

describe("createThreeWayMergePatch() on primitive merge lists", () => {
  const schema = schemaFromTable({ Item: { fields: { mergingIntList: { patchStrategy: "merge" } } } }, "Item");

  it("deletes dropped scalars with $deleteFromPrimitiveList and keeps server-only ones (upstream case)", () => {
    const patch = createThreeWayMergePatch({ mergingIntList: [1, 2, 3] }, { mergingIntList: [1, 2] }, { mergingIntList: [1, 2, 3, 4] }, schema);
    expect(patch).toEqual({ "$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3] });
    expect(applyStrategicMergePatch({ mergingIntList: [1, 2, 3, 4] }, patch, schema)).toEqual({ mergingIntList: [1, 2, 4] });
  });
});

describe("createTwoWayMergePatch()", () => {
  it("yields a patch that turns the original into the modified object", () => {
    const original = live(manifest({ ports: [80, 443], labels: { app: "web", tier: "front" } }));
    const modified = structuredClone(original);
    (modified["metadata"] as JsonObject)["labels"] = { app: "web", release: "2" };
    containersOf(modified).push({ name: "sidecar", image: "envoy" });
    const patch = createTwoWayMergePatch(original, modified, deploymentSchema);
    expect(applyStrategicMergePatch(original, patch, deploymentSchema)).toEqual(modified);
  });

  it("sends $retainKeys for a retainKeys field that changed", () => {
    const original = { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } };
    const modified = { spec: { strategy: { type: "Recreate" } } };
    const patch = createTwoWayMergePatch(original, modified, deploymentSchema);
    expect(patch).toEqual({ spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: null } } });
    expect(applyStrategicMergePatch(original, patch, deploymentSchema)).toEqual(modified);
  });
});
