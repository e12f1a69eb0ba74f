/**
 * The nemesis: at random ticks it partitions the network (symmetric, one-way, around the leader),
 * heals it, changes loss/duplication/delay, crashes nodes (between steps or at a chosen phase of
 * their next Ready), stalls a node's fsync, and restarts crashed nodes after a random downtime.
 */
import type { Prng } from "../../libs/prng/index.ts";
import type { NodeId } from "../../libs/raft/index.ts";
import type { ReadyPhase, SimNode } from "./node.ts";
import { shuffle } from "./network.ts";
import type { LinkFaults, Network } from "./network.ts";
import { pick } from "./workload.ts";

/** A crashed node stays down for 1..downTicksMax ticks, or half the time only 1..quickRestartTicksMax
 * (a process supervisor restarting it at once), so that it is back while its old term is still current. */
export const downTicksMax = 80;
export const quickRestartTicksMax = 4;
/** A stalled fsync lasts 1..stallTicksMax ticks. */
export const stallTicksMax = 12;
/** Committed entries a planned mid-apply crash lets through before it strikes. */
export const crashAfterEntriesMax = 4;

export interface FaultCluster {
  readonly prng: Prng;
  /** The Ready phases before which a planned crash may strike. */
  readonly crashPhases: readonly ReadyPhase[];
  readonly network: Network;
  now(): number;
  /** Nodes that are members or joining (not retired), up or down, in id order. */
  nodes(): SimNode[];
  leader(): SimNode | undefined;
  restart(node: SimNode): void;
  note(text: string): void;
}

type FaultAction = (cluster: FaultCluster) => void;

/** Relative weights of the nemesis' actions. */
const actions: readonly (readonly [weight: number, action: FaultAction])[] = [
  [2, crashNow],
  [3, planCrash],
  [1, planCrashAfterVoteGrant],
  [2, stall],
  [2, partitionSymmetric],
  [1, partitionOneWay],
  [2, isolateLeader],
  [2, isolateLeaderOnAppend],
  [3, heal],
  [2, changeLinks],
];
const actionsWeight = actions.reduce((sum, [weight]) => sum + weight, 0);

export class Nemesis {
  readonly #cluster: FaultCluster;
  readonly #faultsPerTick: number;
  /** Crashed nodes and the tick at which they come back. */
  readonly #restartAt = new Map<NodeId, number>();
  actions = 0;

  constructor(cluster: FaultCluster, faultsPerTick: number) {
    this.#cluster = cluster;
    this.#faultsPerTick = faultsPerTick;
  }

  /** One tick: maybe one fault, then restarts that are due. */
  act(): void {
    const prng = this.#cluster.prng;
    if (prng.nextFloat() < this.#faultsPerTick) {
      let roll = prng.nextInt(actionsWeight);
      for (const [weight, action] of actions) {
        if (roll < weight) {
          action(this.#cluster);
          this.actions++;
          break;
        }
        roll -= weight;
      }
    }
    this.restartDue(false);
  }

  #downTicks(): number {
    const prng = this.#cluster.prng;
    return prng.nextInt(prng.nextInt(2) === 0 ? quickRestartTicksMax : downTicksMax);
  }

  /** Restarts crashed nodes whose downtime is over (all of them when `now` is true). */
  restartDue(all: boolean): void {
    const cluster = this.#cluster;
    for (const node of cluster.nodes()) {
      if (node.up) {
        this.#restartAt.delete(node.id);
        continue;
      }
      const at = this.#restartAt.get(node.id);
      if (at === undefined && !all) this.#restartAt.set(node.id, cluster.now() + 1 + this.#downTicks());
      else if (all || (at !== undefined && at <= cluster.now())) {
        this.#restartAt.delete(node.id);
        cluster.restart(node);
      }
    }
  }
}

/** At most about half the nodes may be down at once, so progress resumes between faults. */
function crashCandidates(cluster: FaultCluster): SimNode[] {
  const nodes = cluster.nodes();
  const down = nodes.filter((node) => !node.up).length;
  if (down + 1 > Math.ceil(nodes.length / 2)) return [];
  return nodes.filter((node) => node.up && !node.crashPlanned);
}

