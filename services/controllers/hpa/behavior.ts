/**
 * Scaling behavior as upstream's horizontal.go applies it: recommendations are stabilized over
 * a window (scale-down keeps the highest recommendation of the last 300 s by default, scale-up
 * the lowest of its window, 0 s by default), then the change is limited by the policies (Pods
 * or Percent per period, Max/Min/Disabled), counting the replicas already added or removed in
 * each policy's period. State (recommendations, scale events) lives per HPA key in memory, as
 * upstream's does: a new controller leader starts from the current replica count.
 */
import type { HPAScalingRules } from "../../../libs/api/index.ts";

/** upstream's --horizontal-pod-autoscaler-downscale-stabilization (5 min). */
export const downscaleStabilizationSecondsDefault = 300;
/** Recommendations kept per HPA: one per 15 s sync over a 1 h window is 240. */
export const recommendationsPerKeyMax = 256;
/** Scale events kept per HPA and direction. */
export const scaleEventsPerKeyMax = 256;

export interface ScalingPolicy {
  readonly type: "Pods" | "Percent";
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: "Max" | "Min" | "Disabled";
  readonly policies: readonly ScalingPolicy[];
}

/** upstream's GenerateHPAScaleUpRules: 4 pods or 100 % per 15 s, whichever is more, no window. */
export function scaleUpRules(given: HPAScalingRules | undefined): ScalingRules {
  return {
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? 0,
    selectPolicy: given?.selectPolicy ?? "Max",
    policies: given?.policies ?? [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  };
}

/** upstream's GenerateHPAScaleDownRules: 100 % per 15 s, the controller's window (300 s). */
export function scaleDownRules(given: HPAScalingRules | undefined, downscaleStabilizationSeconds: number): ScalingRules {
  return {
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? downscaleStabilizationSeconds,
    selectPolicy: given?.selectPolicy ?? "Max",
    policies: given?.policies ?? [{ type: "Percent", value: 100, periodSeconds: 15 }],
  };
}

interface Recommendation {
  readonly replicas: number;
  readonly atMs: number;
}

interface ScaleEvent {
  readonly change: number;
  readonly atMs: number;
}

export interface NormalizeInput {
  readonly key: string;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
  readonly nowMs: number;
}

export interface Normalized {
  readonly replicas: number;
  /** AbleToScale's reason and message after stabilization. */
  readonly stabilized: { readonly reason: string; readonly message: string };
  /** ScalingLimited: true when the rate or the bounds cut the stabilized recommendation. */
  readonly limited: { readonly status: boolean; readonly reason: string; readonly message: string };
}

function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  const cutoffMs = nowMs - periodSeconds * 1000;
  return events.filter((event) => event.atMs > cutoffMs).reduce((sum, event) => sum + event.change, 0);
}

function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pick = rules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = rules.selectPolicy === "Min" ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(events, policy.periodSeconds, nowMs);
    const proposed = policy.type === "Pods" ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pick = rules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = rules.selectPolicy === "Min" ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = current + changeInPeriod(events, policy.periodSeconds, nowMs);
    const proposed = policy.type === "Pods" ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function longestPeriodMs(rules: ScalingRules): number {
  return Math.max(0, ...rules.policies.map((policy) => policy.periodSeconds)) * 1000;
}

/** Per-HPA memory of recommendations and scale events, bounded per key. */
export class ScalingHistory {
  readonly #recommendations = new Map<string, Recommendation[]>();
  readonly #upEvents = new Map<string, ScaleEvent[]>();
  readonly #downEvents = new Map<string, ScaleEvent[]>();

