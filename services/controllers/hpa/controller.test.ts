import { describe, expect, test } from "vitest";
import { formatTime } from "../../../libs/api/index.ts";
import type { Deployment, HorizontalPodAutoscaler, KubeObject, Pod } from "../../../libs/api/index.ts";
import { fakeControllerContext, type FakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { deploymentsResource, podsResource } from "../common/resources.ts";
import { HorizontalPodAutoscalerController, type HpaControllerOptions } from "./controller.ts";
import { hpaV1Resource, hpaV2Resource, podMetricsResource } from "./spec.ts";

const labels = { app: "web" };
const minuteMs = 60_000;

function deployment(replicas: number): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "nginx" }] } } },
  };
}

function autoscaler(extra: Partial<NonNullable<HorizontalPodAutoscaler["spec"]>> = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "default" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
      ...extra,
    },
  };
}

/** A Running pod, Ready for ten minutes, requesting `request` CPU (null: no request). */
function pod(name: string, nowMs: number, request: string | null = "100m", ready = true): Pod {
  const since = formatTime(nowMs - 10 * minuteMs);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "nginx", ...(request === null ? {} : { resources: { requests: { cpu: request } } }) }] },
    status: { phase: "Running", startTime: since, conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: since }] },
  };
}

function podMetrics(name: string, nowMs: number, cpu: string): KubeObject {
  return {
    apiVersion: "metrics.k8s.io/v1beta1",
    kind: "PodMetrics",
    metadata: { name, namespace: "default", labels },
    timestamp: formatTime(nowMs - 5_000),
    window: "15s",
    containers: [{ name: "app", usage: { cpu, memory: "10Mi" } }],
  } as KubeObject;
}

interface World {
  fake: FakeControllerContext;
  controller: HorizontalPodAutoscalerController;
}

/** A Deployment of `replicas`, its pods with the given CPU usage (undefined: no metric), and an HPA. */
function world(replicas: number, usage: (string | undefined)[], hpa: HorizontalPodAutoscaler = autoscaler(), options: HpaControllerOptions = {}): World {
  const fake = fakeControllerContext();
  const nowMs = fake.clock.nowMs;
  fake.client.seed(deploymentsResource, deployment(replicas));
  usage.forEach((cpu, index) => {
    fake.client.seed(podsResource, pod(`web-${index}`, nowMs));
    if (cpu !== undefined) fake.client.seed(podMetricsResource, podMetrics(`web-${index}`, nowMs, cpu));
  });
  fake.client.seed(hpa.apiVersion === "autoscaling/v1" ? hpaV1Resource : hpaV2Resource, hpa);
  const controller = new HorizontalPodAutoscalerController(options);
  controller.setup(fake.context);
  return { fake, controller };
}

function setUsage(fake: FakeControllerContext, cpu: string): void {
  const nowMs = fake.clock.nowMs;
  for (const item of fake.client.storedAll(podMetricsResource, "default")) {
    fake.client.mutate(podMetricsResource, "default", item.metadata.name ?? "", () => podMetrics(item.metadata.name ?? "", nowMs, cpu));
  }
}

function conditionsOf(fake: FakeControllerContext): Record<string, string> {
  const hpa = fake.client.stored<HorizontalPodAutoscaler>(hpaV2Resource, "default", "web");
  return Object.fromEntries((hpa?.status?.conditions ?? []).map((condition) => [condition.type, `${condition.status} ${condition.reason ?? ""}`]));
}

function replicasOf(fake: FakeControllerContext): number | undefined {
  return fake.client.stored<Deployment>(deploymentsResource, "default", "web")?.spec?.replicas;
}

