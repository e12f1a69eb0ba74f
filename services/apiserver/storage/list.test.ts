import { describe, expect, it } from "vitest";
import { decodeContinue } from "./continue.ts";
import { BadRequestError, GoneError, TooLargeResourceVersionError } from "./errors.ts";
import { listExpiredMessages, planList, type ListResult } from "./list.ts";
import type { StoredObject } from "./objects.ts";
import { ObjectStore } from "./store.ts";
import { FakeEtcd } from "./test-support.ts";

const prefix = "/registry/core/configmaps/";

function setup(options: { listRangeCallsMax?: number } = {}): { fake: FakeEtcd; store: ObjectStore } {
  const fake = new FakeEtcd();
  return { fake, store: new ObjectStore({ client: fake, resource: { group: "", resource: "configmaps" }, namespaced: true, ...options }) };
}

const nameOf = (object: StoredObject) => String((object["metadata"] as Record<string, unknown>)["name"]);
const names = (result: ListResult) => result.items.map(nameOf);
const padded = (index: number) => `cm-${String(index).padStart(3, "0")}`;

async function createMany(store: ObjectStore, count: number, labelled: (index: number) => boolean = () => false, namespace = "default"): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.create({ metadata: { namespace, name: padded(index), labels: { pick: labelled(index) ? "yes" : "no" } } });
  }
}

const picked = (attrs: { labels: Readonly<Record<string, string>> }) => attrs.labels["pick"] === "yes";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("list paging", () => {
  it("gives a whole-collection read the request's 60 s deadline and a page the client's own", async () => {
    const { fake, store } = setup();
    await createMany(store, 3);
    fake.rangeTimeoutsMs = [];
    await store.list(prefix, {});
    await store.list(prefix, { limit: 2 });
    expect(fake.rangeTimeoutsMs).toEqual([60_000, undefined]);
  });

  it("pages with limit and continue at one revision, counting the remaining items", async () => {
    const { fake, store } = setup();
    await createMany(store, 25);
    const first = await store.list(prefix, { limit: 10 });
    expect(names(first)).toEqual(Array.from({ length: 10 }, (_, index) => padded(index)));
    expect(first.resourceVersion).toBe(String(fake.currentRevision));
    expect(first.remainingItemCount).toBe(15);
    // A write after the first page does not show up in later pages: they read the first page's revision.
    await store.create({ metadata: { namespace: "default", name: "cm-012a" } });
    const second = await store.list(prefix, { limit: 10, continue: first.continue });
    expect(second.resourceVersion).toBe(first.resourceVersion);
    expect(names(second)).toEqual(Array.from({ length: 10 }, (_, index) => padded(index + 10)));
    expect(second.remainingItemCount).toBe(5);
    const third = await store.list(prefix, { limit: 10, continue: second.continue });
    expect(names(third)).toEqual(Array.from({ length: 5 }, (_, index) => padded(index + 20)));
    expect(third.continue).toBeUndefined();
    expect(third.remainingItemCount).toBeUndefined();
  });

  it("applies the filter before the limit and reads on until the page is full", async () => {
    const { store } = setup();
    await createMany(store, 30, (index) => index % 3 === 0);
    const pages: ListResult[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await store.list(prefix, { limit: 4, continue: token, filter: picked });
      pages.push(result);
      token = result.continue;
      if (token === undefined) break;
    }
    expect(pages[0]?.items).toHaveLength(4);
    expect(pages[0]?.remainingItemCount).toBeUndefined();
    expect(pages.flatMap(names)).toEqual(Array.from({ length: 10 }, (_, index) => padded(index * 3)));
    expect(new Set(pages.map((page) => page.resourceVersion)).size).toBe(1);
  });

  it("doubles the page it reads from the store while a filter leaves the page short", async () => {
    const { fake, store } = setup();
    await createMany(store, 40, (index) => index === 39);
    fake.rangeRequests = [];
    const result = await store.list(prefix, { limit: 2, filter: picked });
    expect(names(result)).toEqual([padded(39)]);
    expect(fake.rangeRequests.map((request) => Number(request.limit))).toEqual([2, 4, 8, 16, 32]);
    // Every read after the first is pinned to the first read's revision.
    expect(new Set(fake.rangeRequests.slice(1).map((request) => Number(request.revision))).size).toBe(1);
    expect(Number(fake.rangeRequests[1]?.revision)).toBe(Number(result.resourceVersion));
  });

  it("returns a short page with a continue token after listRangeCallsMax reads", async () => {
    const { fake, store } = setup({ listRangeCallsMax: 2 });
    await createMany(store, 20, (index) => index === 19);
    fake.rangeRequests = [];
    const first = await store.list(prefix, { limit: 1, filter: picked });
    expect(first.items).toEqual([]);
    expect(fake.rangeRequests).toHaveLength(2);
    expect(first.continue).toBeDefined();
    let token = first.continue;
    const found: string[] = [];
    for (let page = 0; page < 10 && token !== undefined; page++) {
      const next = await store.list(prefix, { limit: 1, filter: picked, continue: token });
      found.push(...names(next));
      token = next.continue;
    }
    expect(found).toEqual([padded(19)]);
  });

  it("keeps a namespace's list to that namespace, not to namespaces whose names extend it", async () => {
    const { store } = setup();
    await createMany(store, 2, () => false, "a");
    await createMany(store, 2, () => false, "ab");
    const result = await store.list(`${prefix}a`);
    expect(result.items.map((object) => (object["metadata"] as Record<string, unknown>)["namespace"])).toEqual(["a", "a"]);
  });
});

