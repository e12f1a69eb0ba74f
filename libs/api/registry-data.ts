/**
 * The resources Flotilla serves, with the discovery data upstream's kube-apiserver (v1.32)
 * publishes for them: plural, singular, kind, scope, verbs, short names, categories and the
 * subresources Flotilla implements. `kubectl api-resources` prints from this table.
 */

export interface SubresourceInfo {
  /** `status`, `scale`, `log`, ... */
  readonly name: string;
  readonly kind: string;
  /** Set when the subresource's kind lives in another group (Scale, Eviction, TokenRequest). */
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

export interface ResourceInfo {
  /** "" for the legacy core group. */
  readonly group: string;
  readonly version: string;
  /** The plural, lower-case name used in URLs. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  /** False for resources that only accept writes that are not stored as such (bindings). */
  readonly stored: boolean;
}

const crud = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] as const;
const statusVerbs = ["get", "patch", "update"] as const;

const status = (kind: string): SubresourceInfo => ({ name: "status", kind, verbs: statusVerbs });
const scale: SubresourceInfo = { name: "scale", kind: "Scale", group: "autoscaling", version: "v1", verbs: statusVerbs };

interface Entry {
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly verbs?: readonly string[];
  readonly subresources?: readonly SubresourceInfo[];
  readonly stored?: boolean;
}

function groupVersion(group: string, version: string, entries: readonly Entry[]): ResourceInfo[] {
  return entries.map((entry) => ({
    group,
    version,
    resource: entry.resource,
    singular: entry.kind.toLowerCase(),
    kind: entry.kind,
    namespaced: entry.namespaced,
    verbs: entry.verbs ?? crud,
    shortNames: entry.shortNames ?? [],
    categories: entry.categories ?? [],
    subresources: entry.subresources ?? [],
    stored: entry.stored ?? true,
  }));
}

const all = ["all"] as const;

const podSubresources: readonly SubresourceInfo[] = [
  { name: "attach", kind: "PodAttachOptions", verbs: ["create", "get"] },
  { name: "binding", kind: "Binding", verbs: ["create"] },
  { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] },
  { name: "exec", kind: "PodExecOptions", verbs: ["create", "get"] },
  { name: "log", kind: "Pod", verbs: ["get"] },
  { name: "portforward", kind: "PodPortForwardOptions", verbs: ["create", "get"] },
  status("Pod"),
];

const core = groupVersion("", "v1", [
  { resource: "bindings", kind: "Binding", namespaced: true, verbs: ["create"], stored: false },
  { resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
  { resource: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"] },
  { resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] },
  { resource: "limitranges", kind: "LimitRange", namespaced: true, shortNames: ["limits"] },
  {
    resource: "namespaces",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: [{ name: "finalize", kind: "Namespace", verbs: ["update"] }, status("Namespace")],
  },
  { resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], subresources: [status("Node")] },
  { resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true, shortNames: ["pvc"], subresources: [status("PersistentVolumeClaim")] },
  { resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"], subresources: [status("PersistentVolume")] },
  { resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], categories: all, subresources: podSubresources },
  { resource: "podtemplates", kind: "PodTemplate", namespaced: true },
  {
    resource: "replicationcontrollers",
    kind: "ReplicationController",
    namespaced: true,
    shortNames: ["rc"],
    categories: all,
    subresources: [scale, status("ReplicationController")],
  },
  { resource: "resourcequotas", kind: "ResourceQuota", namespaced: true, shortNames: ["quota"], subresources: [status("ResourceQuota")] },
  { resource: "secrets", kind: "Secret", namespaced: true },
  {
    resource: "serviceaccounts",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
    subresources: [{ name: "token", kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: ["create"] }],
  },
  { resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"], categories: all, subresources: [status("Service")] },
]);

const apps = groupVersion("apps", "v1", [
  { resource: "controllerrevisions", kind: "ControllerRevision", namespaced: true },
  { resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], categories: all, subresources: [status("DaemonSet")] },
  { resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"], categories: all, subresources: [scale, status("Deployment")] },
  { resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], categories: all, subresources: [scale, status("ReplicaSet")] },
  { resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], categories: all, subresources: [scale, status("StatefulSet")] },
]);

const hpa: Entry = {
  resource: "horizontalpodautoscalers",
  kind: "HorizontalPodAutoscaler",
  namespaced: true,
  shortNames: ["hpa"],
  categories: all,
  subresources: [status("HorizontalPodAutoscaler")],
};

const batch = groupVersion("batch", "v1", [
  { resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: ["cj"], categories: all, subresources: [status("CronJob")] },
  { resource: "jobs", kind: "Job", namespaced: true, categories: all, subresources: [status("Job")] },
]);

const networking = groupVersion("networking.k8s.io", "v1", [
  { resource: "ingressclasses", kind: "IngressClass", namespaced: false },
  { resource: "ingresses", kind: "Ingress", namespaced: true, shortNames: ["ing"], subresources: [status("Ingress")] },
]);

const policy = groupVersion("policy", "v1", [
  { resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], subresources: [status("PodDisruptionBudget")] },
]);

const rbac = groupVersion("rbac.authorization.k8s.io", "v1", [
  { resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  { resource: "clusterroles", kind: "ClusterRole", namespaced: false },
  { resource: "rolebindings", kind: "RoleBinding", namespaced: true },
  { resource: "roles", kind: "Role", namespaced: true },
]);

/** Every served group-version's resources, in the order upstream's discovery lists groups. */
export const builtinResources: readonly ResourceInfo[] = [
  ...core,
  ...apps,
  ...groupVersion("autoscaling", "v2", [hpa]),
  ...groupVersion("autoscaling", "v1", [hpa]),
  ...batch,
  ...networking,
  ...policy,
  ...rbac,
  ...groupVersion("storage.k8s.io", "v1", [{ resource: "storageclasses", kind: "StorageClass", namespaced: false, shortNames: ["sc"] }]),
  ...groupVersion("coordination.k8s.io", "v1", [{ resource: "leases", kind: "Lease", namespaced: true }]),
  ...groupVersion("discovery.k8s.io", "v1", [{ resource: "endpointslices", kind: "EndpointSlice", namespaced: true }]),
  // Served from the agents' usage samples (services/apiserver/metrics), listed last as an
  // aggregated APIService is upstream.
  ...groupVersion("metrics.k8s.io", "v1beta1", [
    { resource: "nodes", kind: "NodeMetrics", namespaced: false, verbs: ["get", "list"], stored: false },
    { resource: "pods", kind: "PodMetrics", namespaced: true, verbs: ["get", "list"], stored: false },
  ]),
];

/** Served versions per group, preferred first (autoscaling serves v2 and v1). */
export const groupVersions: ReadonlyMap<string, readonly string[]> = new Map([
  ["", ["v1"]],
  ["apps", ["v1"]],
  ["autoscaling", ["v2", "v1"]],
  ["batch", ["v1"]],
  ["networking.k8s.io", ["v1"]],
  ["policy", ["v1"]],
  ["rbac.authorization.k8s.io", ["v1"]],
  ["storage.k8s.io", ["v1"]],
  ["coordination.k8s.io", ["v1"]],
  ["discovery.k8s.io", ["v1"]],
  ["metrics.k8s.io", ["v1beta1"]],
]);
