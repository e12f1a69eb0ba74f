import { describe, expect, it } from "vitest";
import { checkWatchStreams, type HistoryEntry, type KvOperation, type KvResult, type WatchEvent, type WatchStream } from "../../libs/lincheck/index.ts";
import { analyzeHistory, countOutcomes, longestWriteUnavailabilityMs, lostAcknowledgedWrites, refineUnknownWrites, statusWithout } from "./analysis.ts";

const key = "/p/a";

function ok(client: number, operation: KvOperation, invokeTime: number, completeTime: number, result: KvResult): HistoryEntry {
  return { client, operation, invokeTime, outcome: { status: "ok", completeTime, result } };
}

function unknown(client: number, operation: KvOperation, invokeTime: number): HistoryEntry {
  return { client, operation, invokeTime, outcome: { status: "unknown" } };
}

function put(value: string, revision: number): WatchEvent {
  return { type: "put", key, modRevision: revision, value };
}

function stream(events: readonly WatchEvent[]): WatchStream {
  return { name: "watcher 0", key: "/p/", rangeEnd: "/p0", startRevision: 2, events };
}

// v2 was sent with an unknown outcome; the stream shows it committed at revision 3, and a read saw it.
const revealedHistory: HistoryEntry[] = [
  ok(0, { kind: "put", key, value: "v1" }, 0, 10, { kind: "put", revision: 2 }),
  unknown(1, { kind: "put", key, value: "v2" }, 5),
  ok(2, { kind: "put", key, value: "v3" }, 20, 30, { kind: "put", revision: 4 }),
  ok(3, { kind: "get", key }, 12, 15, { kind: "get", value: "v2", revision: 3 }),
];
const revealedStream = stream([put("v1", 2), put("v2", 3), put("v3", 4)]);

describe("refineUnknownWrites", () => {
  it("makes a write a stream revealed ok, completing when the next later-revision write was acknowledged", () => {
    const refinement = refineUnknownWrites(revealedHistory, checkWatchStreams(revealedHistory, [revealedStream]), true);
    expect(refinement.revealed).toBe(1);
    expect(refinement.dropped).toBe(0);
    expect(refinement.history[1]?.outcome).toEqual({ status: "ok", completeTime: 30, result: { kind: "put", revision: 3 } });
  });

  it("makes an unknown write no stream delivered failed", () => {
    const history = [...revealedHistory, unknown(4, { kind: "delete", key }, 40)];
    const refinement = refineUnknownWrites(history, checkWatchStreams(history, [revealedStream]), true);
    expect(refinement.dropped).toBe(1);
    expect(refinement.history[4]?.outcome).toEqual({ status: "failed", completeTime: 40 });
  });

  it("leaves the history raw when the watch check failed or a stream stopped short", () => {
    const duplicated = stream([put("v1", 2), put("v2", 3), put("v2", 3), put("v3", 4)]);
    const failedWatch = refineUnknownWrites(revealedHistory, checkWatchStreams(revealedHistory, [duplicated]), true);
    expect(failedWatch.skippedBecause).toBe("the watch check failed");
    expect(failedWatch.history).toBe(revealedHistory);
    const short = refineUnknownWrites(revealedHistory, checkWatchStreams(revealedHistory, [revealedStream]), false);
    expect(short.skippedBecause).toMatch(/did not reach the final write/);
  });
});

describe("analyzeHistory", () => {
  it("accepts a read of a write whose outcome was unknown once the stream shows it took effect", () => {
    const analysis = analyzeHistory(revealedHistory, [revealedStream], true);
    expect(analysis.watch.status).toBe("ok");
    expect(analysis.linearizability.status).toBe("linearizable");
    expect(analysis.counts).toEqual({ total: 4, ok: 3, failed: 0, unknown: 1 });
    expect(analysis.lostWrites).toEqual([]);
  });

  it("does not count writes as lost against streams that stopped short (a store without Watch)", () => {
    const analysis = analyzeHistory(revealedHistory, [stream([])], false);
    expect(analysis.lostWrites).toBeUndefined();
    expect(analysis.refinement.skippedBecause).toMatch(/did not reach the final write/);
    expect(analysis.linearizability.status).toBe("linearizable");
  });

  it("reports a stale read served after a newer write was acknowledged", () => {
    const history = [
      ok(0, { kind: "put", key, value: "v1" }, 0, 10, { kind: "put", revision: 2 }),
      ok(1, { kind: "put", key, value: "v2" }, 20, 30, { kind: "put", revision: 3 }),
      ok(2, { kind: "get", key }, 40, 50, { kind: "get", value: "v1", revision: 2 }),
    ];
    const analysis = analyzeHistory(history, [stream([put("v1", 2), put("v2", 3)])], true);
    expect(analysis.watch.status).toBe("ok");
    expect(analysis.linearizability.status).toBe("violation");
    // The control a plant relies on: the same history without the stale read is linearizable.
    expect(statusWithout(analysis, new Set([2]))).toBe("linearizable");
    expect(statusWithout(analysis, new Set([0]))).toBe("violation");
  });

  it("reports a read of a value that no stream delivered, since that write then never took effect", () => {
    const history = [
      ok(0, { kind: "put", key, value: "v1" }, 0, 10, { kind: "put", revision: 2 }),
      unknown(1, { kind: "put", key, value: "ghost" }, 12),
      ok(2, { kind: "get", key }, 20, 30, { kind: "get", value: "ghost", revision: 3 }),
    ];
    expect(analyzeHistory(history, [stream([put("v1", 2)])], true).linearizability.status).toBe("violation");
  });
});

describe("lostAcknowledgedWrites", () => {
  it("names acknowledged writes that took effect but that no stream delivered", () => {
    const history = [
      ok(0, { kind: "put", key, value: "v1" }, 0, 10, { kind: "put", revision: 2 }),
      ok(1, { kind: "cas", key, expected: "v1", value: "v2" }, 11, 20, { kind: "cas", succeeded: true, revision: 3 }),
      ok(2, { kind: "cas", key, expected: "zz", value: "v3" }, 21, 25, { kind: "cas", succeeded: false, revision: 3 }),
      ok(3, { kind: "delete", key }, 30, 40, { kind: "delete", deleted: 1, revision: 4 }),
    ];
    expect(lostAcknowledgedWrites(history, [stream([put("v1", 2), { type: "delete", key, modRevision: 4 }])])).toEqual([{ historyIndex: 1, revision: 3 }]);
  });
});

describe("longestWriteUnavailabilityMs", () => {
  it("measures from each leader loss to the first acknowledged write invoked after it", () => {
    const history = [
      ok(0, { kind: "put", key, value: "before" }, 90, 150, { kind: "put", revision: 2 }),
      ok(1, { kind: "put", key, value: "slow" }, 110, 900, { kind: "put", revision: 4 }),
      ok(2, { kind: "get", key }, 120, 130, { kind: "get", value: "before", revision: 2 }),
      ok(3, { kind: "cas", key, expected: "before", value: "first" }, 200, 400, { kind: "cas", succeeded: true, revision: 3 }),
      ok(4, { kind: "put", key, value: "later" }, 1100, 1250, { kind: "put", revision: 5 }),
    ];
    expect(longestWriteUnavailabilityMs(history, [100, 1000])).toBe(300);
    expect(longestWriteUnavailabilityMs(history, [])).toBeUndefined();
    expect(countOutcomes(history).ok).toBe(5);
  });
});
