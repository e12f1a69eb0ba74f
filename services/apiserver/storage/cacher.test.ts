import { afterEach, describe, expect, it } from "vitest";
import { Cacher, type CacherOptions } from "./cacher.ts";
import { GoneError, NotFoundError, StorageUnavailableError } from "./errors.ts";
import type { StoredObject } from "./objects.ts";
import { ObjectStore } from "./store.ts";
import { FakeEtcd, grpcError } from "./test-support.ts";
import { initialEventsEndAnnotation, type CacheWatcher, type WatchEvent } from "./watch.ts";

const prefix = "/registry/core/pods/";
const keyOf = (name: string, namespace = "ns") => `${prefix}${namespace}/${name}`;
const pod = (name: string, labels: Record<string, string> = {}, namespace = "ns"): StoredObject => ({ metadata: { name, namespace, uid: `uid-${name}`, labels } });

const running: Cacher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (cacher) => cacher.stop()));
});

async function started(options: Partial<CacherOptions> = {}): Promise<{ fake: FakeEtcd; store: ObjectStore; cacher: Cacher }> {
  const fake = new FakeEtcd();
  const store = new ObjectStore({ client: fake, resource: { group: "", resource: "pods" }, namespaced: true });
  const cacher = new Cacher({ store, bookmarkIntervalMs: 0, restartDelayMs: 1, restartDelayMsMax: 4, ...options });
  running.push(cacher);
  cacher.start();
  await cacher.ready();
  return { fake, store, cacher };
}

/**
 * Lets the cacher's store-watch loop run until `condition` holds, bounded in time (its restart
 * backoff is a timer, so counting event-loop rounds alone is not enough on a busy machine).
 */
async function until(condition: () => boolean, description: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`gave up waiting ${timeoutMs} ms for ${description}`);
}

/** The next `count` events, failing (not hanging) when they do not come. */
async function take(watcher: CacheWatcher, count: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  for (let index = 0; index < count; index++) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`event ${index + 1} of ${count} did not come`)), 2000)));
    const event = await Promise.race([watcher.next(), timeout]).finally(() => clearTimeout(timer));
    if (event === undefined) throw new Error(`the watch ended after ${index} events (${String(watcher.terminationReason)})`);
    events.push(event);
  }
  return events;
}

