/**
 * Invariant checks. A broken invariant is a bug, not an operating error: the failure names the
 * invariant so the crash report says which promise the code broke. Pure: usable from libs/raft.
 */

export class InvariantError extends Error {
  readonly invariant: string;

  constructor(invariant: string, detail?: string) {
    super(detail === undefined ? `invariant broken: ${invariant}` : `invariant broken: ${invariant} (${detail})`);
    this.name = "InvariantError";
    this.invariant = invariant;
  }
}

/** Throws InvariantError naming `invariant` unless `condition` holds. */
export function assert(condition: unknown, invariant: string, detail?: () => string): asserts condition {
  if (!condition) throw new InvariantError(invariant, detail?.());
}

/** Marks a branch the type system proves unreachable; reaching it at run time is a bug. */
export function unreachable(value: never, invariant = "unreachable branch"): never {
  throw new InvariantError(invariant, JSON.stringify(value));
}

/** Returns `value` when it is neither null nor undefined, else crashes naming `invariant`. */
export function defined<T>(value: T | null | undefined, invariant: string): T {
  if (value === null || value === undefined) throw new InvariantError(invariant);
  return value;
}
