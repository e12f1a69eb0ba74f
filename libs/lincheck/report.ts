/** What checkLinearizability reports, per key and for the whole history. */
import type { HistoryEntry, RegisterValue } from "./types.ts";

/** An operation of the history, as the report refers to it. */
export interface OperationRef {
  /** Position in the history array given to the checker. */
  readonly historyIndex: number;
  readonly entry: HistoryEntry;
}

export interface PlacedOperation extends OperationRef {
  readonly valueAfter: RegisterValue;
}

export interface UnplacedOperation extends OperationRef {
  /** Why it could not come next: the model rejects its result, or every continuation failed. */
  readonly reason: string;
}

export interface ViolationExplanation {
  /** One sentence: what is wrong. */
  readonly summary: string;
  /** The longest order found that is consistent with everything it contains. */
  readonly linearizedPrefix: readonly PlacedOperation[];
  readonly valueAfterPrefix: RegisterValue;
  /** The operation that completed before the search could place it after that prefix. */
  readonly blocking: OperationRef;
  /** The operations that could have come next (invoked before `blocking` completed). */
  readonly unplaced: readonly UnplacedOperation[];
}

interface VerdictCounts {
  readonly key: string;
  /** Operations searched: failed ones and reads with unknown outcome are left out. */
  readonly operations: number;
  readonly statesExplored: number;
}

export type KeyVerdict =
  | (VerdictCounts & { readonly status: "linearizable" })
  | (VerdictCounts & { readonly status: "violation"; readonly explanation: ViolationExplanation })
  | (VerdictCounts & {
    readonly status: "unknown";
    readonly reason: "budget exceeded";
    /** Where the search was stuck deepest before the budget ran out: a likely place to look. */
    readonly deepestSoFar?: ViolationExplanation;
  });

export interface LinearizabilityReport {
  /** violation if any key has one; else unknown if any key ran out of budget; else linearizable. */
  readonly status: "linearizable" | "violation" | "unknown";
  readonly keys: readonly KeyVerdict[];
}
