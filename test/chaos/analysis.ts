/**
 * What a scenario's recorded history says: outcome counts, the watch check, the linearizability
 * check, acknowledged writes missing from every watch stream, and how long writes were
 * unavailable after the leader was taken away. Pure: it sees only the records.
 *
 * Unknown outcomes are the checker's expensive part (an unknown write may take effect at any
 * later time, or never). When the watch streams are verified complete and correct up to a final
 * write, they settle every unknown write: one whose event some stream delivered took effect,
 * before any acknowledged write with a later revision completed; one no stream delivered never
 * took effect (or took effect as a no-op). The linearizability check then runs on that refined
 * history, which is smaller to search and constrains more. If the watch check fails, the raw
 * history is checked instead, under a state budget.
 */
import { assert } from "../../libs/assert/index.ts";
import {
  checkLinearizability,
  checkWatchStreams,
  type HistoryEntry,
  type KvResult,
  type LinearizabilityReport,
  type RevealedWrite,
  type WatchReport,
  type WatchStream,
} from "../../libs/lincheck/index.ts";

export interface OutcomeCounts {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  readonly unknown: number;
}

export interface Refinement {
  readonly history: readonly HistoryEntry[];
  /** Unknown writes a stream showed took effect: now ok, completing by the next later-revision ack. */
  readonly revealed: number;
  /** Unknown writes no stream showed: now failed. */
  readonly dropped: number;
  /** Why the history was not refined, when it was not. */
  readonly skippedBecause?: string;
}

export interface LostWrite {
  readonly historyIndex: number;
  readonly revision: number;
}

export interface Analysis {
  readonly counts: OutcomeCounts;
  readonly watch: WatchReport;
  readonly refinement: Refinement;
  readonly linearizability: LinearizabilityReport;
  /** Checked only when every stream reached the final write; undefined otherwise. */
  readonly lostWrites: readonly LostWrite[] | undefined;
  /**
   * When the settled history has a violation: the verdict on the raw history (unknown writes
   * left unknown), so a report can tell a real violation from a wrong settling.
   */
  readonly rawStatus: LinearizabilityReport["status"] | undefined;
}

/** State budget per key for the raw (unrefined) history: bounds the time a failed watch check costs. */
export const rawHistoryStatesPerKeyMax = 200_000;

export function countOutcomes(history: readonly HistoryEntry[]): OutcomeCounts {
  let ok = 0;
  let failed = 0;
  let unknown = 0;
  for (const entry of history) {
    if (entry.outcome.status === "ok") ok++;
    else if (entry.outcome.status === "failed") failed++;
    else unknown++;
  }
  return { total: history.length, ok, failed, unknown };
}

/** The revision of an acknowledged write that changed the key, or undefined. */
export function effectiveWriteRevision(entry: HistoryEntry): number | undefined {
  if (entry.outcome.status !== "ok") return undefined;
  const result = entry.outcome.result;
  switch (result.kind) {
    case "get":
      return undefined;
    case "put":
      return result.revision;
    case "cas":
      return result.succeeded ? result.revision : undefined;
    case "delete":
      return result.deleted === undefined || result.deleted > 0 ? result.revision : undefined;
  }
}

/** Acknowledged writes that took effect but that no watch stream delivered. */
export function lostAcknowledgedWrites(history: readonly HistoryEntry[], streams: readonly WatchStream[]): LostWrite[] {
  const delivered = new Set<number>();
  for (const stream of streams) for (const event of stream.events) delivered.add(event.modRevision);
  const lost: LostWrite[] = [];
  history.forEach((entry, historyIndex) => {
    const revision = effectiveWriteRevision(entry);
    if (revision !== undefined && !delivered.has(revision)) lost.push({ historyIndex, revision });
  });
  return lost;
}

/**
 * For each revision r, the earliest completion of an acknowledged write at a revision above r:
 * a write committed at r took effect before then. Returned as a lookup function.
 */
function laterAckBound(history: readonly HistoryEntry[]): (revision: number) => number {
  const acks: { revision: number; completeTime: number }[] = [];
  for (const entry of history) {
    const revision = effectiveWriteRevision(entry);
    if (revision !== undefined && entry.outcome.status === "ok") acks.push({ revision, completeTime: entry.outcome.completeTime });
  }
  acks.sort((a, b) => a.revision - b.revision);
  const suffixMin = new Array<number>(acks.length + 1).fill(Number.POSITIVE_INFINITY);
  for (let i = acks.length - 1; i >= 0; i--) suffixMin[i] = Math.min(suffixMin[i + 1] ?? Number.POSITIVE_INFINITY, acks[i]?.completeTime ?? Number.POSITIVE_INFINITY);
  return (revision) => {
    let low = 0;
    let high = acks.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((acks[middle]?.revision ?? 0) <= revision) low = middle + 1;
      else high = middle;
    }
    return suffixMin[low] ?? Number.POSITIVE_INFINITY;
  };
}

