import { describe, expect, it } from "vitest";
import { formatTime } from "../../../libs/api/index.ts";
import type { Lease, Node, Pod, Toleration } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { leasesResource, nodesResource, podsResource } from "../common/resources.ts";
import { runningReady } from "../common/testing.ts";
import { NodeLifecycleController } from "./controller.ts";

function setup() {
  const fake = fakeControllerContext();
  const { client, clock } = fake;
  const now = formatTime(clock.nowMs);
  client.seed<Node>(nodesResource, {
    metadata: { name: "node-1" },
    status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: now }] },
  });
  client.seed<Lease>(leasesResource, { metadata: { name: "node-1", namespace: "kube-node-lease" }, spec: { holderIdentity: "node-1", renewTime: now, leaseDurationSeconds: 40 } });
  const addPod = (name: string, tolerations?: Toleration[]) =>
    client.seed<Pod>(podsResource, runningReady({ metadata: { name, namespace: "default" }, spec: { containers: [{ name: "c", image: "i" }], ...(tolerations === undefined ? {} : { tolerations }) } }, clock.nowMs, "node-1"));
  const controller = new NodeLifecycleController({ nodeMonitorGracePeriodMs: 40_000, nodeMonitorPeriodMs: 5_000 });
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const node = () => client.stored<Node>(nodesResource, undefined, "node-1")!;
  const renew = () =>
    client.mutate<Lease>(leasesResource, "kube-node-lease", "node-1", (lease) => ({ ...lease, spec: { ...lease.spec, renewTime: new Date(clock.nowMs).toISOString() } }));
  return { ...fake, controller, run, node, renew, addPod };
}

describe("node lifecycle controller", () => {
  it("leaves a node that renews its Lease alone: a second reconcile writes nothing", async () => {
    const { client, clock, run, renew, queue } = setup();
    await run();
    for (let step = 0; step < 10; step++) {
      clock.advance(10_000);
      renew();
      await run();
    }
    expect(client.writes).toEqual([]);
    expect(queue.delayed.at(-1)).toEqual({ key: "node-1", delayMs: 5_000 });
  });

  it("marks a node that stopped renewing Unknown after the grace period, taints it unreachable and its pods not ready", async () => {
    const { client, clock, run, node, addPod, queue } = setup();
    addPod("web-1");
    await run();
    clock.advance(40_000);
    queue.add("node-1");
    await run();
    expect(client.writes).toEqual([]);
    clock.advance(1_000);
    queue.add("node-1");
    await run();
    const ready = node().status?.conditions?.find((condition) => condition.type === "Ready");
    expect(ready).toMatchObject({ status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
    expect(node().spec?.taints).toEqual([
      { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: formatTime(clock.nowMs) },
    ]);
    const pod = client.stored<Pod>(podsResource, "default", "web-1")!;
    expect(pod.status?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("False");
    expect(client.writes.map((write) => [write.verb, write.resource, write.subresource])).toEqual([
      ["update", "nodes", "status"],
      ["update", "nodes", undefined],
      ["update", "pods", "status"],
    ]);
  });

  it("evicts pods after their tolerationSeconds (300 s by default) and keeps those that tolerate forever", async () => {
    const { client, clock, run, addPod, queue } = setup();
    addPod("default-toleration");
    addPod("short", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 }]);
    addPod("forever", [{ operator: "Exists" }]);
    await run();
    clock.advance(41_000);
    queue.add("node-1");
    await run();
    const remaining = () => client.storedAll<Pod>(podsResource).map((pod) => pod.metadata.name);
    expect(remaining()).toEqual(["default-toleration", "forever", "short"]);
    expect(queue.delayed.at(-1)).toEqual({ key: "node-1", delayMs: 5_000 });
    clock.advance(10_000);
    queue.add("node-1");
    await run();
    expect(remaining()).toEqual(["default-toleration", "forever"]);
    clock.advance(290_000);
    queue.add("node-1");
    await run();
    expect(remaining()).toEqual(["forever"]);
  });

  it("lifts the taints when the node reports Ready again", async () => {
    const { client, clock, run, node, renew, queue } = setup();
    await run();
    clock.advance(41_000);
    queue.add("node-1");
    await run();
    await run();
    clock.advance(41_000);
    queue.add("node-1");
    await run();
    expect(node().spec?.taints).toHaveLength(2);
    const now = formatTime(clock.nowMs);
    client.mutate<Node>(nodesResource, undefined, "node-1", (current) => ({
      ...current,
      status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: now }] },
    }));
    renew();
    await run();
    expect(node().spec?.taints).toBeUndefined();
  });

  it("taints a node whose kubelet reports Ready=False as not-ready", async () => {
    const { client, clock, run, node } = setup();
    const now = formatTime(clock.nowMs);
    client.mutate<Node>(nodesResource, undefined, "node-1", (current) => ({
      ...current,
      status: { conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", lastHeartbeatTime: now, lastTransitionTime: now }] },
    }));
    await run();
    expect(node().spec?.taints?.map((taint) => `${taint.key}:${taint.effect}`)).toEqual(["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"]);
  });
});
