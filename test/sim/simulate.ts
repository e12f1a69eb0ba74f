/**
 * The driver: one seed, one cluster, virtual time. Each step advances the clock by one tick:
 * faults and clients act, due messages are delivered, nodes tick and handle their Readys, and the
 * checker judges the whole cluster. A final quiet phase heals everything and demands progress.
 */
import { InvariantError } from "../../libs/assert/index.ts";
import { createPrng } from "../../libs/prng/index.ts";
import type { Prng } from "../../libs/prng/index.ts";
import { ConfChangeType, EntryType, MessageType, Role } from "../../libs/raft/index.ts";
import type { ConfChange, Entry, Message, NodeId } from "../../libs/raft/index.ts";
import { Checker, InvariantViolation } from "./checker.ts";
import type { LogView } from "./checker.ts";
import { Nemesis } from "./faults.ts";
import type { FaultCluster } from "./faults.ts";
import { Network, calmLinks } from "./network.ts";
import type { InFlight } from "./network.ts";
import { SimNode, decodeValue, readyPhases } from "./node.ts";
import type { NodeEnvironment, NodeSettings, ReadyPhase } from "./node.ts";
import type { PlantName, WorkaroundName } from "./plants.ts";
import { Trace } from "./trace.ts";
import { Workload } from "./workload.ts";
import type { WorkloadCluster, WorkloadRates } from "./workload.ts";

/** A removed node keeps running this long after its removal is applied, then its process exits. */
export const retireDelayTicks = 30;
/** The quiet phase must elect a leader and commit on every live voter within this many election
 * timeouts, plus catchUpTicksPerEntry for every log entry a replica may have to fetch (with one
 * entry per append and one append in flight, each entry costs a round trip of two ticks). */
export const livenessElectionTimeouts = 40;
export const catchUpTicksPerEntry = 2;
/** A node skips one tick in this many, so clocks drift apart. */
export const clockSkipOneIn = 16;
/** Snapshot-status and unreachable reports waiting for their (busy) sender. */
export const pendingReportsMax = 1_000;

export interface SimulationOptions {
  readonly seed: number;
  readonly replicas: number;
  /** Ticks of faults and client activity before the quiet phase. */
  readonly steps: number;
  readonly plants: ReadonlySet<PlantName>;
  readonly workarounds: ReadonlySet<WorkaroundName>;
}

export interface SimulationFailure {
  readonly invariant: string;
  readonly detail: string;
  readonly tick: number;
}

export interface SimulationResult {
  readonly options: SimulationOptions;
  readonly failure: SimulationFailure | undefined;
  readonly ticks: number;
  readonly trace: Trace;
  readonly summary: string;
  /** The per-seed knobs drawn from the seed (election ticks, PreVote, CheckQuorum, limits...). */
  readonly settings: string;
}

interface Report {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly incarnation: number;
  readonly kind: "snapshot-finish" | "snapshot-failure" | "unreachable";
}

/** Runs one seed to completion; never throws for a Raft or harness bug, it reports it. */
export function simulate(options: SimulationOptions): SimulationResult {
  const cluster = new Cluster(options);
  let failure: SimulationFailure | undefined;
  try {
    cluster.run();
  } catch (error) {
    failure = describeFailure(error, cluster.tick);
    cluster.trace.note(`FAILED ${failure.invariant}: ${failure.detail.split("\n")[0] ?? ""}`);
    for (const line of cluster.describeNodes()) cluster.trace.note(line);
  }
  const settings = JSON.stringify(cluster.settings);
  return { options, failure, ticks: cluster.tick, trace: cluster.trace, summary: cluster.summary(), settings };
}

function describeFailure(error: unknown, tick: number): SimulationFailure {
  if (error instanceof InvariantViolation) return { invariant: error.invariant, detail: error.detail, tick: error.tick };
  if (error instanceof InvariantError) return { invariant: error.invariant, detail: `${error.message}\n${error.stack ?? ""}`, tick };
  const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error);
  return { invariant: "no unexpected exception", detail: text, tick };
}

