/**
 * Violations found without search, in O(n log n): observations no order can explain, whatever
 * happened to the unknown-outcome operations. They name the culprit exactly, and they catch the
 * classic anomalies even in histories too large for the search to exhaust.
 *
 * An observation is an acknowledged read returning a value x, or an acknowledged CAS that
 * succeeded against x. It is impossible when
 * - nothing on the key writes x (and the key did not start with it; a CAS acknowledged as
 *   failed writes nothing);
 * - x has a single writer W (values written once), and the observer completed before W was
 *   invoked: a read from the future;
 * - x has a single writer W that was acknowledged, and some acknowledged operation that surely
 *   replaced x (a put, a successful CAS, any delete) began after W completed and completed
 *   before the observer began: a stale read, as x can never come back.
 */
import { assert } from "../assert/index.ts";
import { formatOperation } from "./format.ts";
import type { PartitionOperation } from "./history.ts";
import { formatValue } from "./model.ts";
import type { RegisterValue } from "./types.ts";

export interface ImpossibleObservation {
  readonly operation: PartitionOperation;
  readonly summary: string;
}

export function findImpossibleObservation(operations: readonly PartitionOperation[], initial: RegisterValue): ImpossibleObservation | undefined {
  const writers = new Map<string, PartitionOperation[]>();
  for (const operation of operations) {
    const request = operation.entry.operation;
    // A CAS acknowledged as failed wrote nothing.
    const failedCas = operation.result?.kind === "cas" && !operation.result.succeeded;
    if ((request.kind === "put" || request.kind === "cas") && !failedCas) writers.set(request.value, [...(writers.get(request.value) ?? []), operation]);
  }
  const overwrites = new OverwriteIndex(operations);
  for (const operation of operations) {
    const observed = observedValue(operation);
    if (observed === null || observed === initial) continue;
    const describe = (problem: string): ImpossibleObservation => ({
      operation,
      summary: `${formatOperation(operation.historyIndex, operation.entry)} observed ${formatValue(observed)}, ${problem}`,
    });
    const candidates = writers.get(observed) ?? [];
    const writer = candidates[0];
    if (writer === undefined) return describe("which no operation on this key writes");
    if (candidates.length > 1) continue;
    if (operation.completeTime < writer.invokeTime) {
      return describe(`but its only writer #${writer.historyIndex} was invoked after the observer completed`);
    }
    if (writer.result === undefined) continue;
    const overwrite = overwrites.firstCompletedAfterInvokedAfter(writer.completeTime);
    if (overwrite !== undefined && overwrite.completeTime < operation.invokeTime) {
      return describe(`but #${overwrite.historyIndex} replaced it after its only writer #${writer.historyIndex} completed ` +
        "and before the observer began");
    }
  }
  return undefined;
}

/** The value an acknowledged operation saw the key hold, or null if it saw none (or "absent"). */
function observedValue(operation: PartitionOperation): string | null {
  const result = operation.result;
  const request = operation.entry.operation;
  if (result?.kind === "get") return result.value;
  if (result?.kind === "cas" && result.succeeded && request.kind === "cas") return request.expected;
  return null;
}

/** Acknowledged operations that surely replaced whatever value the key held. */
class OverwriteIndex {
  /** Sorted by invocation time. */
  readonly #byInvoke: PartitionOperation[];
  /** suffixEarliest[i]: the operation completing first among #byInvoke[i..]. */
  readonly #suffixEarliest: PartitionOperation[];

  constructor(operations: readonly PartitionOperation[]) {
    this.#byInvoke = operations.filter(surelyReplaces).sort((a, b) => a.invokeTime - b.invokeTime);
    this.#suffixEarliest = new Array<PartitionOperation>(this.#byInvoke.length);
    for (let i = this.#byInvoke.length - 1; i >= 0; i--) {
      const here = this.#byInvoke[i];
      const later = this.#suffixEarliest[i + 1];
      assert(here !== undefined, "index within the sorted overwrites");
      this.#suffixEarliest[i] = later !== undefined && later.completeTime < here.completeTime ? later : here;
    }
  }

  /** Among overwrites invoked strictly after `time`, the one that completed first. */
  firstCompletedAfterInvokedAfter(time: number): PartitionOperation | undefined {
    let low = 0;
    let high = this.#byInvoke.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#byInvoke[middle]?.invokeTime ?? 0) > time) high = middle;
      else low = middle + 1;
    }
    return this.#suffixEarliest[low];
  }
}

function surelyReplaces(operation: PartitionOperation): boolean {
  const result = operation.result;
  if (result === undefined) return false;
  return result.kind === "put" || result.kind === "delete" || (result.kind === "cas" && result.succeeded);
}
