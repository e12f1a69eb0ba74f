/**
 * checkWatchStreams: did every watch stream deliver exactly the committed history of its range?
 *
 * The committed history comes from the recorded operations: every acknowledged write that took
 * effect carries the header revision the store gave it, and in this single-key workload each
 * write is its own revision. Per stream we check that events come in revision order, without
 * duplicates, inside the watched range, equal to the write committed at that revision, and with
 * no committed event missing between the first and last revision the stream covers.
 *
 * A write with unknown outcome has no revision; if a stream delivers an event that no
 * acknowledged write explains but such a write does (same key, kind and value), the event
 * reveals that the write took effect at that revision. It then joins the committed history and
 * every other stream covering that revision must deliver it too.
 */
import { assert, unreachable } from "../assert/index.ts";
import { validateHistory } from "./history.ts";
import { keyInRange } from "./keys.ts";
import type { HistoryEntry, KvResult } from "./types.ts";

export interface WatchEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  /** The event's kv.mod_revision: the revision of the write. */
  readonly modRevision: number;
  /** The put's value; ignored for deletes. */
  readonly value?: string;
}

export interface WatchStream {
  /** Names the stream in problems, e.g. "watcher 3 (prefix /a)". */
  readonly name: string;
  readonly key: string;
  /** etcd's range_end: absent or "" for the key alone, "\0" for every key >= key. */
  readonly rangeEnd?: string;
  /** The stream promised every event from this revision (the watch's start_revision). */
  readonly startRevision?: number;
  /** The stream promised every event up to this revision (a progress notification's header). */
  readonly progressRevision?: number;
  readonly events: readonly WatchEvent[];
}

export type WatchProblemKind =
  | "out-of-order"
  | "duplicate"
  | "out-of-range"
  | "unwritten"
  | "mismatch"
  | "gap"
  | "revision-reused"
  | "revision-order";

export interface WatchProblem {
  readonly kind: WatchProblemKind;
  /** undefined for problems of the history itself (revision-reused, revision-order). */
  readonly stream: string | undefined;
  readonly revision: number;
  readonly message: string;
}

export interface RevealedWrite {
  readonly historyIndex: number;
  readonly revision: number;
}

export interface WatchReport {
  readonly status: "ok" | "violation";
  readonly problems: readonly WatchProblem[];
  /** Problems beyond watchProblemsMax, counted but not kept. */
  readonly problemsDropped: number;
  /** Unknown-outcome writes that a stream showed took effect, with their revision. */
  readonly revealedWrites: readonly RevealedWrite[];
}

/** Bound on problems kept in a report: the first ones explain a failure; the rest is noise. */
export const watchProblemsMax = 200;

interface CommittedEvent {
  readonly revision: number;
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value: string | undefined;
  readonly historyIndex: number;
  readonly invokeTime: number;
  /** Infinity for a revealed unknown-outcome write. */
  readonly completeTime: number;
}

class ProblemLog {
  readonly problems: WatchProblem[] = [];
  dropped = 0;

  add(kind: WatchProblemKind, stream: string | undefined, revision: number, message: string): void {
    if (this.problems.length >= watchProblemsMax) {
      this.dropped++;
      return;
    }
    this.problems.push({ kind, stream, revision, message });
  }
}

export function checkWatchStreams(history: readonly HistoryEntry[], streams: readonly WatchStream[]): WatchReport {
  validateHistory(history);
  streams.forEach(validateStream);
  const log = new ProblemLog();
  const committed = acknowledgedEvents(history, log);
  const revealedWrites = revealUnknownWrites(history, streams, committed);
  checkRevisionOrder(committed, log);
  const ordered = [...committed.values()].sort((a, b) => a.revision - b.revision);
  for (const stream of streams) checkStream(stream, committed, ordered, log);
  return {
    status: log.problems.length + log.dropped === 0 ? "ok" : "violation",
    problems: log.problems,
    problemsDropped: log.dropped,
    revealedWrites,
  };
}

