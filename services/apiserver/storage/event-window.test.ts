import { describe, expect, it } from "vitest";
import { EventWindow } from "./event-window.ts";
import type { CacheEvent } from "./watch.ts";

function event(resourceVersion: number, key = `/registry/core/pods/ns/p${resourceVersion}`): CacheEvent {
  const object = { metadata: { name: key, resourceVersion: String(resourceVersion) } };
  return { type: "ADDED", key, resourceVersion, object, attrs: { labels: {}, fields: {} }, previous: undefined };
}

describe("EventWindow", () => {
  it("serves every revision from the list on while nothing was evicted", () => {
    const window = new EventWindow(3);
    window.reset(10);
    window.push(event(11));
    window.push(event(12));
    expect(window.oldestServableRevision).toBe(10);
    expect(window.since(10).map((e) => e.resourceVersion)).toEqual([11, 12]);
    expect(window.since(11).map((e) => e.resourceVersion)).toEqual([12]);
    expect(window.since(12)).toEqual([]);
  });

  it("moves the oldest servable revision to the newest evicted event", () => {
    const window = new EventWindow(3);
    window.reset(10);
    for (const revision of [11, 12, 13, 14, 15]) window.push(event(revision));
    expect(window.size).toBe(3);
    expect(window.oldestServableRevision).toBe(12);
    expect(window.since(12).map((e) => e.resourceVersion)).toEqual([13, 14, 15]);
  });

  it("counts a revision as gone when eviction split its events", () => {
    const window = new EventWindow(2);
    window.reset(10);
    window.push(event(11, "a"));
    window.push(event(11, "b"));
    window.push(event(12, "c"));
    // One of revision 11's events is gone, so a watch must start at 11 or later (replaying only 12).
    expect(window.oldestServableRevision).toBe(11);
    expect(window.since(11).map((e) => e.key)).toEqual(["c"]);
  });

  it("empties on reset and refuses events that go back in revision", () => {
    const window = new EventWindow(2);
    window.reset(10);
    window.push(event(12));
    expect(() => window.push(event(11))).toThrow(/revision order/);
    window.reset(20);
    expect(window.size).toBe(0);
    expect(window.oldestServableRevision).toBe(20);
    expect(() => window.push(event(20))).toThrow(/follow the list/);
  });
});
