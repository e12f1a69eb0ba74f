import { describe, expect, it } from "vitest";
import { createPrng } from "../prng/index.ts";
import {
  checkLinearizability,
  checkWatchStreams,
  compareKeys,
  formatWatchReport,
  keyInRange,
  type HistoryEntry,
  type WatchEvent,
  type WatchProblemKind,
  type WatchReport,
  type WatchStream,
  settleRevealedWrites,
} from "./index.ts";
import { generateHistory } from "./random-history.ts";

type Span = readonly [invokeTime: number, completeTime: number];

function putAt(key: string, value: string, revision: number, [invokeTime, completeTime]: Span): HistoryEntry {
  return { client: 1, operation: { kind: "put", key, value }, invokeTime, outcome: { status: "ok", completeTime, result: { kind: "put", revision } } };
}
function deleteAt(key: string, deleted: number, revision: number, [invokeTime, completeTime]: Span): HistoryEntry {
  return {
    client: 1, operation: { kind: "delete", key }, invokeTime,
    outcome: { status: "ok", completeTime, result: { kind: "delete", deleted, revision } },
  };
}
function casAt(key: string, expected: string, value: string, succeeded: boolean, revision: number, [invokeTime, completeTime]: Span): HistoryEntry {
  return {
    client: 2, operation: { kind: "cas", key, expected, value }, invokeTime,
    outcome: { status: "ok", completeTime, result: { kind: "cas", succeeded, revision } },
  };
}
function put(key: string, value: string, revision: number): WatchEvent {
  return { type: "put", key, modRevision: revision, value };
}
function del(key: string, revision: number): WatchEvent {
  return { type: "delete", key, modRevision: revision };
}
function stream(name: string, key: string, rangeEnd: string | undefined, events: WatchEvent[]): WatchStream {
  return rangeEnd === undefined ? { name, key, events } : { name, key, rangeEnd, events };
}
function kinds(report: WatchReport): [WatchProblemKind, string | undefined, number][] {
  return report.problems.map((problem) => [problem.kind, problem.stream, problem.revision]);
}

/** Revisions 2..7 over /x/1, /x/2 and /y/1; the failed CAS and the empty delete commit nothing. */
const history: HistoryEntry[] = [
  putAt("/x/1", "a", 2, [0, 1]),
  putAt("/y/1", "b", 3, [2, 3]),
  putAt("/x/2", "c", 4, [4, 5]),
  casAt("/x/1", "zzz", "never", false, 4, [6, 7]),
  deleteAt("/x/1", 1, 5, [8, 9]),
  deleteAt("/x/1", 0, 5, [10, 11]),
  casAt("/x/2", "c", "d", true, 6, [12, 13]),
  putAt("/y/1", "e", 7, [14, 15]),
];
const prefixX = (events: WatchEvent[]): WatchStream => stream("prefix /x/", "/x/", "/x0", events);
const allOfX = [put("/x/1", "a", 2), put("/x/2", "c", 4), del("/x/1", 5), put("/x/2", "d", 6)];