function validateStream(stream: WatchStream): void {
  stream.events.forEach((event, index) => {
    if (!Number.isSafeInteger(event.modRevision) || event.modRevision < 1) {
      throw new RangeError(`watch stream ${stream.name} event ${index}: modRevision must be a positive integer`);
    }
    if (event.type === "put" && event.value === undefined) {
      throw new RangeError(`watch stream ${stream.name} event ${index}: a put event needs its value`);
    }
  });
}

/** The event a write produces if it takes effect, or undefined when it changes nothing. */
function eventOf(entry: HistoryEntry): { type: "put" | "delete"; value: string | undefined } | undefined {
  const operation = entry.operation;
  const outcome = entry.outcome;
  switch (operation.kind) {
    case "get":
      return undefined;
    case "put":
      return { type: "put", value: operation.value };
    case "delete":
      if (outcome.status === "ok" && outcome.result.kind === "delete" && outcome.result.deleted === 0) return undefined;
      return { type: "delete", value: undefined };
    case "cas":
      if (outcome.status === "ok" && outcome.result.kind === "cas" && !outcome.result.succeeded) return undefined;
      return { type: "put", value: operation.value };
    default:
      return unreachable(operation, "operation kind");
  }
}

function acknowledgedEvents(history: readonly HistoryEntry[], log: ProblemLog): Map<number, CommittedEvent> {
  const committed = new Map<number, CommittedEvent>();
  history.forEach((entry, historyIndex) => {
    const outcome = entry.outcome;
    if (outcome.status !== "ok") return;
    const effect = eventOf(entry);
    if (effect === undefined) return;
    const result = outcome.result;
    if (result.kind === "delete" && result.deleted === undefined) {
      throw new RangeError(`history[${historyIndex}]: the watch check needs the deleted count of every delete`);
    }
    const revision = result.revision;
    if (revision === undefined || !Number.isSafeInteger(revision) || revision < 1) {
      throw new RangeError(`history[${historyIndex}]: the watch check needs the revision of every write that took effect`);
    }
    const event: CommittedEvent = {
      revision, ...effect, key: entry.operation.key, historyIndex,
      invokeTime: entry.invokeTime, completeTime: outcome.completeTime,
    };
    const previous = committed.get(revision);
    if (previous !== undefined) {
      log.add("revision-reused", undefined, revision,
        `history[${previous.historyIndex}] and history[${historyIndex}] both committed at revision ${revision}`);
      return;
    }
    committed.set(revision, event);
  });
  return committed;
}

function signature(type: "put" | "delete", key: string, value: string | undefined): string {
  return type === "put" ? `put\u0000${key}\u0000${value ?? ""}` : `delete\u0000${key}`;
}

/**
 * Matches events no acknowledged write explains to unknown-outcome writes with the same effect.
 * Each such write is used at most once; among equal candidates the earliest invoked is taken
 * (they are interchangeable for every check made here).
 */
function revealUnknownWrites(
  history: readonly HistoryEntry[],
  streams: readonly WatchStream[],
  committed: Map<number, CommittedEvent>,
): RevealedWrite[] {
  const candidates = new Map<string, number[]>();
  history.forEach((entry, historyIndex) => {
    const effect = eventOf(entry);
    if (entry.outcome.status !== "unknown" || effect === undefined) return;
    const sig = signature(effect.type, entry.operation.key, effect.value);
    candidates.set(sig, [...(candidates.get(sig) ?? []), historyIndex]);
  });
  for (const list of candidates.values()) list.sort((a, b) => (history[a]?.invokeTime ?? 0) - (history[b]?.invokeTime ?? 0));
  const unexplained = streams.flatMap((stream) => stream.events).filter((event) => !committed.has(event.modRevision));
  unexplained.sort((a, b) => a.modRevision - b.modRevision);
  const revealed: RevealedWrite[] = [];
  for (const event of unexplained) {
    if (committed.has(event.modRevision)) continue;
    const historyIndex = candidates.get(signature(event.type, event.key, event.value))?.shift();
    if (historyIndex === undefined) continue;
    const entry = history[historyIndex];
    assert(entry !== undefined, "candidate indexes the history");
    committed.set(event.modRevision, {
      revision: event.modRevision, type: event.type, key: event.key, value: event.type === "put" ? event.value : undefined,
      historyIndex, invokeTime: entry.invokeTime, completeTime: Number.POSITIVE_INFINITY,
    });
    revealed.push({ historyIndex, revision: event.modRevision });
  }
  return revealed;
}

