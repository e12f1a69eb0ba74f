import { describe, expect, it } from "vitest";
import { checkLinearizability, formatLinearizabilityReport, type HistoryEntry, type KeyVerdict } from "./index.ts";

type Span = readonly [invokeTime: number, completeTime: number];

function put(client: number, value: string, [invokeTime, completeTime]: Span, key = "k"): HistoryEntry {
  return { client, operation: { kind: "put", key, value }, invokeTime, outcome: { status: "ok", completeTime, result: { kind: "put" } } };
}
function get(client: number, value: string | null, [invokeTime, completeTime]: Span, key = "k"): HistoryEntry {
  return { client, operation: { kind: "get", key }, invokeTime, outcome: { status: "ok", completeTime, result: { kind: "get", value } } };
}
function del(client: number, deleted: number, [invokeTime, completeTime]: Span, key = "k"): HistoryEntry {
  return { client, operation: { kind: "delete", key }, invokeTime, outcome: { status: "ok", completeTime, result: { kind: "delete", deleted } } };
}
function cas(client: number, expected: string | null, value: string, succeeded: boolean, [invokeTime, completeTime]: Span, key = "k"): HistoryEntry {
  return {
    client, operation: { kind: "cas", key, expected, value }, invokeTime,
    outcome: { status: "ok", completeTime, result: { kind: "cas", succeeded } },
  };
}
function unknown(entry: HistoryEntry): HistoryEntry {
  return { ...entry, outcome: { status: "unknown" } };
}
function failed(entry: HistoryEntry): HistoryEntry {
  return { ...entry, outcome: { status: "failed", completeTime: entry.outcome.status === "unknown" ? entry.invokeTime : entry.outcome.completeTime } };
}

function verdictOf(history: readonly HistoryEntry[], key = "k"): KeyVerdict {
  const verdict = checkLinearizability(history).keys.find((candidate) => candidate.key === key);
  if (verdict === undefined) throw new Error(`no verdict for key ${key}`);
  return verdict;
}

