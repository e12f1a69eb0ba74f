/**
 * Workload conditions (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job): find, set keeping
 * lastTransitionTime when the status does not change, and remove.
 */
import type { WorkloadCondition } from "../../../libs/api/index.ts";

export function findCondition(conditions: readonly WorkloadCondition[] | undefined, type: string): WorkloadCondition | undefined {
  return (conditions ?? []).find((condition) => condition.type === type);
}

/**
 * Returns the conditions with `next` in place of any of its type. A condition whose status and
 * reason are unchanged keeps its lastTransitionTime (upstream's SetDeploymentCondition).
 */
export function setCondition(conditions: readonly WorkloadCondition[] | undefined, next: WorkloadCondition): WorkloadCondition[] {
  const current = findCondition(conditions, next.type);
  if (current !== undefined && current.status === next.status && current.reason === next.reason) {
    if (current.message === next.message) return [...(conditions ?? [])];
  }
  const merged = { ...next };
  if (current !== undefined && current.status === next.status && current.lastTransitionTime !== undefined) merged.lastTransitionTime = current.lastTransitionTime;
  return [...(conditions ?? []).filter((condition) => condition.type !== next.type), merged];
}

export function removeCondition(conditions: readonly WorkloadCondition[] | undefined, type: string): WorkloadCondition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}
