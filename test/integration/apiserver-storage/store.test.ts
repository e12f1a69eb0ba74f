/**
 * The API server's ObjectStore against a real store: a 1-member cluster of Flotilla's store and of
 * etcd 3.4 (STORE_IMPL picks). Guarded writes, preconditions, list paging and filters, reads at old
 * revisions and the 410s after compaction must behave the same on both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  NotFoundError,
  ObjectStore,
  TooLargeResourceVersionError,
  listExpiredMessages,
  type ListResult,
  type StoredObject,
} from "../../../services/apiserver/storage/index.ts";
import { StoreCluster, storeImplementations } from "../../harness/store-cluster.ts";

const prefix = "/registry/core/configmaps/";
const keyOf = (namespace: string, name: string) => `${prefix}${namespace}/${name}`;
const configMap = (namespace: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): StoredObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace, name, uid: `uid-${namespace}-${name}`, labels },
  data,
});
const meta = (object: StoredObject) => object["metadata"] as Record<string, unknown>;
const rv = (object: StoredObject) => String(meta(object)["resourceVersion"]);
const names = (result: ListResult) => result.items.map((object) => String(meta(object)["name"]));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe.each(storeImplementations())("ObjectStore against a 1-member %s cluster", (implementation) => {
  let cluster: StoreCluster;
  let client: EtcdClient;
  let store: ObjectStore;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1 });
    client = new EtcdClient({ endpoints: [cluster.members[0]?.clientUrl ?? ""] });
    store = new ObjectStore({ client, resource: { group: "", resource: "configmaps" }, namespaced: true });
  });
  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  });

  it("creates, reads back with the mod revision as resourceVersion, and refuses a second create", async () => {
    const created = await store.create(configMap("crud", "a", { k: "v" }));
    const raw = await client.range({ key: Buffer.from(keyOf("crud", "a")) });
    expect(rv(created)).toBe(raw.kvs[0]?.mod_revision);
    expect(JSON.parse(raw.kvs[0]?.value.toString() ?? "{}")).not.toHaveProperty("metadata.resourceVersion");
    expect(await store.get(keyOf("crud", "a"))).toEqual(created);
    await expect(store.create(configMap("crud", "a"))).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it("refuses an update based on a stale resourceVersion and lands concurrent unconditioned updates", async () => {
    const created = await store.create(configMap("update", "counter", { count: "0" }));
    const increment = (current: StoredObject) => ({ ...current, data: { count: String(Number((current["data"] as Record<string, string>)["count"]) + 1) } });
    await Promise.all(Array.from({ length: 6 }, async () => store.update(keyOf("update", "counter"), increment)));
    const current = await store.get(keyOf("update", "counter"));
    expect(current["data"]).toEqual({ count: "6" });
    const error = await rejection(store.update(keyOf("update", "counter"), increment, { expectedResourceVersion: rv(created) }));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).currentResourceVersion).toBe(rv(current));
    const updated = await store.update(keyOf("update", "counter"), increment, { expectedResourceVersion: rv(current) });
    expect(updated["data"]).toEqual({ count: "7" });
  });

  it("deletes only when the uid and resourceVersion preconditions hold", async () => {
    const created = await store.create(configMap("delete", "a"));
    await expect(store.delete(keyOf("delete", "a"), { preconditions: { uid: "someone-else" } })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.delete(keyOf("delete", "a"), { preconditions: { resourceVersion: "1" } })).rejects.toBeInstanceOf(ConflictError);
    const deleted = await store.delete(keyOf("delete", "a"), { preconditions: { uid: "uid-delete-a", resourceVersion: rv(created) } });
    expect(Number(rv(deleted))).toBeGreaterThan(Number(rv(created)));
    await expect(store.get(keyOf("delete", "a"))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("pages a list with limit and continue at one revision, and a filtered list before the limit", async () => {
    for (let index = 0; index < 12; index++) {
      await store.create(configMap("paging", `cm-${String(index).padStart(2, "0")}`, {}, { pick: index % 4 === 0 ? "yes" : "no" }));
    }
    const first = await store.list(`${prefix}paging`, { limit: 5 });
    expect(first.items).toHaveLength(5);
    expect(first.remainingItemCount).toBe(7);
    await store.create(configMap("paging", "cm-99"));
    const second = await store.list(`${prefix}paging`, { limit: 5, continue: first.continue });
    const third = await store.list(`${prefix}paging`, { limit: 5, continue: second.continue });
    expect([...names(first), ...names(second), ...names(third)]).toEqual(Array.from({ length: 12 }, (_, index) => `cm-${String(index).padStart(2, "0")}`));
    expect(new Set([first, second, third].map((page) => page.resourceVersion)).size).toBe(1);
    expect(third.continue).toBeUndefined();
    const filtered = await store.list(`${prefix}paging`, { limit: 2, filter: (attrs) => attrs.labels["pick"] === "yes" });
    expect(names(filtered)).toEqual(["cm-00", "cm-04"]);
    const rest = await store.list(`${prefix}paging`, { limit: 2, filter: (attrs) => attrs.labels["pick"] === "yes", continue: filtered.continue });
    expect(names(rest)).toEqual(["cm-08"]);
  });

  it("lists at an old revision, then answers 410 after compaction for lists and continue tokens", async () => {
    for (const name of ["a", "b", "c", "d"]) await store.create(configMap("compaction", name));
    const before = await store.list(`${prefix}compaction`);
    const firstPage = await store.list(`${prefix}compaction`, { limit: 2 });
    await store.delete(keyOf("compaction", "a"));
    const exact = await store.list(`${prefix}compaction`, { resourceVersion: before.resourceVersion, resourceVersionMatch: "Exact" });
    expect(names(exact)).toEqual(["a", "b", "c", "d"]);
    const latest = await store.update(keyOf("compaction", "b"), (current) => ({ ...current, data: { changed: "yes" } }));
    await client.compact(Number(rv(latest)));
    const listError = await rejection(store.list(`${prefix}compaction`, { resourceVersion: before.resourceVersion, resourceVersionMatch: "Exact" }));
    expect((listError as GoneError).message).toBe(listExpiredMessages.expired);
    const continueError = await rejection(store.list(`${prefix}compaction`, { limit: 2, continue: firstPage.continue }));
    expect(continueError).toBeInstanceOf(GoneError);
    expect((continueError as GoneError).message).toBe(listExpiredMessages.inconsistentContinue);
    const rest = await store.list(`${prefix}compaction`, { limit: 10, continue: (continueError as GoneError).continueToken });
    expect(names(rest)).toEqual(["c", "d"]);
    await expect(store.get(keyOf("compaction", "c"), { resourceVersion: before.resourceVersion })).rejects.toBeInstanceOf(GoneError);
  });

  it("answers a resourceVersion beyond the store's revision with TooLargeResourceVersionError", async () => {
    const created = await store.create(configMap("future", "a"));
    const future = String(Number(rv(created)) + 1000);
    await expect(store.get(keyOf("future", "a"), { resourceVersion: future })).rejects.toBeInstanceOf(TooLargeResourceVersionError);
    await expect(store.list(`${prefix}future`, { resourceVersion: future })).rejects.toBeInstanceOf(TooLargeResourceVersionError);
  });

  it("deletes a filtered collection", async () => {
    for (const name of ["a", "b", "c"]) await store.create(configMap("collection", name, {}, { drop: name === "c" ? "no" : "yes" }));
    const deleted = await store.deleteCollection(`${prefix}collection/`, { filter: (attrs) => attrs.labels["drop"] === "yes" });
    expect(deleted.map((object) => meta(object)["name"])).toEqual(["a", "b"]);
    expect(names(await store.list(`${prefix}collection`))).toEqual(["c"]);
  });
});
