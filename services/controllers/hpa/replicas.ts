/**
 * The replica count one resource metric asks for, as upstream's ReplicaCalculator computes it
 * (pkg/controller/podautoscaler/replica_calculator.go): pods are grouped into ready, unready,
 * missing (no metric) and ignored (being deleted or failed); the usage ratio is taken over the
 * ready pods with metrics; within the tolerance nothing changes; otherwise, when pods are
 * missing or unready, the ratio is computed again assuming the missing pods use 100 % of their
 * request on a scale-down and 0 % on a scale-up (unready pods 0 % on a scale-up), and the change
 * is dropped if that would flip its direction. Pure: the caller passes pods, metrics and time.
 */
import { parseTime } from "../../../libs/api/index.ts";
import type { Pod } from "../../../libs/api/index.ts";

/** upstream's --horizontal-pod-autoscaler-tolerance. */
export const toleranceDefault = 0.1;
/** upstream's --horizontal-pod-autoscaler-cpu-initialization-period. */
export const cpuInitializationPeriodMsDefault = 5 * 60_000;
/** upstream's --horizontal-pod-autoscaler-initial-readiness-delay. */
export const initialReadinessDelayMsDefault = 30_000;

/** One pod's usage of the resource: milli-units for cpu, bytes for memory. */
export interface PodMetric {
  readonly value: number;
  readonly timestampMs: number;
  readonly windowMs: number;
}

export interface CalculatorOptions {
  readonly tolerance: number;
  readonly cpuInitializationPeriodMs: number;
  readonly initialReadinessDelayMs: number;
}

export interface ResourceReplicas {
  readonly replicas: number;
  /** Percent of requests (Utilization targets) or undefined for AverageValue targets. */
  readonly utilization: number | undefined;
  /** Average usage per pod with a metric (milli-units for cpu, bytes for memory). */
  readonly rawAverage: number;
}

export class MetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetricError";
  }
}

interface PodGroups {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function readyCondition(pod: Pod): { status: string; lastTransitionTime?: string | null | undefined } | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === "Ready");
}

function timeMs(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  return parseTime(value);
}

/** upstream's rule for CPU: a pod just started counts only once a full window was sampled after it became ready. */
function isUnreadyForCpu(pod: Pod, metric: PodMetric, nowMs: number, options: CalculatorOptions): boolean {
  const condition = readyCondition(pod);
  const startMs = timeMs(pod.status?.startTime);
  if (condition === undefined || startMs === undefined) return true;
  const transitionMs = timeMs(condition.lastTransitionTime) ?? 0;
  if (startMs + options.cpuInitializationPeriodMs > nowMs) {
    return condition.status === "False" || metric.timestampMs < transitionMs + metric.windowMs;
  }
  // Past initialization: ignore the metric only if the pod is unready and has never been ready.
  return condition.status === "False" && startMs + options.initialReadinessDelayMs > transitionMs;
}

function groupPods(pods: readonly Pod[], metrics: ReadonlyMap<string, PodMetric>, resource: string, nowMs: number, options: CalculatorOptions): PodGroups {
  const groups: PodGroups = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name ?? "";
    if ((pod.metadata.deletionTimestamp ?? null) !== null || pod.status?.phase === "Failed") {
      groups.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === "Pending") {
      groups.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (metric === undefined) {
      groups.missing.add(name);
      continue;
    }
    if (resource === "cpu" && isUnreadyForCpu(pod, metric, nowMs, options)) {
      groups.unready.add(name);
      continue;
    }
    groups.readyCount++;
  }
  return groups;
}

/** Sum of the containers' requests for the resource, per pod; every container must have one. */
export function podRequests(pods: readonly Pod[], resource: string, parse: (quantity: string) => number): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let total = 0;
    for (const container of pod.spec?.containers ?? []) {
      const request = container.resources?.requests?.[resource];
      if (request === undefined) throw new MetricError(`missing request for ${resource} in container ${container.name} of Pod ${pod.metadata.name ?? ""}`);
      total += parse(String(request));
    }
    requests.set(pod.metadata.name ?? "", total);
  }
  return requests;
}

