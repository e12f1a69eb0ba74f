import { describe, expect, it } from "vitest";
import { formatTime } from "../../../libs/api/index.ts";
import type { Deployment, IntOrString, Pod, PodDisruptionBudget, ReplicaSet, StatefulSet } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { deploymentsResource, podsResource, replicaSetsResource, statefulSetsResource } from "../common/resources.ts";
import { replicaSet, runningReady, template } from "../common/testing.ts";
import { deletionTimeoutMs } from "./budget.ts";
import { DisruptionController, podDisruptionBudgetsResource } from "./controller.ts";

const labels = { app: "web" };

function budget(spec: { minAvailable?: IntOrString; maxUnavailable?: IntOrString }, generation = 1): PodDisruptionBudget {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "default", generation }, spec: { selector: { matchLabels: labels }, ...spec } };
}

function pod(name: string, ownerUid: string | undefined, ready: boolean, nowMs: number): Pod {
  const base: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels }, spec: { containers: [{ name: "app", image: "nginx:1" }] } };
  if (ownerUid !== undefined) base.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-rs", uid: ownerUid, controller: true }];
  return ready ? runningReady(base, nowMs) : { ...base, status: { phase: "Pending" } };
}

/** A ReplicaSet `web-rs` of `replicas` (owned by Deployment `web` when `deploymentReplicas` is given) and its pods. */
function setup(spec: { minAvailable?: IntOrString; maxUnavailable?: IntOrString }, readyPods: number, notReadyPods = 0, deploymentReplicas?: number) {
  const fake = fakeControllerContext();
  const { client, clock } = fake;
  const rs: ReplicaSet = { ...replicaSet("web-rs", readyPods + notReadyPods, labels), metadata: { name: "web-rs", namespace: "default", uid: "rs-uid" } };
  if (deploymentReplicas !== undefined) {
    const deployment: Deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default", uid: "deploy-uid" }, spec: { replicas: deploymentReplicas, selector: { matchLabels: labels }, template: template(labels) } };
    client.seed<Deployment>(deploymentsResource, deployment);
    rs.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "deploy-uid", controller: true }];
  }
  client.seed<ReplicaSet>(replicaSetsResource, rs);
  for (let index = 0; index < readyPods + notReadyPods; index++) client.seed<Pod>(podsResource, pod(`web-${index}`, "rs-uid", index < readyPods, clock.nowMs));
  client.seed<PodDisruptionBudget>(podDisruptionBudgetsResource, budget(spec));
  const controller = new DisruptionController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const status = () => client.stored<PodDisruptionBudget>(podDisruptionBudgetsResource, "default", "web")?.status;
  return { ...fake, controller, run, status };
}

