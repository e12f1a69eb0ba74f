import { describe, expect, it } from "vitest";
import { findResource, parseQuantity, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass } from "../../libs/api/index.ts";
import { FakeClient } from "../../libs/client/fake.ts";
import type { EventRecorder } from "../../libs/client/index.ts";
import { waitUntil } from "../../libs/client/test-support.ts";
import { createPrng } from "../../libs/prng/index.ts";
import { makeNode, makePod } from "./core/test-fixtures.ts";
import { SchedulerService } from "./scheduler.ts";

const pods = findResource("", "v1", "pods")!;
const nodes = findResource("", "v1", "nodes")!;
const claims = findResource("", "v1", "persistentvolumeclaims")!;
const volumes = findResource("", "v1", "persistentvolumes")!;
const storageClasses = findResource("storage.k8s.io", "v1", "storageclasses")!;

function podUsingClaim(name: string, claimName: string): Pod {
  const pod = makePod(name, { cpu: "100m" });
  return { ...pod, spec: { containers: [], ...pod.spec, volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] } };
}

function claimOf(name: string, spec: NonNullable<PersistentVolumeClaim["spec"]>): PersistentVolumeClaim {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name, namespace: "default" }, spec };
}

interface Recorded {
  readonly name: string | undefined;
  readonly reason: string;
  readonly message: string;
}

function start(client: FakeClient): { events: Recorded[]; stop: () => Promise<void> } {
  const events: Recorded[] = [];
  const recorder: EventRecorder = { record: (object, _type, reason, message) => events.push({ name: object.metadata.name, reason, message }) };
  const service = new SchedulerService({ client, events: recorder, prng: createPrng(7) });
  const controller = new AbortController();
  const done = service.run(controller.signal);
  return {
    events,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

function storedPods(client: FakeClient): Pod[] {
  return client.storedAll<Pod>(pods, "default");
}

describe("SchedulerService", () => {
  it("binds pending pods without ever putting more cpu on a node than it has", async () => {
    const client = new FakeClient();
    for (const name of ["n1", "n2", "n3"]) client.seed(nodes, makeNode(name, { cpu: "1" }));
    for (let index = 0; index < 20; index++) client.seed(pods, makePod(`p${index}`, { cpu: "200m" }));
    const { events, stop } = start(client);
    await waitUntil(() => storedPods(client).filter((pod) => pod.spec?.nodeName !== undefined).length === 15 && events.filter((e) => e.reason === "FailedScheduling").length === 5);
    await stop();
    const perNode = new Map<string, number>();
    for (const pod of storedPods(client)) {
      const node = pod.spec?.nodeName;
      if (node !== undefined) perNode.set(node, (perNode.get(node) ?? 0) + parseQuantity("200m").milliValue());
    }
    expect([...perNode.values()].every((milli) => milli <= 1000)).toBe(true);
    expect(events.filter((e) => e.reason === "Scheduled").length).toBe(15);
    expect(events.find((e) => e.reason === "Scheduled")?.message).toMatch(/^Successfully assigned default\/p\d+ to n\d$/);
  });

  it("marks a pod that fits nowhere PodScheduled=False with upstream's message, and binds it once a node fits", async () => {
    const client = new FakeClient();
    client.seed(nodes, makeNode("small", { cpu: "1" }));
    client.seed(pods, makePod("big", { cpu: "2" }));
    const { events, stop } = start(client);
    const message = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
    await waitUntil(() => client.stored<Pod>(pods, "default", "big")?.status?.conditions?.some((c) => c.type === "PodScheduled") === true);
    const condition = client.stored<Pod>(pods, "default", "big")?.status?.conditions?.find((c) => c.type === "PodScheduled");
    expect(condition).toMatchObject({ status: "False", reason: "Unschedulable", message });
    expect(events).toContainEqual({ name: "big", reason: "FailedScheduling", message });
    await client.create(nodes, makeNode("large", { cpu: "4" }));
    await waitUntil(() => client.stored<Pod>(pods, "default", "big")?.spec?.nodeName === "large", 5_000);
    await stop();
  });

  it("places a pod whose claim is bound to a PV pinned to one node on that node", async () => {
    const client = new FakeClient();
    for (const name of ["node-a", "node-b", "node-c"]) client.seed(nodes, makeNode(name, { cpu: "4" }));
    const pinned: PersistentVolume = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-data" },
      spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-b"] }] }] } } },
    };
    client.seed(volumes, pinned);
    client.seed(claims, claimOf("data", { volumeName: "pv-data", storageClassName: "local-path" }));
    for (let index = 0; index < 6; index++) client.seed(pods, podUsingClaim(`web-${index}`, "data"));
    const { stop } = start(client);
    await waitUntil(() => storedPods(client).every((pod) => pod.spec?.nodeName !== undefined));
    await stop();
    expect(new Set(storedPods(client).map((pod) => pod.spec?.nodeName))).toEqual(new Set(["node-b"]));
  });

  it("holds a pod with an unbound Immediate claim in upstream's words and places a WaitForFirstConsumer one", async () => {
    const client = new FakeClient();
    client.seed(nodes, makeNode("node-a", { cpu: "4" }));
    const lazy: StorageClass = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "local-path" }, provisioner: "flotilla.io/local-path", volumeBindingMode: "WaitForFirstConsumer" };
    client.seed(storageClasses, lazy);
    client.seed(claims, claimOf("eager", { storageClassName: "" }));
    client.seed(claims, claimOf("lazy", { storageClassName: "local-path" }));
    client.seed(pods, podUsingClaim("waits", "eager"));
    client.seed(pods, podUsingClaim("goes", "lazy"));
    const { events, stop } = start(client);
    await waitUntil(() => client.stored<Pod>(pods, "default", "goes")?.spec?.nodeName === "node-a" && events.some((e) => e.name === "waits" && e.reason === "FailedScheduling"));
    await stop();
    expect(events.find((e) => e.name === "waits")?.message).toMatch(/^0\/1 nodes are available: pod has unbound immediate PersistentVolumeClaims\./);
    expect(client.stored<Pod>(pods, "default", "waits")?.spec?.nodeName).toBeUndefined();
  });
});