/** Per-seed knobs, drawn from the seed so that different seeds stress different corners. */
function drawSettings(prng: Prng, workarounds: ReadonlySet<WorkaroundName>): NodeSettings {
  const electionTicks = 8 + prng.nextInt(5);
  const preVote = prng.nextInt(3) !== 0;
  return {
    raft: {
      electionTicks,
      heartbeatTicks: 1 + prng.nextInt(3),
      // One seed in three sends a single entry per append, so catching up takes many rounds.
      maxMessageBytes: prng.nextInt(3) === 0 ? 1 : 16 + prng.nextInt(256),
      maxInflightMessages: 1 + prng.nextInt(8),
      maxUncommittedEntriesBytes: prng.nextInt(3) === 0 ? 64 + prng.nextInt(256) : 64 * 1024,
      maxCommittedBytesPerReady: 8 + prng.nextInt(256),
      preVote: preVote || workarounds.has("prevote"),
      checkQuorum: prng.nextInt(3) !== 0,
      disableProposalForwarding: prng.nextInt(5) === 0,
    },
    snapshotEveryEntries: 3 + prng.nextInt(30),
    compactionKeepEntries: prng.nextInt(8),
  };
}

function drawRates(prng: Prng): WorkloadRates {
  return {
    proposePerTick: 0.3 + prng.nextFloat() * 0.4,
    readPerTick: 0.1 + prng.nextFloat() * 0.2,
    membershipPerTick: 0.01 + prng.nextFloat() * 0.02,
    transferPerTick: 0.003,
    campaignPerTick: 0.01,
  };
}

class Cluster implements NodeEnvironment, WorkloadCluster, FaultCluster {
  readonly options: SimulationOptions;
  readonly plants: ReadonlySet<PlantName>;
  readonly prng: Prng;
  readonly network: Network;
  readonly checker = new Checker();
  readonly trace = new Trace();
  readonly settings: NodeSettings;
  readonly crashPhases: readonly ReadyPhase[];
  readonly workload: Workload;
  readonly nemesis: Nemesis;
  tick = 0;
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #retireAt = new Map<NodeId, number>();
  readonly #reports: Report[] = [];
  #nextNodeId = 1;
  #viewVersion = 0;
  #messagesDelivered = 0;

  constructor(options: SimulationOptions) {
    this.options = options;
    this.plants = options.plants;
    this.prng = createPrng(options.seed);
    this.network = new Network(this.prng);
    this.settings = drawSettings(this.prng, options.workarounds);
    // With atomic persistence a crash lands before or after the whole write, never inside it.
    const insideWrite: readonly ReadyPhase[] = ["persist-entries", "persist-hard-state"];
    this.crashPhases = options.workarounds.has("atomic-persist") ? readyPhases.filter((phase) => !insideWrite.includes(phase)) : readyPhases;
    this.workload = new Workload(this, options.replicas, drawRates(this.prng));
    // One seed in three is stormy: leaders come and go every few ticks and logs diverge more.
    const faultsPerTick = this.prng.nextInt(3) === 0 ? 0.08 + this.prng.nextFloat() * 0.12 : 0.01 + this.prng.nextFloat() * 0.04;
    this.nemesis = new Nemesis(this, faultsPerTick);
    if (this.plants.has("grant-votes")) this.network.rewrite = grantVotes;
    const voters = Array.from({ length: options.replicas }, (_, i) => i + 1);
    this.#nextNodeId = options.replicas + 1;
    for (const id of voters) this.#addNode(id, { voters, learners: [] });
    this.trace.note(`seed ${options.seed}, ${options.replicas} replicas, ${JSON.stringify(this.settings)}`);
  }

  run(): void {
    for (let step = 0; step < this.options.steps; step++) this.step(true);
    this.quietPhase();
  }

  /** One tick of virtual time; `chaos` enables faults and client activity. */
  step(chaos: boolean): void {
    this.tick++;
    this.trace.setTick(this.tick);
    this.#drainAll();
    this.#flushReports();
    if (chaos) {
      this.nemesis.act();
      this.workload.act();
    }
    for (const flight of this.network.takeDue(this.tick)) this.#deliver(flight);
    for (const node of this.#nodes.values()) {
      // A node's clock occasionally lags a tick, as real timers drift.
      if (node.up && !node.busy && this.prng.nextInt(clockSkipOneIn) !== 0) node.tick();
    }
    this.#drainAll();
    this.#retireDue(false);
    this.check();
  }

