import { describe, expect, it } from "vitest";
import { InvariantError } from "../assert/index.ts";
import { prefixRangeEnd } from "./bytes.ts";
import type { MvccStore } from "./store.ts";
import type { Event, WriteResult } from "./types.ts";
import { WatchFilterType, WatchHub, type WatchResponse } from "./watch.ts";
import { b, describeEvent, newStore, text } from "./test-support.ts";

const all = new Uint8Array([0]);

/** A store and hub wired the way the caller wires them: notify after every write. */
function setup(options: { watchQueueEventsMax?: number; catchUpRecordsMax?: number } = {}) {
  const store = newStore();
  const hub = new WatchHub(store, options);
  const apply = <R>(result: WriteResult<R>): WriteResult<R> => {
    hub.notify(result.events);
    return result;
  };
  const put = (key: string, value: string) => apply(store.put({ key: b(key), value: b(value) }));
  const del = (key: string) => apply(store.deleteRange({ key: b(key) }));
  return { store, hub, apply, put, del };
}

/** Everything a watcher has to give, taking up to `maxEvents` per response. */
function drain(hub: WatchHub, watchId: number, maxEvents = 100): WatchResponse[] {
  const responses: WatchResponse[] = [];
  for (let round = 0; round < 1000 && hub.isReady(watchId); round++) {
    const response = hub.take(watchId, maxEvents);
    if (response !== undefined) responses.push(response);
  }
  return responses;
}

function events(responses: readonly WatchResponse[]): string[] {
  return responses.flatMap((response) => response.events.map(describeEvent));
}

describe("watch: live events", () => {
  it("delivers puts and deletes of a watched key and nothing else", () => {
    const { hub, put, del } = setup();
    const id = hub.watch({ key: b("a") });
    put("a", "1");
    put("b", "1");
    del("a");
    expect(events(drain(hub, id))).toEqual(["PUT a=1@2", "DELETE a@4"]);
  });

  it("delivers every key of a range or prefix", () => {
    const { hub, put } = setup();
    const prefixId = hub.watch({ key: b("p/"), rangeEnd: prefixRangeEnd(b("p/")) });
    const fromId = hub.watch({ key: b("m"), rangeEnd: all });
    put("p/1", "x");
    put("q", "x");
    put("a", "x");
    expect(events(drain(hub, prefixId))).toEqual(["PUT p/1=x@2"]);
    expect(events(drain(hub, fromId))).toEqual(["PUT p/1=x@2", "PUT q=x@3"]);
  });

  it("an empty key watches from \\0, so key '' with range_end \\0 watches everything", () => {
    const { hub, put } = setup();
    const id = hub.watch({ key: new Uint8Array(0), rangeEnd: all });
    put("a", "1");
    put("z", "1");
    expect(events(drain(hub, id))).toHaveLength(2);
  });

  it("starts after the current revision when no start revision is given", () => {
    const { hub, put } = setup();
    put("a", "old");
    const id = hub.watch({ key: b("a") });
    put("a", "new");
    expect(events(drain(hub, id))).toEqual(["PUT a=new@3"]);
  });

  it("filters out puts or deletes on request", () => {
    const { hub, put, del } = setup();
    const noPut = hub.watch({ key: b("a"), filters: [WatchFilterType.NoPut] });
    const noDelete = hub.watch({ key: b("a"), filters: [WatchFilterType.NoDelete] });
    put("a", "1");
    del("a");
    expect(events(drain(hub, noPut))).toEqual(["DELETE a@3"]);
    expect(events(drain(hub, noDelete))).toEqual(["PUT a=1@2"]);
  });

  it("includes the previous key-value only for watchers that asked for it", () => {
    const { hub, put, del } = setup();
    put("a", "1");
    const withPrev = hub.watch({ key: b("a"), prevKv: true });
    const without = hub.watch({ key: b("a") });
    put("a", "2");
    del("a");
    const prevValues = drain(hub, withPrev).flatMap((response) => response.events.map((event) => text(event.prevKv?.value ?? new Uint8Array())));
    expect(prevValues).toEqual(["1", "2"]);
    expect(drain(hub, without).flatMap((response) => response.events.map((event) => event.prevKv))).toEqual([undefined, undefined]);
  });

  it("does not deliver revisions below a future start revision, then delivers from it", () => {
    const { hub, put } = setup();
    const id = hub.watch({ key: b("a"), startRevision: 4 });
    put("a", "1");
    put("a", "2");
    put("a", "3");
    expect(events(drain(hub, id))).toEqual(["PUT a=3@4"]);
  });

  it("never splits one revision's events across responses", () => {
    const { hub, apply, store } = setup();
    const id = hub.watch({ key: b("k"), rangeEnd: all });
    apply(store.txn({ success: [1, 2, 3].map((i) => ({ requestPut: { key: b(`k${i}`), value: b("v") } })) }));
    apply(store.put({ key: b("k9"), value: b("v") }));
    const responses = drain(hub, id, 2);
    expect(responses.map((response) => response.events.length)).toEqual([3, 1]);
  });

  it("asserts that notify is called once per revision, in order", () => {
    const { store, hub } = setup();
    store.put({ key: b("a"), value: b("1") });
    const skipped = store.put({ key: b("a"), value: b("2") });
    expect(() => hub.notify(skipped.events)).toThrow(InvariantError);
  });

  it("lists watchers with something to take, and forgets a canceled watcher", () => {
    const { hub, put } = setup();
    const id = hub.watch({ key: b("a") });
    const other = hub.watch({ key: b("b") });
    put("a", "0");
    expect(hub.ready()).toEqual([id]);
    expect(hub.isReady(other)).toBe(false);
    hub.take(id, 10);
    expect(hub.ready()).toEqual([]);
    expect(hub.cancel(id)).toBe(true);
    put("a", "1");
    expect(hub.take(id, 10)).toBeUndefined();
    expect(hub.cancel(id)).toBe(false);
  });
});

