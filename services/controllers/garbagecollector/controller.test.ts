import { describe, expect, it } from "vitest";
import type { Deployment, KubeObject, OwnerReference, Pod, ReplicaSet } from "../../../libs/api/index.ts";
import { deploymentsResource, podsResource, replicaSetsResource } from "../common/resources.ts";
import { FakeControllers, replicaSet } from "../common/testing.ts";
import { GarbageCollector } from "./controller.ts";

function ownedBy(owner: KubeObject, kind: string, apiVersion = "apps/v1"): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? "", uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
}

function pod(name: string, owners: OwnerReference[]): Pod {
  return { metadata: { name, namespace: "default", ownerReferences: owners }, spec: { containers: [{ name: "c", image: "busybox" }] } };
}

function setup() {
  const controllers = new FakeControllers();
  const { client } = controllers.fake;
  const rs = client.seed(replicaSetsResource, replicaSet("web", 2, { app: "web" }));
  client.seed(podsResource, pod("web-a", [ownedBy(rs, "ReplicaSet")]));
  client.seed(podsResource, pod("web-b", [ownedBy(rs, "ReplicaSet")]));
  const collector = controllers.add(new GarbageCollector());
  return { controllers, client, rs, collector };
}

function podNames(objects: Pod[]): string[] {
  return objects.map((object) => object.metadata.name ?? "");
}

describe("garbage collector", () => {
  it("leaves dependents of a live owner alone: reconciling them writes nothing", async () => {
    const { controllers, client } = setup();
    await controllers.settle();
    expect(client.writes).toEqual([]);
  });

  it("deletes the dependents of an owner removed in the background", async () => {
    const { controllers, client } = setup();
    await controllers.settle();
    await client.delete(replicaSetsResource, "default", "web", { propagationPolicy: "Background" });
    client.clearWrites();
    await controllers.settle();
    const deletes = client.writes.map((write) => [write.verb, write.resource, write.name, (write.object as { propagationPolicy?: string }).propagationPolicy]);
    expect(deletes.sort()).toEqual([
      ["delete", "pods", "web-a", "Background"],
      ["delete", "pods", "web-b", "Background"],
    ]);
    expect(client.storedAll(podsResource)).toEqual([]);
  });

  it("only drops the dangling reference of a dependent whose other owner lives", async () => {
    const { controllers, client, rs } = setup();
    const other = client.seed(replicaSetsResource, replicaSet("other", 0, { app: "other" }));
    client.mutate<Pod>(podsResource, "default", "web-a", (current) => ({ ...current, metadata: { ...current.metadata, ownerReferences: [ownedBy(rs, "ReplicaSet"), { ...ownedBy(other, "ReplicaSet"), controller: false }] } }));
    await controllers.settle();
    client.remove(replicaSetsResource, "default", "web");
    client.clearWrites();
    await controllers.settle();
    expect(podNames(client.storedAll(podsResource))).toEqual(["web-a"]);
    expect(client.stored<Pod>(podsResource, "default", "web-a")?.metadata.ownerReferences?.map((reference) => reference.name)).toEqual(["other"]);
  });

  it("orphans: strips the owner's reference from its dependents, then lets the owner go", async () => {
    const { controllers, client } = setup();
    await controllers.settle();
    await client.delete(replicaSetsResource, "default", "web", { propagationPolicy: "Orphan" });
    expect(client.stored<ReplicaSet>(replicaSetsResource, "default", "web")?.metadata.finalizers).toEqual(["orphan"]);
    client.clearWrites();
    await controllers.settle();
    expect(client.writes.map((write) => [write.verb, write.resource, write.name])).toEqual([
      ["patch", "pods", "web-a"],
      ["patch", "pods", "web-b"],
      ["update", "replicasets", "web"],
    ]);
    expect(client.stored(replicaSetsResource, "default", "web")).toBeUndefined();
    expect(client.storedAll<Pod>(podsResource).map((object) => object.metadata.ownerReferences ?? [])).toEqual([[], []]);
  });

  it("foreground: deletes pods, then the ReplicaSet, and only then the Deployment", async () => {
    const controllers = new FakeControllers();
    const { client } = controllers.fake;
    const deployment = client.seed<Deployment>(deploymentsResource, { metadata: { name: "web", namespace: "default" }, spec: { selector: {}, template: {} } });
    const rs = client.seed(replicaSetsResource, { ...replicaSet("web-1", 1, { app: "web" }), metadata: { name: "web-1", namespace: "default", ownerReferences: [ownedBy(deployment, "Deployment")] } });
    client.seed(podsResource, pod("web-1-a", [ownedBy(rs, "ReplicaSet")]));
    const collector = controllers.add(new GarbageCollector());
    await controllers.settle();
    const removed: string[] = [];
    client.subscribe((change) => {
      if (change.type === "DELETED") removed.push(`${change.resource.resource}/${change.object.metadata.name ?? ""}`);
    });
    await client.delete(deploymentsResource, "default", "web", { propagationPolicy: "Foreground" });
    await controllers.settle();
    expect(removed).toEqual(["pods/web-1-a", "replicasets/web-1", "deployments/web"]);
    expect(collector.graph.get(deployment.metadata.uid ?? "")).toBeUndefined();
  });

  it("does not delete a dependent whose owner is missing from its cache but exists on the server", async () => {
    const { controllers, client, rs, collector } = setup();
    await controllers.settle();
    collector.graph.remove(rs.metadata.uid ?? "");
    controllers.queueOf(collector).add(client.stored<Pod>(podsResource, "default", "web-a")!.metadata.uid ?? "");
    await controllers.settle();
    expect(client.writes).toEqual([]);
  });
});
