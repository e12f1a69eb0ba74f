import { describe, expect, it } from "vitest";
import { createPrng, type Prng } from "../prng/index.ts";
import { checkLinearizability, type HistoryEntry, type KvResult } from "./index.ts";
import { stepRegister, rejected } from "./model.ts";
import { generateHistory, type RandomHistoryOptions } from "./random-history.ts";
import type { RegisterValue } from "./types.ts";

/**
 * The textbook definition, with none of the search's machinery: some order of the operations
 * (unknown ones optional) in which an operation comes after every operation that completed
 * before it was invoked, and the register accepts every result. Exponential; small histories only.
 */
function bruteForceLinearizable(history: readonly HistoryEntry[]): boolean {
  const operations = history.filter((entry) => entry.outcome.status !== "failed");
  const completeTime = (entry: HistoryEntry): number => (entry.outcome.status === "ok" ? entry.outcome.completeTime : Infinity);
  const result = (entry: HistoryEntry): KvResult | undefined => (entry.outcome.status === "ok" ? entry.outcome.result : undefined);
  const keys = [...new Set(operations.map((entry) => entry.operation.key))];
  return keys.every((key) => {
    const ops = operations.filter((entry) => entry.operation.key === key);
    const definiteMask = ops.reduce((mask, entry, i) => (entry.outcome.status === "ok" ? mask | (1 << i) : mask), 0);
    const seen = new Set<string>();
    const search = (placed: number, value: RegisterValue): boolean => {
      if ((placed & definiteMask) === definiteMask) return true;
      const stateKey = `${placed}|${value === null ? "-" : `=${value}`}`;
      if (seen.has(stateKey)) return false;
      seen.add(stateKey);
      return ops.some((entry, i) => {
        if ((placed & (1 << i)) !== 0) return false;
        const mustFollow = ops.some((other, j) => (placed & (1 << j)) === 0 && j !== i && other.outcome.status === "ok" &&
          completeTime(other) < entry.invokeTime);
        if (mustFollow) return false;
        const next = stepRegister(value, entry.operation, result(entry));
        return next !== rejected && search(placed | (1 << i), next);
      });
    };
    return search(0, null);
  });
}

const small: RandomHistoryOptions = {
  clients: 3, operationsPerClient: 4, keys: 1, valuesPerKey: 2,
  unknownPercent: 15, failedPercent: 10, latencyMax: 6, thinkTimeMax: 3,
};

/** Replaces the result of one randomly chosen acknowledged operation by another plausible one. */
function mutateOneResult(prng: Prng, history: readonly HistoryEntry[], values: readonly string[]): HistoryEntry[] {
  const acknowledged = history.flatMap((entry, index) => (entry.outcome.status === "ok" && entry.operation.kind !== "put" ? [index] : []));
  const mutated = [...history];
  const index = acknowledged[prng.nextInt(Math.max(1, acknowledged.length))];
  const entry = index === undefined ? undefined : history[index];
  if (index === undefined || entry === undefined || entry.outcome.status !== "ok") return mutated;
  const result = entry.outcome.result;
  let changed: KvResult;
  if (result.kind === "get") {
    const choices = [null, ...values].filter((value) => value !== result.value);
    changed = { kind: "get", value: choices[prng.nextInt(choices.length)] ?? null };
  } else if (result.kind === "cas") {
    changed = { kind: "cas", succeeded: !result.succeeded };
  } else {
    changed = { kind: "delete", deleted: result.kind === "delete" && result.deleted === 1 ? 0 : 1 };
  }
  mutated[index] = { ...entry, outcome: { ...entry.outcome, result: changed } };
  return mutated;
}