describe("HorizontalPodAutoscaler controller", () => {
  test("scales up to ceil(replicas * utilization / target) through the scale subresource and says why", async () => {
    const { fake, controller } = world(2, ["80m", "80m"]);
    await controller.reconcile("default/web");
    const writes = fake.client.writes.map((write) => [write.verb, write.resource, write.subresource]);
    expect(writes).toEqual([
      ["patch", "deployments", "scale"],
      ["update", "horizontalpodautoscalers", "status"],
    ]);
    expect(fake.client.writes[0]?.object).toEqual({ spec: { replicas: 4 } });
    expect(replicasOf(fake)).toBe(4);
    expect(fake.events.events.map((event) => `${event.reason}: ${event.message}`)).toEqual(["SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target"]);
    const status = fake.client.stored<HorizontalPodAutoscaler>(hpaV2Resource, "default", "web")?.status;
    expect(status?.currentReplicas).toBe(2);
    expect(status?.desiredReplicas).toBe(4);
    expect(status?.lastScaleTime).toBe(formatTime(fake.clock.nowMs));
    expect(status?.currentMetrics).toEqual([{ type: "Resource", resource: { name: "cpu", current: { averageValue: "80m", averageUtilization: 80 } } }]);
    expect(conditionsOf(fake)).toEqual({ AbleToScale: "True SucceededRescale", ScalingActive: "True ValidMetricFound", ScalingLimited: "False DesiredWithinRange" });
    expect(fake.queue.delayed).toEqual([{ key: "default/web", delayMs: 15_000 }]);
  });

  test("a second reconcile of a converged autoscaler writes nothing", async () => {
    const { fake, controller } = world(2, ["52m", "54m"]);
    await controller.reconcile("default/web");
    expect(fake.client.writes.map((write) => [write.verb, write.subresource])).toEqual([["update", "status"]]);
    expect(conditionsOf(fake)).toEqual({ AbleToScale: "True ReadyForNewScale", ScalingActive: "True ValidMetricFound", ScalingLimited: "False DesiredWithinRange" });
    fake.client.clearWrites();
    fake.clock.advance(15_000);
    await controller.reconcile("default/web");
    expect(fake.client.writes).toEqual([]);
    expect(replicasOf(fake)).toBe(2);
  });

  test("usage within the 0.1 tolerance leaves the replicas alone", async () => {
    const { fake, controller } = world(3, ["54m", "54m", "54m"]);
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(3);
    expect(fake.events.events).toEqual([]);
  });

  test("a scale-down waits out the stabilization window, then goes to the highest recommendation in it", async () => {
    const { fake, controller } = world(4, ["10m", "10m", "10m", "10m"], autoscaler({ minReplicas: 1 }));
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(4);
    expect(conditionsOf(fake)["AbleToScale"]).toBe("True ScaleDownStabilized");
    fake.clock.advance(299_000);
    setUsage(fake, "10m");
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(4);
    fake.clock.advance(2_000);
    setUsage(fake, "10m");
    await controller.reconcile("default/web");
    // 4 pods at 10 % of a 50 % target: ceil(0.2 * 4) = 1, now that the initial 4 is out of the window.
    expect(replicasOf(fake)).toBe(1);
    expect(fake.events.events.map((event) => event.message)).toEqual(["New size: 1; reason: All metrics below target"]);
  });

  test("behavior's scaleDown window and a Pods policy limit the scale-down", async () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods" as const, value: 1, periodSeconds: 60 }] } };
    const { fake, controller } = world(4, ["10m", "10m", "10m", "10m"], autoscaler({ behavior }));
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(3);
    expect(conditionsOf(fake)["ScalingLimited"]).toBe("True ScaleDownLimit");
    fake.clock.advance(30_000);
    setUsage(fake, "10m");
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(3);
  });

  test("a scale-up is capped by maxReplicas with ScalingLimited TooManyReplicas", async () => {
    const { fake, controller } = world(2, ["500m", "500m"], autoscaler({ maxReplicas: 3 }));
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(3);
    expect(conditionsOf(fake)["ScalingLimited"]).toBe("True TooManyReplicas");
  });

  test("on a scale-down a pod without metrics counts as using its whole request, which can cancel it", async () => {
    // Two pods at 30 % of a 50 % target would go to 2; the missing third at 100 % makes the ratio flip.
    const { fake, controller } = world(3, ["30m", "30m", undefined], autoscaler({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }));
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(3);
  });

  test("on a scale-up a not-ready pod counts as using nothing", async () => {
    const { fake, controller } = world(2, ["80m", "80m"]);
    fake.client.mutate<Pod>(podsResource, "default", "web-1", () => pod("web-1", fake.clock.nowMs, "100m", false));
    await controller.reconcile("default/web");
    // Ready pod at 80 % gives ratio 1.6; with the unready pod at 0 the ratio is (80 + 0) / 200 / 0.5 = 0.8: the direction flips, no change.
    expect(replicasOf(fake)).toBe(2);
  });

  test("a container without a CPU request makes the metric invalid: ScalingActive False and a warning", async () => {
    const { fake, controller } = world(1, ["80m"]);
    fake.client.mutate<Pod>(podsResource, "default", "web-0", () => pod("web-0", fake.clock.nowMs, null));
    await expect(controller.reconcile("default/web")).rejects.toThrow(/invalid metrics \(1 invalid out of 1\)/);
    expect(conditionsOf(fake)["ScalingActive"]).toBe("False FailedGetResourceMetric");
    expect(fake.events.reasons()).toEqual(["FailedGetResourceMetric", "FailedComputeMetricsReplicas"]);
    expect(replicasOf(fake)).toBe(1);
    expect(fake.queue.delayed.map((entry) => entry.key)).toEqual(["default/web"]);
  });

  test("a target below minReplicas is raised to it without reading metrics", async () => {
    const { fake, controller } = world(1, [], autoscaler({ minReplicas: 2 }));
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(2);
    expect(fake.events.events.map((event) => event.message)).toEqual(["New size: 2; reason: Current number of replicas below Spec.MinReplicas"]);
  });

  test("an autoscaling/v1 autoscaler scales on targetCPUUtilizationPercentage and gets a v1 status", async () => {
    const v1: HorizontalPodAutoscaler = {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "default" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 5, targetCPUUtilizationPercentage: 40 } as NonNullable<HorizontalPodAutoscaler["spec"]>,
    };
    const { fake, controller } = world(1, ["80m"], v1);
    await controller.reconcile("default/web");
    expect(replicasOf(fake)).toBe(2);
    const status = fake.client.stored<HorizontalPodAutoscaler>(hpaV1Resource, "default", "web")?.status as Record<string, unknown>;
    expect(status).toEqual({ lastScaleTime: formatTime(fake.clock.nowMs), currentReplicas: 1, desiredReplicas: 2, currentCPUUtilizationPercentage: 80, observedGeneration: 1 });
  });

  test("a missing target sets AbleToScale False FailedGetScale", async () => {
    const { fake, controller } = world(1, ["80m"]);
    fake.client.remove(deploymentsResource, "default", "web");
    await controller.reconcile("default/web");
    expect(conditionsOf(fake)["AbleToScale"]).toBe("False FailedGetScale");
    expect(fake.events.reasons()).toEqual(["FailedGetScale"]);
  });
});
