/**
 * The simulator's judge. It knows nothing about the network, the fault schedule or RawNode: the
 * driver reports what it observes (leaders, logs, commits, applies, acknowledged writes, reads)
 * and the checker throws an InvariantViolation naming the Raft property that broke. Every check is
 * cheap enough to run after every simulated step.
 */
import type { ConfState, Entry, NodeId } from "../../libs/raft/index.ts";

/** A broken safety or liveness property. `invariant` is a stable name; `detail` says where. */
export class InvariantViolation extends Error {
  readonly invariant: string;
  readonly detail: string;
  readonly tick: number;

  constructor(invariant: string, detail: string, tick: number) {
    super(`tick ${tick}: ${invariant}: ${detail}`);
    this.name = "InvariantViolation";
    this.invariant = invariant;
    this.detail = detail;
    this.tick = tick;
  }
}

/** Names of the invariants, so that tests and FINDINGS.md can refer to them exactly. */
export const invariants = {
  oneLeaderPerTerm: "at most one leader per term",
  oneVotePerTerm: "a replica votes for at most one candidate per term",
  logMatching: "log matching",
  committedUnchanged: "committed entry never changes",
  committedNotLost: "committed entry never lost (leader completeness)",
  leaderCommitsOwnTerm: "a leader commits by counting replicas only entries of its own term",
  sameApplied: "every replica applies the same entry at each index",
  stateDigest: "replicas reach the same state at the same index",
  applyContiguous: "entries are applied in order without gaps",
  commitMonotonic: "commit index never goes backwards",
  appliedMonotonic: "applied index never goes backwards",
  appliedWithinCommit: "applied index never exceeds commit index",
  membershipRestored: "a restarted replica resumes with the membership it had applied",
  readLinearizable: "a ReadIndex read observes every write acknowledged before it began",
  liveness: "after healing, a leader is elected and a proposal commits on all live voters",
} as const;

/** One replica's log as the driver sees it: contiguous entries in ascending index order. */
export interface LogView {
  /** Unique per log, e.g. "n3/disk" or "n3/mem". */
  readonly label: string;
  readonly nodeId: NodeId;
  /** Must change whenever entries, commit, term or leadership of this view change. */
  readonly version: number;
  readonly entries: readonly Entry[];
  /** Entries at or below this index are committed (as far as this replica knows). */
  readonly commit: number;
  /** The replica's current term. */
  readonly term: number;
  readonly isLeader: boolean;
}

interface CommitRecord {
  readonly key: string;
  /** The lowest term of any replica seen holding this index as committed: every leader of this
   * term or later must have the entry (Leader Completeness). */
  term: number;
}

interface Progress {
  commit: number;
  applied: number;
}

const entryKeys = new WeakMap<Entry, string>();

/** Identity of an entry: its term, type and bytes. Cached because logs are compared every step. */
export function entryKey(entry: Entry): string {
  const cached = entryKeys.get(entry);
  if (cached !== undefined) return cached;
  let bytes = "";
  for (const byte of entry.data) bytes += String.fromCharCode(byte);
  const key = `${entry.term}/${entry.type}/${bytes}`;
  entryKeys.set(entry, key);
  return key;
}