  /** upstream's recordInitialRecommendation: the first sync remembers the current count. */
  recordInitial(key: string, replicas: number, nowMs: number): void {
    if (!this.#recommendations.has(key)) this.#recommendations.set(key, [{ replicas, atMs: nowMs }]);
  }

  forget(key: string): void {
    this.#recommendations.delete(key);
    this.#upEvents.delete(key);
    this.#downEvents.delete(key);
  }

  #stabilize(input: NormalizeInput): { replicas: number; reason: string; message: string } {
    const upCutoffMs = input.nowMs - input.scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoffMs = input.nowMs - input.scaleDown.stabilizationWindowSeconds * 1000;
    let upRecommendation = input.desiredReplicas;
    let downRecommendation = input.desiredReplicas;
    const kept: Recommendation[] = [];
    for (const recommendation of this.#recommendations.get(input.key) ?? []) {
      if (recommendation.atMs > upCutoffMs) upRecommendation = Math.min(upRecommendation, recommendation.replicas);
      if (recommendation.atMs > downCutoffMs) downRecommendation = Math.max(downRecommendation, recommendation.replicas);
      // Older than both windows: no longer needed (upstream reuses the slot).
      if (recommendation.atMs > upCutoffMs || recommendation.atMs > downCutoffMs) kept.push(recommendation);
    }
    kept.push({ replicas: input.desiredReplicas, atMs: input.nowMs });
    this.#recommendations.set(input.key, kept.slice(-recommendationsPerKeyMax));
    const replicas = Math.min(Math.max(input.currentReplicas, upRecommendation), downRecommendation);
    if (input.desiredReplicas >= input.currentReplicas) {
      return { replicas, reason: "ScaleUpStabilized", message: "recent recommendations were lower than current one, applying the lowest recent recommendation" };
    }
    return { replicas, reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" };
  }

  #limitRate(input: NormalizeInput, desired: number): { replicas: number; reason: string; message: string } {
    const current = input.currentReplicas;
    if (desired > current) {
      const limit = Math.max(current, scaleUpLimit(current, this.#upEvents.get(input.key) ?? [], input.scaleUp, input.nowMs));
      const byRate = input.maxReplicas > limit;
      const allowed = byRate ? limit : input.maxReplicas;
      if (desired > allowed) {
        return byRate
          ? { replicas: allowed, reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" }
          : { replicas: allowed, reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" };
      }
    } else if (desired < current) {
      const limit = Math.min(current, scaleDownLimit(current, this.#downEvents.get(input.key) ?? [], input.scaleDown, input.nowMs));
      const byRate = input.minReplicas < limit;
      const allowed = byRate ? limit : input.minReplicas;
      if (desired < allowed) {
        return byRate
          ? { replicas: allowed, reason: "ScaleDownLimit", message: "the desired replica count is decreasing faster than the maximum scale rate" }
          : { replicas: allowed, reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" };
      }
    }
    return { replicas: desired, reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" };
  }

  /** upstream's normalizeDesiredReplicasWithBehaviors. */
  normalize(input: NormalizeInput): Normalized {
    const stabilized = this.#stabilize(input);
    const stabilizedCondition =
      stabilized.replicas !== input.desiredReplicas ? { reason: stabilized.reason, message: stabilized.message } : { reason: "ReadyForNewScale", message: "recommended size matches current size" };
    const limited = this.#limitRate(input, stabilized.replicas);
    return { replicas: limited.replicas, stabilized: stabilizedCondition, limited: { status: limited.replicas !== stabilized.replicas, reason: limited.reason, message: limited.message } };
  }

  /** upstream's storeScaleEvent: a rescale from `previous` to `next`, pruned to the longest policy period. */
  recordScale(key: string, previous: number, next: number, rules: { scaleUp: ScalingRules; scaleDown: ScalingRules }, nowMs: number): void {
    const up = next > previous;
    const store = up ? this.#upEvents : this.#downEvents;
    const periodMs = longestPeriodMs(up ? rules.scaleUp : rules.scaleDown);
    const kept = (store.get(key) ?? []).filter((event) => event.atMs > nowMs - periodMs);
    kept.push({ change: Math.abs(next - previous), atMs: nowMs });
    store.set(key, kept.slice(-scaleEventsPerKeyMax));
  }
}