interface Ratio {
  readonly ratio: number;
  readonly utilization: number | undefined;
  readonly rawAverage: number;
}

/** Utilization: usage over requests in whole percent (as upstream truncates), against the target percent. */
function utilizationRatio(metrics: ReadonlyMap<string, PodMetric>, requests: ReadonlyMap<string, number>, targetPercent: number): Ratio {
  let usageTotal = 0;
  let requestTotal = 0;
  let counted = 0;
  for (const [name, metric] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    usageTotal += metric.value;
    requestTotal += request;
    counted++;
  }
  if (requestTotal === 0) throw new MetricError("no metrics returned matched known pods");
  const utilization = Math.trunc((usageTotal * 100) / requestTotal);
  return { ratio: utilization / targetPercent, utilization, rawAverage: Math.trunc(usageTotal / counted) };
}

/** AverageValue: the mean usage per pod against the target value. */
function averageRatio(metrics: ReadonlyMap<string, PodMetric>, targetAverage: number): Ratio {
  let usageTotal = 0;
  for (const metric of metrics.values()) usageTotal += metric.value;
  const rawAverage = metrics.size === 0 ? 0 : usageTotal / metrics.size;
  return { ratio: rawAverage / targetAverage, utilization: undefined, rawAverage: Math.trunc(rawAverage) };
}

export interface ResourceTarget {
  readonly resource: string;
  /** Exactly one of the two. */
  readonly averageUtilization?: number;
  readonly averageValue?: number;
}

export interface CalculationInput {
  readonly currentReplicas: number;
  readonly pods: readonly Pod[];
  readonly metrics: ReadonlyMap<string, PodMetric>;
  readonly requests: ReadonlyMap<string, number>;
  readonly target: ResourceTarget;
  readonly nowMs: number;
  readonly options: CalculatorOptions;
}

/** upstream's GetResourceReplicas / GetRawResourceReplicas. */
export function resourceReplicas(input: CalculationInput): ResourceReplicas {
  const { currentReplicas, pods, target, options } = input;
  if (pods.length === 0) throw new MetricError("no pods returned by selector while calculating replica count");
  const groups = groupPods(pods, input.metrics, target.resource, input.nowMs, options);
  const metrics = new Map([...input.metrics].filter(([name]) => pods.some((pod) => pod.metadata.name === name) && !groups.ignored.has(name) && !groups.unready.has(name)));
  if (metrics.size === 0) throw new MetricError("did not receive metrics for targeted pods (pods might be unready)");
  const ratioOf = (values: ReadonlyMap<string, PodMetric>): Ratio =>
    target.averageUtilization !== undefined ? utilizationRatio(values, input.requests, target.averageUtilization) : averageRatio(values, target.averageValue ?? 1);
  const first = ratioOf(metrics);
  const unchanged = { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage };
  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= options.tolerance) return unchanged;
    // Upstream multiplies by the ready pods with metrics (which here is every pod left).
    return { ...unchanged, replicas: Math.ceil(first.ratio * groups.readyCount) };
  }
  const assumed = new Map(metrics);
  const fallback = (name: string): number =>
    target.averageUtilization !== undefined ? ((input.requests.get(name) ?? 0) * Math.max(100, target.averageUtilization)) / 100 : (target.averageValue ?? 0);
  for (const name of groups.missing) {
    if (first.ratio < 1) assumed.set(name, { value: fallback(name), timestampMs: 0, windowMs: 0 });
    else if (first.ratio > 1) assumed.set(name, { value: 0, timestampMs: 0, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const name of groups.unready) assumed.set(name, { value: 0, timestampMs: 0, windowMs: 0 });
  const second = ratioOf(assumed);
  const flips = (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1);
  if (Math.abs(1 - second.ratio) <= options.tolerance || flips) return unchanged;
  const replicas = Math.ceil(second.ratio * assumed.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return unchanged;
  return { ...unchanged, replicas };
}