/** Revisions must respect real time: a write that finished before another began has the lower revision. */
function checkRevisionOrder(committed: ReadonlyMap<number, CommittedEvent>, log: ProblemLog): void {
  const byRevision = [...committed.values()].sort((a, b) => a.revision - b.revision);
  let latestInvoked: CommittedEvent | undefined;
  for (const event of byRevision) {
    if (latestInvoked !== undefined && event.completeTime < latestInvoked.invokeTime) {
      log.add("revision-order", undefined, event.revision,
        `history[${event.historyIndex}] got revision ${event.revision} but completed before history[${latestInvoked.historyIndex}] ` +
        `(revision ${latestInvoked.revision}) was invoked`);
    }
    if (latestInvoked === undefined || event.invokeTime > latestInvoked.invokeTime) latestInvoked = event;
  }
}

function describe(event: { type: "put" | "delete"; key: string; value?: string | undefined }): string {
  return event.type === "put" ? `put ${JSON.stringify(event.key)} = ${JSON.stringify(event.value)}` : `delete ${JSON.stringify(event.key)}`;
}

function checkStream(
  stream: WatchStream,
  committed: ReadonlyMap<number, CommittedEvent>,
  ordered: readonly CommittedEvent[],
  log: ProblemLog,
): void {
  const delivered = new Set<number>();
  let lastRevision = 0;
  for (const event of stream.events) {
    const revision = event.modRevision;
    if (delivered.has(revision)) {
      log.add("duplicate", stream.name, revision, `${describe(event)} at revision ${revision} delivered again`);
      continue;
    }
    if (revision < lastRevision) {
      log.add("out-of-order", stream.name, revision, `revision ${revision} delivered after revision ${lastRevision}`);
    }
    delivered.add(revision);
    lastRevision = Math.max(lastRevision, revision);
    if (!keyInRange(event.key, stream.key, stream.rangeEnd)) {
      log.add("out-of-range", stream.name, revision, `${describe(event)} is outside the watched range`);
    }
    const truth = committed.get(revision);
    if (truth === undefined) {
      log.add("unwritten", stream.name, revision, `${describe(event)} at revision ${revision} matches no write in the history`);
    } else if (truth.type !== event.type || truth.key !== event.key || (truth.type === "put" && truth.value !== event.value)) {
      log.add("mismatch", stream.name, revision,
        `delivered ${describe(event)} but history[${truth.historyIndex}] committed ${describe(truth)} at revision ${revision}`);
    }
  }
  checkGaps(stream, delivered, ordered, log);
}

function checkGaps(stream: WatchStream, delivered: ReadonlySet<number>, ordered: readonly CommittedEvent[], log: ProblemLog): void {
  let firstRevision = Number.POSITIVE_INFINITY;
  let lastRevision = Number.NEGATIVE_INFINITY;
  for (const event of stream.events) {
    firstRevision = Math.min(firstRevision, event.modRevision);
    lastRevision = Math.max(lastRevision, event.modRevision);
  }
  const low = stream.startRevision ?? firstRevision;
  const high = Math.max(stream.progressRevision ?? Number.NEGATIVE_INFINITY, lastRevision);
  if (!Number.isFinite(low) || !Number.isFinite(high)) return;
  for (const event of ordered) {
    if (event.revision < low) continue;
    if (event.revision > high) break;
    if (delivered.has(event.revision) || !keyInRange(event.key, stream.key, stream.rangeEnd)) continue;
    log.add("gap", stream.name, event.revision,
      `history[${event.historyIndex}] committed ${describe(event)} at revision ${event.revision}, ` +
      `inside the stream's span [${low}, ${high}], but it was not delivered`);
  }
}

