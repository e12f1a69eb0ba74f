import { describe, expect, it } from "vitest";
import { AlreadyExistsError, BadRequestError, ConflictError, GoneError, NotFoundError, StorageUnavailableError, TimeoutError, TooLargeResourceVersionError } from "./errors.ts";
import type { StoredObject } from "./objects.ts";
import { ObjectStore, optimisticLockMessage } from "./store.ts";
import { FakeEtcd, grpcError } from "./test-support.ts";

const resource = { group: "", resource: "configmaps" };
const keyOf = (namespace: string, name: string) => `/registry/core/configmaps/${namespace}/${name}`;

function configMap(namespace: string, name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}): StoredObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace, name, uid: `uid-${name}`, ...extra }, data };
}

function setup(updateAttemptsMax?: number): { fake: FakeEtcd; store: ObjectStore } {
  const fake = new FakeEtcd();
  return { fake, store: new ObjectStore({ client: fake, resource, namespaced: true, ...(updateAttemptsMax === undefined ? {} : { updateAttemptsMax }) }) };
}

const dataOf = (object: StoredObject) => object["data"] as Record<string, string>;
const metadataOf = (object: StoredObject) => object["metadata"] as Record<string, unknown>;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("ObjectStore.create", () => {
  it("stores the object without resourceVersion and returns it with the write's revision", async () => {
    const { fake, store } = setup();
    const created = await store.create(configMap("default", "a", { k: "v" }));
    expect(metadataOf(created)["resourceVersion"]).toBe(String(fake.currentRevision));
    const raw = await fake.range({ key: Buffer.from(keyOf("default", "a")) });
    const stored = JSON.parse(raw.kvs[0]?.value.toString() ?? "{}") as StoredObject;
    expect(metadataOf(stored)).not.toHaveProperty("resourceVersion");
    expect(dataOf(stored)).toEqual({ k: "v" });
  });

  it("fails with AlreadyExistsError on a taken key and leaves the stored object alone", async () => {
    const { fake, store } = setup();
    await store.create(configMap("default", "a", { k: "first" }));
    const revision = fake.currentRevision;
    const error = await rejection(store.create(configMap("default", "a", { k: "second" })));
    expect(error).toBeInstanceOf(AlreadyExistsError);
    expect((error as AlreadyExistsError).message).toBe('configmaps "a" already exists');
    expect(fake.currentRevision).toBe(revision);
    expect(dataOf(await store.get(keyOf("default", "a")))).toEqual({ k: "first" });
  });

  it("refuses an object that already carries a resourceVersion", async () => {
    const { store } = setup();
    await expect(store.create(configMap("default", "a", {}, { resourceVersion: "12" }))).rejects.toBeInstanceOf(BadRequestError);
  });

  it("puts cluster-scoped objects directly under the resource prefix", async () => {
    const fake = new FakeEtcd();
    const nodes = new ObjectStore({ client: fake, resource: { group: "", resource: "nodes" }, namespaced: false });
    await nodes.create({ metadata: { name: "n1", namespace: "ignored" } });
    expect((await fake.range({ key: Buffer.from("/registry/core/nodes/n1") })).kvs).toHaveLength(1);
  });
});

