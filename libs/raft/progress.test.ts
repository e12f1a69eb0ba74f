import { describe, expect, it } from "vitest";
import { Inflights, Progress } from "./progress.ts";
import { ProgressState } from "./types.ts";

function progress(match: number, next: number, maxInflightMessages = 3): Progress {
  return new Progress({ match, next, isLearner: false, maxInflightMessages });
}

describe("Inflights", () => {
  it("is full once it holds its capacity of appends", () => {
    const inflights = new Inflights(3);
    inflights.add(1);
    inflights.add(2);
    expect(inflights.full()).toBe(false);
    inflights.add(3);
    expect(inflights.full()).toBe(true);
  });

  it("refuses an append while full (a broken invariant)", () => {
    const inflights = new Inflights(1);
    inflights.add(1);
    expect(() => inflights.add(2)).toThrow(/full inflight window/);
  });

  it("frees every append up to an acknowledged index, across the ring's wrap-around", () => {
    const inflights = new Inflights(4);
    for (const index of [1, 2, 3, 4]) inflights.add(index);
    inflights.freeLE(2);
    inflights.add(5);
    inflights.add(6);
    expect(inflights.indexes()).toEqual([3, 4, 5, 6]);
    inflights.freeLE(5);
    expect(inflights.indexes()).toEqual([6]);
    inflights.freeLE(100);
    expect(inflights.count).toBe(0);
  });

  it("an acknowledgement below the oldest append frees nothing", () => {
    const inflights = new Inflights(4);
    inflights.add(5);
    inflights.freeLE(4);
    expect(inflights.indexes()).toEqual([5]);
  });

  it("freeFirstOne frees only the oldest append", () => {
    const inflights = new Inflights(2);
    inflights.add(7);
    inflights.add(9);
    inflights.freeFirstOne();
    expect(inflights.indexes()).toEqual([9]);
  });
});

describe("Progress", () => {
  it("maybeUpdate raises match and next, and ignores a stale acknowledgement", () => {
    const p = progress(3, 4);
    expect(p.maybeUpdate(5)).toBe(true);
    expect([p.match, p.next]).toEqual([5, 6]);
    expect(p.maybeUpdate(4)).toBe(false);
    expect([p.match, p.next]).toEqual([5, 6]);
  });

  it("in Probe state, one append at a time: sending pauses until an answer", () => {
    const p = progress(0, 1);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 1);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(1); // probing does not advance next optimistically
    p.maybeUpdate(1);
    expect(p.isPaused()).toBe(false);
  });

  it("in Replicate state, next advances optimistically and the window bounds the pipeline", () => {
    const p = progress(5, 6, 2);
    p.becomeReplicate();
    p.sentEntries(2, 7);
    expect(p.next).toBe(8);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 8);
    expect(p.isPaused()).toBe(true);
    p.inflights.freeLE(7);
    expect(p.isPaused()).toBe(false);
  });

  it("a rejection in Replicate state falls back to match+1; one at or below match is stale", () => {
    const p = progress(5, 10);
    p.becomeReplicate();
    p.next = 10;
    expect(p.maybeDecrTo(4, 0)).toBe(false);
    expect(p.maybeDecrTo(8, 0)).toBe(true);
    expect(p.next).toBe(6);
  });

  it("a rejection in Probe state moves next to the hint, never below match+1", () => {
    const p = progress(2, 10);
    expect(p.maybeDecrTo(9, 4)).toBe(true);
    expect(p.next).toBe(5);
    const q = progress(2, 10);
    expect(q.maybeDecrTo(9, 0)).toBe(true);
    expect(q.next).toBe(3);
  });

  it("a rejection in Probe state for another index than the last probe is stale", () => {
    const p = progress(2, 10);
    expect(p.maybeDecrTo(7, 3)).toBe(false);
    expect(p.next).toBe(10);
  });

  it("after a snapshot, probing resumes right after it", () => {
    const p = progress(2, 3);
    p.becomeSnapshot(20);
    expect(p.state).toBe(ProgressState.Snapshot);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect(p.state).toBe(ProgressState.Probe);
    expect(p.next).toBe(21);
  });

  it("appends are never sent to a follower receiving a snapshot", () => {
    const p = progress(2, 3);
    p.becomeSnapshot(20);
    expect(() => p.sentEntries(1, 3)).toThrow(/snapshot/);
  });
});
