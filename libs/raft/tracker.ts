/**
 * The configuration (voters and learners) and, on the leader, each member's Progress; also the
 * vote tally of an election. Quorums count voters only: learners replicate but never decide.
 */
import { assert } from "../assert/index.ts";
import { Progress } from "./progress.ts";
import type { ConfState, NodeId } from "./types.ts";
import { sortedIds } from "./util.ts";

export enum VoteResult {
  Pending = "pending",
  Won = "won",
  Lost = "lost",
}

export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly maxInflightMessages: number;
  /** memberIds() in id order, recomputed only when the configuration changes. */
  #sortedMemberIds: NodeId[] | undefined;

  constructor(maxInflightMessages: number) {
    this.maxInflightMessages = maxInflightMessages;
  }

  /** Replaces the configuration; progress of new members starts probing at `nextIndex`. */
  setConfState(confState: ConfState, nextIndex: number): void {
    this.#sortedMemberIds = undefined;
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    for (const id of confState.voters) this.addMember(id, false, nextIndex);
    for (const id of confState.learners) this.addMember(id, true, nextIndex);
  }

  addMember(id: NodeId, isLearner: boolean, nextIndex: number): void {
    assert(id !== 0, "a member id is not zero");
    this.#sortedMemberIds = undefined;
    if (isLearner) {
      this.voters.delete(id);
      this.learners.add(id);
    } else {
      this.learners.delete(id);
      this.voters.add(id);
    }
    const existing = this.progress.get(id);
    if (existing !== undefined) {
      existing.isLearner = isLearner;
      return;
    }
    const progress = new Progress({ match: 0, next: nextIndex, isLearner, maxInflightMessages: this.maxInflightMessages });
    // A new member counts as active so that CheckQuorum does not depose the leader before the
    // member had a chance to answer.
    progress.recentActive = true;
    this.progress.set(id, progress);
  }

  /** A new term: every member's progress restarts, probing from `nextIndex`. */
  resetProgress(nextIndex: number): void {
    for (const [id, old] of this.progress) {
      const fresh = new Progress({ match: 0, next: nextIndex, isLearner: old.isLearner, maxInflightMessages: this.maxInflightMessages });
      this.progress.set(id, fresh);
    }
  }

  removeMember(id: NodeId): void {
    this.#sortedMemberIds = undefined;
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
    this.votes.delete(id);
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  quorumSize(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  confState(): ConfState {
    return { voters: sortedIds(this.voters), learners: sortedIds(this.learners) };
  }

  /** Every member in id order, so that message order is deterministic. */
  memberIds(): readonly NodeId[] {
    this.#sortedMemberIds ??= sortedIds(this.progress.keys());
    return this.#sortedMemberIds;
  }

  getProgress(id: NodeId): Progress {
    const progress = this.progress.get(id);
    assert(progress !== undefined, "a member has progress", () => `id=${id}`);
    return progress;
  }

  /** The largest index that a quorum of voters holds (their match indexes' quorum-th highest). */
  committedIndex(): number {
    if (this.voters.size === 0) return 0;
    const matches = [...this.voters].map((id) => this.progress.get(id)?.match ?? 0).sort((a, b) => b - a);
    return matches[this.quorumSize() - 1] as number;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; a voter's first answer in an election counts, later ones are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      if (vote === false) rejected++;
    }
    const quorum = this.quorumSize();
    let result = VoteResult.Pending;
    if (this.voters.size === 0) result = VoteResult.Lost;
    else if (granted >= quorum) result = VoteResult.Won;
    else if (rejected > this.voters.size - quorum) result = VoteResult.Lost;
    return { granted, rejected, result };
  }

  /** CheckQuorum: have a quorum of voters (the leader included) been heard from recently? */
  quorumActive(selfId: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === selfId || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= this.quorumSize();
  }
}
