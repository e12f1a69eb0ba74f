/**
 * What the search remembers about states it has explored, and the equivalences that let one
 * explored state stand for many:
 *
 * - Junk values. A written value that no operation observes (no read returned it, no CAS
 *   compares against it) cannot be told apart from another such value by any operation: every
 *   read and CAS rejects all of them alike, and a delete sees only "present". So the cache
 *   keys all of them as one value.
 * - Unknown-outcome operations have no deadline: a state with fewer of them placed offers every
 *   option of one with more placed. A state (definite set D, value v, unknowns placed U) is
 *   covered by an explored (D, v, U') whenever U' is a subset of U.
 * - Interchangeable unknown operations: two pending ones with the same effect on canonical
 *   values (two puts of junk, two deletes, ...) can swap roles in any completion once both
 *   are invoked, so the search tries only the first of each class in the window.
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

/** Sorted-array subset test: every element of `small` is in `large`. */
function isSubset(small: readonly number[], large: readonly number[]): boolean {
  if (small.length > large.length) return false;
  let j = 0;
  for (const element of small) {
    while (j < large.length && (large[j] as number) < element) j++;
    if (j === large.length || large[j] !== element) return false;
    j++;
  }
  return true;
}

export class ExploredStates {
  /** Per (definite set, canonical value): the minimal sets of placed unknown operations seen. */
  readonly #placedUnknownSets = new Map<string, number[][]>();
  size = 0;

  /**
   * Records the state unless an explored state covers it; returns whether it was new.
   * `placedUnknown` must be sorted ascending.
   */
  visit(definiteKey: string, placedUnknown: readonly number[]): boolean {
    const sets = this.#placedUnknownSets.get(definiteKey);
    if (sets === undefined) {
      this.#placedUnknownSets.set(definiteKey, [[...placedUnknown]]);
      this.size++;
      return true;
    }
    if (sets.some((set) => isSubset(set, placedUnknown))) return false;
    // Keep only minimal sets: one the new set is a subset of can no longer cover anything more.
    const minimal = sets.filter((set) => !isSubset(placedUnknown, set));
    minimal.push([...placedUnknown]);
    this.#placedUnknownSets.set(definiteKey, minimal);
    this.size++;
    return true;
  }
}
