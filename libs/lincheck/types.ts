/**
 * The shape of a recorded history: what concurrent clients asked a KV store to do, when, and
 * what they heard back. Times are whatever monotonic unit the recorder used (ms, ns, ticks);
 * only their order matters. Values are strings; `null` stands for "key absent".
 */

/** One single-key request. `cas` is an etcd txn: compare the value, then put on success. */
export type KvOperation =
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "delete"; readonly key: string }
  /** `expected: null` compares against "key absent" (an etcd version == 0 comparison). */
  | { readonly kind: "cas"; readonly key: string; readonly expected: string | null; readonly value: string };

/**
 * What a successful request returned. `revision` is the response header revision; the
 * linearizability check ignores it, the watch check needs it on every write that took effect.
 */
export type KvResult =
  | { readonly kind: "put"; readonly revision?: number }
  | { readonly kind: "get"; readonly value: string | null; readonly revision?: number }
  /** `deleted` is etcd's count (0 or 1 for one key); when absent it is not checked. */
  | { readonly kind: "delete"; readonly deleted?: number; readonly revision?: number }
  | { readonly kind: "cas"; readonly succeeded: boolean; readonly revision?: number };

/**
 * ok: the reply arrived. failed: the store says the request definitely did not take effect.
 * unknown: timeout or lost connection; it may take effect at any time after invocation, or never.
 */
export type Outcome =
  | { readonly status: "ok"; readonly completeTime: number; readonly result: KvResult }
  | { readonly status: "failed"; readonly completeTime: number }
  | { readonly status: "unknown" };

export interface HistoryEntry {
  readonly client: number;
  readonly operation: KvOperation;
  readonly invokeTime: number;
  readonly outcome: Outcome;
}

/** Model state of one key: its value, or null when absent. */
export type RegisterValue = string | null;
