import { describe, expect, it } from "vitest";
import { deepFreeze, type ObjectAttrs, type ObjectFilter, type StoredObject } from "./objects.ts";
import { CacheWatcher, convertEvent, initialEventsEndAnnotation, type CacheEntry, type CacheEvent, type WatchEvent } from "./watch.ts";

const key = "/registry/core/pods/ns/web";

function object(resourceVersion: number, tier: string): StoredObject {
  return deepFreeze({ metadata: { name: "web", namespace: "ns", resourceVersion: String(resourceVersion), labels: { tier } } });
}

const attrs = (tier: string): ObjectAttrs => ({ labels: { tier }, fields: {} });
const entry = (resourceVersion: number, tier: string, name = key): CacheEntry => ({ key: name, object: object(resourceVersion, tier), attrs: attrs(tier) });

function modified(resourceVersion: number, from: string, to: string): CacheEvent {
  return { type: "MODIFIED", key, resourceVersion, object: object(resourceVersion, to), attrs: attrs(to), previous: entry(resourceVersion - 1, from) };
}

const frontend: ObjectFilter = (objectAttrs) => objectAttrs.labels["tier"] === "frontend";
const rvOf = (event: WatchEvent | undefined) => (event?.object["metadata"] as Record<string, unknown> | undefined)?.["resourceVersion"];

function watcher(overrides: Partial<ConstructorParameters<typeof CacheWatcher>[0]> = {}): { watcher: CacheWatcher; closed: CacheWatcher[] } {
  const closed: CacheWatcher[] = [];
  const created = new CacheWatcher({
    target: { key: "/registry/core/pods/", prefix: true },
    filter: undefined,
    allowBookmarks: false,
    startRevision: 10,
    initial: [],
    initialEventsEnd: false,
    replay: [],
    queueEventsMax: 10,
    onClose: (closing) => closed.push(closing),
    ...overrides,
  });
  return { watcher: created, closed };
}

describe("convertEvent", () => {
  it("passes events through unchanged without a filter", () => {
    expect(convertEvent(modified(5, "backend", "frontend"), undefined)?.type).toBe("MODIFIED");
  });

  it("turns an update into ADDED, MODIFIED, DELETED or nothing as the object moves through the filter", () => {
    expect(convertEvent(modified(5, "backend", "frontend"), frontend)?.type).toBe("ADDED");
    expect(convertEvent(modified(5, "frontend", "frontend"), frontend)?.type).toBe("MODIFIED");
    expect(convertEvent(modified(5, "backend", "backend"), frontend)).toBeUndefined();
    const leaving = convertEvent(modified(5, "frontend", "backend"), frontend);
    expect(leaving?.type).toBe("DELETED");
    // The previous content, at the revision of the update that moved it out.
    expect((leaving?.object["metadata"] as Record<string, unknown>)["labels"]).toEqual({ tier: "frontend" });
    expect(rvOf(leaving)).toBe("5");
  });
});

describe("CacheWatcher", () => {
  it("yields the snapshot, then the replay, then live events, in that order", async () => {
    const { watcher: w } = watcher({ initial: [entry(3, "a", `${key}-1`)], replay: [modified(11, "a", "b")] });
    w.offer(modified(12, "b", "c"));
    expect((await w.next())?.type).toBe("ADDED");
    expect(rvOf(await w.next())).toBe("11");
    expect(rvOf(await w.next())).toBe("12");
  });

  it("skips live events at or before its start revision and outside its target", async () => {
    const { watcher: w } = watcher();
    w.offer(modified(10, "a", "b"));
    w.offer({ ...modified(11, "a", "b"), key: "/registry/core/pods2/ns/x" });
    w.offer(modified(12, "a", "b"));
    expect(w.queuedEvents).toBe(1);
    expect(rvOf(await w.next())).toBe("12");
  });

  it("terminates itself when its queue is full, and says why", async () => {
    const { watcher: w, closed } = watcher({ queueEventsMax: 2 });
    w.offer(modified(11, "a", "b"));
    w.offer(modified(12, "a", "b"));
    w.offer(modified(13, "a", "b"));
    expect(w.terminationReason).toBe("fell-behind");
    expect(closed).toEqual([w]);
    expect(await w.next()).toBeUndefined();
  });

  it("sends bookmarks only when allowed and never below what it has queued", async () => {
    expect(watcher().watcher.offerBookmark(20)).toBe(false);
    const { watcher: w } = watcher({ allowBookmarks: true });
    expect(w.offerBookmark(9)).toBe(false);
    w.offer(modified(15, "a", "b"));
    expect(w.offerBookmark(14)).toBe(false);
    expect(w.offerBookmark(15)).toBe(true);
    await w.next();
    const bookmark = await w.next();
    expect(bookmark).toEqual({ type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } });
  });

  it("ends the initial events with an annotated bookmark at its start revision when asked", async () => {
    const { watcher: w } = watcher({ allowBookmarks: true, initialEventsEnd: true, initial: [entry(3, "a")] });
    expect((await w.next())?.type).toBe("ADDED");
    const end = await w.next();
    expect(end?.type).toBe("BOOKMARK");
    expect(end?.object["metadata"]).toEqual({ resourceVersion: "10", annotations: { [initialEventsEndAnnotation]: "true" } });
  });

  it("wakes a waiting reader on a live event and stops when the reader leaves its loop", async () => {
    const { watcher: w, closed } = watcher();
    const seen: WatchEvent[] = [];
    const reading = (async () => {
      for await (const event of w) {
        seen.push(event);
        break;
      }
    })();
    w.offer(modified(11, "a", "b"));
    await reading;
    expect(seen).toHaveLength(1);
    expect(w.terminationReason).toBe("stopped");
    expect(closed).toEqual([w]);
  });
});
