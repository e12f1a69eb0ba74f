/**
 * What clients and operators do during a run: clients propose unique values and issue ReadIndex
 * reads; an operator changes membership one step at a time (add a learner with a fresh id,
 * promote it, remove a voter), moves leadership and forces elections. Every choice comes from
 * the simulation's Prng.
 */
import { ConfChangeType } from "../../libs/raft/index.ts";
import type { ConfChange, NodeId } from "../../libs/raft/index.ts";
import type { Prng } from "../../libs/prng/index.ts";
import type { SimNode } from "./node.ts";

/** Independent clients; each numbers its own values ("c2-17"), so every value is unique. */
export const clientsCount = 3;

/** Probabilities per tick of each action while faults run. */
export interface WorkloadRates {
  readonly proposePerTick: number;
  readonly readPerTick: number;
  readonly membershipPerTick: number;
  readonly transferPerTick: number;
  readonly campaignPerTick: number;
}

/** What the workload needs from the driver. */
export interface WorkloadCluster {
  readonly prng: Prng;
  /** Nodes that are up and not in the middle of a Ready, in id order. */
  availableNodes(): SimNode[];
  /** The available node that leads the highest term, if any. */
  leader(): SimNode | undefined;
  /** Creates and starts a node that joins an existing cluster under a new id. */
  spawnJoiningNode(): SimNode;
  readStarted(readId: string): void;
  note(text: string): void;
}

export interface WorkloadStats {
  proposalsAttempted: number;
  proposalsAccepted: number;
  readsIssued: number;
  membershipChangesProposed: number;
}

export class Workload {
  readonly #cluster: WorkloadCluster;
  readonly #replicas: number;
  readonly #rates: WorkloadRates;
  readonly #nextSequence: number[] = new Array<number>(clientsCount).fill(1);
  #nextReadId = 1;
  /** A node spawned to join but not yet a member; reused until its AddLearner is applied. */
  #joining: SimNode | undefined;
  readonly stats: WorkloadStats = { proposalsAttempted: 0, proposalsAccepted: 0, readsIssued: 0, membershipChangesProposed: 0 };

  constructor(cluster: WorkloadCluster, replicas: number, rates: WorkloadRates) {
    this.#cluster = cluster;
    this.#replicas = replicas;
    this.#rates = rates;
  }

  /** One tick of client and operator activity. */
  act(): void {
    const prng = this.#cluster.prng;
    const rates = this.#rates;
    if (prng.nextFloat() < rates.proposePerTick) this.#propose();
    if (prng.nextFloat() < rates.readPerTick) this.#read();
    if (prng.nextFloat() < rates.membershipPerTick) this.#changeMembership();
    if (prng.nextFloat() < rates.transferPerTick) this.#transferLeadership();
    if (prng.nextFloat() < rates.campaignPerTick) this.#campaign();
  }

  /** Proposes `value` on the current leader; false when there is none or it refused. */
  proposeOnLeader(value: string): boolean {
    const leader = this.#cluster.leader();
    if (leader === undefined) return false;
    this.stats.proposalsAttempted++;
    const accepted = leader.propose(value);
    if (accepted) this.stats.proposalsAccepted++;
    this.#cluster.note(`propose ${value} on n${leader.id}${accepted ? "" : " (refused)"}`);
    return accepted;
  }

  /** Clients mostly talk to the leader, sometimes to any node (a follower forwards or refuses). */
  #target(leaderShare: number): SimNode | undefined {
    const leader = this.#cluster.leader();
    if (leader !== undefined && this.#cluster.prng.nextFloat() < leaderShare) return leader;
    return pick(this.#cluster.prng, this.#cluster.availableNodes());
  }

  #propose(): void {
    const node = this.#target(0.7);
    if (node === undefined) return;
    const client = this.#cluster.prng.nextInt(clientsCount);
    const sequence = this.#nextSequence[client] ?? 1;
    this.#nextSequence[client] = sequence + 1;
    const value = `c${client}-${sequence}`;
    this.stats.proposalsAttempted++;
    const accepted = node.propose(value);
    if (accepted) this.stats.proposalsAccepted++;
    this.#cluster.note(`propose ${value} on n${node.id}${accepted ? "" : " (refused)"}`);
  }

  #read(): void {
    const node = this.#target(0.6);
    if (node === undefined) return;
    const readId = `r${this.#nextReadId++}`;
    if (!node.readIndex(readId)) return;
    this.#cluster.readStarted(readId);
    this.stats.readsIssued++;
    this.#cluster.note(`read ${readId} on n${node.id}`);
  }

  /** Moves membership one step towards "replicas voters", via a grown or a shrunk cluster. */
  #changeMembership(): void {
    const leader = this.#cluster.leader();
    const confState = leader?.status()?.confState;
    if (leader === undefined || confState === undefined) return;
    const joining = this.#joining;
    if (joining !== undefined && (confState.learners.includes(joining.id) || confState.voters.includes(joining.id))) this.#joining = undefined;
    const learner = confState.learners[0];
    const voters = confState.voters.length;
    const shrinkFirst = this.#cluster.prng.nextFloat() < 0.5;
    if (learner !== undefined) this.#proposeChange(leader, ConfChangeType.AddNode, learner);
    else if (voters > this.#replicas || (voters === this.#replicas && shrinkFirst)) this.#removeVoter(leader, confState.voters);
    else this.#addLearner(leader);
  }

  #removeVoter(leader: SimNode, voters: readonly NodeId[]): void {
    const victim = pick(this.#cluster.prng, [...voters]);
    if (victim !== undefined) this.#proposeChange(leader, ConfChangeType.RemoveNode, victim);
  }

  #addLearner(leader: SimNode): void {
    this.#joining ??= this.#cluster.spawnJoiningNode();
    this.#proposeChange(leader, ConfChangeType.AddLearnerNode, this.#joining.id);
  }

  #proposeChange(leader: SimNode, type: ConfChangeType, nodeId: NodeId): void {
    const change: ConfChange = { type, nodeId, context: new Uint8Array(0) };
    const accepted = leader.proposeConfChange(change);
    this.stats.membershipChangesProposed++;
    this.#cluster.note(`propose ${ConfChangeType[type]}(n${nodeId}) on n${leader.id}${accepted ? "" : " (refused)"}`);
  }

  #transferLeadership(): void {
    const leader = this.#cluster.leader();
    const voters = leader?.status()?.confState.voters.filter((id) => id !== leader.id) ?? [];
    const target = pick(this.#cluster.prng, voters);
    if (leader === undefined || target === undefined) return;
    this.#cluster.note(`transfer leadership n${leader.id} -> n${target}`);
    leader.transferLeadership(target);
  }

  #campaign(): void {
    const node = pick(this.#cluster.prng, this.#cluster.availableNodes());
    if (node === undefined) return;
    this.#cluster.note(`n${node.id} campaigns`);
    node.campaign();
  }
}

export function pick<T>(prng: Prng, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[prng.nextInt(items.length)];
}