describe("checkLinearizability on classic histories", () => {
  it("accepts a sequential history of puts, reads, deletes and CAS", () => {
    const history = [
      get(1, null, [0, 1]), put(1, "a", [2, 3]), get(2, "a", [4, 5]), cas(2, "a", "b", true, [6, 7]),
      cas(1, "a", "c", false, [8, 9]), get(1, "b", [10, 11]), del(2, 1, [12, 13]), del(1, 0, [14, 15]), get(2, null, [16, 17]),
      cas(1, null, "d", true, [18, 19]), get(2, "d", [20, 21]),
    ];
    expect(checkLinearizability(history).status).toBe("linearizable");
  });

  it("accepts a read overlapping a write whichever value it saw", () => {
    const before = [put(1, "a", [0, 1]), put(1, "b", [2, 10])];
    expect(checkLinearizability([...before, get(2, "a", [3, 4])]).status).toBe("linearizable");
    expect(checkLinearizability([...before, get(2, "b", [3, 4])]).status).toBe("linearizable");
  });

  it("counts intervals that only touch as concurrent", () => {
    expect(checkLinearizability([put(1, "a", [0, 5]), get(2, null, [5, 6])]).status).toBe("linearizable");
    expect(checkLinearizability([put(1, "a", [0, 5]), get(2, null, [6, 7])]).status).toBe("violation");
    // The same edge in the search-free stale-read check: the overwrite touches the read.
    expect(checkLinearizability([put(1, "a", [0, 1]), put(1, "b", [2, 3]), get(2, "a", [3, 4])]).status).toBe("linearizable");
    expect(checkLinearizability([put(1, "a", [0, 2]), put(1, "b", [2, 3]), get(2, "a", [4, 5])]).status).toBe("linearizable");
  });

  it("rejects a stale read after a completed write, and explains it", () => {
    const history = [put(1, "a", [0, 1]), put(1, "b", [2, 3]), get(2, "a", [4, 5])];
    const verdict = verdictOf(history);
    expect(verdict.status).toBe("violation");
    if (verdict.status !== "violation") return;
    const explanation = verdict.explanation;
    expect(explanation.linearizedPrefix.map((placed) => [placed.historyIndex, placed.valueAfter])).toEqual([[0, "a"], [1, "b"]]);
    expect(explanation.valueAfterPrefix).toBe("b");
    expect(explanation.blocking.historyIndex).toBe(2);
    expect(explanation.unplaced).toEqual([{ historyIndex: 2, entry: history[2], reason: 'read "a" but the key holds "b"' }]);
    expect(explanation.summary).toContain('observed "a", but #1 replaced it after its only writer #0 completed and before the observer began');
  });

  it("rejects a read of a value never written, naming that read", () => {
    const history = [put(1, "a", [0, 1]), get(2, "a", [2, 3]), get(3, "zzz", [2, 4]), put(1, "b", [5, 6])];
    const verdict = verdictOf(history);
    expect(verdict.status).toBe("violation");
    if (verdict.status !== "violation") return;
    expect(verdict.explanation.blocking.historyIndex).toBe(2);
    expect(verdict.explanation.summary).toContain('observed "zzz", which no operation on this key writes');
  });

  it("rejects two reads that see two concurrent writes in opposite orders", () => {
    const writes = [put(1, "a", [0, 100]), put(2, "b", [0, 100])];
    const readerOne = [get(3, "a", [10, 11]), get(3, "b", [20, 21])];
    const readerTwo = [get(4, "b", [10, 11]), get(4, "a", [20, 21])];
    expect(checkLinearizability([...writes, ...readerOne]).status).toBe("linearizable");
    expect(checkLinearizability([...writes, ...readerTwo]).status).toBe("linearizable");
    const verdict = verdictOf([...writes, ...readerOne, ...readerTwo]);
    expect(verdict.status).toBe("violation");
    // Only the search can tell: every read alone has a writer that could fit.
    expect(verdict.status === "violation" && verdict.explanation.summary)
      .toBe("no order of the 6 operations fits their results; the longest that does is below");
  });

  it("rejects a read from the future: the only write of its value began after the read ended", () => {
    const verdict = verdictOf([get(1, "a", [0, 1]), unknown(put(2, "a", [2, 3]))]);
    expect(verdict.status === "violation" && verdict.explanation.summary).toContain("its only writer #1 was invoked after the observer completed");
  });

  it("rejects a lost acknowledged write", () => {
    const history = [put(1, "a", [0, 1]), put(2, "b", [2, 3]), get(3, "b", [4, 5]), get(1, "a", [6, 7])];
    expect(checkLinearizability(history).status).toBe("violation");
    expect(checkLinearizability([put(1, "a", [0, 1]), get(2, null, [2, 3])]).status).toBe("violation");
  });

  it("rejects two concurrent CAS that both succeed from the same value, accepts one winner", () => {
    const start = put(1, "a", [0, 1]);
    const both = [start, cas(2, "a", "b", true, [2, 5]), cas(3, "a", "c", true, [2, 5])];
    expect(checkLinearizability(both).status).toBe("violation");
    const oneWinner = [start, cas(2, "a", "b", true, [2, 5]), cas(3, "a", "c", false, [2, 5]), get(1, "b", [6, 7])];
    expect(checkLinearizability(oneWinner).status).toBe("linearizable");
  });

  it("rejects a CAS reported failed although the value matched and nothing raced it", () => {
    expect(checkLinearizability([put(1, "a", [0, 1]), cas(2, "a", "b", false, [2, 3])]).status).toBe("violation");
  });

  it("rejects a CAS reported successful against a value the key no longer held", () => {
    const history = [put(1, "a", [0, 1]), put(1, "b", [2, 3]), cas(2, "a", "c", true, [4, 5])];
    expect(checkLinearizability(history).status).toBe("violation");
  });

  it("rejects a CAS on an absent key that succeeds twice", () => {
    const history = [cas(1, null, "a", true, [0, 1]), cas(2, null, "b", true, [2, 3])];
    expect(checkLinearizability(history).status).toBe("violation");
  });

  it("checks delete counts against presence", () => {
    expect(checkLinearizability([put(1, "a", [0, 1]), del(2, 0, [2, 3])]).status).toBe("violation");
    expect(checkLinearizability([del(2, 1, [0, 1])]).status).toBe("violation");
    expect(checkLinearizability([put(1, "a", [0, 1]), del(2, 1, [2, 3]), get(1, null, [4, 5])]).status).toBe("linearizable");
  });

  it("drops failed operations: a read cannot see a failed write", () => {
    const history = [put(1, "a", [0, 1]), failed(put(2, "b", [2, 3])), get(3, "b", [4, 5])];
    expect(checkLinearizability(history).status).toBe("violation");
    expect(checkLinearizability([put(1, "a", [0, 1]), failed(put(2, "b", [2, 3])), get(3, "a", [4, 5])]).status).toBe("linearizable");
  });

  it("checks keys independently and reports each", () => {
    const history = [
      put(1, "a", [0, 1], "x"), get(2, "a", [2, 3], "x"),
      put(1, "a", [0, 1], "y"), put(1, "b", [2, 3], "y"), get(2, "a", [4, 5], "y"),
    ];
    const report = checkLinearizability(history);
    expect(report.status).toBe("violation");
    expect(report.keys.map((verdict) => [verdict.key, verdict.status, verdict.operations])).toEqual([
      ["x", "linearizable", 2],
      ["y", "violation", 3],
    ]);
  });

  it("starts keys from the initial values given", () => {
    const history = [get(1, "seed", [0, 1]), put(1, "a", [2, 3])];
    expect(checkLinearizability(history).status).toBe("violation");
    expect(checkLinearizability(history, { initialValues: new Map([["k", "seed"]]) }).status).toBe("linearizable");
  });
});

