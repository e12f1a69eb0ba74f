/**
 * The arithmetic of a PodDisruptionBudget's status, as upstream's disruption controller
 * (pkg/controller/disruption) does it: the expected pod count and desired healthy count from
 * minAvailable/maxUnavailable, the pods the eviction subresource has disrupted but that are not
 * gone yet, the healthy count, and the status with its DisruptionAllowed condition. Pure: the
 * controller passes the pods, the owners' scale and the time in.
 */
import { formatTime, parseTime } from "../../../libs/api/index.ts";
import type { Condition, IntOrString, Pod, PodDisruptionBudget } from "../../../libs/api/index.ts";
import { isPodReady } from "../common/pods.ts";

export type BudgetStatus = NonNullable<PodDisruptionBudget["status"]>;

/** upstream's DeletionTimeout: an evicted pod not deleted within this is counted healthy again. */
export const deletionTimeoutMs = 2 * 60 * 1000;
export const disruptionAllowedCondition = "DisruptionAllowed";
export const sufficientPodsReason = "SufficientPods";
export const insufficientPodsReason = "InsufficientPods";
export const syncFailedReason = "SyncFailed";

/** The expected count and the desired healthy count (getExpectedPodCount). */
export interface Expectation {
  expectedCount: number;
  desiredHealthy: number;
  /** Pods without a controller, when the budget had to look at controllers. */
  unmanagedPods: string[];
}

/** The summed scale of the pods' controllers: `undefined` when a controller could not be found. */
export interface ExpectedScale {
  expectedCount: number;
  unmanagedPods: string[];
}

