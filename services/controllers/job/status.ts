/**
 * Pure decisions of the Job controller (pkg/controller/job, NonIndexed completion mode): how many
 * pods should be active, whether the Job has completed or failed (backoffLimit,
 * activeDeadlineSeconds), the pod-recreation backoff after failures, and the pod labels a Job
 * without an explicit selector uses (upstream's API server generates them; Flotilla's does not).
 */
import { parseTime } from "../../../libs/api/index.ts";
import type { Job, LabelSelector, Pod } from "../../../libs/api/index.ts";
import { findCondition } from "../common/conditions.ts";

export const backoffLimitDefault = 6;
/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const podFailureBackoffBaseMs = 10_000;
export const podFailureBackoffMaxMs = 360_000;

export const controllerUidLabel = "batch.kubernetes.io/controller-uid";
export const jobNameLabel = "batch.kubernetes.io/job-name";

/** The labels a Job's pods carry so that the Job finds them (the generated selector's labels). */
export function generatedLabels(job: Job): Record<string, string> {
  const uid = job.metadata.uid ?? "";
  const name = job.metadata.name ?? "";
  return { [controllerUidLabel]: uid, "controller-uid": uid, [jobNameLabel]: name, "job-name": name };
}

export function jobSelector(job: Job): LabelSelector {
  if (job.spec?.selector !== undefined && (job.spec.manualSelector === true || Object.keys(job.spec.selector.matchLabels ?? {}).length > 0 || (job.spec.selector.matchExpressions ?? []).length > 0)) {
    return job.spec.selector;
  }
  return { matchLabels: { [controllerUidLabel]: job.metadata.uid ?? "" } };
}

export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((condition) => (condition.type === "Complete" || condition.type === "Failed") && condition.status === "True");
}

export function finishedAtMs(job: Job): number | undefined {
  const condition = (job.status?.conditions ?? []).find((candidate) => (candidate.type === "Complete" || candidate.type === "Failed") && candidate.status === "True");
  return parseTime(condition?.lastTransitionTime ?? job.status?.completionTime);
}

export interface PodCounts {
  active: Pod[];
  succeeded: number;
  failed: number;
  ready: number;
}

/** How many pods should run now (upstream's wantActive). */
export function wantActive(job: Job, counts: PodCounts): number {
  const parallelism = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  if (completions === undefined) return counts.succeeded > 0 ? Math.min(counts.active.length, parallelism) : parallelism;
  return Math.max(0, Math.min(completions - counts.succeeded, parallelism));
}

/** The success criterion: `completions` pods succeeded, or (no completions) one did and none runs. */
export function isComplete(job: Job, counts: PodCounts): boolean {
  const completions = job.spec?.completions;
  if (completions === undefined) return counts.succeeded > 0 && counts.active.length === 0;
  return counts.succeeded >= completions;
}

export interface Failure {
  reason: "BackoffLimitExceeded" | "DeadlineExceeded";
  message: string;
}

export function failure(job: Job, counts: PodCounts, nowMs: number): Failure | undefined {
  if (counts.failed > (job.spec?.backoffLimit ?? backoffLimitDefault)) return { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" };
  const deadlineSeconds = job.spec?.activeDeadlineSeconds;
  const startMs = parseTime(job.status?.startTime);
  if (deadlineSeconds !== undefined && startMs !== undefined && nowMs - startMs >= deadlineSeconds * 1000) {
    return { reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
  }
  return undefined;
}

/** When pods may be created again after `failed` failures, the last at `lastFailureMs`. */
export function backoffUntilMs(failed: number, lastFailureMs: number | undefined): number | undefined {
  if (failed === 0 || lastFailureMs === undefined) return undefined;
  const delayMs = Math.min(podFailureBackoffMaxMs, podFailureBackoffBaseMs * 2 ** (failed - 1));
  return lastFailureMs + delayMs;
}

/** When a pod finished (its containers' finishedAt), for the backoff. */
export function podFinishedMs(pod: Pod): number | undefined {
  const times = (pod.status?.containerStatuses ?? []).map((status) => parseTime(status.state?.terminated?.finishedAt ?? undefined)).filter((value): value is number => value !== undefined);
  if (times.length > 0) return Math.max(...times);
  const ready = (pod.status?.conditions ?? []).find((condition) => condition.type === "Ready");
  return parseTime(ready?.lastTransitionTime ?? undefined);
}

export function isSuspended(job: Job): boolean {
  return job.spec?.suspend === true;
}

export function suspendedCondition(job: Job): boolean {
  return findCondition(job.status?.conditions, "Suspended")?.status === "True";
}