describe("checkLinearizability with unknown outcomes", () => {
  it("lets an unknown write take effect: a later read sees it", () => {
    const history = [put(1, "a", [0, 1]), unknown(put(2, "b", [2, 3])), get(3, "b", [10, 11])];
    expect(checkLinearizability(history).status).toBe("linearizable");
  });

  it("lets an unknown write never take effect: later reads see the old value", () => {
    const history = [put(1, "a", [0, 1]), unknown(put(2, "b", [2, 3])), get(3, "a", [10, 11]), get(3, "a", [20, 21])];
    expect(checkLinearizability(history).status).toBe("linearizable");
  });

  it("lets an unknown write take effect long after its client moved on", () => {
    const history = [put(1, "a", [0, 1]), unknown(put(2, "b", [2, 3])), put(2, "c", [5, 6]), get(3, "c", [7, 8]), get(3, "b", [100, 101])];
    expect(checkLinearizability(history).status).toBe("linearizable");
  });

  it("keeps an observed unknown write in effect: no later read sees the value before it", () => {
    const history = [put(1, "a", [0, 1]), unknown(put(2, "b", [2, 3])), get(3, "b", [10, 11]), get(3, "a", [12, 13])];
    expect(checkLinearizability(history).status).toBe("violation");
  });

  it("never places an unknown write before its invocation", () => {
    const history = [put(1, "a", [0, 1]), get(3, "b", [2, 3]), unknown(put(2, "b", [5, 6]))];
    expect(checkLinearizability(history).status).toBe("violation");
  });

  it("lets an unknown CAS apply only where its comparison holds", () => {
    const applies = [put(1, "a", [0, 1]), unknown(cas(2, "a", "b", true, [2, 3])), get(3, "b", [10, 11])];
    expect(checkLinearizability(applies).status).toBe("linearizable");
    const cannot = [put(1, "x", [0, 1]), unknown(cas(2, "a", "b", true, [2, 3])), get(3, "b", [10, 11])];
    expect(checkLinearizability(cannot).status).toBe("violation");
  });

  it("ignores reads whose outcome is unknown", () => {
    const history = [put(1, "a", [0, 1]), unknown(get(2, "zzz", [2, 3])), get(3, "a", [4, 5])];
    const report = checkLinearizability(history);
    expect(report.status).toBe("linearizable");
    expect(report.keys[0]?.operations).toBe(2);
  });

  it("uses each unknown write at most once, whichever of the interchangeable ones it picks", () => {
    // Each failed CAS needs the key to hold something other than "a", which only an unknown write
    // of junk can provide; the read pins junk2 to the second one.
    const history = [
      put(1, "a", [0, 1]), unknown(put(2, "junk1", [2, 3])), unknown(put(3, "junk2", [2, 3])),
      cas(4, "a", "b", false, [10, 11]), put(4, "a", [12, 13]), cas(4, "a", "c", false, [14, 15]), get(1, "junk2", [16, 17]),
    ];
    expect(checkLinearizability(history).status).toBe("linearizable");
    // A third such CAS would need a third unknown write.
    const third = [...history, put(4, "a", [18, 19]), cas(4, "a", "e", false, [20, 21])];
    expect(checkLinearizability(third).status).toBe("violation");
    const withThirdWrite = [...third, unknown(put(5, "junk3", [2, 3]))];
    expect(checkLinearizability(withThirdWrite).status).toBe("linearizable");
  });
});