const nameOf = (event: WatchEvent) => String((event.object["metadata"] as Record<string, unknown>)["name"]);
const rvOf = (event: WatchEvent) => Number((event.object["metadata"] as Record<string, unknown>)["resourceVersion"]);
const summary = (events: WatchEvent[]) => events.map((event) => `${event.type} ${event.type === "BOOKMARK" ? rvOf(event) : nameOf(event)}`);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("Cacher watches", () => {
  it("serves many watchers from one store watch", async () => {
    const { fake, store, cacher } = await started();
    const watchers = await Promise.all(Array.from({ length: 25 }, async () => cacher.watch(prefix, { resourceVersion: String(cacher.revision) })));
    await store.create(pod("a"));
    for (const watcher of watchers) expect(summary(await take(watcher, 1))).toEqual(["ADDED a"]);
    expect(fake.watchesOpened).toBe(1);
    expect(cacher.stats().storeWatchesOpened).toBe(1);
  });

  it("starts a watch at resourceVersion 0 with ADDED events for the cached objects, then live events", async () => {
    const { store, cacher } = await started();
    await store.create(pod("a"));
    await store.create(pod("b"));
    const b = await store.create(pod("c", {}, "other"));
    await until(() => cacher.revision >= rvOf({ type: "ADDED", object: b }), "the cache to see the creates");
    const watcher = await cacher.watch(`${prefix}ns/`, { resourceVersion: "0" });
    await store.update(keyOf("a"), (current) => ({ ...current, spec: { x: 1 } }));
    expect(summary(await take(watcher, 3))).toEqual(["ADDED a", "ADDED b", "MODIFIED a"]);
  });

  it("reads the initial state of a watch without resourceVersion from the store, without duplicates", async () => {
    const { fake, cacher } = await started();
    const rangesBefore = fake.rangeRequests.length;
    // Written behind the cache's back, just now: the cache may not have applied it yet.
    fake.put(keyOf("late"), JSON.stringify(pod("late")));
    const watcher = await cacher.watch(prefix);
    expect(fake.rangeRequests.length).toBeGreaterThan(rangesBefore);
    fake.put(keyOf("later"), JSON.stringify(pod("later")));
    expect(summary(await take(watcher, 2))).toEqual(["ADDED late", "ADDED later"]);
  });

  it("replays the window's events after the requested resourceVersion, then goes live", async () => {
    const { store, cacher } = await started();
    const first = await store.create(pod("a"));
    await store.create(pod("b"));
    await store.delete(keyOf("a"));
    const last = await store.create(pod("c"));
    await until(() => cacher.revision >= rvOf({ type: "ADDED", object: last }), "the cache to see the writes");
    const watcher = await cacher.watch(prefix, { resourceVersion: String(rvOf({ type: "ADDED", object: first })) });
    await store.create(pod("d"));
    const events = await take(watcher, 4);
    expect(summary(events)).toEqual(["ADDED b", "DELETED a", "ADDED c", "ADDED d"]);
    // A DELETED event carries the last state at the deleting revision.
    expect(rvOf(events[1] as WatchEvent)).toBeGreaterThan(rvOf({ type: "ADDED", object: first }));
  });

  it("answers a resourceVersion older than the window with 410 'too old resource version'", async () => {
    const { store, cacher } = await started({ eventWindowEventsMax: 3 });
    const first = await store.create(pod("a"));
    for (const name of ["b", "c", "d", "e"]) await store.create(pod(name));
    await until(() => cacher.stats().windowEvents === 3 && cacher.revision >= rvOf({ type: "ADDED", object: first }) + 4, "the window to fill");
    const error = await rejection(cacher.watch(prefix, { resourceVersion: String(rvOf({ type: "ADDED", object: first })) }));
    expect(error).toBeInstanceOf(GoneError);
    const oldest = rvOf({ type: "ADDED", object: first }) + 1;
    expect((error as GoneError).message).toBe(`too old resource version: ${oldest - 1} (${oldest})`);
    const fromOldest = await cacher.watch(prefix, { resourceVersion: String(oldest) });
    expect(summary(await take(fromOldest, 3))).toEqual(["ADDED c", "ADDED d", "ADDED e"]);
  });

  it("turns updates into ADDED and DELETED for a filtered watch as objects move in and out", async () => {
    const { store, cacher } = await started();
    await store.create(pod("a", { tier: "backend" }));
    const watcher = await cacher.watch(prefix, { resourceVersion: "0", filter: (attrs) => attrs.labels["tier"] === "frontend" });
    const relabel = (tier: string) => (current: StoredObject) => ({ ...current, metadata: { ...(current["metadata"] as object), labels: { tier } } });
    await store.update(keyOf("a"), relabel("frontend"));
    await store.update(keyOf("a"), relabel("frontend-too"));
    await store.update(keyOf("a"), relabel("frontend"));
    await store.delete(keyOf("a"));
    expect(summary(await take(watcher, 4))).toEqual(["ADDED a", "DELETED a", "ADDED a", "DELETED a"]);
  });

  it("watches a single key", async () => {
    const { store, cacher } = await started();
    const watcher = await cacher.watch(keyOf("b"), { resourceVersion: String(cacher.revision) });
    await store.create(pod("a"));
    await store.create(pod("b"));
    await store.create(pod("bb"));
    await store.delete(keyOf("b"));
    expect(summary(await take(watcher, 2))).toEqual(["ADDED b", "DELETED b"]);
  });

  it("sends initial events without resourceVersion only when asked, and ends them with an annotated bookmark", async () => {
    const { store, cacher } = await started();
    await store.create(pod("a"));
    const none = await cacher.watch(prefix, { sendInitialEvents: false });
    const initial = await cacher.watch(prefix, { resourceVersion: "0", sendInitialEvents: true, allowBookmarks: true });
    await store.create(pod("b"));
    expect(summary(await take(none, 1))).toEqual(["ADDED b"]);
    const events = await take(initial, 3);
    expect(summary(events).slice(0, 2)).toEqual(["ADDED a", `BOOKMARK ${rvOf(events[1] as WatchEvent)}`]);
    expect((events[1]?.object["metadata"] as Record<string, unknown>)["annotations"]).toEqual({ [initialEventsEndAnnotation]: "true" });
    expect(summary(events.slice(2))).toEqual(["ADDED b"]);
  });

  it("sends bookmarks at the cache's revision to watchers that allow them, including revisions learnt from progress notifications", async () => {
    const { fake, store, cacher } = await started();
    await store.create(pod("a"));
    const withBookmarks = await cacher.watch(prefix, { resourceVersion: "0", allowBookmarks: true });
    const without = await cacher.watch(prefix, { resourceVersion: "0" });
    // A write to another resource moves the store on; only a progress notification tells the cache.
    fake.put("/registry/core/secrets/ns/s", JSON.stringify({ metadata: { name: "s" } }));
    fake.sendProgress();
    await until(() => cacher.revision === fake.currentRevision, "the progress notification");
    expect(cacher.sendBookmarks()).toBe(1);
    expect(summary(await take(withBookmarks, 2))).toEqual(["ADDED a", `BOOKMARK ${fake.currentRevision}`]);
    expect(summary(await take(without, 1))).toEqual(["ADDED a"]);
    expect(without.queuedEvents).toBe(0);
  });

  it("terminates a watcher that does not keep up, and only that one", async () => {
    const { store, cacher } = await started({ watcherQueueEventsMax: 3 });
    const slow = await cacher.watch(prefix, { resourceVersion: String(cacher.revision) });
    const reader = await cacher.watch(prefix, { resourceVersion: String(cacher.revision) });
    const reading = take(reader, 5);
    for (const name of ["a", "b", "c", "d", "e"]) await store.create(pod(name));
    expect(summary(await reading)).toEqual(["ADDED a", "ADDED b", "ADDED c", "ADDED d", "ADDED e"]);
    expect(slow.terminationReason).toBe("fell-behind");
    expect(await slow.next()).toBeUndefined();
    expect(cacher.stats()).toMatchObject({ watchers: 1, watchersTerminatedSlow: 1 });
  });
});