describe("checkWatchStreams", () => {
  it("accepts streams that deliver exactly the committed history of their range", () => {
    const report = checkWatchStreams(history, [
      prefixX(allOfX),
      stream("key /x/1", "/x/1", undefined, [put("/x/1", "a", 2), del("/x/1", 5)]),
      stream("everything", "\0", "\0", [put("/x/1", "a", 2), put("/y/1", "b", 3), put("/x/2", "c", 4), del("/x/1", 5),
        put("/x/2", "d", 6), put("/y/1", "e", 7)]),
      stream("from /y/", "/y/", "\0", [put("/y/1", "b", 3), put("/y/1", "e", 7)]),
    ]);
    expect(report.problems).toEqual([]);
    expect(report.status).toBe("ok");
  });

  it("reports a committed event missing between the first and last delivered revision", () => {
    const report = checkWatchStreams(history, [prefixX([put("/x/1", "a", 2), del("/x/1", 5), put("/x/2", "d", 6)])]);
    expect(kinds(report)).toEqual([["gap", "prefix /x/", 4]]);
  });

  it("reports events out of revision order and delivered twice", () => {
    const swapped = checkWatchStreams(history, [prefixX([put("/x/1", "a", 2), del("/x/1", 5), put("/x/2", "c", 4), put("/x/2", "d", 6)])]);
    expect(kinds(swapped)).toEqual([["out-of-order", "prefix /x/", 4]]);
    const twice = checkWatchStreams(history, [prefixX([...allOfX.slice(0, 2), put("/x/2", "c", 4), ...allOfX.slice(2)])]);
    expect(kinds(twice)).toEqual([["duplicate", "prefix /x/", 4]]);
  });

  it("reports an event that differs from the write committed at its revision", () => {
    const report = checkWatchStreams(history, [prefixX([put("/x/1", "a", 2), put("/x/2", "WRONG", 4), del("/x/1", 5), put("/x/2", "d", 6)])]);
    expect(kinds(report)).toEqual([["mismatch", "prefix /x/", 4]]);
    expect(report.problems[0]?.message).toContain('but history[2] committed put "/x/2" = "c" at revision 4');
  });

  it("reports an event no write explains, including one of a failed write", () => {
    const failedWrite: HistoryEntry = { client: 3, operation: { kind: "put", key: "/x/3", value: "f" }, invokeTime: 20, outcome: { status: "failed", completeTime: 21 } };
    const report = checkWatchStreams([...history, failedWrite], [prefixX([...allOfX, put("/x/3", "f", 8)])]);
    expect(kinds(report)).toEqual([["unwritten", "prefix /x/", 8]]);
  });

  it("reports an event outside the watched range", () => {
    const report = checkWatchStreams(history, [stream("key /x/1", "/x/1", undefined, [put("/x/1", "a", 2), put("/x/2", "c", 4), del("/x/1", 5)])]);
    expect(kinds(report)).toEqual([["out-of-range", "key /x/1", 4]]);
  });

  it("learns from a stream that an unknown-outcome write took effect, and holds other streams to it", () => {
    const unknownWrite: HistoryEntry = { client: 4, operation: { kind: "put", key: "/x/9", value: "late" }, invokeTime: 16, outcome: { status: "unknown" } };
    const withUnknown = [...history, unknownWrite, putAt("/x/1", "g", 9, [30, 31])];
    const sees = prefixX([...allOfX, put("/x/9", "late", 8), put("/x/1", "g", 9)]);
    const report = checkWatchStreams(withUnknown, [sees]);
    expect(report.status).toBe("ok");
    expect(report.revealedWrites).toEqual([{ historyIndex: 8, revision: 8 }]);
    const misses = prefixX([...allOfX, put("/x/1", "g", 9)]);
    expect(kinds(checkWatchStreams(withUnknown, [sees, { ...misses, name: "other" }]))).toEqual([["gap", "other", 8]]);
    // Without a stream that shows it, nothing says the write took effect, so nobody misses it.
    expect(checkWatchStreams(withUnknown, [misses]).status).toBe("ok");
  });

  it("checks the span a stream promised: from its start revision and up to its progress revision", () => {
    const promised: WatchStream = { ...prefixX([put("/x/2", "c", 4), del("/x/1", 5)]), startRevision: 2, progressRevision: 6 };
    expect(kinds(checkWatchStreams(history, [promised]))).toEqual([["gap", "prefix /x/", 2], ["gap", "prefix /x/", 6]]);
    const empty: WatchStream = { ...prefixX([]), startRevision: 5, progressRevision: 5 };
    expect(kinds(checkWatchStreams(history, [empty]))).toEqual([["gap", "prefix /x/", 5]]);
  });

  it("reports two writes acknowledged at one revision, and revisions that contradict real time", () => {
    const reused = checkWatchStreams([...history, putAt("/z", "h", 7, [40, 41])], []);
    expect(kinds(reused)).toEqual([["revision-reused", undefined, 7]]);
    const backwards = checkWatchStreams([putAt("/z", "first", 5, [0, 1]), putAt("/z", "second", 4, [2, 3])], []);
    expect(kinds(backwards)).toEqual([["revision-order", undefined, 5]]);
  });

  it("needs the revision of every acknowledged write and the count of every delete", () => {
    const noRevision: HistoryEntry = { client: 1, operation: { kind: "put", key: "/a", value: "v" }, invokeTime: 0, outcome: { status: "ok", completeTime: 1, result: { kind: "put" } } };
    expect(() => checkWatchStreams([noRevision], [])).toThrow(/history\[0\]: the watch check needs the revision/);
    const noCount: HistoryEntry = { client: 1, operation: { kind: "delete", key: "/a" }, invokeTime: 0, outcome: { status: "ok", completeTime: 1, result: { kind: "delete", revision: 3 } } };
    expect(() => checkWatchStreams([noCount], [])).toThrow(/deleted count/);
    expect(() => checkWatchStreams([], [stream("s", "/a", undefined, [{ type: "put", key: "/a", modRevision: 0, value: "v" }])])).toThrow(RangeError);
  });

  it("formats problems and revealed writes one per line", () => {
    const report = checkWatchStreams(history, [prefixX([put("/x/1", "a", 2), del("/x/1", 5), put("/x/2", "d", 6)])]);
    expect(formatWatchReport(report).split("\n")).toEqual([
      "watch streams violation (1 problems)",
      '  gap in prefix /x/: history[2] committed put "/x/2" = "c" at revision 4, inside the stream\'s span [2, 6], but it was not delivered',
    ]);
  });
});

