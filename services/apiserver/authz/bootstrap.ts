/**
 * upstream's bootstrap ClusterRoles and ClusterRoleBindings (plugin/pkg/auth/authorizer/rbac/
 * bootstrappolicy), the ones every cluster has: cluster-admin bound to system:masters, the
 * user-facing admin, edit and view, and the discovery roles every authenticated user holds. admin,
 * edit and view are written out flat (upstream aggregates them from labelled roles).
 */
import type { BindingObject, PolicyRule, RoleObject } from "./rbac.ts";

const read = ["get", "list", "watch"];
const write = ["create", "delete", "deletecollection", "patch", "update"];
const readWrite = [...read, ...write];

const bootstrapLabels = { "kubernetes.io/bootstrapping": "rbac-defaults" };
const autoupdate = { "rbac.authorization.kubernetes.io/autoupdate": "true" };

export interface BootstrapClusterRole extends RoleObject {
  readonly apiVersion: "rbac.authorization.k8s.io/v1";
  readonly kind: "ClusterRole";
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };
  readonly rules: readonly PolicyRule[];
}

export interface BootstrapClusterRoleBinding extends BindingObject {
  readonly apiVersion: "rbac.authorization.k8s.io/v1";
  readonly kind: "ClusterRoleBinding";
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };
}

function clusterRole(name: string, rules: readonly PolicyRule[]): BootstrapClusterRole {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels: bootstrapLabels, annotations: autoupdate }, rules };
}

function groupBinding(name: string, role: string, groups: readonly string[]): BootstrapClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name, labels: bootstrapLabels, annotations: autoupdate },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: groups.map((group) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group })),
  };
}

// What view may read: everything users run, but not secrets (upstream's choice: secrets grant more).
const viewRules: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], verbs: read },
  { apiGroups: [""], resources: ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], verbs: read },
  { apiGroups: [""], resources: ["namespaces"], verbs: read },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: read },
  { apiGroups: ["apps"], resources: ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], verbs: read },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], verbs: read },
  { apiGroups: ["batch"], resources: ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], verbs: read },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingresses/status", "networkpolicies"], verbs: read },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets", "poddisruptionbudgets/status"], verbs: read },
  // metrics-server's system:aggregated-metrics-reader, which upstream aggregates into view, edit
  // and admin (Flotilla has no ClusterRole aggregation, so the rule sits here).
  { apiGroups: ["metrics.k8s.io"], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] },
];

const editRules: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], verbs: read },
  { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] },
  { apiGroups: [""], resources: ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], verbs: ["create", "delete", "deletecollection", "patch", "update"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: [""], resources: ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], verbs: write },
  { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
  { apiGroups: ["apps"], resources: ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"], verbs: write },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: write },
  { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: write },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "networkpolicies"], verbs: write },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: write },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: write },
  ...viewRules,
];

const adminRules: readonly PolicyRule[] = [
  { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings", "roles"], verbs: readWrite },
  { apiGroups: ["authorization.k8s.io"], resources: ["localsubjectaccessreviews"], verbs: ["create"] },
  ...editRules,
];

const discoveryPaths = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"];
const publicInfoPaths = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

export const bootstrapClusterRoles: readonly BootstrapClusterRole[] = [
  clusterRole("cluster-admin", [
    { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
    { nonResourceURLs: ["*"], verbs: ["*"] },
  ]),
  clusterRole("admin", adminRules),
  clusterRole("edit", editRules),
  clusterRole("view", viewRules),
  clusterRole("system:basic-user", [{ apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], verbs: ["create"] }]),
  clusterRole("system:discovery", [{ nonResourceURLs: discoveryPaths, verbs: ["get"] }]),
  clusterRole("system:public-info-viewer", [{ nonResourceURLs: publicInfoPaths, verbs: ["get"] }]),
];

export const bootstrapClusterRoleBindings: readonly BootstrapClusterRoleBinding[] = [
  groupBinding("cluster-admin", "cluster-admin", ["system:masters"]),
  groupBinding("system:basic-user", "system:basic-user", ["system:authenticated"]),
  groupBinding("system:discovery", "system:discovery", ["system:authenticated"]),
  groupBinding("system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
];