describe("Cacher resync", () => {
  it("watches the store again from its revision after the store watch breaks, keeping its watchers", async () => {
    const { fake, cacher } = await started();
    const watcher = await cacher.watch(prefix, { resourceVersion: String(cacher.revision) });
    fake.breakWatches();
    fake.put(keyOf("while-broken"), JSON.stringify(pod("while-broken")));
    expect(summary(await take(watcher, 1))).toEqual(["ADDED while-broken"]);
    fake.put(keyOf("after"), JSON.stringify(pod("after")));
    expect(summary(await take(watcher, 1))).toEqual(["ADDED after"]);
    expect(fake.watchesOpened).toBe(2);
    expect(cacher.stats()).toMatchObject({ relists: 1, storeWatchesOpened: 2, watchers: 1 });
  });

  it("lists again and terminates its watchers when the revision it would resume from was compacted", async () => {
    const { fake, store, cacher } = await started();
    await store.create(pod("old"));
    await until(() => cacher.stats().objects === 1, "the cache to see the create");
    const watcher = await cacher.watch(prefix, { resourceVersion: String(cacher.revision) });
    const staleRevision = cacher.revision;
    // All in one synchronous stretch, so the cache cannot resume before the compaction.
    fake.breakWatches();
    fake.deleteKey(keyOf("old"));
    fake.put(keyOf("new"), JSON.stringify(pod("new")));
    fake.compact(fake.currentRevision);
    await until(() => cacher.stats().relists === 2 && cacher.stats().ready, "the relist");
    expect(watcher.terminationReason).toBe("cache-restarted");
    const listed = await cacher.list(prefix, { resourceVersion: "0" });
    expect(listed.items.map((object) => (object["metadata"] as Record<string, unknown>)["name"])).toEqual(["new"]);
    expect(listed.resourceVersion).toBe(String(fake.currentRevision));
    const error = await rejection(cacher.watch(prefix, { resourceVersion: String(staleRevision) }));
    expect((error as GoneError).message).toBe(`too old resource version: ${staleRevision} (${fake.currentRevision})`);
  });
});