  /** Heals everything, restarts every member and requires a committed proposal on all live voters. */
  quietPhase(): void {
    this.trace.note("quiet phase: heal, restart everyone, stop faults");
    this.network.heal();
    this.network.setFaults(calmLinks);
    for (const node of this.#nodes.values()) node.cancelPlans();
    this.#retireDue(true);
    this.nemesis.restartDue(true);
    const deadlineTick = this.tick + livenessElectionTimeouts * this.settings.raft.electionTicks + catchUpTicksPerEntry * this.#backlogEntries();
    const healedTick = this.tick;
    const finalValues: string[] = [];
    let proposedInTerm = -1;
    while (this.tick < deadlineTick) {
      this.step(false);
      const leader = this.leader();
      const term = leader?.status()?.hardState.term ?? -1;
      if (leader !== undefined && term !== proposedInTerm) {
        const value = `final-${finalValues.length + 1}`;
        if (this.workload.proposeOnLeader(value)) {
          finalValues.push(value);
          proposedInTerm = term;
        }
      }
      if (leader !== undefined && this.#allVotersApplied(leader, finalValues)) return;
    }
    const leader = this.leader();
    const detail = leader === undefined
      ? `no leader within ${deadlineTick - healedTick} ticks after healing`
      : `leader n${leader.id} is up but no final proposal was applied on every live voter within ${deadlineTick - healedTick} ticks (${this.#votersProgress(leader)})`;
    this.checker.livenessFailed(this.tick, detail);
  }

  /** Entries between the least advanced replica's commit and the longest log. */
  #backlogEntries(): number {
    const disks = this.nodes().map((node) => node.disk);
    const lastIndexMax = Math.max(0, ...disks.map((disk) => disk.entries.at(-1)?.index ?? disk.snapshotIndex));
    const commitMin = Math.min(lastIndexMax, ...disks.map((disk) => disk.hardState.commit));
    return lastIndexMax - commitMin;
  }

  #allVotersApplied(leader: SimNode, values: readonly string[]): boolean {
    const voters = leader.status()?.confState.voters ?? [];
    const live = voters.map((id) => this.#nodes.get(id)).filter((node) => node?.up === true) as SimNode[];
    return values.some((value) => live.every((node) => node.disk.machine.valueSet.has(value)));
  }

  #votersProgress(leader: SimNode): string {
    const voters = leader.status()?.confState.voters ?? [];
    return voters.map((id) => {
      const node = this.#nodes.get(id);
      if (node === undefined) return `n${id} retired`;
      return `n${id} ${node.up ? "up" : "down"} applied=${node.disk.machine.applied}`;
    }).join(", ");
  }

  /** Every invariant the checker can judge from the outside, after every step. */
  check(): void {
    const views: LogView[] = [];
    const nextVersion = (): number => ++this.#viewVersion;
    for (const node of this.#nodes.values()) {
      views.push(...node.logViews(nextVersion));
      const status = node.status();
      if (status === undefined) continue;
      if (status.softState.role === Role.Leader) this.checker.leader(this.tick, status.hardState.term, node.id);
      this.checker.progress(this.tick, node.id, status.hardState.commit, status.applied);
    }
    this.checker.logs(this.tick, views);
  }

  /** One line per node: what a reader of a failing trace needs to know about it. */
  describeNodes(): string[] {
    return this.nodes().map((node) => {
      const disk = node.disk;
      const durable = `disk term=${disk.hardState.term} vote=${disk.hardState.vote} commit=${disk.hardState.commit} applied=${disk.machine.applied} snapshot=${disk.snapshotIndex} log=${disk.entries[0]?.index ?? "-"}..${disk.entries.at(-1)?.index ?? "-"}`;
      const status = node.status();
      if (status === undefined) return `  n${node.id} DOWN ${durable}`;
      const conf = `voters=[${status.confState.voters.join(",")}] learners=[${status.confState.learners.join(",")}]`;
      return `  n${node.id} ${status.softState.role} term=${status.hardState.term} lead=${status.softState.lead} commit=${status.hardState.commit} applied=${status.applied} ${conf}; ${durable}`;
    });
  }

