import { describe, expect, it } from "vitest";
import type { Pod, ReplicaSet, ReplicationController } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { podsResource, replicaSetsResource } from "../common/resources.ts";
import { replicaSet, runningReady } from "../common/testing.ts";
import { ReplicaSetController } from "./controller.ts";
import { replicationControllerKind } from "./kinds.ts";

const rcResource = replicationControllerKind.resource;

function replicationController(name: string, replicas: number, labels: Record<string, string>): ReplicationController {
  const template = { metadata: { labels }, spec: { containers: [{ name: "app", image: "nginx:1" }] } };
  return { apiVersion: "v1", kind: "ReplicationController", metadata: { name, namespace: "default" }, spec: { replicas, selector: labels, template } };
}

function setup(...controllers: ReplicationController[]) {
  const fake = fakeControllerContext();
  const stored = controllers.map((rc) => fake.client.seed(rcResource, rc));
  const controller = new ReplicaSetController({ kind: replicationControllerKind });
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  return { ...fake, controller, stored, run };
}

describe("ReplicaSet controller keeping ReplicationControllers", () => {
  it("is named replicationcontroller and creates pods owned by the v1 ReplicationController, then writes its status", async () => {
    const { client, controller, run, stored, events } = setup(replicationController("web", 2, { app: "web" }));
    expect(controller.name).toBe("replicationcontroller");
    await run();
    const pods = client.storedAll<Pod>(podsResource);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "ReplicationController", name: "web", uid: stored[0]?.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    expect(client.writes.at(-1)).toMatchObject({ verb: "update", resource: "replicationcontrollers", subresource: "status", object: { status: { replicas: 2, fullyLabeledReplicas: 2 } } });
    expect(events.reasons()).toEqual(["SuccessfulCreate", "SuccessfulCreate"]);
  });

  it("a second reconcile of a converged ReplicationController writes nothing", async () => {
    const { client, controller, clock, run } = setup(replicationController("web", 2, { app: "web" }));
    await run();
    for (const pod of client.storedAll<Pod>(podsResource)) client.mutate<Pod>(podsResource, "default", pod.metadata.name ?? "", (current) => runningReady(current, clock.nowMs));
    await run();
    expect(client.stored<ReplicationController>(rcResource, "default", "web")?.status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    client.clearWrites();
    await controller.reconcile("default/web");
    expect(client.writes).toEqual([]);
  });

  it("scales down to spec.replicas and up again", async () => {
    const { client, run } = setup(replicationController("web", 3, { app: "web" }));
    await run();
    client.mutate<ReplicationController>(rcResource, "default", "web", (rc) => ({ ...rc, spec: { ...rc.spec, replicas: 1 } }));
    await run();
    expect(client.storedAll(podsResource)).toHaveLength(1);
    client.mutate<ReplicationController>(rcResource, "default", "web", (rc) => ({ ...rc, spec: { ...rc.spec, replicas: 4 } }));
    await run();
    expect(client.storedAll(podsResource)).toHaveLength(4);
  });

  it("adopts a matching orphan by its map selector and leaves pods of other selectors and of ReplicaSets alone", async () => {
    const fake = fakeControllerContext();
    const spec = { containers: [{ name: "app", image: "nginx:1" }] };
    fake.client.seed<Pod>(podsResource, { metadata: { name: "bare", namespace: "default", labels: { app: "web", extra: "x" } }, spec });
    fake.client.seed<Pod>(podsResource, { metadata: { name: "other", namespace: "default", labels: { app: "db" } }, spec });
    fake.client.seed<ReplicaSet>(replicaSetsResource, replicaSet("web-rs", 1, { app: "web" }));
    const rc = fake.client.seed(rcResource, replicationController("web", 1, { app: "web" }));
    const controller = new ReplicaSetController({ kind: replicationControllerKind });
    controller.setup(fake.context);
    await drainQueue(fake.queue, (key) => controller.reconcile(key));
    expect(fake.client.writes.filter((write) => write.verb !== "update").map((write) => [write.verb, write.name])).toEqual([["patch", "bare"]]);
    expect(fake.client.stored<Pod>(podsResource, "default", "bare")?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "ReplicationController", uid: rc.metadata.uid });
    expect(fake.client.stored<Pod>(podsResource, "default", "other")?.metadata.ownerReferences).toBeUndefined();
  });

  it("releases a pod relabelled out of its selector and makes a replacement", async () => {
    const { client, run } = setup(replicationController("web", 1, { app: "web" }));
    await run();
    const sick = client.storedAll<Pod>(podsResource)[0]?.metadata.name ?? "";
    client.mutate<Pod>(podsResource, "default", sick, (pod) => ({ ...pod, metadata: { ...pod.metadata, labels: { app: "debug" } } }));
    await run();
    expect(client.stored<Pod>(podsResource, "default", sick)?.metadata.ownerReferences ?? []).toEqual([]);
    expect(client.storedAll(podsResource)).toHaveLength(2);
  });

  it("records InvalidSelector and creates nothing for an empty selector", async () => {
    const rc = replicationController("web", 2, {});
    const { client, events, run } = setup(rc);
    await run();
    expect(client.storedAll(podsResource)).toEqual([]);
    expect(events.reasons()).toEqual(["InvalidSelector"]);
  });
});
