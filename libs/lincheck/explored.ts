/**
 * What the search remembers about states it has explored, and the equivalences that let one
 * explored state stand for many:
 *
 * - Junk values. A written value that no operation observes (no read returned it, no CAS
 *   compares against it) cannot be told apart from another such value by any operation: every
 *   read and CAS rejects all of them alike, and a delete sees only "present". So the cache
 *   keys all of them as one value.
 * - Interchangeable unknown operations: two pending ones with the same effect on canonical
 *   values (two puts of junk, two deletes, ...) can swap roles in any completion once both
 *   are invoked, so the search tries only the first of each class in the window, and a state
 *   is known by how many of each class it placed, not which.
 * - Unknown-outcome operations have no deadline: a state with fewer of them placed offers every
 *   option of one with more placed. A state (definite set D, value v, counts placed per class)
 *   is covered by an explored (D, v, counts') whenever counts' is at most counts in every class.
 */
import { unreachable } from "../assert/index.ts";
import type { PartitionOperation } from "./history.ts";
import type { KvOperation, RegisterValue } from "./types.ts";

export class ValueCanon {
  readonly #observed = new Set<string>();

  constructor(operations: readonly PartitionOperation[], initialState: RegisterValue) {
    if (initialState !== null) this.#observed.add(initialState);
    for (const { entry, result } of operations) {
      const operation = entry.operation;
      if (operation.kind === "cas" && operation.expected !== null) this.#observed.add(operation.expected);
      if (result?.kind === "get" && result.value !== null) this.#observed.add(result.value);
    }
  }

  /** A cache key for the value: observed values by themselves, every junk value alike. */
  key(value: RegisterValue): string {
    if (value === null) return "-";
    return this.#observed.has(value) ? `=${value}` : "~";
  }

  /** Unknown operations with equal classes are interchangeable (see the file comment). */
  effectClass(operation: KvOperation): string {
    switch (operation.kind) {
      case "put":
        return `put ${this.key(operation.value)}`;
      case "delete":
        return "delete";
      case "cas":
        return `cas ${this.key(operation.expected)} ${this.key(operation.value)}`;
      case "get":
        return "get";
      default:
        return unreachable(operation, "operation kind");
    }
  }
}

/**
 * A multiset of placed unknown operations, as flattened pairs [class, count, class, count, ...]
 * sorted by class. `small` is covered by `large` when no class has a higher count in `small`.
 */
function countsAtMost(small: readonly number[], large: readonly number[]): boolean {
  let j = 0;
  for (let i = 0; i < small.length; i += 2) {
    const effectClass = small[i] as number;
    while (j < large.length && (large[j] as number) < effectClass) j += 2;
    if (j >= large.length || large[j] !== effectClass || (large[j + 1] as number) < (small[i + 1] as number)) return false;
  }
  return true;
}

export class ExploredStates {
  /** Per (definite set, canonical value): the minimal placed-unknown counts seen. */
  readonly #placedCounts = new Map<string, number[][]>();
  size = 0;

  /**
   * Records the state unless an explored state covers it; returns whether it was new. Unknown
   * operations of one class that are already invoked are interchangeable, and for a given
   * definite set the same ones are invoked, so only how many of each class were placed matters,
   * and fewer is better.
   */
  visit(definiteKey: string, placedCounts: readonly number[]): boolean {
    const seen = this.#placedCounts.get(definiteKey);
    if (seen === undefined) {
      this.#placedCounts.set(definiteKey, [[...placedCounts]]);
      this.size++;
      return true;
    }
    if (seen.some((counts) => countsAtMost(counts, placedCounts))) return false;
    // Keep only minimal entries: one the new counts are at most can no longer cover anything more.
    const minimal = seen.filter((counts) => !countsAtMost(placedCounts, counts));
    minimal.push([...placedCounts]);
    this.#placedCounts.set(definiteKey, minimal);
    this.size++;
    return true;
  }
}
