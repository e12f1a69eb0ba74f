import { describe, expect, test } from "vitest";
import { formatTime } from "../../../libs/api/index.ts";
import type { Pod } from "../../../libs/api/index.ts";
import { cpuInitializationPeriodMsDefault, initialReadinessDelayMsDefault, podRequests, resourceReplicas, toleranceDefault, type PodMetric } from "./replicas.ts";

const nowMs = Date.UTC(2026, 0, 1);
const options = { tolerance: toleranceDefault, cpuInitializationPeriodMs: cpuInitializationPeriodMsDefault, initialReadinessDelayMs: initialReadinessDelayMsDefault };

function pod(name: string, ready = true, phase = "Running"): Pod {
  const since = formatTime(nowMs - 10 * 60_000);
  return {
    metadata: { name, namespace: "default" },
    spec: { containers: [{ name: "app", resources: { requests: { cpu: "1" } } }] },
    status: { phase, startTime: since, conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: since }] },
  } as Pod;
}

function calculate(pods: Pod[], levelsMilli: (number | undefined)[], targetPercent: number, currentReplicas = pods.length) {
  const metrics = new Map<string, PodMetric>();
  levelsMilli.forEach((level, index) => {
    if (level !== undefined) metrics.set(`p${index}`, { value: level, timestampMs: nowMs - 5_000, windowMs: 15_000 });
  });
  const requests = podRequests(pods, "cpu", (quantity) => (quantity === "1" ? 1000 : Number.NaN));
  return resourceReplicas({ currentReplicas, pods, metrics, requests, target: { resource: "cpu", averageUtilization: targetPercent }, nowMs, options });
}

const pods = (count: number): Pod[] => Array.from({ length: count }, (_unused, index) => pod(`p${index}`));

describe("replica calculation (upstream's replica_calculator_test cases)", () => {
  test("scale up: 3 pods at 300m, 500m, 700m of 1 CPU against 30 % go to 5", () => {
    expect(calculate(pods(3), [300, 500, 700], 30)).toEqual({ replicas: 5, utilization: 50, rawAverage: 500 });
  });

  test("scale up with an unready pod counts it as 0 %: 4 instead of 6", () => {
    const withUnready = [pod("p0", false), pod("p1"), pod("p2")];
    expect(calculate(withUnready, [300, 500, 700], 30)).toEqual({ replicas: 4, utilization: 60, rawAverage: 600 });
  });

  test("scale down: 5 pods averaging 28 % against 50 % go to 3", () => {
    expect(calculate(pods(5), [100, 300, 500, 250, 250], 50)).toEqual({ replicas: 3, utilization: 28, rawAverage: 280 });
  });

  test("a change within the tolerance is no change", () => {
    expect(calculate(pods(2), [540, 540], 50).replicas).toBe(2);
  });

  test("a missing metric on a scale-up counts as 0 %, which can bring the ratio within tolerance", () => {
    expect(calculate(pods(2), [1900, undefined], 100)).toEqual({ replicas: 2, utilization: 190, rawAverage: 1900 });
  });

  test("pods being deleted or failed are ignored; Pending pods are unready", () => {
    const failed = pod("p1", true, "Failed");
    const pending = pod("p2", false, "Pending");
    expect(calculate([pod("p0"), failed, pending], [800, 900, undefined], 50, 3)).toEqual({ replicas: 3, utilization: 80, rawAverage: 800 });
  });

  test("no pods or no usable metrics are errors, as upstream's", () => {
    expect(() => calculate([], [], 50)).toThrow(/no pods returned by selector/);
    expect(() => calculate([pod("p0", false)], [500], 50)).toThrow(/did not receive metrics for targeted pods/);
  });

  test("a pod that turned ready less than a window before its sample is unready during CPU initialization", () => {
    const young = pod("p0");
    const justReady = formatTime(nowMs - 8_000);
    young.status = { ...young.status, startTime: formatTime(nowMs - 60_000), conditions: [{ type: "Ready", status: "True", lastTransitionTime: justReady }] };
    expect(() => calculate([young], [900], 50)).toThrow(/did not receive metrics/);
  });
});
