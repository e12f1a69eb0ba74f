/**
 * A ReplicaSet's status from the pods it controls (calculateStatus): replicas, fully labeled,
 * ready and available counts, observedGeneration and the ReplicaFailure condition. Zero counts
 * are left out, as upstream's omitempty JSON does, so a status read back compares equal.
 */
import { deepEqual, formatTime, selectorFromSet } from "../../../libs/api/index.ts";
import type { JsonValue, Pod, ReplicaSetStatus } from "../../../libs/api/index.ts";
import { findCondition, removeCondition, setCondition } from "../common/conditions.ts";
import { isPodAvailable, isPodReady } from "../common/pods.ts";
import type { ReplicatedObject } from "./kinds.ts";

export interface ManageFailure {
  reason: "FailedCreate" | "FailedDelete";
  message: string;
}

export function replicaSetStatus(rs: ReplicatedObject, pods: readonly Pod[], failure: ManageFailure | undefined, nowMs: number): ReplicaSetStatus {
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels);
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  const fullyLabeled = pods.filter((pod) => templateLabels.matches(pod.metadata.labels)).length;
  const ready = pods.filter(isPodReady).length;
  const available = pods.filter((pod) => isPodAvailable(pod, minReadySeconds, nowMs)).length;
  const status: ReplicaSetStatus = { replicas: pods.length };
  if (fullyLabeled > 0) status.fullyLabeledReplicas = fullyLabeled;
  if (ready > 0) status.readyReplicas = ready;
  if (available > 0) status.availableReplicas = available;
  status.observedGeneration = rs.metadata.generation ?? 0;
  let conditions = rs.status?.conditions;
  if (failure !== undefined && findCondition(conditions, "ReplicaFailure") === undefined) {
    conditions = setCondition(conditions, { type: "ReplicaFailure", status: "True", lastTransitionTime: formatTime(nowMs), reason: failure.reason, message: failure.message });
  } else if (failure === undefined) {
    conditions = removeCondition(conditions, "ReplicaFailure");
  }
  if (conditions !== undefined && conditions.length > 0) status.conditions = conditions;
  return status;
}

export function statusEqual(left: ReplicaSetStatus | undefined, right: ReplicaSetStatus): boolean {
  return left !== undefined && deepEqual(left as unknown as JsonValue, right as unknown as JsonValue);
}
