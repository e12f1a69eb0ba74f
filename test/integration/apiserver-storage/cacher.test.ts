/**
 * The watch cache against a real store (Flotilla's and etcd 3.4): watch replay from a
 * resourceVersion, 410 for one older than the window, bookmarks, many API watchers on one store
 * watch (counted by the store's own watcher gauge), and a cache that keeps serving after its store
 * member restarts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import { AlreadyExistsError, Cacher, GoneError, ObjectStore, type CacheWatcher, type CacherOptions, type StoredObject, type WatchEvent } from "../../../services/apiserver/storage/index.ts";
import { StoreCluster, storeImplementations, type StoreMember } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

const waitMs = 20_000;
const prefix = "/registry/core/pods/";
const keyOf = (name: string) => `${prefix}ns/${name}`;
const pod = (name: string): StoredObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "ns", uid: `uid-${name}` } });
const rvOf = (object: StoredObject) => Number((object["metadata"] as Record<string, unknown>)["resourceVersion"]);
const summary = (events: readonly WatchEvent[]) => events.map((event) => `${event.type} ${String((event.object["metadata"] as Record<string, unknown>)["name"])}`);

/** The next `count` events of a watcher, failing when they do not come within waitMs. */
async function take(watcher: CacheWatcher, count: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const deadline = Date.now() + waitMs;
  for (let index = 0; index < count; index++) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`event ${index + 1} of ${count} did not come`)), deadline - Date.now())));
    const event = await Promise.race([watcher.next(), timeout]).finally(() => clearTimeout(timer));
    if (event === undefined) throw new Error(`the watch ended after ${index} events (${String(watcher.terminationReason)})`);
    events.push(event);
  }
  return events;
}

/** The store member's own count of registered watchers (etcd's gauge; Flotilla's store exports it too). */
async function storeWatchers(member: StoreMember): Promise<number> {
  const text = await (await fetch(`${member.metricsUrl}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith("etcd_debugging_mvcc_watcher_total "));
  if (line === undefined) throw new Error("no etcd_debugging_mvcc_watcher_total in /metrics");
  return Number(line.split(" ")[1]);
}

describe.each(storeImplementations())("the watch cache against a 1-member %s cluster", (implementation) => {
  let cluster: StoreCluster;
  let member: StoreMember;
  let client: EtcdClient;
  let store: ObjectStore;
  const cachers: Cacher[] = [];

  async function startCacher(options: Partial<CacherOptions> = {}): Promise<Cacher> {
    const cacher = new Cacher({ store, restartDelayMs: 50, restartDelayMsMax: 500, ...options });
    cachers.push(cacher);
    cacher.start();
    await cacher.ready();
    return cacher;
  }

  async function cacheReaches(cacher: Cacher, revision: number): Promise<void> {
    await waitFor(() => (cacher.revision >= revision ? true : undefined), { timeoutMs: waitMs, intervalMs: 10, description: `the cache at revision ${revision}` });
  }

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1 });
    member = cluster.members[0] as StoreMember;
    client = new EtcdClient({ endpoints: [member.clientUrl] });
    store = new ObjectStore({ client, resource: { group: "", resource: "pods" }, namespaced: true });
  });
  afterEach(async () => {
    await Promise.all(cachers.splice(0).map(async (cacher) => cacher.stop()));
  });
  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  });

  it("serves 50 watchers through one store watch", async () => {
    const before = await storeWatchers(member);
    const cacher = await startCacher();
    await waitFor(async () => ((await storeWatchers(member)) === before + 1 ? true : undefined), { timeoutMs: waitMs, description: "the cache's store watch" });
    const watchers = await Promise.all(Array.from({ length: 50 }, async () => cacher.watch(prefix, { resourceVersion: String(cacher.revision) })));
    await store.create(pod("fan-out"));
    for (const watcher of watchers) expect(summary(await take(watcher, 1))).toEqual(["ADDED fan-out"]);
    expect(await storeWatchers(member)).toBe(before + 1);
    expect(cacher.stats().storeWatchesOpened).toBe(1);
  });

  it("replays from a resourceVersion inside the window and answers 410 for one before it", async () => {
    const cacher = await startCacher({ eventWindowEventsMax: 4 });
    const first = await store.create(pod("replay-0"));
    let last = first;
    for (let index = 1; index <= 5; index++) last = await store.create(pod(`replay-${index}`));
    await cacheReaches(cacher, rvOf(last));
    const tooOld = rvOf(first);
    const error = await cacher.watch(prefix, { resourceVersion: String(tooOld) }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(GoneError);
    expect((error as GoneError).message).toMatch(new RegExp(`^too old resource version: ${tooOld} \\(\\d+\\)$`));
    const watcher = await cacher.watch(prefix, { resourceVersion: String(rvOf(last) - 2) });
    await store.delete(keyOf("replay-0"));
    expect(summary(await take(watcher, 3))).toEqual(["ADDED replay-4", "ADDED replay-5", "DELETED replay-0"]);
  });

  it("sends bookmarks carrying the cache's revision to watchers that ask for them", async () => {
    const cacher = await startCacher({ bookmarkIntervalMs: 200 });
    const watcher = await cacher.watch(prefix, { resourceVersion: String(cacher.revision), allowBookmarks: true });
    const created = await store.create(pod("bookmarked"));
    const [added, bookmark] = await take(watcher, 2);
    expect(added?.type).toBe("ADDED");
    expect(bookmark?.type).toBe("BOOKMARK");
    expect(rvOf(bookmark?.object ?? {})).toBeGreaterThanOrEqual(rvOf(created));
  });

  it("keeps its watchers across a restart of the store member and sees writes made after it", async () => {
    const cacher = await startCacher();
    const watcher = await cacher.watch(prefix, { resourceVersion: String(cacher.revision) });
    await member.daemon?.kill();
    cluster.startMember(member, "new");
    await cluster.waitHealthy();
    // A create whose answer was lost to the restart may have landed: AlreadyExists is success then.
    const createOnce = async () => store.create(pod("after-restart")).then(() => true, (error: unknown) => (error instanceof AlreadyExistsError ? true : Promise.reject(error)));
    await waitFor(createOnce, { timeoutMs: waitMs, intervalMs: 200, description: "a write after the restart" });
    expect(summary(await take(watcher, 1))).toEqual(["ADDED after-restart"]);
    expect(watcher.terminationReason).toBeUndefined();
    expect(cacher.stats().storeWatchesOpened).toBeGreaterThanOrEqual(2);
    expect(cacher.stats().relists).toBe(1);
  });
});