  summary(): string {
    const stats = this.workload.stats;
    return [
      `ticks=${this.tick}`,
      `delivered=${this.#messagesDelivered}`,
      `proposals=${stats.proposalsAccepted}/${stats.proposalsAttempted}`,
      `acknowledged=${this.checker.writesAcknowledged}`,
      `committedIndex=${this.checker.committedIndexMax}`,
      `reads=${this.checker.readsServed}/${stats.readsIssued}`,
      `membershipProposals=${stats.membershipChangesProposed}`,
      `faults=${this.nemesis.actions}`,
      `nodesEver=${this.#nextNodeId - 1}`,
    ].join(" ");
  }

  // ---- NodeEnvironment --------------------------------------------------------------------

  now(): number {
    return this.tick;
  }

  send(from: SimNode, message: Message): void {
    if (message.type === MessageType.VoteResp && !message.reject) this.checker.voteGranted(this.tick, message.from, message.term, message.to);
    const flight: InFlight = { message, senderIncarnation: from.incarnation };
    if (this.network.send(this.tick, flight) !== "dropped") return;
    this.trace.message("lost", message);
    if (message.type === MessageType.Snap) this.#queueReport(flight, "snapshot-failure");
  }

  applied(node: SimNode, entry: Entry, digest: number): void {
    this.checker.applied(this.tick, node.id, node.disk.hardState.term, entry, digest);
    if (entry.type === EntryType.Normal && entry.data.length > 0) {
      const value = decodeValue(entry.data);
      this.checker.writeAcknowledged(value);
      this.trace.note(`n${node.id} applies ${entry.index}/${entry.term} ${value}`);
    }
  }

  confChangeApplied(node: SimNode, change: ConfChange): void {
    const { voters, learners } = node.disk.machine.confState;
    this.trace.note(`n${node.id} applies ${ConfChangeType[change.type]}(n${change.nodeId}) -> voters [${voters.join(",")}] learners [${learners.join(",")}]`);
    if (change.type === ConfChangeType.RemoveNode && !this.#retireAt.has(change.nodeId)) {
      this.#retireAt.set(change.nodeId, this.tick + retireDelayTicks);
    }
  }

  snapshotRestored(node: SimNode, index: number, digest: number): void {
    const { voters, learners } = node.disk.machine.confState;
    this.trace.note(`n${node.id} restores its state machine from a snapshot at ${index} (voters [${voters.join(",")}] learners [${learners.join(",")}])`);
    this.checker.snapshotRestored(this.tick, node.id, index, digest);
  }

  persisted(node: SimNode): void {
    this.checker.persisted(this.tick, node.id, node.disk.hardState.commit, node.disk.machine.applied);
  }

  readServed(node: SimNode, readId: string): void {
    const values = node.disk.machine.valueSet;
    this.trace.note(`n${node.id} serves read ${readId} at applied=${node.disk.machine.applied}`);
    this.checker.readServed(this.tick, readId, node.id, (value) => values.has(value));
  }

  readAbandoned(readId: string): void {
    this.checker.readAbandoned(readId);
  }

  isolate(node: SimNode): void {
    const others = this.nodes().map((other) => other.id).filter((id) => id !== node.id);
    this.network.partition([[node.id], others]);
    this.trace.note(`isolate n${node.id} as it appends`);
  }

  note(text: string): void {
    this.trace.note(text);
  }

  // ---- WorkloadCluster and FaultCluster ---------------------------------------------------

  nodes(): SimNode[] {
    return [...this.#nodes.values()];
  }

  availableNodes(): SimNode[] {
    return this.nodes().filter((node) => node.up && !node.busy);
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const node of this.#nodes.values()) {
      if (!node.up || node.busy) continue;
      const status = node.status();
      if (status?.softState.role === Role.Leader && status.hardState.term > bestTerm) {
        best = node;
        bestTerm = status.hardState.term;
      }
    }
    return best;
  }

