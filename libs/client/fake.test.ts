import { describe, expect, it } from "vitest";
import { findResource, isStatusError } from "../api/index.ts";
import type { Pod, ReplicaSet } from "../api/index.ts";
import { fakeControllerContext } from "./fake-informers.ts";

const pods = findResource("", "v1", "pods")!;
const replicaSets = findResource("apps", "v1", "replicasets")!;

function pod(name: string, labels: Record<string, string> = {}): Pod {
  return { metadata: { name, namespace: "default", labels }, spec: { containers: [{ name: "c", image: "busybox" }] } };
}

describe("FakeClient", () => {
  it("records each write and assigns growing resourceVersions", async () => {
    const { client } = fakeControllerContext();
    const created = await client.create(pods, pod("a"));
    const updated = await client.update(pods, { ...created, metadata: { ...created.metadata, labels: { x: "1" } } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(client.writes.map((write) => [write.verb, write.resource, write.name])).toEqual([
      ["create", "pods", "a"],
      ["update", "pods", "a"],
    ]);
  });

  it("answers NotFound, AlreadyExists and Conflict as StatusErrors", async () => {
    const { client } = fakeControllerContext();
    const created = await client.create(pods, pod("a"));
    await expect(client.get(pods, "default", "b")).rejects.toSatisfy((error) => isStatusError(error, "NotFound"));
    await expect(client.create(pods, pod("a"))).rejects.toSatisfy((error) => isStatusError(error, "AlreadyExists"));
    await client.update(pods, { ...created, metadata: { ...created.metadata, labels: { x: "1" } } });
    await expect(client.update(pods, created)).rejects.toSatisfy((error) => isStatusError(error, "Conflict"));
  });

  it("keeps status out of a main update and spec out of a status update, bumping generation on spec changes", async () => {
    const { client } = fakeControllerContext();
    const rs: ReplicaSet = { metadata: { name: "r", namespace: "default" }, spec: { replicas: 1, selector: {} }, status: { replicas: 0 } };
    const created = await client.create(replicaSets, rs);
    const scaled = await client.update(replicaSets, { ...created, spec: { replicas: 3, selector: {} }, status: { replicas: 9 } });
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.status).toEqual({ replicas: 0 });
    const statused = await client.update(replicaSets, { ...scaled, spec: { replicas: 7, selector: {} }, status: { replicas: 3 } }, { subresource: "status" });
    expect(statused.spec?.replicas).toBe(3);
    expect(statused.status).toEqual({ replicas: 3 });
    expect(statused.metadata.generation).toBe(2);
  });

  it("marks an object with finalizers and removes it when the last one goes", async () => {
    const { client } = fakeControllerContext();
    await client.create(replicaSets, { metadata: { name: "r", namespace: "default", finalizers: ["x"] }, spec: { selector: {} } } as ReplicaSet);
    await client.delete(replicaSets, "default", "r", { propagationPolicy: "Foreground" });
    const marked = client.stored<ReplicaSet>(replicaSets, "default", "r")!;
    expect(marked.metadata.finalizers).toEqual(["x", "foregroundDeletion"]);
    expect(marked.metadata.deletionTimestamp).toBe("2026-01-01T00:00:00Z");
    await client.update(replicaSets, { ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    expect(client.stored(replicaSets, "default", "r")).toBeUndefined();
  });

  it("an update that changes nothing keeps the resourceVersion", async () => {
    const { client } = fakeControllerContext();
    const created = await client.create(pods, pod("a"));
    const again = await client.update(pods, created);
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });
});

describe("FakeInformerFactory", () => {
  it("follows the store, and lags behind it while held", async () => {
    const { client, informers } = fakeControllerContext();
    const informer = informers.informerFor<Pod>(pods);
    const seen: string[] = [];
    informer.addHandlers({ onAdd: (object) => seen.push(`add ${object.metadata.name}`), onDelete: (object) => seen.push(`delete ${object.metadata.name}`) });
    await client.create(pods, pod("a", { app: "x" }));
    expect(informer.listMatching("default", "app=x").map((object) => object.metadata.name)).toEqual(["a"]);
    informers.hold();
    await client.delete(pods, "default", "a");
    expect(informer.get("default/a")).toBeDefined();
    informers.release();
    expect(informer.get("default/a")).toBeUndefined();
    expect(seen).toEqual(["add a", "delete a"]);
  });
});
