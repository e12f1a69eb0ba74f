/**
 * The entry points: validateObject(obj) for a create and validateObjectUpdate(obj, old) for an
 * update, dispatching by apiVersion and kind. Every object gets upstream's metadata checks with
 * its resource's name rule and scope; known kinds get their spec checks too; unknown kinds are
 * checked for metadata only (namespaced when they carry a namespace).
 *
 * Objects are validated as given. The API server validates after defaulting, so validate
 * defaultObject(obj) to get upstream's results; fields defaulting would fill are accepted when
 * absent, so a raw object gets no errors about them either.
 */
import type { FieldError } from "../field-errors.ts";
import { FieldPath } from "../field-path.ts";
import type { KubeObject, LabelSelector } from "../types/meta.ts";
import type { Pod, PodTemplate } from "../types/pod.ts";
import { nameValidatorFor, validateObjectMeta, validateObjectMetaUpdate } from "../validation.ts";
import { fieldRequired } from "../field-errors.ts";
import { validateHorizontalPodAutoscaler, validateHorizontalPodAutoscalerV1, validateIngress, validateLease } from "./cluster.ts";
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEvent,
  validateNamespace,
  validateNode,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validateSecret,
  validateSecretUpdate,
} from "./core.ts";
import { validatePodSpec, validatePodSpecUpdate, validatePodTemplateSpec } from "./pod.ts";
import { validateService, validateServiceUpdate } from "./service.ts";
import {
  validateCronJob,
  validateDaemonSet,
  validateDeployment,
  validateJob,
  validateJobUpdate,
  validateReplicaSet,
  validateReplicationController,
  validateSelectorUpdate,
  validateStatefulSet,
  validateStatefulSetUpdate,
} from "./workloads.ts";

type Validate = (object: never) => FieldError[];
type ValidateUpdate = (next: never, previous: never) => FieldError[];

interface KindRules {
  readonly group: string;
  readonly resource: string;
  readonly namespaced: boolean;
  readonly validate?: Validate;
  readonly validateUpdate?: ValidateUpdate;
}

function validatePod(pod: Pod): FieldError[] {
  return pod.spec === undefined ? [fieldRequired(FieldPath.of("spec"), "")] : validatePodSpec(pod.spec, FieldPath.of("spec"));
}

function validatePodTemplate(template: PodTemplate): FieldError[] {
  return template.template === undefined ? [fieldRequired(FieldPath.of("template"), "")] : validatePodTemplateSpec(template.template, FieldPath.of("template"));
}

interface WithSelector {
  spec?: { selector?: LabelSelector };
}

function selectorUpdate(next: WithSelector, previous: WithSelector): FieldError[] {
  return validateSelectorUpdate(next.spec?.selector, previous.spec?.selector);
}