describe("settleRevealedWrites", () => {
  const readOf = (value: string, [invokeTime, completeTime]: Span): HistoryEntry =>
    ({ client: 5, operation: { kind: "get", key: "/k" }, invokeTime, outcome: { status: "ok", completeTime, result: { kind: "get", value } } });
  const late: HistoryEntry = { client: 4, operation: { kind: "put", key: "/k", value: "b" }, invokeTime: 2, outcome: { status: "unknown" } };

  it("bounds a revealed write by the first completion of a write with a higher revision", () => {
    // Alone, the unknown put of "b" may land after everything, so the final read of "b" fits.
    const history = [putAt("/k", "a", 2, [0, 1]), late, putAt("/k", "c", 4, [5, 10]), putAt("/k", "d", 5, [11, 12]), readOf("b", [20, 21])];
    expect(checkLinearizability(history).status).toBe("linearizable");
    // The stream shows "b" at revision 3, so it took effect before the put at revision 4 completed,
    // hence before "d" was even invoked.
    const events = [put("/k", "a", 2), put("/k", "b", 3), put("/k", "c", 4), put("/k", "d", 5)];
    const watched = checkWatchStreams(history, [stream("key /k", "/k", undefined, events)]);
    expect(watched.revealedWrites).toEqual([{ historyIndex: 1, revision: 3 }]);
    const settled = settleRevealedWrites(history, watched.revealedWrites);
    expect(settled[1]?.outcome).toEqual({ status: "ok", completeTime: 10, result: { kind: "put", revision: 3 } });
    expect(checkLinearizability(settled).status).toBe("violation");
  });

  it("leaves a revealed write unknown when no later acknowledged write bounds it", () => {
    const history = [putAt("/k", "a", 2, [0, 1]), late];
    const watched = checkWatchStreams(history, [stream("key /k", "/k", undefined, [put("/k", "a", 2), put("/k", "b", 3)])]);
    expect(settleRevealedWrites(history, watched.revealedWrites)).toEqual(history);
  });
});

describe("checkWatchStreams on generated histories", () => {
  function streamsFor(generated: ReturnType<typeof generateHistory>, keys: number): WatchStream[] {
    const events = generated.committed.map((write): WatchEvent =>
      (write.type === "put" ? put(write.key, write.value ?? "", write.revision) : del(write.key, write.revision)));
    const perKey = Array.from({ length: keys }, (_, k) => stream(`key k${k}`, `k${k}`, undefined, events.filter((event) => event.key === `k${k}`)));
    return [...perKey, stream("everything", "\0", "\0", events)];
  }

  it("accepts the real execution's events and finds exactly the unknown writes that took effect", () => {
    const prng = createPrng(17);
    for (let round = 0; round < 20; round++) {
      const generated = generateHistory(prng, {
        clients: 5, operationsPerClient: 50, keys: 3, valuesPerKey: 0,
        unknownPercent: 10, failedPercent: 5, latencyMax: 20, thinkTimeMax: 10,
      });
      const report = checkWatchStreams(generated.history, streamsFor(generated, 3));
      expect(report.problems, `round ${round}`).toEqual([]);
      // Unknown writes with the same effect (two deletes of one key) are indistinguishable in a
      // stream, so compare what took effect where, not which of the twins it was.
      const effect = (historyIndex: number): string => {
        const entry = generated.history[historyIndex];
        expect(entry?.outcome.status).toBe("unknown");
        return JSON.stringify(entry?.operation);
      };
      const tookEffect = generated.committed.filter((write) => generated.history[write.historyIndex]?.outcome.status === "unknown");
      expect(report.revealedWrites.map((write) => [write.revision, effect(write.historyIndex)]))
        .toEqual(tookEffect.map((write) => [write.revision, effect(write.historyIndex)]));
      expect(new Set(report.revealedWrites.map((write) => write.historyIndex)).size).toBe(report.revealedWrites.length);
    }
  });

  it("finds one dropped event in a long stream", () => {
    const generated = generateHistory(createPrng(23), {
      clients: 5, operationsPerClient: 50, keys: 3, valuesPerKey: 0,
      unknownPercent: 0, failedPercent: 5, latencyMax: 20, thinkTimeMax: 10,
    });
    const streams = streamsFor(generated, 3);
    const everything = streams[3] as WatchStream;
    const dropped = everything.events[Math.floor(everything.events.length / 2)] as WatchEvent;
    streams[3] = { ...everything, events: everything.events.filter((event) => event !== dropped) };
    expect(kinds(checkWatchStreams(generated.history, streams))).toEqual([["gap", "everything", dropped.modRevision]]);
  });
});

describe("etcd key ranges", () => {
  it("selects one key, a half-open range, or everything from a key on", () => {
    expect(keyInRange("/a", "/a", undefined)).toBe(true);
    expect(keyInRange("/a/b", "/a", "")).toBe(false);
    expect(keyInRange("/a/b", "/a/", "/a0")).toBe(true);
    expect(keyInRange("/a0", "/a/", "/a0")).toBe(false);
    expect(keyInRange("/b", "/a", "\0")).toBe(true);
    expect(keyInRange("/", "/a", "\0")).toBe(false);
  });

  it("orders keys as etcd does, by UTF-8 bytes, even beyond the BMP", () => {
    // U+FF5E is one UTF-16 unit above the surrogates, but U+1F600 is the larger code point.
    expect(compareKeys("\uff5e", "\u{1f600}")).toBeLessThan(0);
    expect("\uff5e" < "\u{1f600}").toBe(false);
    expect(compareKeys("ab", "abc")).toBeLessThan(0);
    expect(compareKeys("b", "abc")).toBeGreaterThan(0);
    expect(compareKeys("same", "same")).toBe(0);
  });
});