describe("ObjectStore.get", () => {
  it("reads the latest object, or the object as of an older revision", async () => {
    const { store } = setup();
    const first = await store.create(configMap("default", "a", { v: "1" }));
    await store.update(keyOf("default", "a"), (current) => ({ ...current, data: { v: "2" } }));
    expect(dataOf(await store.get(keyOf("default", "a")))).toEqual({ v: "2" });
    const old = await store.get(keyOf("default", "a"), { resourceVersion: metadataOf(first)["resourceVersion"] as string });
    expect(dataOf(old)).toEqual({ v: "1" });
    expect(metadataOf(old)["resourceVersion"]).toBe(metadataOf(first)["resourceVersion"]);
  });

  it("reads serializably for resourceVersion 0 and linearizably when it is unset", async () => {
    const { fake, store } = setup();
    await store.create(configMap("default", "a"));
    await store.get(keyOf("default", "a"), { resourceVersion: "0" });
    expect(fake.rangeRequests.at(-1)?.serializable).toBe(true);
    await store.get(keyOf("default", "a"));
    expect(fake.rangeRequests.at(-1)?.serializable ?? false).toBe(false);
  });

  it("is GoneError for a compacted revision and TooLargeResourceVersionError for a future one", async () => {
    const { fake, store } = setup();
    const first = await store.create(configMap("default", "a"));
    await store.update(keyOf("default", "a"), (current) => ({ ...current, data: { v: "2" } }));
    fake.compact(fake.currentRevision);
    await expect(store.get(keyOf("default", "a"), { resourceVersion: metadataOf(first)["resourceVersion"] as string })).rejects.toBeInstanceOf(GoneError);
    const future = fake.currentRevision + 10;
    const error = await rejection(store.get(keyOf("default", "a"), { resourceVersion: String(future) }));
    expect(error).toBeInstanceOf(TooLargeResourceVersionError);
    expect((error as TooLargeResourceVersionError).message).toBe(`Too large resource version: ${future}, current: ${fake.currentRevision}`);
  });

  it("is NotFoundError naming the resource and the object", async () => {
    const { store } = setup();
    const error = await rejection(store.get(keyOf("default", "missing")));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).message).toBe('configmaps "missing" not found');
  });

  it("refuses keys outside the resource or with dot segments", async () => {
    const { store } = setup();
    await expect(store.get("/registry/core/secrets/default/a")).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.get("/registry/core/configmaps/../secrets/default/a")).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.get("/registry/core/configmaps/default/a", { resourceVersion: "abc" })).rejects.toBeInstanceOf(BadRequestError);
  });

  it("reports an unreachable store as StorageUnavailableError and a deadline as TimeoutError", async () => {
    const { fake, store } = setup();
    fake.failNextCall = grpcError(14, "connection refused");
    await expect(store.get(keyOf("default", "a"))).rejects.toBeInstanceOf(StorageUnavailableError);
    fake.failNextCall = grpcError(4, "Deadline exceeded");
    await expect(store.get(keyOf("default", "a"))).rejects.toBeInstanceOf(TimeoutError);
  });
});

describe("ObjectStore.update", () => {
  it("applies the mutation to a private copy and returns the object at the new revision", async () => {
    const { fake, store } = setup();
    await store.create(configMap("default", "a", { v: "1" }));
    let seen: StoredObject | undefined;
    const updated = await store.update(keyOf("default", "a"), (current) => {
      seen = current;
      dataOf(current)["v"] = "2";
      return current;
    });
    expect(Object.isFrozen(seen)).toBe(false);
    expect(dataOf(updated)).toEqual({ v: "2" });
    expect(metadataOf(updated)["resourceVersion"]).toBe(String(fake.currentRevision));
  });

  it("fails with ConflictError carrying the current resourceVersion when the expected one is stale", async () => {
    const { store } = setup();
    const created = await store.create(configMap("default", "a", { v: "1" }));
    const current = await store.update(keyOf("default", "a"), (object) => ({ ...object, data: { v: "2" } }));
    const error = await rejection(
      store.update(keyOf("default", "a"), (object) => ({ ...object, data: { v: "3" } }), { expectedResourceVersion: metadataOf(created)["resourceVersion"] as string }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).currentResourceVersion).toBe(metadataOf(current)["resourceVersion"]);
    expect((error as ConflictError).message).toBe(`Operation cannot be fulfilled on configmaps "a": ${optimisticLockMessage}`);
    expect(dataOf(await store.get(keyOf("default", "a")))).toEqual({ v: "2" });
  });

  it("retries with the winner's state when a concurrent write wins the race and no precondition is set", async () => {
    const { fake, store } = setup();
    await store.create(configMap("default", "a", { count: "0" }));
    fake.beforeNextTxn = () => fake.put(keyOf("default", "a"), JSON.stringify(configMap("default", "a", { count: "10" })));
    let calls = 0;
    const updated = await store.update(keyOf("default", "a"), (current) => {
      calls++;
      return { ...current, data: { count: String(Number(dataOf(current)["count"]) + 1) } };
    });
    expect(calls).toBe(2);
    expect(dataOf(updated)).toEqual({ count: "11" });
  });

  it("does not retry a lost race when an expected resourceVersion is given", async () => {
    const { fake, store } = setup();
    const created = await store.create(configMap("default", "a", { v: "1" }));
    fake.beforeNextTxn = () => fake.put(keyOf("default", "a"), JSON.stringify(configMap("default", "a", { v: "other" })));
    let calls = 0;
    const mutate = (current: StoredObject) => {
      calls++;
      return { ...current, data: { v: "mine" } };
    };
    const error = await rejection(store.update(keyOf("default", "a"), mutate, { expectedResourceVersion: metadataOf(created)["resourceVersion"] as string }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(calls).toBe(1);
    expect(dataOf(await store.get(keyOf("default", "a")))).toEqual({ v: "other" });
  });

  it("gives up with ConflictError after updateAttemptsMax lost races", async () => {
    const { fake, store } = setup(3);
    await store.create(configMap("default", "a", { v: "0" }));
    let writes = 0;
    const interfere = (): void => {
      fake.put(keyOf("default", "a"), JSON.stringify(configMap("default", "a", { v: `other-${++writes}` })));
      fake.beforeNextTxn = interfere;
    };
    fake.beforeNextTxn = interfere;
    const error = await rejection(store.update(keyOf("default", "a"), (current) => ({ ...current, data: { v: "mine" } })));
    fake.beforeNextTxn = undefined;
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).conflictCause).toBe("retriesExhausted");
    expect(writes).toBe(3);
  });

  it("writes nothing when the mutation changes nothing", async () => {
    const { fake, store } = setup();
    const created = await store.create(configMap("default", "a", { v: "1" }));
    const revision = fake.currentRevision;
    const same = await store.update(keyOf("default", "a"), (current) => current);
    expect(fake.currentRevision).toBe(revision);
    expect(metadataOf(same)["resourceVersion"]).toBe(metadataOf(created)["resourceVersion"]);
  });

  it("checks a uid precondition against the current object", async () => {
    const { store } = setup();
    await store.create(configMap("default", "a"));
    const error = await rejection(store.update(keyOf("default", "a"), (current) => current, { preconditions: { uid: "someone-else" } }));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).conflictCause).toBe("uid");
  });

  it("is NotFoundError for a missing object and passes on the mutation's own error", async () => {
    const { store } = setup();
    await expect(store.update(keyOf("default", "missing"), (current) => current)).rejects.toBeInstanceOf(NotFoundError);
    await store.create(configMap("default", "a"));
    const refusal = new Error("invalid: spec.x is required");
    await expect(
      store.update(keyOf("default", "a"), () => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
  });
});