function victim(cluster: FaultCluster): SimNode | undefined {
  const leader = cluster.leader();
  if (leader !== undefined && !leader.crashPlanned && cluster.prng.nextFloat() < 0.4 && crashCandidates(cluster).length > 0) return leader;
  return pick(cluster.prng, crashCandidates(cluster));
}

function crashNow(cluster: FaultCluster): void {
  const node = victim(cluster);
  if (node === undefined) return;
  cluster.note(`n${node.id} crashes`);
  node.crash();
}

function planCrash(cluster: FaultCluster): void {
  const node = victim(cluster);
  if (node === undefined) return;
  const phase = pick(cluster.prng, cluster.crashPhases) ?? "send";
  const afterEntries = cluster.prng.nextInt(crashAfterEntriesMax + 1);
  cluster.note(`n${node.id} will crash at ${phase}${phase === "apply" ? ` after ${afterEntries} entries` : ""} of its next Ready`);
  node.planCrash(phase, afterEntries);
}

/** A node that crashes right after granting a vote and comes back in the same term is where a
 * lost vote (double voting) would show. */
function planCrashAfterVoteGrant(cluster: FaultCluster): void {
  const node = pick(cluster.prng, crashCandidates(cluster));
  if (node === undefined) return;
  cluster.note(`n${node.id} will crash right after it next grants a vote`);
  node.planCrashAfterVoteGrant();
}

function stall(cluster: FaultCluster): void {
  const node = pick(cluster.prng, cluster.nodes().filter((candidate) => candidate.up));
  if (node === undefined) return;
  node.planStall(1 + cluster.prng.nextInt(stallTicksMax));
}

function partitionSymmetric(cluster: FaultCluster): void {
  const ids = shuffle(cluster.prng, cluster.nodes().map((node) => node.id));
  const cut = 1 + cluster.prng.nextInt(Math.max(1, ids.length - 1));
  const groups = [ids.slice(0, cut), ids.slice(cut)];
  cluster.network.heal();
  cluster.network.partition(groups);
  cluster.note(`partition ${groups.map((group) => `{${group.map((id) => `n${id}`).join(",")}}`).join(" | ")}`);
}

function partitionOneWay(cluster: FaultCluster): void {
  const ids = cluster.nodes().map((node) => node.id);
  const links = 1 + cluster.prng.nextInt(ids.length);
  const cut: string[] = [];
  for (let i = 0; i < links; i++) {
    const from = pick(cluster.prng, ids);
    const to = pick(cluster.prng, ids);
    if (from === undefined || to === undefined || from === to) continue;
    cluster.network.blockOneWay(from, to);
    cut.push(`n${from}->n${to}`);
  }
  cluster.note(`cut one-way ${cut.join(" ")}`);
}

function isolateLeader(cluster: FaultCluster): void {
  const leader = cluster.leader();
  if (leader === undefined) return;
  const others = cluster.nodes().map((node) => node.id).filter((id) => id !== leader.id);
  cluster.network.partition([[leader.id], others]);
  cluster.note(`isolate leader n${leader.id}`);
}

/** The leader keeps its next appended entries to itself: the first step of Raft's Figure 8. */
function isolateLeaderOnAppend(cluster: FaultCluster): void {
  const leader = cluster.leader();
  if (leader === undefined) return;
  cluster.note(`n${leader.id} will be isolated when it next appends`);
  leader.planIsolationOnAppend();
}

function heal(cluster: FaultCluster): void {
  cluster.network.heal();
  cluster.note("heal network");
}

function changeLinks(cluster: FaultCluster): void {
  const prng = cluster.prng;
  const faults: LinkFaults = {
    dropRate: prng.nextInt(4) === 0 ? 0 : prng.nextFloat() * 0.3,
    duplicateRate: prng.nextFloat() * 0.1,
    delayTicksMax: 1 + prng.nextInt(6),
    spikeRate: prng.nextFloat() * 0.05,
    spikeDelayTicksMax: 10 + prng.nextInt(40),
    reorder: prng.nextInt(4) !== 0,
  };
  cluster.network.setFaults(faults);
  cluster.note(`links drop=${faults.dropRate.toFixed(2)} dup=${faults.duplicateRate.toFixed(2)} delay<=${faults.delayTicksMax}`);
}