describe("disruption controller", () => {
  it("an integer minAvailable counts the selected pods: 3 ready of 3, minAvailable 2 allows 1", async () => {
    const { run, status } = setup({ minAvailable: 2 }, 3);
    await run();
    expect(status()).toMatchObject({ observedGeneration: 1, expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    expect(status()?.conditions).toEqual([{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 1, lastTransitionTime: formatTime(Date.UTC(2026, 0, 1)) }]);
  });

  it("not-ready pods are not healthy, so the budget allows nothing and says InsufficientPods", async () => {
    const { run, status } = setup({ minAvailable: 2 }, 2, 1);
    await run();
    expect(status()).toMatchObject({ expectedPods: 3, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    expect(status()?.conditions?.[0]).toMatchObject({ status: "False", reason: "InsufficientPods" });
  });

  it("maxUnavailable as a percentage resolves against the Deployment's replicas, rounding up", async () => {
    // 4 pods exist but the Deployment wants 5: 25% of 5 rounds up to 2 unavailable, so 3 must stay.
    const { run, status } = setup({ maxUnavailable: "25%" }, 4, 0, 5);
    await run();
    expect(status()).toMatchObject({ expectedPods: 5, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });
  });

  it("a percentage minAvailable resolves against the ReplicaSet's replicas", async () => {
    const { run, status } = setup({ minAvailable: "50%" }, 3);
    await run();
    expect(status()).toMatchObject({ expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
  });

  it("a second reconcile of a converged PDB writes nothing", async () => {
    const { client, run, controller, clock } = setup({ maxUnavailable: 1 }, 3);
    await run();
    expect(client.writes.map((write) => [write.verb, write.resource, write.subresource])).toEqual([["update", "poddisruptionbudgets", "status"]]);
    client.clearWrites();
    clock.advance(5_000);
    await controller.reconcile("default/web");
    expect(client.writes).toEqual([]);
  });

  it("a pod becoming unready takes the allowance away, and lastTransitionTime moves with the status", async () => {
    const { client, run, clock, status } = setup({ minAvailable: 3 }, 4);
    await run();
    expect(status()?.disruptionsAllowed).toBe(1);
    clock.advance(10_000);
    client.mutate<Pod>(podsResource, "default", "web-0", (current) => ({ ...current, status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] } }));
    await run();
    expect(status()).toMatchObject({ currentHealthy: 3, disruptionsAllowed: 0 });
    expect(status()?.conditions?.[0]).toMatchObject({ status: "False", reason: "InsufficientPods", lastTransitionTime: formatTime(clock.nowMs) });
  });

  it("an evicted pod stays unhealthy in disruptedPods until deleted, and counts again after the timeout", async () => {
    const { client, run, clock, status, queue } = setup({ minAvailable: 2 }, 3);
    await run();
    // What pods/eviction writes when it lets web-0 go: one allowance used, the pod recorded.
    const evictedAt = formatTime(clock.nowMs);
    client.mutate<PodDisruptionBudget>(podDisruptionBudgetsResource, "default", "web", (current) => ({ ...current, status: { ...(current.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }), disruptionsAllowed: 0, disruptedPods: { "web-0": evictedAt } } }));
    await run();
    expect(status()).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 0, disruptedPods: { "web-0": evictedAt } });
    expect(queue.delayed.at(-1)).toEqual({ key: "default/web", delayMs: deletionTimeoutMs });
    clock.advance(deletionTimeoutMs + 1_000);
    queue.add("default/web");
    await run();
    expect(status()).toMatchObject({ currentHealthy: 3, disruptionsAllowed: 1 });
    expect(status()?.disruptedPods).toBeUndefined();
  });

  it("a disrupted pod that is deleted leaves disruptedPods", async () => {
    const { client, run, clock, status } = setup({ minAvailable: 1 }, 2);
    await run();
    client.mutate<PodDisruptionBudget>(podDisruptionBudgetsResource, "default", "web", (current) => ({ ...current, status: { ...(current.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }), disruptionsAllowed: 0, disruptedPods: { "web-1": formatTime(clock.nowMs) } } }));
    client.remove(podsResource, "default", "web-1");
    await run();
    expect(status()).toMatchObject({ expectedPods: 1, currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0 });
    expect(status()?.disruptedPods).toBeUndefined();
  });

  it("a new generation is observed only after the next reconcile", async () => {
    const { client, run, status } = setup({ minAvailable: 2 }, 3);
    await run();
    client.mutate<PodDisruptionBudget>(podDisruptionBudgetsResource, "default", "web", (current) => ({ ...current, metadata: { ...current.metadata, generation: 2 }, spec: { ...current.spec, minAvailable: 1 } }));
    await run();
    expect(status()).toMatchObject({ observedGeneration: 2, desiredHealthy: 1, disruptionsAllowed: 2 });
  });

  it("a pod whose controller is missing fails safe: no disruptions, SyncFailed, and the key is retried", async () => {
    const { client, controller, status, events } = setup({ maxUnavailable: 1 }, 2);
    client.remove(replicaSetsResource, "default", "web-rs");
    await expect(controller.reconcile("default/web")).rejects.toThrow(/found no controllers for pod/);
    expect(status()).toMatchObject({ disruptionsAllowed: 0 });
    expect(status()?.conditions?.[0]).toMatchObject({ status: "False", reason: "SyncFailed" });
    expect(events.reasons()).toContain("CalculateExpectedPodCountFailed");
  });

  it("pods without a controller are reported as unmanaged and left out of a percentage's scale", async () => {
    const { client, run, status, events, clock } = setup({ minAvailable: "100%" }, 1);
    client.seed<Pod>(podsResource, pod("stray", undefined, true, clock.nowMs));
    await run();
    expect(status()).toMatchObject({ expectedPods: 1, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 });
    expect(events.reasons()).toContain("UnmanagedPods");
  });

  it("a budget selecting no pods allows nothing", async () => {
    const { client, run, status } = setup({ maxUnavailable: 1 }, 0);
    client.seed<Pod>(podsResource, { ...pod("other", "rs-uid", true, 0), metadata: { name: "other", namespace: "default", labels: { app: "db" } } });
    await run();
    expect(status()).toMatchObject({ expectedPods: 0, currentHealthy: 0, disruptionsAllowed: 0 });
  });

  it("a pod relabelled out of the selector leaves the budget's counts", async () => {
    const { client, run, status } = setup({ minAvailable: 1 }, 3);
    await run();
    client.mutate<Pod>(podsResource, "default", "web-2", (current) => ({ ...current, metadata: { ...current.metadata, labels: { app: "quarantined" } } }));
    await run();
    expect(status()).toMatchObject({ expectedPods: 2, currentHealthy: 2, disruptionsAllowed: 1 });
  });

  it("scaling the Deployment updates a maxUnavailable budget before any pod changes", async () => {
    const { client, run, status } = setup({ maxUnavailable: 1 }, 3, 0, 3);
    await run();
    expect(status()).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    client.mutate<Deployment>(deploymentsResource, "default", "web", (current) => ({ ...current, spec: { ...(current.spec ?? { selector: {}, template: template(labels) }), replicas: 5 } }));
    await run();
    expect(status()).toMatchObject({ expectedPods: 5, desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 });
  });

  it("StatefulSet pods resolve a percentage against the StatefulSet's replicas", async () => {
    const { client, run, status, clock } = setup({ minAvailable: 1 }, 0);
    client.seed<StatefulSet>(statefulSetsResource, { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "default", uid: "sts-uid" }, spec: { replicas: 4, serviceName: "db", selector: { matchLabels: labels }, template: template(labels) } });
    for (const name of ["db-0", "db-1"]) {
      const owned = pod(name, undefined, true, clock.nowMs);
      owned.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true }];
      client.seed<Pod>(podsResource, owned);
    }
    client.mutate<PodDisruptionBudget>(podDisruptionBudgetsResource, "default", "web", (current) => ({ ...current, metadata: { ...current.metadata, generation: 2 }, spec: { selector: { matchLabels: labels }, maxUnavailable: "50%" } }));
    await run();
    expect(status()).toMatchObject({ observedGeneration: 2, expectedPods: 4, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
  });
});