describe("ObjectStore.delete", () => {
  it("returns the last state with the deleting revision as its resourceVersion", async () => {
    const { fake, store } = setup();
    await store.create(configMap("default", "a", { v: "1" }));
    const deleted = await store.delete(keyOf("default", "a"));
    expect(dataOf(deleted)).toEqual({ v: "1" });
    expect(metadataOf(deleted)["resourceVersion"]).toBe(String(fake.currentRevision));
    await expect(store.get(keyOf("default", "a"))).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.delete(keyOf("default", "a"))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses to delete when the uid or resourceVersion precondition does not match", async () => {
    const { store } = setup();
    const created = await store.create(configMap("default", "a"));
    const uidError = await rejection(store.delete(keyOf("default", "a"), { preconditions: { uid: "uid-other" } }));
    expect((uidError as ConflictError).message).toContain("Precondition failed: UID in precondition: uid-other, UID in object meta: uid-a");
    const rvError = await rejection(store.delete(keyOf("default", "a"), { preconditions: { resourceVersion: "1" } }));
    expect(rvError).toBeInstanceOf(ConflictError);
    expect((rvError as ConflictError).currentResourceVersion).toBe(metadataOf(created)["resourceVersion"]);
    const rv = metadataOf(created)["resourceVersion"] as string;
    await store.delete(keyOf("default", "a"), { preconditions: { uid: "uid-a", resourceVersion: rv } });
    await expect(store.get(keyOf("default", "a"))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("re-checks preconditions and validation against the new state after losing a race", async () => {
    const { fake, store } = setup();
    await store.create(configMap("default", "a", { v: "1" }));
    fake.beforeNextTxn = () => fake.put(keyOf("default", "a"), JSON.stringify(configMap("default", "a", { v: "2" })));
    const validated: string[] = [];
    const deleted = await store.delete(keyOf("default", "a"), {
      preconditions: { uid: "uid-a" },
      validateDeletion: (current) => {
        validated.push(dataOf(current)["v"] ?? "");
      },
    });
    expect(validated).toEqual(["1", "2"]);
    expect(dataOf(deleted)).toEqual({ v: "2" });
  });
});

describe("ObjectStore.deleteCollection", () => {
  it("deletes the objects under the prefix that the filter selects, and nothing else", async () => {
    const { store } = setup();
    for (const name of ["a", "b", "c", "d"]) await store.create(configMap("default", name, {}, { labels: { pick: name === "b" || name === "d" ? "yes" : "no" } }));
    await store.create(configMap("other", "b", {}, { labels: { pick: "yes" } }));
    const deleted = await store.deleteCollection("/registry/core/configmaps/default/", { filter: (attrs) => attrs.labels["pick"] === "yes" });
    expect(deleted.map((object) => metadataOf(object)["name"])).toEqual(["b", "d"]);
    const left = await store.list("/registry/core/configmaps/");
    expect(left.items.map((object) => `${String(metadataOf(object)["namespace"])}/${String(metadataOf(object)["name"])}`)).toEqual(["default/a", "default/c", "other/b"]);
  });
});
