/**
 * Patch metadata for the built-in kinds Flotilla serves, transcribed from the struct tags and
 * markers of k8s.io/api (core/v1, apps/v1, batch/v1, networking/v1, autoscaling/v1 and v2) and
 * k8s.io/apimachinery meta/v1. Only fields that carry a tag, or that lead to one, are listed;
 * every other field gets the fallback (merge objects, replace lists; atomic lists for apply).
 */
import { schemaFromTable } from "./schema.ts";
import type { FieldDefinition, PatchSchema, TypeTable } from "./schema.ts";

/** `patchStrategy:"merge" patchMergeKey:key` with `+listType=map +listMapKey=key`. */
function mergeList(key: string, type?: string, extra: Partial<FieldDefinition> = {}): FieldDefinition {
  return {
    ...(type === undefined ? {} : { type }),
    patchStrategy: "merge",
    patchMergeKey: key,
    listType: "map",
    listMapKeys: [key],
    ...extra,
  };
}

const atomicList: FieldDefinition = { listType: "atomic" };
const conditions: FieldDefinition = mergeList("type");
const statusWithConditions = { fields: { conditions } };

const builtinTypes: TypeTable = {
  ObjectMeta: {
    fields: {
      ownerReferences: mergeList("uid", "OwnerReference"),
      finalizers: { patchStrategy: "merge", listType: "set" },
      managedFields: atomicList,
    },
  },
  OwnerReference: { atomic: true },
  LabelSelector: { atomic: true },
  LocalObjectReference: { atomic: true },
  ObjectReference: { atomic: true },
  // core/v1 pods
  Pod: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "PodSpec" }, status: { type: "PodStatus" } } },
  PodTemplate: { fields: { metadata: { type: "ObjectMeta" }, template: { type: "PodTemplateSpec" } } },
  PodTemplateSpec: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "PodSpec" } } },
  PodSpec: {
    fields: {
      volumes: mergeList("name", "Volume", { patchStrategy: "merge,retainKeys" }),
      initContainers: mergeList("name", "Container"),
      containers: mergeList("name", "Container"),
      ephemeralContainers: mergeList("name", "Container"),
      imagePullSecrets: mergeList("name", "LocalObjectReference"),
      hostAliases: mergeList("ip"),
      topologySpreadConstraints: mergeList("topologyKey", undefined, { listMapKeys: ["topologyKey", "whenUnsatisfiable"] }),
      schedulingGates: mergeList("name"),
      resourceClaims: mergeList("name", undefined, { patchStrategy: "merge,retainKeys" }),
      tolerations: atomicList,
      readinessGates: atomicList,
      nodeSelector: { atomic: true },
      affinity: { type: "Affinity" },
    },
  },
  Affinity: { fields: { nodeAffinity: { type: "NodeAffinity" } } },
  NodeAffinity: { fields: { requiredDuringSchedulingIgnoredDuringExecution: { type: "NodeSelector" } } },
  NodeSelector: { atomic: true },
  Volume: {},
  Container: {
    fields: {
      ports: mergeList("containerPort", undefined, {
        listMapKeys: ["containerPort", "protocol"],
        listMapKeyDefaults: { protocol: "TCP" },
      }),
      env: mergeList("name", "EnvVar"),
      volumeMounts: mergeList("mountPath"),
      volumeDevices: mergeList("devicePath"),
      resources: { type: "ResourceRequirements" },
      command: atomicList,
      args: atomicList,
      envFrom: atomicList,
    },
  },
  EnvVar: { fields: { valueFrom: { type: "EnvVarSource" } } },
  EnvVarSource: {
    fields: {
      configMapKeyRef: { type: "AtomicStruct" },
      secretKeyRef: { type: "AtomicStruct" },
      fieldRef: { type: "AtomicStruct" },
      resourceFieldRef: { type: "AtomicStruct" },
    },
  },
  AtomicStruct: { atomic: true },
  ResourceRequirements: { fields: { claims: { listType: "map", listMapKeys: ["name"] } } },
  PodStatus: {
    fields: {
      conditions,
      hostIPs: { patchStrategy: "merge", patchMergeKey: "ip", listType: "atomic" },
      podIPs: mergeList("ip"),
      resourceClaimStatuses: mergeList("name", undefined, { patchStrategy: "merge,retainKeys" }),
    },
  },
  // core/v1 services and friends
  Service: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "ServiceSpec" }, status: { type: "ServiceStatus" } } },
  ServiceSpec: {
    fields: {
      ports: mergeList("port", undefined, { listMapKeys: ["port", "protocol"], listMapKeyDefaults: { protocol: "TCP" } }),
      selector: { atomic: true },
    },
  },
  ServiceStatus: statusWithConditions,
  Endpoints: { fields: { metadata: { type: "ObjectMeta" }, subsets: atomicList } },
  ServiceAccount: {
    fields: { metadata: { type: "ObjectMeta" }, secrets: mergeList("name", "ObjectReference"), imagePullSecrets: atomicList },
  },
  MetadataOnly: { fields: { metadata: { type: "ObjectMeta" } } },
  Namespace: {
    fields: { metadata: { type: "ObjectMeta" }, spec: { type: "NamespaceSpec" }, status: { type: "ConditionsStatus" } },
  },
  NamespaceSpec: { fields: { finalizers: atomicList } },
  ConditionsStatus: statusWithConditions,
  Node: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "NodeSpec" }, status: { type: "NodeStatus" } } },
  NodeSpec: { fields: { podCIDRs: { patchStrategy: "merge", listType: "set" }, taints: atomicList } },
  NodeStatus: { fields: { conditions, addresses: mergeList("type") } },
  ReplicationController: {
    fields: { metadata: { type: "ObjectMeta" }, spec: { type: "ReplicationControllerSpec" }, status: { type: "ConditionsStatus" } },
  },
  ReplicationControllerSpec: { fields: { selector: { atomic: true }, template: { type: "PodTemplateSpec" } } },
  PersistentVolumeClaim: { fields: { metadata: { type: "ObjectMeta" }, status: { type: "ConditionsStatus" } } },
  // apps/v1
  Deployment: workload("DeploymentSpec"),
  DeploymentSpec: {
    fields: { selector: { type: "LabelSelector" }, template: { type: "PodTemplateSpec" }, strategy: { patchStrategy: "retainKeys" } },
  },
  ReplicaSet: workload("WorkloadSpec"),
  DaemonSet: workload("WorkloadSpec"),
  WorkloadSpec: { fields: { selector: { type: "LabelSelector" }, template: { type: "PodTemplateSpec" } } },
  StatefulSet: workload("StatefulSetSpec"),
  StatefulSetSpec: {
    fields: { selector: { type: "LabelSelector" }, template: { type: "PodTemplateSpec" }, volumeClaimTemplates: atomicList },
  },
  // batch/v1
  Job: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "JobSpec" }, status: { type: "JobStatus" } } },
  JobSpec: { fields: { selector: { type: "LabelSelector" }, template: { type: "PodTemplateSpec" } } },
  JobStatus: { fields: { conditions: { patchStrategy: "merge", patchMergeKey: "type", listType: "atomic" } } },
  CronJob: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "CronJobSpec" }, status: { type: "CronJobStatus" } } },
  CronJobSpec: { fields: { jobTemplate: { type: "JobTemplateSpec" } } },
  JobTemplateSpec: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "JobSpec" } } },
  CronJobStatus: { fields: { active: atomicList } },
  // networking/v1
  Ingress: { fields: { metadata: { type: "ObjectMeta" }, spec: { type: "IngressSpec" } } },
  IngressSpec: { fields: { defaultBackend: { type: "IngressBackend" }, tls: atomicList, rules: atomicList } },
  IngressBackend: { fields: { service: { type: "IngressServiceBackend" } } },
  IngressServiceBackend: { fields: { port: { type: "AtomicStruct" } } },
  // autoscaling/v1 and v2
  HorizontalPodAutoscaler: {
    fields: { metadata: { type: "ObjectMeta" }, spec: { type: "HorizontalPodAutoscalerSpec" }, status: { type: "ConditionsStatus" } },
  },
  HorizontalPodAutoscalerSpec: { fields: { metrics: atomicList } },
};

