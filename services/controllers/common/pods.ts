/**
 * Pod facts every workload controller needs (k8s.io/kubernetes pkg/api/v1/pod and
 * pkg/controller): active, ready, available for minReadySeconds, the controller reference, and
 * a pod built from a template with an owner.
 */
import { parseTime } from "../../../libs/api/index.ts";
import type { KubeObject, OwnerReference, Pod, PodCondition, PodTemplateSpec } from "../../../libs/api/index.ts";

/** A pod counts towards replicas until it has finished or is being deleted (FilterActivePods). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && (pod.metadata.deletionTimestamp ?? null) === null;
}

export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return (pod.status?.conditions ?? []).find((condition) => condition.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, "Ready")?.status === "True";
}

/** When the pod last became Ready (ms), undefined when not ready. */
export function podReadySinceMs(pod: Pod): number | undefined {
  const ready = podCondition(pod, "Ready");
  if (ready?.status !== "True") return undefined;
  return parseTime(ready.lastTransitionTime ?? undefined) ?? 0;
}

/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const since = podReadySinceMs(pod);
  if (since === undefined) return false;
  return minReadySeconds === 0 || since + minReadySeconds * 1000 <= nowMs;
}

export function controllerRefOf(object: KubeObject): OwnerReference | undefined {
  return (object.metadata.ownerReferences ?? []).find((reference) => reference.controller === true);
}

/** The ownerReference a controller puts on what it makes (blockOwnerDeletion, as upstream). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? "", uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
}

/** A pod from a template (controller.GetPodFromTemplate): generateName `<owner>-`, the owner's namespace. */
export function podFromTemplate(template: PodTemplateSpec | undefined, owner: KubeObject, controllerRef: OwnerReference): Pod {
  const metadata = template?.metadata ?? {};
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { generateName: `${owner.metadata.name ?? ""}-`, namespace: owner.metadata.namespace ?? "default", ownerReferences: [controllerRef] },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  };
  if (metadata.labels !== undefined) pod.metadata.labels = { ...metadata.labels };
  if (metadata.annotations !== undefined) pod.metadata.annotations = { ...metadata.annotations };
  if (metadata.finalizers !== undefined) pod.metadata.finalizers = [...metadata.finalizers];
  return pod;
}

/** The total of container restarts, for ranking pods to delete. */
export function podRestarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, status) => sum + status.restartCount, 0);
}
