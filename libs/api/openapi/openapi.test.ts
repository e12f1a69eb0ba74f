import { describe, expect, it } from "vitest";
import { builtinSchema } from "../patch/builtin-schema.ts";
import { lookupField } from "../patch/schema.ts";
import { allResources, apiVersionOf } from "../registry.ts";
import { closure, definition, definitions, fieldExtensions, kindDefinition, patchMetaConflicts, refOf } from "./definitions.ts";
import { definitionSchema, schemasFor } from "./document.ts";
import type { Container, PodSpec } from "../types/pod.ts";
import type { ServiceSpec } from "../types/core.ts";
import type { ObjectMeta } from "../types/meta.ts";
import type { DeploymentSpec, JobSpec, StatefulSetSpec } from "../types/workloads.ts";
import { goTypeOf, int32, list, map, packageBuilder, ref, required, str, strings } from "./dsl.ts";

type Schema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };

function v3(name: string): Schema {
  return definitionSchema(definition(name), "v3") as Schema;
}

describe("the schema builder", () => {
  it("builds a struct with typed fields, descriptions and the required ones in order", () => {
    const demo = packageBuilder("io.example.v1");
    const built = demo.def("Widget", "A widget.", {
      name: [str, "Its name.", required],
      sizes: [list(int32), "Sizes."],
      labels: [map(str), "Labels."],
      part: [demo.ref("Part"), "A part."],
    });
    expect(built.name).toBe("io.example.v1.Widget");
    expect([...built.fields.keys()]).toEqual(["name", "sizes", "labels", "part"]);
    expect(built.fields.get("name")).toEqual({ spec: str, description: "Its name.", required: true });
    expect(built.fields.get("sizes")?.required).toBe(false);
    expect(refOf(built.fields.get("part")?.spec ?? str)).toBe("io.example.v1.Part");
  });

  it("spells field types as Go does in decoding errors", () => {
    expect(goTypeOf(list(ref("io.k8s.api.core.v1.ContainerPort")))).toBe("[]v1.ContainerPort");
    expect(goTypeOf(map(strings))).toBe("map[string][]string");
    expect(goTypeOf(int32)).toBe("int32");
  });

  it("renders properties, required, maps and lists as OpenAPI v3 with refs under components", () => {
    const container = v3("io.k8s.api.core.v1.Container");
    expect(container["type"]).toBe("object");
    expect(container["required"]).toEqual(["name"]);
    expect(container.properties?.["image"]).toEqual({ type: "string", description: "Container image reference." });
    expect(container.properties?.["resources"]?.["allOf"]).toEqual([{ $ref: "#/components/schemas/io.k8s.api.core.v1.ResourceRequirements" }]);
    const requirements = v3("io.k8s.api.core.v1.ResourceRequirements");
    expect(requirements.properties?.["limits"]?.["additionalProperties"]).toEqual({ allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity" }] });
    expect(v3("io.k8s.apimachinery.pkg.util.intstr.IntOrString")).toMatchObject({ oneOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true });
    expect(v3("io.k8s.apimachinery.pkg.util.intstr.IntOrString")).not.toHaveProperty("type");
    expect(definitionSchema(definition("io.k8s.apimachinery.pkg.util.intstr.IntOrString"), "v2")).toMatchObject({ type: "string", format: "int-or-string" });
    expect(v3("io.k8s.apimachinery.pkg.apis.meta.v1.Time")).toMatchObject({ type: "string", format: "date-time" });
    expect(v3("io.k8s.api.apps.v1.ControllerRevision").properties?.["data"]).toMatchObject({ "x-kubernetes-preserve-unknown-fields": true });
  });

  it("writes Swagger 2.0 refs under #/definitions", () => {
    const spec = definitionSchema(definition("io.k8s.api.apps.v1.Deployment"), "v2") as Schema;
    expect(spec.properties?.["spec"]).toEqual({ $ref: "#/definitions/io.k8s.api.apps.v1.DeploymentSpec" });
  });

  it("marks a kind's schema with its group, version and kind", () => {
    const deployment = definitionSchema(definition("io.k8s.api.apps.v1.Deployment"), "v3", [{ group: "apps", version: "v1", kind: "Deployment" }]);
    expect(deployment["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", version: "v1", kind: "Deployment" }]);
  });

  it("takes strategic merge extensions from libs/api/patch's built-in schema", () => {
    const ports = v3("io.k8s.api.core.v1.Container").properties?.["ports"];
    expect(ports).toMatchObject({
      "x-kubernetes-patch-merge-key": "containerPort",
      "x-kubernetes-patch-strategy": "merge",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
    });
    expect(v3("io.k8s.api.core.v1.PodSpec").properties?.["volumes"]).toMatchObject({ "x-kubernetes-patch-strategy": "merge,retainKeys" });
    expect(v3("io.k8s.api.core.v1.PodSpec").properties?.["tolerations"]).toMatchObject({ "x-kubernetes-list-type": "atomic" });
    expect(v3("io.k8s.api.core.v1.PodSpec").properties?.["tolerations"]).not.toHaveProperty("x-kubernetes-patch-strategy");
    expect(v3("io.k8s.api.core.v1.PodSpec").properties?.["nodeSelector"]).toMatchObject({ "x-kubernetes-map-type": "atomic" });
    expect(v3("io.k8s.api.apps.v1.DeploymentSpec").properties?.["strategy"]).toMatchObject({ "x-kubernetes-patch-strategy": "retainKeys" });
  });

  it("agrees with the built-in patch schema on every tagged field it reaches, without conflicts", () => {
    expect(patchMetaConflicts()).toEqual([]);
    const deployment = builtinSchema("apps/v1", "Deployment");
    if (deployment === undefined) throw new Error("no Deployment patch schema");
    const env = lookupField(deployment, ["spec", "template", "spec", "containers", "env"]).meta;
    expect(fieldExtensions("io.k8s.api.core.v1.Container", "env")?.meta).toEqual(env);
  });
});

describe("the definitions", () => {
  it("define every kind of libs/api's registry, and every ref they use", () => {
    // metrics.k8s.io is served without OpenAPI, as upstream's aggregated metrics-server
    // publishes its own (services/apiserver/README.md lists the gap).
    for (const info of allResources().filter((candidate) => candidate.group !== "metrics.k8s.io")) {
      const kind = kindDefinition(info);
      expect(kind, `${apiVersionOf(info)} ${info.kind}`).toBeDefined();
      for (const name of closure([kind?.name ?? ""])) expect(definitions().has(name), name).toBe(true);
    }
  });

  it("collects a group version's schemas transitively from its kinds", () => {
    const schemas = schemasFor(["io.k8s.api.apps.v1.Deployment"], "v3", () => []);
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(["io.k8s.api.apps.v1.DeploymentSpec", "io.k8s.api.core.v1.Container", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]));
    expect(Object.keys(schemas)).not.toContain("io.k8s.api.batch.v1.Job");
  });

  it("cover every field of libs/api's types (the compiler checks the key lists are complete)", () => {
    const expectations: Array<[string, string[]]> = [
      ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", allKeys<ObjectMeta>(objectMetaKeys)],
      ["io.k8s.api.core.v1.PodSpec", allKeys<PodSpec>(podSpecKeys)],
      ["io.k8s.api.core.v1.Container", allKeys<Container>(containerKeys)],
      ["io.k8s.api.core.v1.ServiceSpec", allKeys<ServiceSpec>(serviceSpecKeys)],
      ["io.k8s.api.apps.v1.DeploymentSpec", allKeys<DeploymentSpec>(deploymentSpecKeys)],
      ["io.k8s.api.apps.v1.StatefulSetSpec", allKeys<StatefulSetSpec>(statefulSetSpecKeys)],
      ["io.k8s.api.batch.v1.JobSpec", allKeys<JobSpec>(jobSpecKeys)],
    ];
    for (const [name, keys] of expectations) expect([...definition(name).fields.keys()].sort(), name).toEqual(keys.sort());
  });
});