/** FNV-1a over the applied values, one step per value: replicas at the same index must agree. */
export function extendDigest(digest: number, value: string): number {
  let hash = digest ^ 0x1f;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export const emptyDigest = 0x811c9dc5;

export class Checker {
  readonly #leaderByTerm = new Map<number, NodeId>();
  /** "voter/term" -> the candidate it granted its vote to. */
  readonly #votes = new Map<string, NodeId>();
  readonly #committed = new Map<number, CommitRecord>();
  #committedIndexMax = 0;
  readonly #digestByIndex = new Map<number, number>();
  readonly #live = new Map<NodeId, Progress>();
  readonly #durable = new Map<NodeId, Progress>();
  readonly #checkedVersions = new Map<string, number>();
  /** label -> term and commit index when that log was first seen leading its current term. */
  readonly #leaderBaselines = new Map<string, { term: number; commit: number }>();
  /** label -> "version:committedIndexMax" at the last leader-completeness check. */
  readonly #checkedLeaders = new Map<string, string>();
  readonly #acknowledged: string[] = [];
  readonly #acknowledgedSet = new Set<string>();
  /** readId -> how many writes had been acknowledged when the read began. */
  readonly #readsInFlight = new Map<string, number>();
  #readsServed = 0;

  get committedIndexMax(): number {
    return this.#committedIndexMax;
  }

  get readsServed(): number {
    return this.#readsServed;
  }

  get writesAcknowledged(): number {
    return this.#acknowledged.length;
  }

  /** `id` believes it leads `term`. */
  leader(tick: number, term: number, id: NodeId): void {
    const known = this.#leaderByTerm.get(term);
    if (known === undefined) this.#leaderByTerm.set(term, id);
    else if (known !== id) fail(invariants.oneLeaderPerTerm, `term ${term} has leaders ${known} and ${id}`, tick);
  }

  /** `voter` sent a granted (real, not pre-) vote for `candidate` in `term`. */
  voteGranted(tick: number, voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}/${term}`;
    const known = this.#votes.get(key);
    if (known === undefined) this.#votes.set(key, candidate);
    else if (known !== candidate) fail(invariants.oneVotePerTerm, `n${voter} voted for n${known} and n${candidate} in term ${term}`, tick);
  }

  /** Compares every log that changed since the last call against every other log. */
  logs(tick: number, views: readonly LogView[]): void {
    const changed = views.filter((view) => this.#checkedVersions.get(view.label) !== view.version);
    for (const view of changed) {
      this.#recordCommitted(tick, view);
      for (const other of views) if (other !== view) checkPair(tick, view, other);
      this.#checkedVersions.set(view.label, view.version);
    }
    for (const view of views) {
      this.#checkLeaderCommit(tick, view);
      if (!view.isLeader) continue;
      const stamp = `${view.version}:${this.#committedIndexMax}`;
      if (this.#checkedLeaders.get(view.label) === stamp) continue;
      this.#checkLeaderComplete(tick, view);
      this.#checkedLeaders.set(view.label, stamp);
    }
  }

  /** Forgets a log that no longer exists (a retired node), so its label may not be compared. */
  forgetLog(label: string): void {
    this.#checkedVersions.delete(label);
    this.#checkedLeaders.delete(label);
    this.#leaderBaselines.delete(label);
  }

  /** `id` applied `entry` while at `term`, and its state digest afterwards is `digest`. */
  applied(tick: number, id: NodeId, term: number, entry: Entry, digest: number): void {
    this.#record(tick, entry.index, entryKey(entry), term, `n${id} applied it`);
    this.#checkDigest(tick, id, entry.index, digest);
  }

  /** `id` replaced its state machine with a snapshot taken at `index`. */
  snapshotRestored(tick: number, id: NodeId, index: number, digest: number): void {
    this.#checkDigest(tick, id, index, digest);
  }

  /** A live replica's commit and applied indexes, observed once per step. */
  progress(tick: number, id: NodeId, commit: number, applied: number): void {
    if (applied > commit) fail(invariants.appliedWithinCommit, `n${id} applied ${applied} > commit ${commit}`, tick);
    advanceProgress(tick, `n${id}`, this.#live, id, commit, applied);
  }

  /** What a replica has made durable: hard state commit and the applied index of its state machine. */
  persisted(tick: number, id: NodeId, commit: number, applied: number): void {
    advanceProgress(tick, `n${id}/disk`, this.#durable, id, commit, applied);
  }

  /** A replica restarted: from now on its live indexes may not fall below what it persisted. */
  restarted(id: NodeId): void {
    const floor = this.#durable.get(id) ?? { commit: 0, applied: 0 };
    this.#live.set(id, { ...floor });
  }

  /** A client learned that its write of `value` was applied. Later reads must observe it. */
  writeAcknowledged(value: string): void {
    if (this.#acknowledgedSet.has(value)) return;
    this.#acknowledgedSet.add(value);
    this.#acknowledged.push(value);
  }

  readStarted(readId: string): void {
    this.#readsInFlight.set(readId, this.#acknowledged.length);
  }

  /** The read `readId` ran on `id`'s state machine; `contains` says whether a value is in it. */
  readServed(tick: number, readId: string, id: NodeId, contains: (value: string) => boolean): void {
    const acknowledgedBefore = this.#readsInFlight.get(readId);
    if (acknowledgedBefore === undefined) return;
    this.#readsInFlight.delete(readId);
    this.#readsServed++;
    for (let i = 0; i < acknowledgedBefore; i++) {
      const value = this.#acknowledged[i] as string;
      if (!contains(value)) {
        fail(invariants.readLinearizable, `read ${readId} on n${id} misses ${value}, acknowledged before the read began`, tick);
      }
    }
  }

  /** After a restart, Raft's membership must be the one the state machine had applied. */
  membershipRestored(tick: number, id: NodeId, applied: ConfState, restored: ConfState): void {
    if (sameIds(applied.voters, restored.voters) && sameIds(applied.learners, restored.learners)) return;
    fail(invariants.membershipRestored, `n${id} restarted with ${showConf(restored)}, but had applied ${showConf(applied)}`, tick);
  }

  /** The quiet phase ended without progress. */
  livenessFailed(tick: number, detail: string): never {
    fail(invariants.liveness, detail, tick);
  }

  readAbandoned(readId: string): void {
    this.#readsInFlight.delete(readId);
  }

  #record(tick: number, index: number, key: string, term: number, where: string): void {
    const known = this.#committed.get(index);
    if (known === undefined) {
      this.#committed.set(index, { key, term });
      if (index > this.#committedIndexMax) this.#committedIndexMax = index;
      return;
    }
    if (known.key !== key) {
      const invariant = where.includes("applied") ? invariants.sameApplied : invariants.committedUnchanged;
      fail(invariant, `index ${index} was committed as ${show(known.key)} but ${where} as ${show(key)}`, tick);
    }
    if (term < known.term) known.term = term;
  }

  #recordCommitted(tick: number, view: LogView): void {
    for (const entry of view.entries) {
      if (entry.index > view.commit) break;
      this.#record(tick, entry.index, entryKey(entry), view.term, `${view.label} holds it committed`);
    }
  }

  #checkDigest(tick: number, id: NodeId, index: number, digest: number): void {
    const known = this.#digestByIndex.get(index);
    if (known === undefined) this.#digestByIndex.set(index, digest);
    else if (known !== digest) fail(invariants.stateDigest, `n${id} state at index ${index} differs from another replica's`, tick);
  }

  /**
   * Raft §5.4.2: once leading, a node raises its commit index only to an entry of its own term
   * (older entries become committed indirectly). Judged against the commit it had when first seen
   * leading, so the check is sharp without knowing the exact moment of the election.
   */
  #checkLeaderCommit(tick: number, view: LogView): void {
    const baseline = this.#leaderBaselines.get(view.label);
    if (!view.isLeader) {
      if (baseline !== undefined) this.#leaderBaselines.delete(view.label);
      return;
    }
    if (baseline === undefined || baseline.term !== view.term) {
      this.#leaderBaselines.set(view.label, { term: view.term, commit: view.commit });
      return;
    }
    if (view.commit <= baseline.commit) return;
    const first = view.entries[0]?.index ?? Number.POSITIVE_INFINITY;
    const entry = view.entries[view.commit - first];
    if (entry !== undefined && entry.term !== view.term) {
      fail(invariants.leaderCommitsOwnTerm, `leader ${view.label} of term ${view.term} raised its commit from ${baseline.commit} to ${view.commit}, an entry of term ${entry.term}`, tick);
    }
  }

  /** A leader of term T holds every entry known committed at a term <= T (unless compacted). */
  #checkLeaderComplete(tick: number, view: LogView): void {
    const first = view.entries[0]?.index ?? Number.POSITIVE_INFINITY;
    const last = view.entries.at(-1)?.index ?? 0;
    for (let index = this.#committedIndexMax; index >= 1; index--) {
      if (index < first) break;
      const record = this.#committed.get(index);
      if (record === undefined || record.term > view.term) continue;
      const entry = index <= last ? view.entries[index - first] : undefined;
      if (entry === undefined || entryKey(entry) !== record.key) {
        const has = entry === undefined ? "nothing" : show(entryKey(entry));
        fail(invariants.committedNotLost, `leader ${view.label} of term ${view.term} has ${has} at index ${index}, committed as ${show(record.key)}`, tick);
      }
    }
  }
}