describe("Cacher resync after a failed list", () => {
  it("still terminates the old watchers when the relist succeeds only on a later try", async () => {
    const { fake, cacher } = await started();
    const watcher = await cacher.watch(prefix, { resourceVersion: String(cacher.revision) });
    fake.breakWatches();
    fake.put(keyOf("a"), JSON.stringify(pod("a")));
    fake.put(keyOf("b"), JSON.stringify(pod("b")));
    fake.compact(fake.currentRevision);
    // The relist's first read fails; lists go to the store meanwhile.
    fake.failNextCall = grpcError(14, "connection refused");
    await until(() => cacher.stats().relists === 2 && cacher.stats().ready, "the second relist");
    expect(fake.failNextCall).toBeUndefined();
    expect(watcher.terminationReason).toBe("cache-restarted");
    expect(cacher.stats().objects).toBe(2);
  });
});

describe("Cacher reads", () => {
  it("answers list and get with resourceVersion 0 from memory and consistent ones from the store", async () => {
    const { fake, store, cacher } = await started();
    const created = await store.create(pod("a"));
    await until(() => cacher.stats().objects === 1, "the cache to see the create");
    const ranges = fake.rangeRequests.length;
    const listed = await cacher.list(prefix, { resourceVersion: "0", limit: 1 });
    const got = await cacher.get(keyOf("a"), { resourceVersion: "0" });
    expect(fake.rangeRequests.length).toBe(ranges);
    expect(listed.items).toHaveLength(1);
    expect(listed.continue).toBeUndefined();
    expect(Object.isFrozen(got)).toBe(true);
    expect(got).toEqual(created);
    await expect(cacher.get(keyOf("zz"), { resourceVersion: "0" })).rejects.toBeInstanceOf(NotFoundError);
    await cacher.list(prefix);
    await cacher.get(keyOf("a"));
    // A paged list at a revision is exact: only the store has history.
    await cacher.list(prefix, { resourceVersion: String(cacher.revision), limit: 1 });
    expect(fake.rangeRequests.length).toBe(ranges + 3);
  });

  it("sends a read for a revision the cache has not reached to the store", async () => {
    const { fake, cacher } = await started();
    fake.put("/registry/core/secrets/ns/s", JSON.stringify({ metadata: { name: "s" } }));
    const ranges = fake.rangeRequests.length;
    const listed = await cacher.list(prefix, { resourceVersion: String(fake.currentRevision) });
    expect(fake.rangeRequests.length).toBe(ranges + 1);
    expect(listed.resourceVersion).toBe(String(fake.currentRevision));
  });

  it("filters lists from memory", async () => {
    const { store, cacher } = await started();
    await store.create(pod("a", { tier: "web" }));
    await store.create(pod("b", { tier: "db" }));
    await until(() => cacher.stats().objects === 2, "the cache to see the creates");
    const listed = await cacher.list(prefix, { resourceVersion: "0", filter: (attrs) => attrs.labels["tier"] === "db" });
    expect(listed.items.map((object) => (object["metadata"] as Record<string, unknown>)["name"])).toEqual(["b"]);
  });
});

describe("Cacher lifecycle", () => {
  it("reports StorageUnavailableError when its first list does not arrive in time", async () => {
    const fake = new FakeEtcd();
    const cacher = new Cacher({ store: new ObjectStore({ client: fake, resource: { group: "", resource: "pods" }, namespaced: true }) });
    await expect(cacher.ready(20)).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it("stop() closes the store watch and terminates its watchers", async () => {
    const { fake, cacher } = await started();
    const watcher = await cacher.watch(prefix, { resourceVersion: "0" });
    await cacher.stop();
    expect(watcher.terminationReason).toBe("cacher-stopped");
    expect(fake.watches.size).toBe(0);
    await expect(cacher.watch(prefix)).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