function workload(specType: string): { fields: Record<string, FieldDefinition> } {
  return { fields: { metadata: { type: "ObjectMeta" }, spec: { type: specType }, status: { type: "ConditionsStatus" } } };
}

/** Kinds by "apiVersion/Kind" (e.g. "apps/v1/Deployment"), with their type in the table. */
const kindTypes: Readonly<Record<string, string>> = {
  "v1/Pod": "Pod",
  "v1/PodTemplate": "PodTemplate",
  "v1/Service": "Service",
  "v1/Endpoints": "Endpoints",
  "v1/ServiceAccount": "ServiceAccount",
  "v1/ConfigMap": "MetadataOnly",
  "v1/Secret": "MetadataOnly",
  "v1/Event": "MetadataOnly",
  "v1/Namespace": "Namespace",
  "v1/Node": "Node",
  "v1/ReplicationController": "ReplicationController",
  "v1/PersistentVolumeClaim": "PersistentVolumeClaim",
  "apps/v1/Deployment": "Deployment",
  "apps/v1/ReplicaSet": "ReplicaSet",
  "apps/v1/StatefulSet": "StatefulSet",
  "apps/v1/DaemonSet": "DaemonSet",
  "batch/v1/Job": "Job",
  "batch/v1/CronJob": "CronJob",
  "networking.k8s.io/v1/Ingress": "Ingress",
  "autoscaling/v1/HorizontalPodAutoscaler": "HorizontalPodAutoscaler",
  "autoscaling/v2/HorizontalPodAutoscaler": "HorizontalPodAutoscaler",
  "coordination.k8s.io/v1/Lease": "MetadataOnly",
  "events.k8s.io/v1/Event": "MetadataOnly",
};

const schemaCache = new Map<string, PatchSchema>();

/**
 * The built-in schema of a kind, or undefined for kinds this table does not know (custom
 * resources: upstream refuses strategic merge patches for them with 415, and server-side apply
 * uses deducedSchema).
 */
export function builtinSchema(apiVersion: string, kind: string): PatchSchema | undefined {
  const key = `${apiVersion}/${kind}`;
  const typeName = kindTypes[key];
  if (typeName === undefined) return undefined;
  let schema = schemaCache.get(typeName);
  if (schema === undefined) {
    schema = schemaFromTable(builtinTypes, typeName);
    schemaCache.set(typeName, schema);
  }
  return schema;
}

/** The kinds builtinSchema knows, as [apiVersion, kind] pairs (for discovery and tests). */
export function builtinSchemaKinds(): Array<[apiVersion: string, kind: string]> {
  return Object.keys(kindTypes).map((key) => {
    const slash = key.lastIndexOf("/");
    return [key.slice(0, slash), key.slice(slash + 1)];
  });
}