/** Readable summary of a watch report, problems first. */
export function formatWatchReport(report: WatchReport): string {
  const lines = [`watch streams ${report.status} (${report.problems.length + report.problemsDropped} problems)`];
  for (const problem of report.problems) {
    lines.push(`  ${problem.kind}${problem.stream === undefined ? "" : ` in ${problem.stream}`}: ${problem.message}`);
  }
  if (report.problemsDropped > 0) lines.push(`  ... ${report.problemsDropped} more`);
  for (const write of report.revealedWrites) {
    lines.push(`  history[${write.historyIndex}] (outcome unknown) took effect at revision ${write.revision}`);
  }
  return lines.join("\n");
}

/**
 * Feeds what the streams revealed back into the history for checkLinearizability. A revealed
 * write took effect at its revision, so before any acknowledged write with a higher revision
 * completed: it becomes an ok outcome completing at the earliest such completion. A revealed
 * write that no later acknowledged write bounds stays unknown (placing it last is as good as
 * omitting it, so nothing is learned). Only this time bound is passed on: the order against
 * writes that complete at or after it is not. Assumes the store numbers revisions in apply
 * order, which checkWatchStreams's revision-order check tests.
 */
export function settleRevealedWrites(history: readonly HistoryEntry[], revealedWrites: readonly RevealedWrite[]): HistoryEntry[] {
  const acknowledged: { revision: number; completeTime: number }[] = [];
  for (const entry of history) {
    const outcome = entry.outcome;
    const revision = outcome.status === "ok" && entry.operation.kind !== "get" ? outcome.result.revision : undefined;
    if (outcome.status === "ok" && revision !== undefined) acknowledged.push({ revision, completeTime: outcome.completeTime });
  }
  acknowledged.sort((a, b) => b.revision - a.revision);
  // earliestLaterCompletion[i]: the earliest completion among acknowledged[0..i] (all revisions >= acknowledged[i]).
  const earliestLaterCompletion: number[] = [];
  for (const [index, write] of acknowledged.entries()) {
    earliestLaterCompletion.push(Math.min(write.completeTime, earliestLaterCompletion[index - 1] ?? Number.POSITIVE_INFINITY));
  }
  const settled = [...history];
  for (const { historyIndex, revision } of revealedWrites) {
    const entry = history[historyIndex];
    assert(entry !== undefined && entry.outcome.status === "unknown", "revealed writes are unknown-outcome entries");
    const completeTime = earliestLaterCompletion[countAbove(acknowledged, revision) - 1];
    if (completeTime === undefined || completeTime < entry.invokeTime) continue;
    settled[historyIndex] = { ...entry, outcome: { status: "ok", completeTime, result: tookEffectResult(entry, revision) } };
  }
  return settled;
}

function tookEffectResult(entry: HistoryEntry, revision: number): KvResult {
  const operation = entry.operation;
  switch (operation.kind) {
    case "put":
      return { kind: "put", revision };
    case "delete":
      return { kind: "delete", deleted: 1, revision };
    case "cas":
      return { kind: "cas", succeeded: true, revision };
    case "get":
      assert(false, "a read reveals no write");
      break;
    default:
      return unreachable(operation, "operation kind");
  }
}

/** How many writes of `descending` (sorted by revision, highest first) have a revision above `revision`. */
function countAbove(descending: readonly { revision: number }[], revision: number): number {
  let low = 0;
  let high = descending.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((descending[middle]?.revision ?? 0) > revision) low = middle + 1;
    else high = middle;
  }
  return low;
}
