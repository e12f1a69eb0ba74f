/**
 * checkLinearizability: is there one order of the history's operations, consistent with real
 * time, in which every key behaves like a register and every reply is what that order implies?
 * Keys are independent under this model (every operation touches one key), so each key's
 * operations are searched on their own: a violation anywhere is a violation of the whole.
 */
import { assert } from "../assert/index.ts";
import { partitionByKey, validateHistory, type PartitionOperation } from "./history.ts";
import { explainStep, rejected, stepRegister } from "./model.ts";
import { findImpossibleObservation } from "./precheck.ts";
import { pinObservedUnknownWrites } from "./pin.ts";
import { searchLinearization, type StuckPoint } from "./search.ts";
import type { KeyVerdict, LinearizabilityReport, OperationRef, PlacedOperation, UnplacedOperation, ViolationExplanation } from "./report.ts";
import type { HistoryEntry, RegisterValue } from "./types.ts";

/**
 * Default bound on distinct states explored per key. Measured cost of a state: about 300 bytes
 * of cache, and 1 to 35 microseconds (more when many operations are concurrent), so the default
 * bounds one key's search to roughly 60 MB and a few seconds. Correct histories from 16 busy
 * clients need a few thousand states per key (see README.md).
 */
export const defaultMaxStatesExploredPerKey = 200_000;

export interface CheckOptions {
  readonly maxStatesExploredPerKey?: number;
  /** Values keys hold before the history starts; keys not listed start absent. */
  readonly initialValues?: ReadonlyMap<string, string>;
}

export function checkLinearizability(history: readonly HistoryEntry[], options: CheckOptions = {}): LinearizabilityReport {
  const maxStates = options.maxStatesExploredPerKey ?? defaultMaxStatesExploredPerKey;
  if (!Number.isSafeInteger(maxStates) || maxStates < 1) {
    throw new RangeError(`maxStatesExploredPerKey must be a positive integer, got ${maxStates}`);
  }
  validateHistory(history);
  const keys: KeyVerdict[] = [];
  for (const [key, operations] of partitionByKey(history)) {
    keys.push(checkKey(key, operations, options.initialValues?.get(key) ?? null, maxStates));
  }
  const status = keys.some((verdict) => verdict.status === "violation")
    ? "violation"
    : keys.some((verdict) => verdict.status === "unknown") ? "unknown" : "linearizable";
  return { status, keys };
}

/** A violation found without search is still explained with a prefix, from a short search. */
const impossibleObservationSearchStatesMax = 50_000;

function checkKey(key: string, operations: readonly PartitionOperation[], initial: RegisterValue, maxStates: number): KeyVerdict {
  const impossible = findImpossibleObservation(operations, initial);
  const budget = impossible === undefined ? maxStates : Math.min(maxStates, impossibleObservationSearchStatesMax);
  const outcome = searchLinearization(pinObservedUnknownWrites(operations, initial), initial, budget);
  const counts = { key, operations: operations.length, statesExplored: outcome.statesExplored };
  if (impossible !== undefined) {
    assert(outcome.status !== "linearizable", "an impossible observation makes the search fail");
    const explanation = outcome.deepest === undefined
      ? explainAlone(impossible.operation, initial, impossible.summary)
      : explain(operations, initial, outcome.deepest, impossible.summary);
    return { ...counts, status: "violation", explanation };
  }
  switch (outcome.status) {
    case "linearizable":
      return { ...counts, status: "linearizable" };
    case "budget-exceeded": {
      const verdict = { ...counts, status: "unknown", reason: "budget exceeded" } as const;
      if (outcome.deepest === undefined) return verdict;
      return { ...verdict, deepestSoFar: explain(operations, initial, outcome.deepest, "search budget ran out; deepest point so far") };
    }
    case "violation": {
      const summary = `no order of the ${operations.length} operations fits their results; the longest that does is below`;
      return { ...counts, status: "violation", explanation: explain(operations, initial, outcome.deepest, summary) };
    }
  }
}

function explainAlone(operation: PartitionOperation, initial: RegisterValue, summary: string): ViolationExplanation {
  const ref = { historyIndex: operation.historyIndex, entry: operation.entry };
  const reason = explainStep(initial, operation.entry.operation, operation.result);
  return { summary, linearizedPrefix: [], valueAfterPrefix: initial, blocking: ref, unplaced: [{ ...ref, reason }] };
}

function explain(
  operations: readonly PartitionOperation[],
  initial: RegisterValue,
  stuck: StuckPoint,
  summary: string,
): ViolationExplanation {
  const find = (id: number): PartitionOperation => {
    const operation = operations[id];
    assert(operation !== undefined, "stuck point names operations of the partition");
    return operation;
  };
  const ref = (operation: PartitionOperation): OperationRef => ({ historyIndex: operation.historyIndex, entry: operation.entry });
  let value = initial;
  const linearizedPrefix = stuck.prefix.map((id): PlacedOperation => {
    const operation = find(id);
    const next = replay(value, operation);
    value = next;
    return { ...ref(operation), valueAfter: next };
  });
  assert(value === stuck.stateAfterPrefix, "replaying the prefix reaches the recorded state");
  const unplaced = stuck.candidateIds.map((id): UnplacedOperation => {
    const operation = find(id);
    const reason = explainStep(value, operation.entry.operation, operation.result);
    return { ...ref(operation), reason: reason.startsWith("fits") ? `${reason}, but no order of the rest fits after it` : reason };
  });
  return { summary, linearizedPrefix, valueAfterPrefix: value, blocking: ref(find(stuck.blockingId)), unplaced };
}

/** The prefix was accepted with its results; replaying its effects alone recovers the values. */
function replay(value: RegisterValue, operation: PartitionOperation): RegisterValue {
  const next = stepRegister(value, operation.entry.operation, undefined);
  assert(next !== rejected, "an operation without a result is never rejected");
  return next;
}