  spawnJoiningNode(): SimNode {
    const id = this.#nextNodeId++;
    this.trace.note(`spawn n${id} to join`);
    return this.#addNode(id, { voters: [], learners: [] });
  }

  readStarted(readId: string): void {
    this.checker.readStarted(readId);
  }

  restart(node: SimNode): void {
    node.start();
    this.checker.restarted(node.id);
    const conf = node.disk.machine.confState;
    this.trace.note(`n${node.id} restarts (term=${node.disk.hardState.term} commit=${node.disk.hardState.commit} applied=${node.disk.machine.applied} voters [${conf.voters.join(",")}] learners [${conf.learners.join(",")}])`);
    const restored = node.status()?.confState;
    if (restored !== undefined) this.checker.membershipRestored(this.tick, node.id, node.disk.machine.confState, restored);
  }

  // ---- internals ------------------------------------------------------------------------

  #addNode(id: NodeId, bootConfState: { voters: NodeId[]; learners: NodeId[] }): SimNode {
    const node = new SimNode(id, bootConfState, this.settings, this);
    this.#nodes.set(id, node);
    node.start();
    return node;
  }

  #deliver(flight: InFlight): void {
    const message = this.network.rewrite?.(flight.message) ?? flight.message;
    const target = this.#nodes.get(message.to);
    if (this.network.isBlocked(message.from, message.to) || target === undefined || !target.up) {
      this.trace.message(target?.up === true ? "cut" : "undeliv", message);
      this.#queueReport(flight, message.type === MessageType.Snap ? "snapshot-failure" : "unreachable");
      return;
    }
    if (target.busy) {
      this.network.requeue(this.tick + 1, flight);
      return;
    }
    this.trace.message("deliver", message);
    this.#messagesDelivered++;
    target.step(message);
    if (message.type === MessageType.Snap) this.#queueReport(flight, "snapshot-finish");
  }

  /** Transport feedback to the sender, as a real transport would give it (if it is the same process). */
  #queueReport(flight: InFlight, kind: Report["kind"]): void {
    if (this.#reports.length >= pendingReportsMax) return;
    if (kind === "unreachable" && this.prng.nextInt(4) !== 0) return;
    const { from, to } = flight.message;
    this.#reports.push({ from, to, incarnation: flight.senderIncarnation, kind });
  }

  #flushReports(): void {
    const waiting: Report[] = [];
    for (const report of this.#reports) {
      const sender = this.#nodes.get(report.from);
      if (sender === undefined || !sender.up || sender.incarnation !== report.incarnation) continue;
      if (sender.busy) {
        waiting.push(report);
        continue;
      }
      if (report.kind === "unreachable") sender.reportUnreachable(report.to);
      else sender.reportSnapshot(report.to, report.kind === "snapshot-finish" ? "finish" : "failure");
    }
    this.#reports.length = 0;
    this.#reports.push(...waiting);
  }

  #drainAll(): void {
    for (const node of this.#nodes.values()) node.drain();
  }

  /** Stops removed nodes once their grace period is over (or at once, before the quiet phase). */
  #retireDue(all: boolean): void {
    for (const [id, at] of this.#retireAt) {
      if (!all && at > this.tick) continue;
      const node = this.#nodes.get(id);
      this.#retireAt.delete(id);
      if (node === undefined) continue;
      node.crash();
      this.#nodes.delete(id);
      this.checker.forgetLog(`n${id}/disk`);
      this.checker.forgetLog(`n${id}/mem`);
      this.trace.note(`n${id} retires (removed from the cluster)`);
    }
  }
}

/** Planted bug: the network turns every rejected vote into a grant. */
function grantVotes(message: Message): Message {
  const isVoteResponse = message.type === MessageType.VoteResp || message.type === MessageType.PreVoteResp;
  return isVoteResponse && message.reject ? { ...message, reject: false } : message;
}
