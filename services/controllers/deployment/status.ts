/**
 * A Deployment's status (calculateStatus, syncRolloutStatus): the counts `kubectl rollout status`
 * reads (observedGeneration, replicas, updatedReplicas, readyReplicas, availableReplicas,
 * unavailableReplicas) and the Available, Progressing and ReplicaFailure conditions with
 * upstream's reasons and messages. Zero counts are left out, as upstream's omitempty JSON does.
 */
import { formatTime, parseTime } from "../../../libs/api/index.ts";
import type { Deployment, DeploymentStatus, ReplicaSet, WorkloadCondition } from "../../../libs/api/index.ts";
import { findCondition, removeCondition } from "../common/conditions.ts";
import { maxUnavailableOf, replicasOf, totalSpecReplicas, totalStatus } from "./util.ts";

export const reasonNewReplicaSetCreated = "NewReplicaSetCreated";
export const reasonFoundNewReplicaSet = "FoundNewReplicaSet";
export const reasonReplicaSetUpdated = "ReplicaSetUpdated";
export const reasonNewReplicaSetAvailable = "NewReplicaSetAvailable";
export const reasonTimedOut = "ProgressDeadlineExceeded";
export const reasonPaused = "DeploymentPaused";
export const reasonResumed = "DeploymentResumed";

export function newCondition(type: string, status: WorkloadCondition["status"], reason: string, message: string, nowMs: number): WorkloadCondition {
  const now = formatTime(nowMs);
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/**
 * SetDeploymentCondition: a condition with the same status and reason as the current one is not
 * touched; one with the same status keeps its lastTransitionTime.
 */
export function setDeploymentCondition(conditions: readonly WorkloadCondition[] | undefined, next: WorkloadCondition): WorkloadCondition[] {
  const current = findCondition(conditions, next.type);
  if (current !== undefined && current.status === next.status && current.reason === next.reason) return [...(conditions ?? [])];
  const merged = { ...next };
  if (current?.status === next.status && current.lastTransitionTime !== undefined) merged.lastTransitionTime = current.lastTransitionTime;
  return [...removeCondition(conditions, next.type), merged];
}

function setCount(status: DeploymentStatus, field: "replicas" | "updatedReplicas" | "readyReplicas" | "availableReplicas" | "unavailableReplicas", value: number): void {
  if (value !== 0) status[field] = value;
}

/** calculateStatus: counts over all ReplicaSets and the Available condition. */
export function calculateStatus(deployment: Deployment, allReplicaSets: readonly ReplicaSet[], newReplicaSet: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  const available = totalStatus(allReplicaSets, "availableReplicas");
  const status: DeploymentStatus = { observedGeneration: deployment.metadata.generation ?? 0 };
  setCount(status, "replicas", totalStatus(allReplicaSets, "replicas"));
  setCount(status, "updatedReplicas", newReplicaSet === undefined ? 0 : totalStatus([newReplicaSet], "replicas"));
  setCount(status, "readyReplicas", totalStatus(allReplicaSets, "readyReplicas"));
  setCount(status, "availableReplicas", available);
  setCount(status, "unavailableReplicas", Math.max(0, totalSpecReplicas(allReplicaSets) - available));
  let conditions = [...(deployment.status?.conditions ?? [])];
  if (available >= replicasOf(deployment) - maxUnavailableOf(deployment)) {
    conditions = setDeploymentCondition(conditions, newCondition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", nowMs));
  } else {
    conditions = setDeploymentCondition(conditions, newCondition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", nowMs));
  }
  if (conditions.length > 0) status.conditions = conditions;
  if (deployment.status?.collisionCount !== undefined) status.collisionCount = deployment.status.collisionCount;
  return status;
}

export function hasProgressDeadline(deployment: Deployment): boolean {
  const seconds = deployment.spec?.progressDeadlineSeconds;
  return seconds !== undefined && seconds !== 2147483647;
}

/** DeploymentComplete: every replica updated and available, and this generation observed. */
export function deploymentComplete(deployment: Deployment, status: DeploymentStatus): boolean {
  const desired = replicasOf(deployment);
  return (
    (status.updatedReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available pods than before. */
export function deploymentProgressing(deployment: Deployment, status: DeploymentStatus): boolean {
  const old = deployment.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: no progress reported within progressDeadlineSeconds. */
export function deploymentTimedOut(deployment: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(deployment)) return false;
  const condition = findCondition(status.conditions, "Progressing");
  if (condition === undefined || condition.reason === reasonNewReplicaSetAvailable) return false;
  if (condition.reason === reasonTimedOut) return true;
  const fromMs = parseTime(condition.lastUpdateTime) ?? nowMs;
  return fromMs + (deployment.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** The ReplicaFailure condition a Deployment shows while one of its ReplicaSets has one. */
function replicaFailure(allReplicaSets: readonly ReplicaSet[]): WorkloadCondition | undefined {
  for (const rs of allReplicaSets) {
    const failure = findCondition(rs.status?.conditions, "ReplicaFailure");
    if (failure !== undefined) return { ...failure, lastUpdateTime: failure.lastTransitionTime ?? "" };
  }
  return undefined;
}

/** syncRolloutStatus's status: calculateStatus plus the Progressing and ReplicaFailure conditions. */
export function rolloutStatus(deployment: Deployment, allReplicaSets: readonly ReplicaSet[], newReplicaSet: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  const status = calculateStatus(deployment, allReplicaSets, newReplicaSet, nowMs);
  let conditions = status.conditions ?? [];
  if (!hasProgressDeadline(deployment)) conditions = removeCondition(conditions, "Progressing");
  const current = findCondition(conditions, "Progressing");
  const complete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === reasonNewReplicaSetAvailable;
  const rsName = newReplicaSet?.metadata.name ?? "";
  if (hasProgressDeadline(deployment) && !complete) {
    if (deploymentComplete(deployment, status)) {
      conditions = setDeploymentCondition(conditions, newCondition("Progressing", "True", reasonNewReplicaSetAvailable, `ReplicaSet "${rsName}" has successfully progressed.`, nowMs));
    } else if (deploymentProgressing(deployment, status)) {
      const progressing = newCondition("Progressing", "True", reasonReplicaSetUpdated, `ReplicaSet "${rsName}" is progressing.`, nowMs);
      if (current?.status === "True" && current.lastTransitionTime !== undefined) progressing.lastTransitionTime = current.lastTransitionTime;
      conditions = [...removeCondition(conditions, "Progressing"), progressing];
    } else if (deploymentTimedOut(deployment, { ...status, conditions }, nowMs)) {
      conditions = setDeploymentCondition(conditions, newCondition("Progressing", "False", reasonTimedOut, `ReplicaSet "${rsName}" has timed out progressing.`, nowMs));
    }
  }
  const failure = replicaFailure(allReplicaSets);
  conditions = failure === undefined ? removeCondition(conditions, "ReplicaFailure") : setDeploymentCondition(conditions, failure);
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
  return status;
}