describe("checkLinearizability on generated histories", () => {
  it("agrees with a brute-force search on 1500 small histories, mutated or not", () => {
    const prng = createPrng(20240601);
    let violations = 0;
    for (let round = 0; round < 1500; round++) {
      // Vary the shape: more clients means more overlap, one value means many duplicate writes,
      // many unknown outcomes stress the no-deadline reductions.
      const options: RandomHistoryOptions = {
        ...small,
        clients: 2 + prng.nextInt(3),
        operationsPerClient: 3 + prng.nextInt(2),
        keys: 1 + prng.nextInt(2),
        // 0 makes every value unique, which is when the search-free stale-read checks apply.
        valuesPerKey: prng.nextInt(4),
        unknownPercent: [0, 15, 35][prng.nextInt(3)] as number,
      };
      const generated = generateHistory(prng, options).history;
      const history = round % 3 === 0 ? generated : mutateOneResult(prng, generated, ["v0", "v1", "v2"]);
      const expected = bruteForceLinearizable(history) ? "linearizable" : "violation";
      const actual = checkLinearizability(history).status;
      if (actual !== expected) {
        throw new Error(`round ${round}: checker says ${actual}, brute force says ${expected}:\n${JSON.stringify(history)}`);
      }
      if (expected === "violation") violations++;
    }
    // Enough of both verdicts for the agreement to mean something.
    expect(violations).toBeGreaterThan(300);
    expect(violations).toBeLessThan(1200);
  });

  it("accepts every history generated from a real execution", () => {
    const prng = createPrng(7);
    for (let round = 0; round < 40; round++) {
      const history = generateHistory(prng, {
        clients: 6, operationsPerClient: 60, keys: 3, valuesPerKey: round % 2 === 0 ? 0 : 3,
        unknownPercent: 5, failedPercent: 5, latencyMax: 20, thinkTimeMax: 10,
      }).history;
      const report = checkLinearizability(history);
      expect(report.status, `round ${round}`).toBe("linearizable");
    }
  });

  it("rejects every generated history after one read is changed to a value never written", () => {
    const prng = createPrng(11);
    for (let round = 0; round < 40; round++) {
      const history = generateHistory(prng, {
        clients: 6, operationsPerClient: 60, keys: 3, valuesPerKey: 0,
        unknownPercent: 5, failedPercent: 5, latencyMax: 20, thinkTimeMax: 10,
      }).history;
      const reads = history.flatMap((entry, index) => (entry.operation.kind === "get" && entry.outcome.status === "ok" ? [index] : []));
      const index = reads[prng.nextInt(reads.length)] as number;
      const entry = history[index] as HistoryEntry & { outcome: { status: "ok" } };
      const mutated = [...history];
      mutated[index] = { ...entry, outcome: { ...entry.outcome, result: { kind: "get", value: "never-written" } } };
      const report = checkLinearizability(mutated);
      expect(report.status, `round ${round}`).toBe("violation");
      const verdict = report.keys.find((candidate) => candidate.key === entry.operation.key);
      expect(verdict?.status === "violation" && verdict.explanation.blocking.historyIndex).toBe(index);
    }
  });

  it("rejects a generated history whose read is changed to a value overwritten before the read began", () => {
    const prng = createPrng(5);
    let checked = 0;
    for (let round = 0; round < 40; round++) {
      const { history, committed } = generateHistory(prng, {
        clients: 6, operationsPerClient: 60, keys: 2, valuesPerKey: 0,
        unknownPercent: 5, failedPercent: 5, latencyMax: 20, thinkTimeMax: 10,
      });
      const stale = findDefinitelyStaleRead(history, committed);
      if (stale === undefined) continue;
      const entry = history[stale.readIndex] as HistoryEntry & { outcome: { status: "ok" } };
      const mutated = [...history];
      mutated[stale.readIndex] = { ...entry, outcome: { ...entry.outcome, result: { kind: "get", value: stale.value } } };
      expect(checkLinearizability(mutated).status, `round ${round}`).toBe("violation");
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("rejects most histories after one result is changed to another plausible one", () => {
    const prng = createPrng(3);
    let rejectedCount = 0;
    const rounds = 60;
    for (let round = 0; round < rounds; round++) {
      const history = generateHistory(prng, {
        clients: 5, operationsPerClient: 40, keys: 2, valuesPerKey: 4,
        unknownPercent: 3, failedPercent: 3, latencyMax: 10, thinkTimeMax: 10,
      }).history;
      if (checkLinearizability(mutateOneResult(prng, history, ["v0", "v1", "v2", "v3"])).status === "violation") rejectedCount++;
    }
    // A changed result can happen to fit another order (a read racing a write), so not all fail.
    expect(rejectedCount).toBeGreaterThan(rounds / 2);
  });
});

/**
 * A read and a value that is definitely stale for it: the value's only write W1 (values are
 * unique) was followed in real time by an acknowledged put W2, itself complete before the read
 * was invoked. No order can put the read between W1 and W2.
 */
function findDefinitelyStaleRead(
  history: readonly HistoryEntry[],
  committed: readonly { historyIndex: number; key: string; type: "put" | "delete"; value?: string }[],
): { readIndex: number; value: string } | undefined {
  const acknowledged = (index: number): { invoke: number; complete: number } | undefined => {
    const entry = history[index];
    return entry?.outcome.status === "ok" ? { invoke: entry.invokeTime, complete: entry.outcome.completeTime } : undefined;
  };
  for (const first of committed) {
    const firstTimes = acknowledged(first.historyIndex);
    if (first.type !== "put" || first.value === undefined || firstTimes === undefined) continue;
    for (const second of committed) {
      const secondTimes = acknowledged(second.historyIndex);
      const secondEntry = history[second.historyIndex];
      if (second.key !== first.key || secondTimes === undefined || secondEntry?.operation.kind !== "put") continue;
      if (secondTimes.invoke <= firstTimes.complete) continue;
      const readIndex = history.findIndex((entry) => entry.operation.kind === "get" && entry.operation.key === first.key &&
        entry.outcome.status === "ok" && entry.invokeTime > secondTimes.complete);
      if (readIndex >= 0) return { readIndex, value: first.value };
    }
  }
  return undefined;
}

describe("checkLinearizability at scale", () => {
  it("checks 16 clients x 2000 operations over 8 keys, with unknown outcomes, well inside the budget", () => {
    const history = generateHistory(createPrng(1), {
      clients: 16, operationsPerClient: 2000, keys: 8, valuesPerKey: 4,
      unknownPercent: 2, failedPercent: 2, latencyMax: 20, thinkTimeMax: 10,
    }).history;
    const report = checkLinearizability(history);
    expect(report.status).toBe("linearizable");
    expect(report.keys).toHaveLength(8);
    for (const verdict of report.keys) expect(verdict.statesExplored).toBeLessThan(20_000);
  });
});