describe("watch: history", () => {
  function history(store: MvccStore, apply: <R>(result: WriteResult<R>) => WriteResult<R>): void {
    apply(store.put({ key: b("a"), value: b("1") })); // 2
    apply(store.put({ key: b("b"), value: b("1") })); // 3
    apply(store.put({ key: b("a"), value: b("2") })); // 4
    apply(store.deleteRange({ key: b("a") })); // 5
  }

  it("replays from a past start revision, with previous values, then continues live", () => {
    const { store, hub, apply, put } = setup();
    history(store, apply);
    const id = hub.watch({ key: b("a"), startRevision: 3, prevKv: true });
    const replayed = drain(hub, id);
    expect(events(replayed)).toEqual(["PUT a=2@4", "DELETE a@5"]);
    expect(replayed.flatMap((response) => response.events.map((event: Event) => text(event.prevKv?.value ?? new Uint8Array())))).toEqual(["1", "2"]);
    put("a", "3");
    expect(events(drain(hub, id))).toEqual(["PUT a=3@6"]);
  });

  it("cancels a watch whose start revision is compacted, reporting the compact revision", () => {
    const { store, hub, apply } = setup();
    history(store, apply);
    store.compact(4);
    const id = hub.watch({ key: b("a"), startRevision: 3 });
    const response = hub.take(id, 10);
    expect(response).toMatchObject({ watchId: id, canceled: true, compactRevision: 4, events: [] });
    expect(hub.take(id, 10)).toBeUndefined();
  });

  it("a watch from exactly the compact revision sees the delete made at it", () => {
    const { store, hub, apply } = setup();
    history(store, apply);
    apply(store.put({ key: b("b"), value: b("2") })); // 6
    store.compact(5);
    const id = hub.watch({ key: b("a"), rangeEnd: all, startRevision: 5 });
    expect(events(drain(hub, id))).toEqual(["DELETE a@5", "PUT b=2@6"]);
  });

  it("reads long histories in bounded slices of whole revisions", () => {
    const { hub, put } = setup({ catchUpRecordsMax: 3 });
    for (let i = 0; i < 10; i++) put(`k${i}`, "v");
    const id = hub.watch({ key: b("k"), rangeEnd: all, startRevision: 2 });
    const responses = drain(hub, id);
    expect(responses.length).toBeGreaterThan(3);
    expect(events(responses)).toHaveLength(10);
  });
});

describe("watch: slow watchers", () => {
  it("a watcher whose queue overflows falls back to history and loses nothing", () => {
    const { hub, put } = setup({ watchQueueEventsMax: 4 });
    const slow = hub.watch({ key: b("k"), rangeEnd: all });
    for (let i = 0; i < 10; i++) put(`k${i}`, `${i}`);
    expect(hub.stats.slowDemotions).toBe(1);
    expect(hub.stats.unsynced).toBe(1);
    const delivered = events(drain(hub, slow));
    expect(delivered).toEqual(Array.from({ length: 10 }, (_, i) => `PUT k${i}=${i}@${i + 2}`));
    put("k", "live");
    expect(events(drain(hub, slow))).toEqual(["PUT k=live@12"]);
    expect(hub.stats.unsynced).toBe(0);
  });

  it("a slow watcher overtaken by compaction is canceled with the compact revision", () => {
    const { store, hub, put } = setup({ watchQueueEventsMax: 2 });
    const slow = hub.watch({ key: b("k"), rangeEnd: all });
    for (let i = 0; i < 6; i++) put("k", `${i}`);
    store.compact(6);
    expect(hub.take(slow, 100)).toMatchObject({ canceled: true, compactRevision: 6 });
  });
});

describe("watch: progress", () => {
  it("reports the current revision only when the watcher has delivered everything", () => {
    const { hub, put } = setup();
    const id = hub.watch({ key: b("a") });
    put("a", "1");
    expect(hub.progress(id)).toBeUndefined();
    drain(hub, id);
    expect(hub.progress(id)).toBe(2);
    put("b", "1");
    expect(hub.progress(id)).toBe(3);
  });

  it("does not report before a future start revision, nor while a write is not yet notified", () => {
    const { store, hub } = setup();
    const future = hub.watch({ key: b("a"), startRevision: 10 });
    expect(hub.progress(future)).toBeUndefined();
    const now = hub.watch({ key: b("a") });
    store.put({ key: b("a"), value: b("1") });
    expect(hub.progress(now)).toBeUndefined();
    expect(hub.progressAll([now, future])).toBeUndefined();
  });
});

describe("watch: restore", () => {
  it("after the store restores a snapshot, watchers catch up from the new history", () => {
    const { store, hub, put } = setup();
    const id = hub.watch({ key: b("a"), rangeEnd: all });
    put("a", "1");
    expect(events(drain(hub, id))).toEqual(["PUT a=1@2"]);
    const leader = newStore();
    leader.put({ key: b("a"), value: b("1") });
    leader.put({ key: b("b"), value: b("2") });
    leader.put({ key: b("c"), value: b("3") });
    store.restoreSnapshot(leader.serializeSnapshot());
    expect(events(drain(hub, id))).toEqual(["PUT b=2@3", "PUT c=3@4"]);
    put("d", "4");
    expect(events(drain(hub, id))).toEqual(["PUT d=4@5"]);
  });
});
