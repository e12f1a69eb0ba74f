/**
 * What the HPA controller reads from an autoscaler, whichever version stored it: autoscaling/v2
 * as is, autoscaling/v1's targetCPUUtilizationPercentage as one CPU Utilization metric (80 %
 * when neither version names a metric, as upstream's defaulting does), and the PodMetrics of
 * metrics.k8s.io turned into per-pod values of one resource.
 */
import { defined } from "../../../libs/assert/index.ts";
import { findResource, parseQuantity, parseTime } from "../../../libs/api/index.ts";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerV1, HPAScalingRules, KubeObject, MetricSpec, ResourceInfo } from "../../../libs/api/index.ts";
import type { PodMetric } from "./replicas.ts";

export const hpaV2Resource: ResourceInfo = defined(findResource("autoscaling", "v2", "horizontalpodautoscalers"), "registry serves autoscaling/v2 HPAs");
export const hpaV1Resource: ResourceInfo = defined(findResource("autoscaling", "v1", "horizontalpodautoscalers"), "registry serves autoscaling/v1 HPAs");
export const podMetricsResource: ResourceInfo = defined(findResource("metrics.k8s.io", "v1beta1", "pods"), "registry serves metrics.k8s.io PodMetrics");

/** upstream's default target when an HPA names no metric. */
export const defaultCpuUtilizationPercent = 80;

export interface AutoscalerSpec {
  readonly isV1: boolean;
  readonly targetApiVersion: string;
  readonly targetKind: string;
  readonly targetName: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly metrics: readonly MetricSpec[];
  readonly scaleUp: HPAScalingRules | undefined;
  readonly scaleDown: HPAScalingRules | undefined;
}

export function autoscalerSpec(hpa: HorizontalPodAutoscaler): AutoscalerSpec {
  const isV1 = hpa.apiVersion === "autoscaling/v1";
  const spec = hpa.spec;
  const v1Target = (spec as HorizontalPodAutoscalerV1["spec"] | undefined)?.targetCPUUtilizationPercentage;
  const cpu = (percent: number): MetricSpec => ({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: percent } } });
  const metrics = isV1 || spec?.metrics === undefined || spec.metrics.length === 0 ? [cpu(v1Target ?? defaultCpuUtilizationPercent)] : spec.metrics;
  return {
    isV1,
    targetApiVersion: spec?.scaleTargetRef.apiVersion ?? "apps/v1",
    targetKind: spec?.scaleTargetRef.kind ?? "",
    targetName: spec?.scaleTargetRef.name ?? "",
    minReplicas: spec?.minReplicas ?? 1,
    maxReplicas: spec?.maxReplicas ?? 1,
    metrics,
    scaleUp: isV1 ? undefined : spec?.behavior?.scaleUp,
    scaleDown: isV1 ? undefined : spec?.behavior?.scaleDown,
  };
}

/** A Go duration as metrics-server writes a window ("15s", "1m0s", "500ms"), in milliseconds. */
export function parseWindowMs(text: string | undefined): number {
  if (text === undefined) return 0;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let totalMs = 0;
  for (const match of text.matchAll(/([0-9.]+)(ms|us|µs|ns|h|m|s)/g)) totalMs += Number(match[1]) * (units[match[2] ?? "s"] ?? 0);
  return totalMs;
}

interface PodMetricsObject extends KubeObject {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

/** Per pod name: the sum of its containers' usage (cpu in millicores, memory in bytes). */
export function podMetricValues(items: readonly KubeObject[], resource: string, container?: string): Map<string, PodMetric> {
  const values = new Map<string, PodMetric>();
  for (const item of items as readonly PodMetricsObject[]) {
    const containers = (item.containers ?? []).filter((entry) => container === undefined || entry.name === container);
    if (containers.length === 0) continue;
    let value = 0;
    let complete = true;
    for (const entry of containers) {
      const usage = entry.usage?.[resource];
      if (usage === undefined) complete = false;
      else value += resource === "cpu" ? parseQuantity(usage).milliValue() : parseQuantity(usage).value();
    }
    if (!complete) continue;
    values.set(item.metadata.name ?? "", { value, timestampMs: parseTime(item.timestamp) ?? 0, windowMs: parseWindowMs(item.window) });
  }
  return values;
}

/** A quantity for status: millicores for cpu ("250m", or whole "2"), bytes otherwise. */
export function formatResourceValue(resource: string, value: number): string {
  if (resource !== "cpu") return String(Math.trunc(value));
  const milli = Math.trunc(value);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

export function parseResourceValue(resource: string, quantity: string): number {
  return resource === "cpu" ? parseQuantity(quantity).milliValue() : parseQuantity(quantity).value();
}