const kinds: ReadonlyMap<string, KindRules> = new Map<string, KindRules>([
  ["v1/Pod", { group: "", resource: "pods", namespaced: true, validate: validatePod, validateUpdate: (next: Pod, previous: Pod) => validatePodSpecUpdate(next.spec, previous.spec) }],
  ["v1/PodTemplate", { group: "", resource: "podtemplates", namespaced: true, validate: validatePodTemplate }],
  ["v1/Service", { group: "", resource: "services", namespaced: true, validate: validateService, validateUpdate: validateServiceUpdate }],
  ["v1/Endpoints", { group: "", resource: "endpoints", namespaced: true }],
  ["v1/ConfigMap", { group: "", resource: "configmaps", namespaced: true, validate: validateConfigMap, validateUpdate: validateConfigMapUpdate }],
  ["v1/Secret", { group: "", resource: "secrets", namespaced: true, validate: validateSecret, validateUpdate: validateSecretUpdate }],
  ["v1/Namespace", { group: "", resource: "namespaces", namespaced: false, validate: validateNamespace }],
  ["v1/Node", { group: "", resource: "nodes", namespaced: false, validate: validateNode }],
  ["v1/PersistentVolume", { group: "", resource: "persistentvolumes", namespaced: false }],
  [
    "v1/PersistentVolumeClaim",
    { group: "", resource: "persistentvolumeclaims", namespaced: true, validate: validatePersistentVolumeClaim, validateUpdate: validatePersistentVolumeClaimUpdate },
  ],
  // A ReplicationController's selector may change (upstream checks no selector update for it).
  ["v1/ReplicationController", { group: "", resource: "replicationcontrollers", namespaced: true, validate: validateReplicationController }],
  ["v1/ServiceAccount", { group: "", resource: "serviceaccounts", namespaced: true }],
  ["v1/Event", { group: "", resource: "events", namespaced: true, validate: validateEvent }],
  ["v1/ResourceQuota", { group: "", resource: "resourcequotas", namespaced: true }],
  ["v1/LimitRange", { group: "", resource: "limitranges", namespaced: true }],
  ["apps/v1/Deployment", { group: "apps", resource: "deployments", namespaced: true, validate: validateDeployment, validateUpdate: selectorUpdate }],
  ["apps/v1/ReplicaSet", { group: "apps", resource: "replicasets", namespaced: true, validate: validateReplicaSet, validateUpdate: selectorUpdate }],
  ["apps/v1/StatefulSet", { group: "apps", resource: "statefulsets", namespaced: true, validate: validateStatefulSet, validateUpdate: validateStatefulSetUpdate }],
  ["apps/v1/DaemonSet", { group: "apps", resource: "daemonsets", namespaced: true, validate: validateDaemonSet, validateUpdate: selectorUpdate }],
  ["apps/v1/ControllerRevision", { group: "apps", resource: "controllerrevisions", namespaced: true }],
  ["batch/v1/Job", { group: "batch", resource: "jobs", namespaced: true, validate: validateJob, validateUpdate: validateJobUpdate }],
  ["batch/v1/CronJob", { group: "batch", resource: "cronjobs", namespaced: true, validate: validateCronJob }],
  ["autoscaling/v2/HorizontalPodAutoscaler", { group: "autoscaling", resource: "horizontalpodautoscalers", namespaced: true, validate: validateHorizontalPodAutoscaler }],
  ["autoscaling/v1/HorizontalPodAutoscaler", { group: "autoscaling", resource: "horizontalpodautoscalers", namespaced: true, validate: validateHorizontalPodAutoscalerV1 }],
  ["networking.k8s.io/v1/Ingress", { group: "networking.k8s.io", resource: "ingresses", namespaced: true, validate: validateIngress }],
  ["networking.k8s.io/v1/IngressClass", { group: "networking.k8s.io", resource: "ingressclasses", namespaced: false }],
  ["coordination.k8s.io/v1/Lease", { group: "coordination.k8s.io", resource: "leases", namespaced: true, validate: validateLease }],
  ["discovery.k8s.io/v1/EndpointSlice", { group: "discovery.k8s.io", resource: "endpointslices", namespaced: true }],
  ["storage.k8s.io/v1/StorageClass", { group: "storage.k8s.io", resource: "storageclasses", namespaced: false }],
  ["policy/v1/PodDisruptionBudget", { group: "policy", resource: "poddisruptionbudgets", namespaced: true }],
  ["rbac.authorization.k8s.io/v1/Role", { group: "rbac.authorization.k8s.io", resource: "roles", namespaced: true }],
  ["rbac.authorization.k8s.io/v1/ClusterRole", { group: "rbac.authorization.k8s.io", resource: "clusterroles", namespaced: false }],
  ["rbac.authorization.k8s.io/v1/RoleBinding", { group: "rbac.authorization.k8s.io", resource: "rolebindings", namespaced: true }],
  ["rbac.authorization.k8s.io/v1/ClusterRoleBinding", { group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", namespaced: false }],
]);

function rulesFor(object: KubeObject): KindRules | undefined {
  return kinds.get(`${object.apiVersion ?? ""}/${object.kind ?? ""}`);
}

/** Whether validateObject has spec rules for this apiVersion and kind (beyond metadata). */
export function hasValidation(apiVersion: string, kind: string): boolean {
  return kinds.get(`${apiVersion}/${kind}`)?.validate !== undefined;
}

/** Upstream's create validation: metadata (name rule and scope of the kind), then the kind's own rules. */
export function validateObject(object: KubeObject): FieldError[] {
  const rules = rulesFor(object);
  const meta = object.metadata ?? {};
  const namespaced = rules?.namespaced ?? (meta.namespace ?? "") !== "";
  const nameValidator = nameValidatorFor(rules?.group ?? "", rules?.resource ?? "");
  const errors = validateObjectMeta(meta, { namespaced, nameValidator });
  if (rules?.validate !== undefined) errors.push(...(rules.validate as (value: KubeObject) => FieldError[])(object));
  return errors;
}

/** Upstream's update validation: metadata update rules, the kind's rules, then its immutable fields. */
export function validateObjectUpdate<T extends KubeObject>(object: T, previous: T): FieldError[] {
  const rules = rulesFor(object);
  const errors = validateObjectMetaUpdate(object.metadata ?? {}, previous.metadata ?? {});
  if (rules?.validate !== undefined) errors.push(...(rules.validate as (value: KubeObject) => FieldError[])(object));
  if (rules?.validateUpdate !== undefined) errors.push(...(rules.validateUpdate as (next: KubeObject, old: KubeObject) => FieldError[])(object, previous));
  return errors;
}
