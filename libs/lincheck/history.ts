/**
 * Validation of a recorded history and its split into independent per-key partitions. A
 * malformed history is the recorder's bug, reported with a RangeError naming the entry, so the
 * checker never reasons about nonsense.
 */
import type { HistoryEntry, KvResult } from "./types.ts";

/** One operation of a partition, numbered in invocation order. */
export interface PartitionOperation {
  /** 0..n-1 in invocation order within the partition. */
  readonly id: number;
  /** Position of the entry in the caller's history array. */
  readonly historyIndex: number;
  readonly entry: HistoryEntry;
  /** undefined when the outcome is unknown: any result is acceptable. */
  readonly result: KvResult | undefined;
  readonly invokeTime: number;
  /** Infinity when the outcome is unknown. */
  readonly completeTime: number;
}

export function validateHistory(history: readonly HistoryEntry[]): void {
  history.forEach((entry, index) => {
    const where = `history[${index}]`;
    if (!Number.isFinite(entry.invokeTime)) throw new RangeError(`${where}: invokeTime must be a finite number`);
    if (entry.operation.key === "") throw new RangeError(`${where}: key must not be empty`);
    const outcome = entry.outcome;
    if (outcome.status === "unknown") return;
    if (!Number.isFinite(outcome.completeTime) || outcome.completeTime < entry.invokeTime) {
      throw new RangeError(`${where}: completeTime must be finite and not before invokeTime`);
    }
    if (outcome.status === "ok" && outcome.result.kind !== entry.operation.kind) {
      throw new RangeError(`${where}: a ${entry.operation.kind} operation carries a ${outcome.result.kind} result`);
    }
  });
}

/**
 * Splits the history by key, dropping what cannot constrain the search: failed operations
 * (they did not happen) and reads with unknown outcome (they change nothing and returned
 * nothing). Keys keep their first-seen order so reports are stable.
 */
export function partitionByKey(history: readonly HistoryEntry[]): Map<string, PartitionOperation[]> {
  const byKey = new Map<string, { index: number; entry: HistoryEntry }[]>();
  history.forEach((entry, index) => {
    const key = entry.operation.key;
    let list = byKey.get(key);
    if (list === undefined) {
      list = [];
      byKey.set(key, list);
    }
    if (entry.outcome.status === "failed") return;
    if (entry.outcome.status === "unknown" && entry.operation.kind === "get") return;
    list.push({ index, entry });
  });
  const partitions = new Map<string, PartitionOperation[]>();
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.entry.invokeTime - b.entry.invokeTime || a.index - b.index);
    partitions.set(key, list.map(({ index, entry }, id) => toPartitionOperation(id, index, entry)));
  }
  return partitions;
}

function toPartitionOperation(id: number, historyIndex: number, entry: HistoryEntry): PartitionOperation {
  const outcome = entry.outcome;
  return {
    id,
    historyIndex,
    entry,
    result: outcome.status === "ok" ? outcome.result : undefined,
    invokeTime: entry.invokeTime,
    completeTime: outcome.status === "ok" ? outcome.completeTime : Number.POSITIVE_INFINITY,
  };
}