function advanceProgress(tick: number, who: string, table: Map<NodeId, Progress>, id: NodeId, commit: number, applied: number): void {
  const previous = table.get(id);
  if (previous !== undefined) {
    if (commit < previous.commit) fail(invariants.commitMonotonic, `${who} commit ${previous.commit} -> ${commit}`, tick);
    if (applied < previous.applied) fail(invariants.appliedMonotonic, `${who} applied ${previous.applied} -> ${applied}`, tick);
  }
  table.set(id, { commit, applied });
}

/**
 * Log Matching: if two logs hold an entry with the same index and term, the entries are equal and
 * so are all entries before it. Scans the common range from the top down.
 */
function checkPair(tick: number, a: LogView, b: LogView): void {
  const aFirst = a.entries[0]?.index;
  const bFirst = b.entries[0]?.index;
  if (aFirst === undefined || bFirst === undefined) return;
  const low = Math.max(aFirst, bFirst);
  const high = Math.min(aFirst + a.entries.length - 1, bFirst + b.entries.length - 1);
  let matchedAt = 0;
  for (let index = high; index >= low; index--) {
    const x = a.entries[index - aFirst] as Entry;
    const y = b.entries[index - bFirst] as Entry;
    const sameTerm = x.term === y.term;
    if (sameTerm && entryKey(x) !== entryKey(y)) {
      fail(invariants.logMatching, `${a.label} and ${b.label} hold different entries at index ${index} term ${x.term}: ${show(entryKey(x))} vs ${show(entryKey(y))}`, tick);
    }
    if (sameTerm && matchedAt === 0) matchedAt = index;
    if (!sameTerm && matchedAt !== 0) {
      fail(invariants.logMatching, `${a.label} and ${b.label} agree at index ${matchedAt} but differ at ${index} (terms ${x.term} vs ${y.term})`, tick);
    }
  }
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort((x, y) => x - y);
  return [...a].sort((x, y) => x - y).every((id, i) => id === sortedB[i]);
}

function showConf(confState: ConfState): string {
  return `voters [${confState.voters.join(",")}] learners [${confState.learners.join(",")}]`;
}

function show(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
}

function fail(invariant: string, detail: string, tick: number): never {
  throw new InvariantViolation(invariant, detail, tick);
}