function revealedResult(entry: HistoryEntry, revision: number): KvResult | undefined {
  switch (entry.operation.kind) {
    case "put":
      return { kind: "put", revision };
    case "cas":
      return { kind: "cas", succeeded: true, revision };
    case "delete":
      return { kind: "delete", deleted: 1, revision };
    case "get":
      return undefined;
  }
}

/**
 * Settles unknown writes with what the verified watch streams show (see the file comment).
 * `coveredThrough` is the revision every stream is known to have reached (the final write).
 */
export function refineUnknownWrites(history: readonly HistoryEntry[], watch: WatchReport, streamsComplete: boolean): Refinement {
  if (watch.status !== "ok") return { history, revealed: 0, dropped: 0, skippedBecause: "the watch check failed" };
  if (!streamsComplete) return { history, revealed: 0, dropped: 0, skippedBecause: "a watch stream did not reach the final write" };
  const bound = laterAckBound(history);
  const revealedAt = new Map<number, RevealedWrite>(watch.revealedWrites.map((write) => [write.historyIndex, write]));
  let revealed = 0;
  let dropped = 0;
  const refined = history.map((entry, historyIndex): HistoryEntry => {
    if (entry.outcome.status !== "unknown" || entry.operation.kind === "get") return entry;
    const write = revealedAt.get(historyIndex);
    if (write === undefined) {
      dropped++;
      return { ...entry, outcome: { status: "failed", completeTime: entry.invokeTime } };
    }
    const completeTime = bound(write.revision);
    const result = revealedResult(entry, write.revision);
    // No later acknowledged write bounds it (or the bound precedes it): leave it unknown.
    if (!Number.isFinite(completeTime) || completeTime < entry.invokeTime || result === undefined) return entry;
    revealed++;
    return { ...entry, outcome: { status: "ok", completeTime, result } };
  });
  assert(refined.length === history.length, "settling keeps every entry at its index");
  return { history: refined, revealed, dropped };
}

export function analyzeHistory(history: readonly HistoryEntry[], streams: readonly WatchStream[], streamsComplete: boolean): Analysis {
  const watch = checkWatchStreams(history, streams);
  const refinement = refineUnknownWrites(history, watch, streamsComplete);
  const budget = refinement.skippedBecause === undefined ? {} : { maxStatesExploredPerKey: rawHistoryStatesPerKeyMax };
  // Any order of the settled history is an order of the raw one, so a pass here is a pass there.
  const linearizability = checkLinearizability(refinement.history, budget);
  const rawStatus = linearizability.status === "violation" && refinement.history !== history
    ? checkLinearizability(history, { maxStatesExploredPerKey: rawHistoryStatesPerKeyMax }).status
    : undefined;
  return { counts: countOutcomes(history), watch, refinement, linearizability, lostWrites: streamsComplete ? lostAcknowledgedWrites(history, streams) : undefined, rawStatus };
}

/** The settled history's verdict with some entries (planted reads) left out: the plant's control. */
export function statusWithout(analysis: Analysis, left: ReadonlySet<number>): LinearizabilityReport["status"] {
  const kept = analysis.refinement.history.filter((_, historyIndex) => !left.has(historyIndex));
  return checkLinearizability(kept, { maxStatesExploredPerKey: rawHistoryStatesPerKeyMax }).status;
}

/**
 * For each leader loss, the time from the fault until the first write invoked after it was
 * acknowledged; the longest of them (undefined when there was no loss or no write after it).
 */
export function longestWriteUnavailabilityMs(history: readonly HistoryEntry[], lossTimesMs: readonly number[]): number | undefined {
  const acks: { invokeTime: number; completeTime: number }[] = [];
  for (const entry of history) {
    if (entry.operation.kind !== "get" && entry.outcome.status === "ok") acks.push({ invokeTime: entry.invokeTime, completeTime: entry.outcome.completeTime });
  }
  let longest: number | undefined;
  for (const lossMs of lossTimesMs) {
    let firstAck = Number.POSITIVE_INFINITY;
    for (const ack of acks) if (ack.invokeTime >= lossMs && ack.completeTime < firstAck) firstAck = ack.completeTime;
    if (Number.isFinite(firstAck)) longest = Math.max(longest ?? 0, firstAck - lossMs);
  }
  return longest;
}