describe("list resourceVersion semantics", () => {
  it("reads the state at an exact old revision (Exact, or a paged list with a revision)", async () => {
    const { store } = setup();
    await createMany(store, 3);
    const before = await store.list(prefix);
    await store.delete(`${prefix}default/${padded(0)}`);
    await store.create({ metadata: { namespace: "default", name: "cm-new" } });
    const exact = await store.list(prefix, { resourceVersion: before.resourceVersion, resourceVersionMatch: "Exact" });
    expect(names(exact)).toEqual(names(before));
    expect(exact.resourceVersion).toBe(before.resourceVersion);
    const legacy = await store.list(prefix, { resourceVersion: before.resourceVersion, limit: 10 });
    expect(names(legacy)).toEqual(names(before));
  });

  it("reads the latest state for a revision without limit (not older than), and refuses a future one", async () => {
    const { fake, store } = setup();
    await createMany(store, 2);
    const before = await store.list(prefix);
    await store.create({ metadata: { namespace: "default", name: "cm-new" } });
    const latest = await store.list(prefix, { resourceVersion: before.resourceVersion });
    expect(names(latest)).toContain("cm-new");
    expect(latest.resourceVersion).toBe(String(fake.currentRevision));
    const error = await rejection(store.list(prefix, { resourceVersion: String(fake.currentRevision + 5), resourceVersionMatch: "NotOlderThan" }));
    expect(error).toBeInstanceOf(TooLargeResourceVersionError);
    await expect(store.list(prefix, { resourceVersion: String(fake.currentRevision + 5), resourceVersionMatch: "Exact" })).rejects.toBeInstanceOf(
      TooLargeResourceVersionError,
    );
  });

  it("reads serializably for resourceVersion 0 and linearizably when it is unset", async () => {
    const { fake, store } = setup();
    await store.list(prefix, { resourceVersion: "0" });
    expect(fake.rangeRequests.at(-1)?.serializable).toBe(true);
    await store.list(prefix);
    expect(fake.rangeRequests.at(-1)?.serializable).toBe(false);
  });

  it("answers a compacted revision with 410 and upstream's text", async () => {
    const { fake, store } = setup();
    await createMany(store, 2);
    const before = await store.list(prefix);
    await store.create({ metadata: { namespace: "default", name: "cm-new" } });
    fake.compact(fake.currentRevision);
    const error = await rejection(store.list(prefix, { resourceVersion: before.resourceVersion, resourceVersionMatch: "Exact" }));
    expect(error).toBeInstanceOf(GoneError);
    expect((error as GoneError).message).toBe(listExpiredMessages.expired);
    expect((error as GoneError).continueToken).toBeUndefined();
  });

  it("answers a continue token older than the compaction with 410 and a token that goes on at the latest revision", async () => {
    const { fake, store } = setup();
    await createMany(store, 6);
    const first = await store.list(prefix, { limit: 2 });
    await store.delete(`${prefix}default/${padded(3)}`);
    fake.compact(fake.currentRevision);
    const error = await rejection(store.list(prefix, { limit: 2, continue: first.continue }));
    expect(error).toBeInstanceOf(GoneError);
    expect((error as GoneError).message).toBe(listExpiredMessages.inconsistentContinue);
    const offered = (error as GoneError).continueToken;
    expect(offered).toBeDefined();
    expect(decodeContinue(offered as string, prefix).revision).toBe(-1);
    // Going on with the offered token gives the rest as it is now (without the deleted object).
    const rest = await store.list(prefix, { limit: 10, continue: offered });
    expect(names(rest)).toEqual([padded(2), padded(4), padded(5)]);
    expect(rest.resourceVersion).toBe(String(fake.currentRevision));
  });

  it("refuses inconsistent options with BadRequestError", async () => {
    const { store } = setup();
    await createMany(store, 3);
    const first = await store.list(prefix, { limit: 1 });
    await expect(store.list(prefix, { limit: 1, continue: first.continue, resourceVersion: "5" })).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.list(prefix, { limit: 1, continue: first.continue, resourceVersion: "0" })).resolves.toBeDefined();
    await expect(store.list(prefix, { resourceVersionMatch: "Exact" })).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.list(prefix, { resourceVersion: "0", resourceVersionMatch: "Exact" })).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.list(prefix, { limit: -1 })).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.list("/registry/core/secrets/")).rejects.toBeInstanceOf(BadRequestError);
    await expect(store.list(prefix, { continue: "not-a-token" })).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe("planList", () => {
  it("follows upstream's table for an unset match", () => {
    expect(planList(prefix, {})).toMatchObject({ revision: 0, serializable: false, minimumRevision: undefined });
    expect(planList(prefix, { resourceVersion: "0", limit: 5 })).toMatchObject({ revision: 0, serializable: true });
    expect(planList(prefix, { resourceVersion: "7" })).toMatchObject({ revision: 0, minimumRevision: 7 });
    expect(planList(prefix, { resourceVersion: "7", limit: 5 })).toMatchObject({ revision: 7, minimumRevision: undefined });
    expect(planList(prefix, { resourceVersion: "7", limit: 5, resourceVersionMatch: "NotOlderThan" })).toMatchObject({ revision: 0, minimumRevision: 7 });
  });
});
