import { describe, expect, it } from "vitest";
import { newForbidden } from "../../../libs/api/index.ts";
import type { Pod, ReplicaSet } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { podsResource, replicaSetsResource } from "../common/resources.ts";
import { replicaSet, runningReady } from "../common/testing.ts";
import { ReplicaSetController } from "./controller.ts";

function setup(rs: ReplicaSet, options: { burstReplicas?: number } = {}) {
  const fake = fakeControllerContext();
  const stored = fake.client.seed(replicaSetsResource, rs);
  const controller = new ReplicaSetController(options);
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  return { ...fake, controller, stored, run };
}

function podNames(pods: Pod[]): string[] {
  return pods.map((pod) => pod.metadata.name ?? "");
}

describe("ReplicaSet controller", () => {
  it("creates the missing pods from the template with a controller ownerReference, then writes status", async () => {
    const { client, events, run, stored } = setup(replicaSet("web", 3, { app: "web" }));
    await run();
    const creates = client.writes.filter((write) => write.verb === "create");
    expect(creates).toHaveLength(3);
    expect(creates[0]).toEqual({
      verb: "create",
      resource: "pods",
      namespace: "default",
      name: "web-",
      subresource: undefined,
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: "web-",
          namespace: "default",
          labels: { app: "web" },
          ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: stored.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: { containers: [{ name: "app", image: "nginx:1" }] },
      },
    });
    expect(client.writes.at(-1)).toMatchObject({ verb: "update", resource: "replicasets", subresource: "status", object: { status: { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 } } });
    expect(events.reasons()).toEqual(["SuccessfulCreate", "SuccessfulCreate", "SuccessfulCreate"]);
  });

  it("a second reconcile of a converged ReplicaSet writes nothing", async () => {
    const { client, controller, run } = setup(replicaSet("web", 2, { app: "web" }));
    await run();
    client.clearWrites();
    await controller.reconcile("default/web");
    expect(client.writes).toEqual([]);
  });

  it("never creates extra pods while its informer has not seen its own creations", async () => {
    const { client, controller, informers } = setup(replicaSet("web", 2, { app: "web" }));
    informers.hold();
    await controller.reconcile("default/web");
    await controller.reconcile("default/web");
    await controller.reconcile("default/web");
    expect(client.storedAll(podsResource)).toHaveLength(2);
    expect(controller.expectations.satisfied("default/web")).toBe(false);
    informers.release();
    expect(controller.expectations.satisfied("default/web")).toBe(true);
  });

  it("scales down by deleting unscheduled and not-ready pods before ready ones", async () => {
    const { client, clock, run } = setup(replicaSet("web", 3, { app: "web" }));
    await run();
    const [first, second, third] = podNames(client.storedAll<Pod>(podsResource));
    client.mutate<Pod>(podsResource, "default", first!, (pod) => runningReady(pod, clock.nowMs));
    client.mutate<Pod>(podsResource, "default", third!, (pod) => runningReady(pod, clock.nowMs));
    client.mutate<ReplicaSet>(replicaSetsResource, "default", "web", (rs) => ({ ...rs, spec: { ...rs.spec!, replicas: 1 } }));
    client.clearWrites();
    await run();
    const deletes = client.writes.filter((write) => write.verb === "delete").map((write) => write.name);
    expect(deletes).toHaveLength(2);
    expect(deletes).toContain(second);
    expect(podNames(client.storedAll<Pod>(podsResource))).toHaveLength(1);
  });

  it("adopts a matching orphan instead of creating a pod", async () => {
    const fake = fakeControllerContext();
    const orphan = fake.client.seed<Pod>(podsResource, { metadata: { name: "bare", namespace: "default", labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "nginx:1" }] } });
    const rs = fake.client.seed(replicaSetsResource, replicaSet("web", 1, { app: "web" }));
    const controller = new ReplicaSetController();
    controller.setup(fake.context);
    await drainQueue(fake.queue, (key) => controller.reconcile(key));
    expect(fake.client.writes.filter((write) => write.verb !== "update")).toEqual([
      {
        verb: "patch",
        resource: "pods",
        namespace: "default",
        name: "bare",
        subresource: undefined,
        object: {
          metadata: {
            ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
            uid: orphan.metadata.uid,
          },
        },
      },
    ]);
    expect(fake.client.stored<Pod>(podsResource, "default", "bare")?.metadata.ownerReferences?.[0]?.uid).toBe(rs.metadata.uid);
  });

  it("releases a pod relabelled out of its selector, leaves it running and makes a replacement", async () => {
    const { client, run } = setup(replicaSet("web", 1, { app: "web" }));
    await run();
    const [sick] = podNames(client.storedAll<Pod>(podsResource));
    client.mutate<Pod>(podsResource, "default", sick!, (pod) => ({ ...pod, metadata: { ...pod.metadata, labels: { app: "debug" } } }));
    client.clearWrites();
    await run();
    // Status is written from the pods controlled before the creation (replicas 0), then 1, as upstream.
    expect(client.writes.map((write) => [write.verb, write.name, write.subresource])).toEqual([
      ["patch", sick, undefined],
      ["create", "web-", undefined],
      ["update", "web", "status"],
      ["update", "web", "status"],
    ]);
    const released = client.stored<Pod>(podsResource, "default", sick!);
    expect(released?.metadata.ownerReferences ?? []).toEqual([]);
    expect(client.storedAll(podsResource)).toHaveLength(2);
  });

  it("counts ready and available pods and looks again after minReadySeconds", async () => {
    const { client, clock, queue, run } = setup(replicaSet("web", 2, { app: "web" }, { minReadySeconds: 10 }));
    await run();
    for (const name of podNames(client.storedAll<Pod>(podsResource))) {
      client.mutate<Pod>(podsResource, "default", name, (pod) => runningReady(pod, clock.nowMs));
    }
    await run();
    expect(client.stored<ReplicaSet>(replicaSetsResource, "default", "web")?.status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, observedGeneration: 1 });
    expect(queue.delayed).toContainEqual({ key: "default/web", delayMs: 10_000 });
    clock.advance(10_000);
    queue.add("default/web");
    await run();
    expect(client.stored<ReplicaSet>(replicaSetsResource, "default", "web")?.status?.availableReplicas).toBe(2);
  });

  it("stops at the first failing batch, records FailedCreate and the ReplicaFailure condition, and retries", async () => {
    const { client, controller, events } = setup(replicaSet("web", 5, { app: "web" }));
    client.addReactor((verb, resource) => (verb === "create" && resource.resource === "pods" ? newForbidden({ group: "", resource: "pods" }, "", "exceeded quota") : undefined));
    await expect(controller.reconcile("default/web")).rejects.toThrow(/exceeded quota/);
    expect(client.writes.filter((write) => write.verb === "create")).toHaveLength(1);
    expect(events.reasons()).toEqual(["FailedCreate"]);
    const status = client.stored<ReplicaSet>(replicaSetsResource, "default", "web")?.status;
    expect(status?.conditions?.[0]).toMatchObject({ type: "ReplicaFailure", status: "True", reason: "FailedCreate" });
    expect(controller.expectations.satisfied("default/web")).toBe(true);
  });

  it("does not create pods for a ReplicaSet being deleted", async () => {
    const rs = replicaSet("web", 2, { app: "web" });
    rs.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    rs.metadata.finalizers = ["foregroundDeletion"];
    const { client, run } = setup(rs);
    await run();
    expect(client.writes.filter((write) => write.verb === "create")).toEqual([]);
  });
});
