/**
 * The sequential specification of one key: a register that may be absent. A step either accepts
 * the operation's observed result in the given state (returning the next state) or rejects it.
 * An unknown outcome (result undefined) accepts any result, so only the state change matters.
 */
import { unreachable } from "../assert/index.ts";
import type { KvOperation, KvResult, RegisterValue } from "./types.ts";

/** Returned by stepRegister when the observed result is impossible in the given state. */
export const rejected: unique symbol = Symbol("rejected");

export function stepRegister(
  state: RegisterValue,
  operation: KvOperation,
  result: KvResult | undefined,
): RegisterValue | typeof rejected {
  switch (operation.kind) {
    case "put":
      return operation.value;
    case "get":
      if (result?.kind === "get" && result.value !== state) return rejected;
      return state;
    case "delete":
      if (result?.kind === "delete" && result.deleted !== undefined && result.deleted !== (state === null ? 0 : 1)) {
        return rejected;
      }
      return null;
    case "cas": {
      const matches = state === operation.expected;
      if (result?.kind === "cas" && result.succeeded !== matches) return rejected;
      return matches ? operation.value : state;
    }
    default:
      return unreachable(operation, "operation kind");
  }
}

/** Says in words why stepRegister rejects (or accepts) the operation in `state`. */
export function explainStep(state: RegisterValue, operation: KvOperation, result: KvResult | undefined): string {
  const next = stepRegister(state, operation, result);
  if (next !== rejected) return `fits after the prefix (value becomes ${formatValue(next)})`;
  const held = `the key holds ${formatValue(state)}`;
  switch (operation.kind) {
    case "get":
      return `read ${formatValue(result?.kind === "get" ? result.value : null)} but ${held}`;
    case "delete":
      return `reported deleted=${result?.kind === "delete" ? String(result.deleted) : "?"} but ${held}`;
    case "cas":
      return `reported succeeded=${String(result?.kind === "cas" && result.succeeded)} comparing against ` +
        `${formatValue(operation.expected)} but ${held}`;
    case "put":
      return "a put is never rejected";
    default:
      return unreachable(operation, "operation kind");
  }
}

export function formatValue(value: RegisterValue): string {
  return value === null ? "(absent)" : JSON.stringify(value);
}

/**
 * True when the operation, with this observed result, leaves the value unchanged in every state
 * that accepts it: a read, a CAS reported failed (or one that writes what it compared against),
 * a delete that reported deleting nothing. Such an operation can be placed as early as it fits.
 * A put is never one, even of the value the key holds now: placed later it may change it.
 */
export function alwaysPreservesValue(operation: KvOperation, result: KvResult | undefined): boolean {
  if (result === undefined) return false;
  switch (operation.kind) {
    case "get":
      return true;
    case "cas":
      return result.kind === "cas" && (!result.succeeded || operation.expected === operation.value);
    case "delete":
      return result.kind === "delete" && result.deleted === 0;
    case "put":
      return false;
    default:
      return unreachable(operation, "operation kind");
  }
}