describe("checkLinearizability search budget", () => {
  /** Puts of distinct values all concurrent, then two reads no order explains: the search must try every subset. */
  function concurrentPutsThenImpossibleReads(puts: number): HistoryEntry[] {
    const history = Array.from({ length: puts }, (_, i) => put(i, `v${i}`, [0, 100]));
    return [...history, get(puts, "v0", [101, 102]), get(puts, "v1", [103, 104])];
  }

  it("reports unknown once the budget runs out", () => {
    const history = Array.from({ length: 50 }, (_, i) => put(1, `v${i}`, [2 * i, 2 * i + 1]));
    const verdict = checkLinearizability(history, { maxStatesExploredPerKey: 10 }).keys[0];
    expect(verdict?.status).toBe("unknown");
    expect(verdict?.statesExplored).toBe(10);
    expect(checkLinearizability(history, { maxStatesExploredPerKey: 50 }).status).toBe("linearizable");
  });

  it("finds the violation with enough budget and stops with the deepest point so far without", () => {
    const history = concurrentPutsThenImpossibleReads(10);
    const full = checkLinearizability(history);
    expect(full.status).toBe("violation");
    expect(full.keys[0]?.statesExplored).toBeGreaterThan(1000);
    const cut = checkLinearizability(history, { maxStatesExploredPerKey: 1000 }).keys[0];
    expect(cut?.status).toBe("unknown");
    expect(cut?.status === "unknown" && cut.deepestSoFar?.blocking.historyIndex).toBe(11);
  });

  it("stops a pathological history at the budget instead of hanging", () => {
    const verdict = checkLinearizability(concurrentPutsThenImpossibleReads(40), { maxStatesExploredPerKey: 20_000 }).keys[0];
    expect(verdict?.status).toBe("unknown");
    expect(verdict?.statesExplored).toBe(20_000);
  });

  it("rejects a budget that is not a positive integer", () => {
    expect(() => checkLinearizability([], { maxStatesExploredPerKey: 0 })).toThrow(RangeError);
  });
});

describe("checkLinearizability input validation", () => {
  it("rejects a result of the wrong kind", () => {
    const entry: HistoryEntry = { client: 1, operation: { kind: "get", key: "k" }, invokeTime: 0, outcome: { status: "ok", completeTime: 1, result: { kind: "put" } } };
    expect(() => checkLinearizability([entry])).toThrow(/history\[0\]: a get operation carries a put result/);
  });

  it("rejects completion before invocation and empty keys", () => {
    expect(() => checkLinearizability([put(1, "a", [5, 4])])).toThrow(/completeTime/);
    expect(() => checkLinearizability([put(1, "a", [0, 1], "")])).toThrow(/key must not be empty/);
  });
});

describe("formatLinearizabilityReport", () => {
  it("prints the violating key first, with the prefix, the blocked operation and why each candidate failed", () => {
    const history = [
      put(1, "ok", [0, 1], "fine"),
      put(1, "a", [0, 1]), put(1, "b", [2, 3]), unknown(put(3, "c", [2, 3])), get(2, "a", [4, 5]),
    ];
    expect(formatLinearizabilityReport(checkLinearizability(history)).split("\n")).toEqual([
      "history violation (2 keys)",
      'key "k": NOT linearizable (4 operations, 3 states explored)',
      '  #4 client 2 get "k" -> "a"  [4, 5] observed "a", but #2 replaced it after its only writer #1 completed and before the observer began',
      "  longest linearizable prefix: 2 operations",
      '    #1 client 1 put "k" = "a" -> ok  [0, 1]    => "a"',
      '    #2 client 1 put "k" = "b" -> ok  [2, 3]    => "b"',
      '  value after the prefix: "b"',
      '  could not be placed before it completed: #4 client 2 get "k" -> "a"  [4, 5]',
      "  candidates for the next place:",
      '    #3 client 3 put "k" = "c" -> ? (outcome unknown)  [2, inf): fits after the prefix (value becomes "c"), but no order of the rest fits after it',
      '    #4 client 2 get "k" -> "a"  [4, 5]: read "a" but the key holds "b"',
      'key "fine": linearizable (1 operations, 1 states explored)',
    ]);
  });
});
