/**
 * Which fields each resource can be selected by, and their values for one object: upstream's
 * field label conversions (pkg/apis/<group>/<version>/conversion.go) and selectable field sets
 * (pkg/registry/<group>/<resource>/strategy.go). An unsupported field is refused with upstream's
 * message, e.g. `field label not supported: foo` for pods.
 */
import type { FieldSelector, FieldTransform } from "./fields.ts";
import { FieldSelectorError, parseFieldSelector } from "./fields.ts";
import type { Event, Namespace, Node, Secret, Service } from "./types/core.ts";
import type { KubeObject } from "./types/meta.ts";
import type { Pod } from "./types/pod.ts";
import type { Job } from "./types/workloads.ts";

interface FieldRules {
  /** Labels accepted besides the metadata ones listed in `metadata`. */
  readonly labels: readonly string[];
  /** Which of metadata.name / metadata.namespace the conversion accepts. */
  readonly metadata: readonly ("metadata.name" | "metadata.namespace")[];
  readonly renames?: Readonly<Record<string, string>>;
  readonly unsupported: (label: string) => string;
  readonly values: (object: KubeObject) => Record<string, string>;
}

const bothMetadata = ["metadata.name", "metadata.namespace"] as const;
const coreUnsupported = (label: string) => `field label not supported: ${label}`;

const podRules: FieldRules = {
  labels: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
  ],
  metadata: bothMetadata,
  // Old clients send spec.host.
  renames: { "spec.host": "spec.nodeName" },
  unsupported: coreUnsupported,
  values: (object) => {
    const pod = object as Pod;
    return {
      "spec.nodeName": pod.spec?.nodeName ?? "",
      "spec.restartPolicy": pod.spec?.restartPolicy ?? "",
      "spec.schedulerName": pod.spec?.schedulerName ?? "",
      "spec.serviceAccountName": pod.spec?.serviceAccountName ?? "",
      "spec.hostNetwork": String(pod.spec?.hostNetwork ?? false),
      "status.phase": pod.status?.phase ?? "",
      "status.podIP": pod.status?.podIPs?.[0]?.ip ?? "",
      "status.nominatedNodeName": pod.status?.nominatedNodeName ?? "",
    };
  },
};

const eventRules: FieldRules = {
  labels: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  metadata: bothMetadata,
  unsupported: coreUnsupported,
  values: (object) => {
    const event = object as Event;
    const involved = event.involvedObject;
    const component = event.source?.component ?? "";
    return {
      "involvedObject.kind": involved.kind ?? "",
      "involvedObject.namespace": involved.namespace ?? "",
      "involvedObject.name": involved.name ?? "",
      "involvedObject.uid": involved.uid ?? "",
      "involvedObject.apiVersion": involved.apiVersion ?? "",
      "involvedObject.resourceVersion": involved.resourceVersion ?? "",
      "involvedObject.fieldPath": involved.fieldPath ?? "",
      reason: event.reason ?? "",
      reportingComponent: event.reportingComponent,
      source: component === "" ? event.reportingComponent : component,
      type: event.type ?? "",
    };
  },
};

// Keyed "<resource>.<group>" ("" for core).
const rulesByResource: ReadonlyMap<string, FieldRules> = new Map([
  ["pods.", podRules],
  ["events.", eventRules],
  [
    "nodes.",
    {
      labels: ["spec.unschedulable"],
      metadata: ["metadata.name"],
      unsupported: coreUnsupported,
      values: (object: KubeObject) => ({ "spec.unschedulable": String((object as Node).spec?.unschedulable ?? false) }),
    },
  ],
  [
    "namespaces.",
    {
      labels: ["status.phase"],
      metadata: ["metadata.name"],
      unsupported: coreUnsupported,
      values: (object: KubeObject) => ({ "status.phase": (object as Namespace).status?.phase ?? "" }),
    },
  ],
  [
    "secrets.",
    {
      labels: ["type"],
      metadata: bothMetadata,
      unsupported: coreUnsupported,
      values: (object: KubeObject) => ({ type: (object as Secret).type ?? "" }),
    },
  ],
  [
    "services.",
    {
      labels: ["spec.clusterIP", "spec.type"],
      metadata: bothMetadata,
      unsupported: coreUnsupported,
      values: (object: KubeObject) => ({ "spec.clusterIP": (object as Service).spec?.clusterIP ?? "", "spec.type": (object as Service).spec?.type ?? "" }),
    },
  ],
  [
    "jobs.batch",
    {
      labels: ["status.successful"],
      metadata: bothMetadata,
      unsupported: (label: string) => `field label ${JSON.stringify(label)} not supported for batchv1.Job`,
      values: (object: KubeObject) => ({ "status.successful": String((object as Job).status?.succeeded ?? 0) }),
    },
  ],
]);

// Kinds without a registered conversion accept only the metadata fields (DefaultMetaV1FieldSelectorConversion).
const defaultRules: FieldRules = {
  labels: [],
  metadata: bothMetadata,
  unsupported: (label) => `${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
  values: () => ({}),
};

function rulesFor(group: string, resource: string): FieldRules {
  return rulesByResource.get(`${resource}.${group}`) ?? defaultRules;
}

/** The field label conversion of a resource: accepts its fields, renames old ones, refuses the rest. */
export function fieldLabelConversion(group: string, resource: string): FieldTransform {
  const rules = rulesFor(group, resource);
  return (label, value) => {
    const renamed = rules.renames?.[label];
    if (renamed !== undefined) return [renamed, value];
    if ((rules.metadata as readonly string[]).includes(label) || rules.labels.includes(label)) return [label, value];
    throw new FieldSelectorError(rules.unsupported(label));
  };
}

/** Parses a `fieldSelector` for a resource, converting and checking its fields as upstream does. */
export function parseFieldSelectorFor(group: string, resource: string, selector: string): FieldSelector {
  return parseFieldSelector(selector, fieldLabelConversion(group, resource));
}

/**
 * The selectable fields of one object (what a field selector matches against): metadata.name,
 * metadata.namespace for namespaced resources, and the resource's own fields.
 */
export function selectableFields(group: string, resource: string, object: KubeObject, namespaced: boolean): Record<string, string> {
  const fields: Record<string, string> = { "metadata.name": object.metadata.name ?? "" };
  if (namespaced) fields["metadata.namespace"] = object.metadata.namespace ?? "";
  return { ...rulesFor(group, resource).values(object), ...fields };
}

/** The fields a resource can be selected by (for documentation and discovery-like listings). */
export function supportedFieldLabels(group: string, resource: string): string[] {
  const rules = rulesFor(group, resource);
  return [...rules.metadata, ...rules.labels];
}