/** intstr.GetScaledValueFromIntOrPercent: "25%" of total, rounded up or down; a bad string throws. */
export function scaledIntOrPercent(value: IntOrString, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const match = /^(\d+)%$/.exec(value);
  if (match === null) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const percent = Number(match[1]);
  const scaled = (percent * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * maxUnavailable (int or percent) and a percentage minAvailable are resolved against the
 * controllers' scale; an integer minAvailable against the pods that exist. Neither set: 0 and 0.
 */
export function expectation(budget: PodDisruptionBudget, podCount: number, scale: () => ExpectedScale): Expectation {
  const spec = budget.spec ?? {};
  if (spec.maxUnavailable !== undefined) {
    const { expectedCount, unmanagedPods } = scale();
    const maxUnavailable = scaledIntOrPercent(spec.maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanagedPods };
  }
  if (spec.minAvailable !== undefined) {
    if (typeof spec.minAvailable === "number") return { expectedCount: podCount, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
    const { expectedCount, unmanagedPods } = scale();
    return { expectedCount, desiredHealthy: scaledIntOrPercent(spec.minAvailable, expectedCount, true), unmanagedPods };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

export interface DisruptedPods {
  /** The entries still waiting for their pod's deletion. */
  pods: Record<string, string>;
  /** Entries that outlived deletionTimeoutMs (upstream's NotDeleted event). */
  expired: string[];
  /** When the earliest entry expires, so the budget is looked at again then. */
  recheckAtMs: number | undefined;
}

/**
 * buildDisruptedPodMap: an entry stays while its pod exists, is not being deleted and the
 * timeout has not passed; entries of vanished or terminating pods are dropped.
 */
export function disruptedPods(budget: PodDisruptionBudget, pods: readonly Pod[], nowMs: number): DisruptedPods {
  const recorded = budget.status?.disruptedPods ?? {};
  const result: DisruptedPods = { pods: {}, expired: [], recheckAtMs: undefined };
  for (const pod of pods) {
    const name = pod.metadata.name ?? "";
    const since = recorded[name];
    if ((pod.metadata.deletionTimestamp ?? null) !== null || since === undefined) continue;
    const expectedDeletionMs = (parseTime(since) ?? 0) + deletionTimeoutMs;
    if (expectedDeletionMs < nowMs) {
      result.expired.push(name);
      continue;
    }
    result.pods[name] = since;
    if (result.recheckAtMs === undefined || expectedDeletionMs < result.recheckAtMs) result.recheckAtMs = expectedDeletionMs;
  }
  return result;
}

/** countHealthyPods: Ready pods neither being deleted nor just evicted. */
export function currentHealthy(pods: readonly Pod[], disrupted: Record<string, string>): number {
  return pods.filter((pod) => (pod.metadata.deletionTimestamp ?? null) === null && disrupted[pod.metadata.name ?? ""] === undefined && isPodReady(pod)).length;
}

/** apimeta.SetStatusCondition: lastTransitionTime moves only when the status changes. */
export function withCondition(conditions: readonly Condition[] | undefined, next: Omit<Condition, "lastTransitionTime">, nowMs: number): Condition[] {
  const current = (conditions ?? []).find((condition) => condition.type === next.type);
  const lastTransitionTime = current !== undefined && current.status === next.status ? current.lastTransitionTime : formatTime(nowMs);
  const merged: Condition = { ...next, lastTransitionTime };
  if (current === undefined) return [...(conditions ?? []), merged];
  return (conditions ?? []).map((condition) => (condition.type === next.type ? merged : condition));
}

export interface Counts {
  currentHealthy: number;
  desiredHealthy: number;
  expectedCount: number;
  disruptedPods: Record<string, string>;
}

function sameRecord(left: Record<string, string> | undefined, right: Record<string, string>): boolean {
  const leftEntries = Object.entries(left ?? {});
  return leftEntries.length === Object.keys(right).length && leftEntries.every(([key, value]) => right[key] === value);
}

/** ConditionsAreUpToDate: the condition agrees with the allowed count of the current generation. */
function conditionUpToDate(budget: PodDisruptionBudget, allowed: number): boolean {
  const condition = (budget.status?.conditions ?? []).find((candidate) => candidate.type === disruptionAllowedCondition);
  if (condition === undefined) return false;
  return allowed > 0 ? condition.status === "True" && condition.reason === sufficientPodsReason : condition.status === "False" && condition.reason === insufficientPodsReason;
}

/**
 * The status to write (updatePdbStatus), or undefined when the stored one already says it.
 * disruptionsAllowed is 0 while no pods are expected, so a budget whose first pods appear is
 * safe before this controller has seen them.
 */
export function nextStatus(budget: PodDisruptionBudget, counts: Counts, nowMs: number): BudgetStatus | undefined {
  const allowedRaw = counts.currentHealthy - counts.desiredHealthy;
  const disruptionsAllowed = counts.expectedCount <= 0 || allowedRaw <= 0 ? 0 : allowedRaw;
  const generation = budget.metadata.generation ?? 0;
  const stored = budget.status;
  if (
    stored !== undefined &&
    stored.currentHealthy === counts.currentHealthy &&
    stored.desiredHealthy === counts.desiredHealthy &&
    stored.expectedPods === counts.expectedCount &&
    stored.disruptionsAllowed === disruptionsAllowed &&
    sameRecord(stored.disruptedPods, counts.disruptedPods) &&
    (stored.observedGeneration ?? 0) === generation &&
    conditionUpToDate(budget, disruptionsAllowed)
  ) {
    return undefined;
  }
  const sufficient = disruptionsAllowed > 0;
  const condition = { type: disruptionAllowedCondition, status: sufficient ? "True" : "False", reason: sufficient ? sufficientPodsReason : insufficientPodsReason, message: "", observedGeneration: generation } as const;
  const status: BudgetStatus = {
    observedGeneration: generation,
    disruptionsAllowed,
    currentHealthy: counts.currentHealthy,
    desiredHealthy: counts.desiredHealthy,
    expectedPods: counts.expectedCount,
    conditions: withCondition(stored?.conditions, condition, nowMs),
  };
  if (Object.keys(counts.disruptedPods).length > 0) status.disruptedPods = counts.disruptedPods;
  return status;
}

/** failSafe: nothing may be disrupted while the budget cannot be computed; the generation is not observed. */
export function failSafeStatus(budget: PodDisruptionBudget, message: string, nowMs: number): BudgetStatus {
  const stored = budget.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  const observedGeneration = stored.observedGeneration ?? 0;
  const condition = { type: disruptionAllowedCondition, status: "False", reason: syncFailedReason, message, observedGeneration } as const;
  return { ...stored, disruptionsAllowed: 0, conditions: withCondition(stored.conditions, condition, nowMs) };
}