/** The keys of T; the Record type makes the compiler insist every key is listed, and no other. */
function allKeys<T>(keys: Record<keyof T, true>): string[] {
  return Object.keys(keys);
}

const objectMetaKeys: Record<keyof ObjectMeta, true> = {
  name: true, generateName: true, namespace: true, selfLink: true, uid: true, resourceVersion: true, generation: true,
  creationTimestamp: true, deletionTimestamp: true, deletionGracePeriodSeconds: true, labels: true, annotations: true,
  ownerReferences: true, finalizers: true, managedFields: true,
};
const containerKeys: Record<keyof Container, true> = {
  name: true, image: true, command: true, args: true, workingDir: true, ports: true, envFrom: true, env: true, resources: true,
  resizePolicy: true, restartPolicy: true, volumeMounts: true, volumeDevices: true, livenessProbe: true, readinessProbe: true,
  startupProbe: true, lifecycle: true, terminationMessagePath: true, terminationMessagePolicy: true, imagePullPolicy: true,
  securityContext: true, stdin: true, stdinOnce: true, tty: true,
};
const podSpecKeys: Record<keyof PodSpec, true> = {
  volumes: true, initContainers: true, containers: true, ephemeralContainers: true, restartPolicy: true,
  terminationGracePeriodSeconds: true, activeDeadlineSeconds: true, dnsPolicy: true, nodeSelector: true, serviceAccountName: true,
  serviceAccount: true, automountServiceAccountToken: true, nodeName: true, hostNetwork: true, hostPID: true, hostIPC: true,
  shareProcessNamespace: true, securityContext: true, imagePullSecrets: true, hostname: true, subdomain: true, affinity: true,
  schedulerName: true, tolerations: true, hostAliases: true, priorityClassName: true, priority: true, dnsConfig: true,
  readinessGates: true, runtimeClassName: true, enableServiceLinks: true, preemptionPolicy: true, overhead: true,
  topologySpreadConstraints: true, setHostnameAsFQDN: true, os: true, hostUsers: true, schedulingGates: true, resources: true,
};
const serviceSpecKeys: Record<keyof ServiceSpec, true> = {
  ports: true, selector: true, clusterIP: true, clusterIPs: true, type: true, externalIPs: true, sessionAffinity: true,
  loadBalancerIP: true, loadBalancerSourceRanges: true, externalName: true, externalTrafficPolicy: true, healthCheckNodePort: true,
  publishNotReadyAddresses: true, sessionAffinityConfig: true, ipFamilies: true, ipFamilyPolicy: true,
  allocateLoadBalancerNodePorts: true, loadBalancerClass: true, internalTrafficPolicy: true, trafficDistribution: true,
};
const deploymentSpecKeys: Record<keyof DeploymentSpec, true> = {
  replicas: true, selector: true, template: true, strategy: true, minReadySeconds: true, revisionHistoryLimit: true, paused: true,
  progressDeadlineSeconds: true,
};
const statefulSetSpecKeys: Record<keyof StatefulSetSpec, true> = {
  replicas: true, selector: true, template: true, volumeClaimTemplates: true, serviceName: true, podManagementPolicy: true,
  updateStrategy: true, revisionHistoryLimit: true, minReadySeconds: true, persistentVolumeClaimRetentionPolicy: true, ordinals: true,
};
const jobSpecKeys: Record<keyof JobSpec, true> = {
  parallelism: true, completions: true, activeDeadlineSeconds: true, podFailurePolicy: true, successPolicy: true, backoffLimit: true,
  backoffLimitPerIndex: true, maxFailedIndexes: true, selector: true, manualSelector: true, template: true,
  ttlSecondsAfterFinished: true, completionMode: true, suspend: true, podReplacementPolicy: true, managedBy: true,
};
