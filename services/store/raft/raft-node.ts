/**
 * The Raft driver of a store member: owns a RawNode (libs/raft), a DurableLog (LevelDB) and a
 * Transport (gRPC), and applies committed entries to a StateMachine.
 *
 * One loop does all Raft work, never two at once. Each round feeds Raft everything that queued
 * up since the last round (ticks, peer messages, proposals, reads, reports), then handles one
 * Ready in the order the contract fixes: send `messages`; persist snapshot/entries/hard state
 * (one batch, fsynced when mustSync) and mirror them into MemoryStorage; send
 * `messagesAfterPersist`; apply the snapshot and committed entries, writing the state machine's
 * records with the applied index in one batch; resolve the proposers; advance(). Proposals made
 * while a Ready is being written wait in the inbox and go into the next Ready together: many
 * client requests share one fsync.
 *
 * Restart: the DurableLog loads what was persisted; the state machine is brought to a known
 * applied index (its own records for a durable machine, the snapshot for an in-memory one), and
 * Raft is told that index, so it hands out exactly the committed entries after it.
 */
import { randomInt } from "node:crypto";
import type { ChannelCredentials, ServerCredentials } from "@grpc/grpc-js";
import { assert } from "../../../libs/assert/index.ts";
import { createPrng } from "../../../libs/prng/index.ts";
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NotLeaderError,
  ProposalDroppedError,
  RawNode,
  Role,
  decodeConfChange,
  defaultRaftBounds,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type RaftLogger,
  type Ready,
  type Snapshot,
  type SnapshotStatus,
  type SoftState,
  type Status,
} from "../../../libs/raft/index.ts";
import { decodeEnvelope, decodeNodeSnapshot, decodeUtf8, encodeEnvelope, encodeNodeSnapshot, encodeUtf8, requestIdBytes } from "./codec.ts";
import { DurableLog, type StateRecord } from "./durable-log.ts";
import {
  LearnerNotReadyError,
  MemberExistsError,
  MemberNotFoundError,
  NodeStoppedError,
  RequestDroppedError,
  RequestTimeoutError,
  TooManyRequestsError,
} from "./errors.ts";
import { ProposalTracker, ReadBatcher, type Proposal, type Waiter } from "./requests.ts";
import { Transport, type PeerService, type TransportLimits } from "./transport.ts";

export interface ApplyResult<R> {
  /** Writes that make the entry's effect durable (ignored for an in-memory machine). */
  readonly records: readonly StateRecord[];
  /** What the proposer's promise resolves with (on the member that proposed). */
  readonly result: R;
}

/**
 * The replicated state. Calls are synchronous and deterministic: every member applies the same
 * entries in the same order and must reach the same state.
 */
export interface StateMachine<R = unknown> {
  /**
   * True when the machine persists its state through ApplyResult.records (written with the
   * applied index) and reloads it with load() at start; false when it lives in memory and is
   * rebuilt at each start from the latest snapshot and the log.
   */
  readonly durable: boolean;
  /**
   * A committed normal entry; `data` is the proposer's payload (the request id stripped).
   * `respond` is false when no proposer on this member waits for the entry (a follower applying
   * the leader's entries): the machine may then skip building the result.
   */
  apply(entry: Entry, respond?: boolean): ApplyResult<R>;
  /** The whole state, serialized, for a Raft snapshot. */
  snapshot(): Uint8Array;
  /**
   * Replaces the whole state with a snapshot's. A durable machine returns the records that now
   * describe its state; they replace all of its earlier records in one batch.
   */
  restore(data: Uint8Array): readonly StateRecord[] | void;
  /** A durable machine's records as persisted, in key order; called once before any apply. */
  load?(records: AsyncIterable<{ readonly key: Uint8Array; readonly value: Uint8Array }>): Promise<void>;
}

export interface RaftNodeLogger extends RaftLogger {
  error(message: string): void;
}

export interface RaftNodeOptions<R> {
  readonly id: NodeId;
  readonly dataDir: string;
  readonly stateMachine: StateMachine<R>;
  /** Peer URLs of the initial members, this one included. Used only when dataDir is new. */
  readonly initialPeers: ReadonlyMap<NodeId, string>;
  /** "new" bootstraps with initialPeers as voters; "existing" joins (the leader adds this member). */
  readonly initialClusterState: "new" | "existing";
  /** host:port for the peer transport (port 0 picks one; see `port`). */
  readonly listenAddress: string;
  readonly clusterId?: number;
  /** One Raft tick (etcd's --heartbeat-interval). */
  readonly heartbeatIntervalMs: number;
  /** Election timeout in ticks (etcd's --election-timeout / --heartbeat-interval). */
  readonly electionTicks: number;
  /** Applied entries between snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number;
  /** Entries kept below a snapshot for slow followers (etcd: 5000). */
  readonly snapshotCatchUpEntries?: number;
  /** Proposals waiting to be applied; more are refused with TooManyRequestsError. */
  readonly pendingProposalsMax?: number;
  /** Reads waiting for their read point; more are refused with TooManyRequestsError. */
  readonly readWaitersMax?: number;
  /** Bound on proposals, reads, transfers and membership changes (etcd: 5 s + 2 elections). */
  readonly requestTimeoutMs?: number;
  /** Snapshots larger than this are stored in a file rather than in LevelDB. */
  readonly snapshotInlineBytesMax?: number;
  readonly raft?: Partial<Pick<RaftConfig, "maxMessageBytes" | "maxInflightMessages" | "maxUncommittedEntriesBytes" | "maxCommittedBytesPerReady" | "preVote" | "checkQuorum" | "disableProposalForwarding">>;
  readonly transportLimits?: Partial<TransportLimits>;
  readonly serverCredentials?: ServerCredentials;
  readonly channelCredentials?: ChannelCredentials;
  /** Seed of the election-jitter PRNG; random by default. */
  readonly seed?: number;
  readonly logger?: RaftNodeLogger;
  /** A broken disk or state machine stops the member; by default the error is rethrown (crash). */
  readonly onFatal?: (error: Error) => void;
  /** Called once when a committed change removes this member; the owner should stop it. */
  readonly onRemoved?: () => void;
  /** More gRPC services to serve on the peer port. */
  readonly peerServices?: readonly PeerService[];
}

export interface RaftNodeCounters {
  readyBatches: number;
  persistBatches: number;
  persistedEntries: number;
  appliedEntries: number;
  readIndexRequests: number;
  snapshotsCreated: number;
  snapshotsRestored: number;
  proposalsTimedOut: number;
  inboxMessagesDropped: number;
}

export const raftNodeDefaults = {
  snapshotCatchUpEntries: 5000,
  pendingProposalsMax: 4096,
  readWaitersMax: 4096,
  /** Peer messages waiting for the loop; more are dropped (Raft retransmits). */
  inboxMessagesMax: 8192,
  /**
   * Ticks that accumulate while a slow write holds the loop. Capped so that a long fsync does not
   * turn into an instant election timeout on the next round (etcd's tick channel is bounded too).
   */
  ticksPendingMax: 4,
  /** Proposals stepped into Raft as one batch (one append per follower); bytes are bounded by maxMessageBytes. */
  proposalBatchEntriesMax: 1024,
  /** Ready rounds per loop run before yielding to timers and I/O. */
  loopRoundsMax: 64,
  /** An unanswered ReadIndex request is re-sent this often (etcd: 500 ms). */
  readIndexRetryMs: 500,
  /**
   * An append without entries (the leader telling a follower a new commit index, or a probe) is
   * held this long: when the next proposal's append to that follower leaves first, it carries the
   * commit index and the held one is dropped. At one put at a time this halves the messages and
   * the follower rounds per put; a follower learns a commit at most this much later.
   */
  emptyAppendHoldMs: 2,
  /** Leadership transfers waiting to complete; more are refused with TooManyRequestsError. */
  transferWaitersMax: 16,
  /** etcd promotes a learner only when its log is within 90% of the leader's. */
  learnerReadyFraction: 0.9,
} as const;

const emptyConfState: ConfState = { voters: [], learners: [] };
const silentLogger: RaftNodeLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface Inbox {
  ticks: number;
  campaign: boolean;
  messages: Message[];
  proposals: Proposal[];
  confChanges: Array<{ proposal: Proposal; change: ConfChange }>;
  transfers: NodeId[];
  unreachable: Set<NodeId>;
  snapshotReports: Array<[NodeId, SnapshotStatus]>;
}

interface TransferWaiter extends Waiter<void> {
  readonly to: NodeId;
}

/** What applying one Ready's committed entries produced, written in one batch. */
interface AppliedBatch {
  readonly records: StateRecord[];
  readonly completed: Array<[Proposal, unknown]>;
  membershipChanged: boolean;
}

type NodeState = "running" | "stopping" | "failed" | "stopped";

export class RaftNode<R = unknown> {
  readonly id: NodeId;
  readonly counters: RaftNodeCounters = {
    readyBatches: 0,
    persistBatches: 0,
    persistedEntries: 0,
    appliedEntries: 0,
    readIndexRequests: 0,
    snapshotsCreated: 0,
    snapshotsRestored: 0,
    proposalsTimedOut: 0,
    inboxMessagesDropped: 0,
  };
  readonly #options: RaftNodeOptions<R>;
  readonly #settings: {
    snapshotCatchUpEntries: number;
    pendingProposalsMax: number;
    requestTimeoutMs: number;
  };
  readonly #logger: RaftNodeLogger;
  readonly #raw: RawNode;
  readonly #log: DurableLog;
  readonly #stateMachine: StateMachine<R>;
  readonly #proposals: ProposalTracker;
  readonly #reads: ReadBatcher;
  readonly #inbox: Inbox = { ticks: 0, campaign: false, messages: [], proposals: [], confChanges: [], transfers: [], unreachable: new Set(), snapshotReports: [] };
  readonly #transferWaiters: TransferWaiter[] = [];
  readonly #leaderListeners = new Set<(leaderId: NodeId, term: number) => void>();
  /** Empty appends held back per follower (see raftNodeDefaults.emptyAppendHoldMs). */
  readonly #heldAppends = new Map<NodeId, Message>();
  #heldAppendsTimer: NodeJS.Timeout | undefined;
  #transport: Transport | undefined;
  #peers: Map<NodeId, string>;
  /** Members removed from the cluster; their streams are refused so that they learn it. */
  #removedMembers: Set<NodeId>;
  #confState: ConfState;
  #appliedIndex: number;
  #snapshotIndex: number;
  #lead: NodeId = 0;
  #role: Role = Role.Follower;
  #removed = false;
  #state: NodeState = "running";
  #failure: Error | undefined;
  #loop: Promise<void> | undefined;
  #loopScheduled = false;
  #tickTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(options: RaftNodeOptions<R>, log: DurableLog, raw: RawNode, appliedIndex: number) {
    this.id = options.id;
    this.#options = options;
    this.#settings = {
      snapshotCatchUpEntries: options.snapshotCatchUpEntries ?? raftNodeDefaults.snapshotCatchUpEntries,
      pendingProposalsMax: options.pendingProposalsMax ?? raftNodeDefaults.pendingProposalsMax,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000 + 2 * options.electionTicks * options.heartbeatIntervalMs,
    };
    this.#logger = options.logger ?? silentLogger;
    this.#log = log;
    this.#raw = raw;
    this.#stateMachine = options.stateMachine;
    this.#proposals = new ProposalTracker(options.id, Date.now());
    this.#reads = new ReadBatcher(options.readWaitersMax ?? raftNodeDefaults.readWaitersMax, options.id);
    this.#peers = new Map(log.peers);
    this.#removedMembers = new Set(log.removedMembers);
    this.#confState = raw.status().confState;
    this.#appliedIndex = appliedIndex;
    this.#snapshotIndex = log.snapshotIndex;
    // A lone voter need not wait out an election timeout to lead.
    this.#inbox.campaign = this.#confState.voters.length === 1 && this.#confState.voters[0] === this.id;
  }

  /**
   * Opens the data directory (refusing corrupt data), recovers the state machine, starts the
   * transport and the tick timer.
   */
  static async start<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    checkOptions(options);
    const log = await DurableLog.open(options.dataDir, {
      bootstrap: bootstrapFor(options),
      ...(options.snapshotInlineBytesMax === undefined ? {} : { snapshotInlineBytesMax: options.snapshotInlineBytesMax }),
    });
    try {
      const appliedIndex = await recoverStateMachine(log, options.stateMachine);
      const raw = new RawNode(raftConfig(options, log, appliedIndex));
      const node = new RaftNode(options, log, raw, appliedIndex);
      await node.#startTransport();
      node.#tickTimer = setInterval(() => node.#onTick(), options.heartbeatIntervalMs);
      node.#wake();
      return node;
    } catch (error) {
      await log.close();
      throw error;
    }
  }

  // ---- public API ---------------------------------------------------------------------------

  get leaderId(): NodeId {
    return this.#lead;
  }

  get isLeader(): boolean {
    return this.#role === Role.Leader;
  }

  get role(): Role {
    return this.#role;
  }

  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  get snapshotIndex(): number {
    return this.#snapshotIndex;
  }

  /** The port the peer transport listens on. */
  get port(): number {
    return this.#transport?.port ?? 0;
  }

  get removed(): boolean {
    return this.#removed;
  }

  /** The latest configuration this member has applied. */
  get confState(): ConfState {
    return this.#confState;
  }

  get peers(): ReadonlyMap<NodeId, string> {
    return this.#peers;
  }

  /** Raft's view: term, commit, applied, role and (on the leader) each peer's progress. */
  status(): Status {
    return this.#raw.status();
  }

  /** The first and last log indexes this member still holds in memory. */
  logRange(): { readonly first: number; readonly last: number } {
    return { first: this.#log.storage.firstIndex(), last: this.#log.storage.lastIndex() };
  }

  /** Calls `listener(leaderId, term)` whenever the known leader changes; returns an unsubscribe. */
  onLeaderChange(listener: (leaderId: NodeId, term: number) => void): () => void {
    this.#leaderListeners.add(listener);
    return () => this.#leaderListeners.delete(listener);
  }

  /**
   * Replicates `payload`; resolves with the state machine's result once the entry is applied on
   * this member. Rejects with NotLeaderError, RequestDroppedError, RequestTimeoutError,
   * TooManyRequestsError or NodeStoppedError (the client-facing ones carry a leader hint).
   */
  propose(payload: Uint8Array): Promise<R> {
    return this.#submit((requestId) => encodeEnvelope(requestId, payload), (proposal) => this.#inbox.proposals.push(proposal)) as Promise<R>;
  }

  /** A linearizable read barrier: resolves once this member has applied everything committed before the call. */
  readIndex(): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise<void>((resolve, reject) => {
      const accepted = this.#reads.add({ resolve, reject, deadlineMs: Date.now() + this.#settings.requestTimeoutMs });
      if (!accepted) reject(new TooManyRequestsError(this.#reads.size, this.#lead));
      else this.#wake();
    });
  }

  /** Asks the leader (this member) to hand leadership to `to`; resolves when `to` leads. */
  transferLeadership(to: NodeId): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    if (this.#lead === to) return Promise.resolve();
    if (this.#role !== Role.Leader) return Promise.reject(new NotLeaderError(this.#lead));
    if (!this.#confState.voters.includes(to)) return Promise.reject(new MemberNotFoundError(to));
    if (this.#transferWaiters.length >= raftNodeDefaults.transferWaitersMax) {
      return Promise.reject(new TooManyRequestsError(raftNodeDefaults.transferWaitersMax, this.#lead));
    }
    return new Promise<void>((resolve, reject) => {
      this.#transferWaiters.push({ to, resolve, reject, deadlineMs: Date.now() + this.#settings.requestTimeoutMs });
      this.#inbox.transfers.push(to);
      this.#wake();
    });
  }

  /** Starts an election now (tests and operators; Raft campaigns by itself on timeouts). */
  campaign(): void {
    this.#inbox.campaign = true;
    this.#wake();
  }

  /** Adds a member (as a learner when asked) reachable at `peerUrl`; resolves with the new configuration once applied here. */
  addMember(id: NodeId, peerUrl: string, options: { readonly learner?: boolean } = {}): Promise<ConfState> {
    if (!Number.isSafeInteger(id) || id <= 0 || peerUrl === "") return Promise.reject(new RangeError(`addMember: invalid member ${id} at "${peerUrl}"`));
    if (isMember(this.#confState, id)) return Promise.reject(new MemberExistsError(id));
    const type = options.learner === true ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
    return this.#proposeConfChange(type, id, encodeUtf8(peerUrl));
  }

  removeMember(id: NodeId): Promise<ConfState> {
    if (!isMember(this.#confState, id)) return Promise.reject(new MemberNotFoundError(id));
    return this.#proposeConfChange(ConfChangeType.RemoveNode, id, new Uint8Array(0));
  }

  /** Makes a learner a voter, once its log has nearly caught up with the leader's. */
  promoteMember(id: NodeId): Promise<ConfState> {
    if (!this.#confState.learners.includes(id)) return Promise.reject(new MemberNotFoundError(id));
    const status = this.#raw.status();
    if (status.softState.role !== Role.Leader) return Promise.reject(new NotLeaderError(status.softState.lead));
    const learnerMatch = status.progress?.get(id)?.match ?? 0;
    const leaderMatch = status.progress?.get(this.id)?.match ?? 0;
    if (learnerMatch < leaderMatch * raftNodeDefaults.learnerReadyFraction) {
      return Promise.reject(new LearnerNotReadyError(id, learnerMatch, leaderMatch));
    }
    return this.#proposeConfChange(ConfChangeType.AddNode, id, new Uint8Array(0));
  }

  /**
   * Moves a member to a new peer URL (etcd's MemberUpdate). Raft has no update change, so this
   * re-adds the member in its current role, which changes no configuration; applying it moves
   * the address. Propose it on the leader, which refuses it while another change is pending.
   */
  updateMember(id: NodeId, peerUrl: string): Promise<ConfState> {
    if (peerUrl === "") return Promise.reject(new RangeError(`updateMember: invalid address for member ${id}`));
    if (!isMember(this.#confState, id)) return Promise.reject(new MemberNotFoundError(id));
    const type = this.#confState.learners.includes(id) ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
    return this.#proposeConfChange(type, id, encodeUtf8(peerUrl));
  }

  /** Stops ticking, finishes the Ready in progress, rejects what waits, closes transport and disk. */
  async stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === "running") this.#state = "stopping";
    clearInterval(this.#tickTimer);
    clearTimeout(this.#heldAppendsTimer);
    // The loop checks the state between rounds; bounded by one Ready's work.
    while (this.#loop !== undefined) await this.#loop;
    this.#rejectEverything(this.#failure ?? new NodeStoppedError("stopped"));
    await this.#transport?.close();
    await this.#log.close();
    this.#state = "stopped";
  }

  // ---- requests -----------------------------------------------------------------------------

  #refusal(): Error | undefined {
    if (this.#state !== "running") return new NodeStoppedError(this.#state, { cause: this.#failure });
    if (this.#removed) return new NodeStoppedError("this member was removed from the cluster");
    return undefined;
  }

  #submit(envelopeFor: (requestId: bigint) => Uint8Array, enqueue: (proposal: Proposal) => void): Promise<unknown> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    if (this.#proposals.size >= this.#settings.pendingProposalsMax) {
      return Promise.reject(new TooManyRequestsError(this.#settings.pendingProposalsMax, this.#lead));
    }
    const requestId = this.#proposals.nextRequestId();
    return new Promise<unknown>((resolve, reject) => {
      const proposal: Proposal = { requestId, envelope: envelopeFor(requestId), resolve, reject, deadlineMs: Date.now() + this.#settings.requestTimeoutMs };
      this.#proposals.add(proposal);
      enqueue(proposal);
      this.#wake();
    });
  }

  #proposeConfChange(type: ConfChangeType, nodeId: NodeId, payload: Uint8Array): Promise<ConfState> {
    let change: ConfChange | undefined;
    const envelopeFor = (requestId: bigint): Uint8Array => {
      change = { type, nodeId, context: encodeEnvelope(requestId, payload) };
      return change.context;
    };
    const enqueue = (proposal: Proposal): void => {
      assert(change !== undefined, "the conf change is built with its envelope");
      this.#inbox.confChanges.push({ proposal, change });
    };
    return this.#submit(envelopeFor, enqueue) as Promise<ConfState>;
  }

  /** Maps the Raft core's refusals to errors that carry a leader hint; anything else is a bug. */
  #requestError(error: unknown): Error {
    if (error instanceof NotLeaderError) return error;
    if (error instanceof ProposalDroppedError) return new RequestDroppedError(error.reason, this.#lead, { cause: error });
    throw error;
  }

  // ---- the loop -----------------------------------------------------------------------------

  #wake(): void {
    if (this.#state !== "running" || this.#loop !== undefined || this.#loopScheduled) return;
    this.#loopScheduled = true;
    // setImmediate lets every request that arrives in this turn of the event loop join the round.
    setImmediate(() => {
      this.#loopScheduled = false;
      if (this.#state !== "running" || this.#loop !== undefined) return;
      this.#loop = this.#runLoop().finally(() => {
        this.#loop = undefined;
        if (this.#hasWork()) this.#wake();
      });
    });
  }

  #hasWork(): boolean {
    const inbox = this.#inbox;
    return (
      inbox.ticks > 0 ||
      inbox.campaign ||
      inbox.messages.length > 0 ||
      inbox.proposals.length > 0 ||
      inbox.confChanges.length > 0 ||
      inbox.transfers.length > 0 ||
      inbox.unreachable.size > 0 ||
      inbox.snapshotReports.length > 0 ||
      this.#raw.hasReady()
    );
  }

  async #runLoop(): Promise<void> {
    try {
      for (let round = 0; round < raftNodeDefaults.loopRoundsMax && this.#state === "running"; round++) {
        this.#feedRaft(Date.now());
        if (!this.#raw.hasReady()) return;
        await this.#handleReady(this.#raw.ready());
        this.#raw.advance();
        this.#reads.resolveApplied(this.#appliedIndex);
        await this.#maybeSnapshot();
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Hands Raft everything that queued up since the last round. */
  #feedRaft(nowMs: number): void {
    const inbox = this.#inbox;
    if (inbox.campaign) {
      inbox.campaign = false;
      this.#raw.campaign();
    }
    for (; inbox.ticks > 0; inbox.ticks--) this.#raw.tick();
    for (const id of inbox.unreachable) this.#raw.reportUnreachable(id);
    inbox.unreachable.clear();
    for (const [id, status] of inbox.snapshotReports.splice(0)) this.#raw.reportSnapshot(id, status);
    for (const message of inbox.messages.splice(0)) this.#stepMessage(message);
    this.#proposeQueued(inbox.proposals.splice(0));
    for (const { proposal, change } of inbox.confChanges.splice(0)) this.#proposeNow(proposal, () => this.#raw.proposeConfChange(change));
    for (const to of inbox.transfers.splice(0)) this.#raw.transferLeadership(to);
    const readContext = this.#reads.nextRequest(nowMs, raftNodeDefaults.readIndexRetryMs);
    // Without a known leader the request would be dropped; the retry timer sends it later.
    if (readContext !== undefined && this.#lead !== 0) {
      this.#raw.readIndex(readContext);
      this.counters.readIndexRequests += 1;
    }
  }

  #stepMessage(message: Message): void {
    try {
      this.#raw.step(message);
    } catch (error) {
      // A proposal forwarded by a peer that this member cannot take is the peer's problem.
      if (error instanceof NotLeaderError || error instanceof ProposalDroppedError) {
        this.#logger.debug(`raft node ${this.id}: dropped a message from ${message.from}: ${error.message}`);
        return;
      }
      throw error;
    }
  }

  /**
   * Proposes what queued up in batches (one Raft step and one append per follower for each batch,
   * not one per proposal). A batch refused as a whole for its size is retried one proposal at a
   * time, so that as many as fit still go in; any other refusal applies to all of it.
   */
  #proposeQueued(queued: readonly Proposal[]): void {
    const live = queued.filter((proposal) => this.#proposals.isPending(proposal.requestId)); // some timed out while queued
    const batchBytesMax = this.#options.raft?.maxMessageBytes ?? defaultRaftBounds.maxMessageBytes;
    let start = 0;
    while (start < live.length) {
      let end = start + 1;
      let bytes = (live[start] as Proposal).envelope.length;
      for (; end < live.length && end - start < raftNodeDefaults.proposalBatchEntriesMax; end++) {
        bytes += (live[end] as Proposal).envelope.length;
        if (bytes > batchBytesMax) break;
      }
      this.#proposeBatch(live.slice(start, end));
      start = end;
    }
  }

  #proposeBatch(batch: readonly Proposal[]): void {
    try {
      this.#raw.proposeBatch(batch.map((proposal) => proposal.envelope));
    } catch (error) {
      if (error instanceof ProposalDroppedError && batch.length > 1) {
        for (const proposal of batch) this.#proposeNow(proposal, () => this.#raw.propose(proposal.envelope));
        return;
      }
      const refusal = this.#requestError(error);
      for (const proposal of batch) {
        this.#proposals.remove(proposal.requestId);
        proposal.reject(refusal);
      }
    }
  }

  #proposeNow(proposal: Proposal, propose: () => void): void {
    if (!this.#proposals.isPending(proposal.requestId)) return; // timed out while queued
    try {
      propose();
    } catch (error) {
      this.#proposals.remove(proposal.requestId);
      proposal.reject(this.#requestError(error));
    }
  }

  async #handleReady(ready: Ready): Promise<void> {
    this.counters.readyBatches += 1;
    if (ready.softState !== undefined) this.#onSoftState(ready.softState);
    const transport = this.#transport;
    assert(transport !== undefined, "the transport starts before the loop");
    this.#sendMessages(transport, ready.messages);
    this.#noteAppended(ready.entries);
    const persisted = this.#persist(ready);
    if (ready.snapshot !== undefined) {
      // A snapshot replaces the state machine: the contract's strict order, step by step.
      await persisted;
      transport.send(ready.messagesAfterPersist);
      await this.#applySnapshot(ready.snapshot);
      this.#applyEntries(ready.committedEntries);
    } else {
      // Committed entries are on a quorum's disks already (a leader counts its own log only once
      // persisted), so they are applied while this Ready's write is in flight; their own write is
      // queued behind it, so the disk never holds an applied index past its log.
      this.#applyEntries(ready.committedEntries);
      // A Ready that only moves the commit index promises nothing durable: its write is queued
      // in order but not waited for. Entries, term and vote must be on disk before the
      // acknowledgements and votes in messagesAfterPersist leave.
      if (ready.entries.length > 0 || ready.mustSync) await persisted;
      else this.#watchWrite(persisted);
      transport.send(ready.messagesAfterPersist);
    }
    this.#reads.onReadStates(ready.readStates);
  }

  /**
   * Sends `messages`, except that an append without entries waits (at most emptyAppendHoldMs)
   * and is dropped if a later append to the same follower goes first: that one carries the same
   * or a newer commit index. Dropping an append is always safe in Raft; a lost one is what the
   * next append or heartbeat makes up for.
   */
  #sendMessages(transport: Transport, messages: readonly Message[]): void {
    let now: Message[] | undefined;
    for (const message of messages) {
      if (message.type === MessageType.App) {
        if (message.entries.length === 0) {
          this.#heldAppends.set(message.to, message);
          continue;
        }
        this.#heldAppends.delete(message.to);
      }
      (now ??= []).push(message);
    }
    if (now !== undefined) transport.send(now);
    if (this.#heldAppends.size > 0) {
      this.#heldAppendsTimer ??= setTimeout(() => this.#releaseHeldAppends(), raftNodeDefaults.emptyAppendHoldMs);
    } else if (this.#heldAppendsTimer !== undefined) {
      // Everything held was replaced by a newer append: no wake-up for nothing (one per put at
      // one put at a time).
      clearTimeout(this.#heldAppendsTimer);
      this.#heldAppendsTimer = undefined;
    }
  }

  #releaseHeldAppends(): void {
    clearTimeout(this.#heldAppendsTimer);
    this.#heldAppendsTimer = undefined;
    if (this.#heldAppends.size === 0) return;
    const held = [...this.#heldAppends.values()];
    this.#heldAppends.clear();
    if (this.#state === "running" && this.#role === Role.Leader) this.#transport?.send(held);
  }

  /** A write nobody awaits still stops the member when it fails. */
  #watchWrite(write: Promise<void>): void {
    write.catch((error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))));
  }

  async #persist(ready: Ready): Promise<void> {
    if (ready.hardState === undefined && ready.entries.length === 0 && ready.snapshot === undefined) return;
    await this.#log.persist(
      {
        entries: ready.entries,
        ...(ready.hardState === undefined ? {} : { hardState: ready.hardState }),
        ...(ready.snapshot === undefined ? {} : { snapshot: ready.snapshot }),
      },
      ready.mustSync,
    );
    this.counters.persistBatches += 1;
    this.counters.persistedEntries += ready.entries.length;
  }

  /** Remembers where this member's own proposals landed, to notice if another leader replaces them. */
  #noteAppended(entries: readonly Entry[]): void {
    if (this.#proposals.size === 0) return;
    for (const entry of entries) {
      const envelope = entry.type === EntryType.ConfChange ? decodeConfChange(entry.data).context : entry.data;
      if (envelope.length >= requestIdBytes) this.#proposals.noteAppended(entry.index, decodeEnvelope(envelope).requestId, envelope);
    }
  }

  // ---- applying -----------------------------------------------------------------------------

  /**
   * Applies committed entries to the state machine and answers their proposers at once; the
   * records and the applied index are queued as one write that this round does not wait for
   * (a crash before it lands replays the entries from the log, which holds them already).
   */
  #applyEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const batch: AppliedBatch = { records: [], completed: [], membershipChanged: false };
    for (const entry of entries) {
      assert(entry.index === this.#appliedIndex + 1, "committed entries are applied in order", () => `entry ${entry.index} after applied ${this.#appliedIndex}`);
      if (entry.type === EntryType.ConfChange) this.#applyConfChange(entry, batch);
      else if (entry.data.length > 0) this.#applyNormal(entry, batch);
      else this.#proposals.complete(entry.index, undefined, undefined, () => this.#displaced());
      this.#appliedIndex = entry.index;
    }
    const durable = this.#stateMachine.durable;
    const written = this.#log.saveApplied({
      appliedIndex: this.#appliedIndex,
      records: durable ? batch.records : [],
      ...(batch.membershipChanged ? { peers: this.#peers, removedMembers: this.#removedMembers } : {}),
      // The log holds these entries already, so this write may wait for the next synced batch:
      // a crash before it lands replays them from the log.
      sync: false,
      deferred: true,
    });
    this.#watchWrite(written);
    this.counters.appliedEntries += entries.length;
    for (const [proposal, result] of batch.completed) proposal.resolve(result);
  }

  #displaced(): Error {
    return new RequestDroppedError("its log entry was replaced by another leader's", this.#lead);
  }

  #applyNormal(entry: Entry, batch: AppliedBatch): void {
    const { requestId, payload } = decodeEnvelope(entry.data);
    const respond = this.#proposals.isPending(requestId);
    const outcome = this.#stateMachine.apply({ term: entry.term, index: entry.index, type: entry.type, data: payload }, respond);
    for (const record of outcome.records) batch.records.push(record);
    const proposal = this.#proposals.complete(entry.index, requestId, entry.data, () => this.#displaced());
    if (proposal !== undefined) batch.completed.push([proposal, outcome.result]);
  }

  #applyConfChange(entry: Entry, batch: AppliedBatch): void {
    const change = decodeConfChange(entry.data);
    this.#confState = this.#raw.applyConfChange(change);
    const envelope = change.context.length >= requestIdBytes ? decodeEnvelope(change.context) : undefined;
    if (this.#updateMembership(change, envelope?.payload)) batch.membershipChanged = true;
    const proposal = this.#proposals.complete(entry.index, envelope?.requestId, change.context, () => this.#displaced());
    if (proposal !== undefined) batch.completed.push([proposal, this.#confState]);
    if (change.type === ConfChangeType.RemoveNode && change.nodeId === this.id && !isMember(this.#confState, this.id)) this.#onRemoved();
  }

  /** Keeps the address book equal to the configuration and records removals; returns whether either changed. */
  #updateMembership(change: ConfChange, addressBytes: Uint8Array | undefined): boolean {
    const transport = this.#transport;
    assert(transport !== undefined, "the transport starts before the loop");
    const nodeId = change.nodeId;
    if (!isMember(this.#confState, nodeId)) {
      const newlyRemoved = change.type === ConfChangeType.RemoveNode && nodeId !== this.id && !this.#removedMembers.has(nodeId);
      if (newlyRemoved) this.#removedMembers.add(nodeId);
      const hadAddress = this.#peers.delete(nodeId);
      transport.removePeer(nodeId);
      return newlyRemoved || hadAddress;
    }
    if (addressBytes === undefined || addressBytes.length === 0) return false;
    const address = decodeUtf8(addressBytes, "member address");
    if (this.#peers.get(nodeId) === address) return false;
    this.#peers.set(nodeId, address);
    transport.addPeer(nodeId, address);
    return true;
  }

  #onRemoved(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.#logger.warn(`raft node ${this.id}: this member was removed from the cluster`);
    this.#proposals.rejectAll(new NodeStoppedError("this member was removed from the cluster"));
    this.#options.onRemoved?.();
  }

  /** A snapshot from the leader replaces the state machine and the address book. */
  async #applySnapshot(snapshot: Snapshot): Promise<void> {
    const index = snapshot.metadata.index;
    assert(index > this.#appliedIndex, "a received snapshot is newer than what is applied", () => `${index} <= ${this.#appliedIndex}`);
    const content = decodeNodeSnapshot(snapshot.data);
    const records = this.#stateMachine.restore(content.stateMachine) ?? [];
    this.#peers = new Map(content.peers);
    this.#removedMembers = new Set(content.removed);
    this.#transport?.setPeers(this.#peers);
    await this.#log.saveApplied({
      appliedIndex: index,
      records: this.#stateMachine.durable ? records : [],
      replaceState: true,
      peers: this.#peers,
      removedMembers: this.#removedMembers,
      sync: true,
    });
    this.#appliedIndex = index;
    this.#snapshotIndex = index;
    this.#confState = snapshot.metadata.confState;
    this.counters.snapshotsRestored += 1;
    this.#proposals.rejectThrough(index, () => new RequestDroppedError("applied through a snapshot; its outcome is unknown", this.#lead));
    this.#logger.info(`raft node ${this.id}: restored snapshot at index ${index}`);
  }

  /** Every snapshotCount applied entries: snapshot, then compact all but the catch-up margin. */
  async #maybeSnapshot(): Promise<void> {
    if (this.#appliedIndex - this.#snapshotIndex < this.#options.snapshotCount) return;
    const index = this.#appliedIndex;
    const data = encodeNodeSnapshot({ peers: this.#peers, removed: this.#removedMembers, stateMachine: this.#stateMachine.snapshot() });
    await this.#log.createSnapshot(index, this.#confState, data);
    this.#snapshotIndex = index;
    this.counters.snapshotsCreated += 1;
    const compactIndex = index - this.#settings.snapshotCatchUpEntries;
    if (compactIndex > 0) await this.#log.compact(compactIndex);
    this.#logger.info(`raft node ${this.id}: snapshot at index ${index}, log compacted through ${Math.max(compactIndex, 0)}`);
  }

  // ---- leadership, timers, transport events -------------------------------------------------

  #onSoftState(softState: SoftState): void {
    // Appends held from a term in which this member led mean nothing to its followers now.
    if (softState.role !== Role.Leader) this.#heldAppends.clear();
    const leaderChanged = softState.lead !== this.#lead;
    this.#lead = softState.lead;
    this.#role = softState.role;
    if (!leaderChanged) return;
    const term = this.#raw.status().hardState.term;
    this.#logger.info(`raft node ${this.id}: leader is ${softState.lead} at term ${term} (this member is ${softState.role})`);
    for (const waiter of this.#transferWaiters.filter((candidate) => candidate.to === softState.lead)) {
      this.#transferWaiters.splice(this.#transferWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    for (const listener of this.#leaderListeners) {
      try {
        listener(softState.lead, term);
      } catch (error) {
        this.#logger.warn(`raft node ${this.id}: a leader-change listener threw: ${String(error)}`);
      }
    }
  }

  #onTick(): void {
    if (this.#state !== "running") return;
    this.#inbox.ticks = Math.min(this.#inbox.ticks + 1, raftNodeDefaults.ticksPendingMax);
    this.#expire(Date.now());
    this.#retryTransfer();
    this.#wake();
  }

  /**
   * Raft aborts a transfer that did not finish within an election timeout, e.g. because the
   * transferee had not yet applied a committed conf change and so could not campaign. While the
   * caller still waits and this member still leads, ask again.
   */
  #retryTransfer(): void {
    const waiter = this.#transferWaiters.at(-1);
    if (waiter === undefined || this.#role !== Role.Leader || this.#inbox.transfers.length > 0) return;
    if (this.#raw.status().leadTransferee !== 0) return;
    this.#inbox.transfers.push(waiter.to);
  }

  #expire(nowMs: number): void {
    const timeoutMs = this.#settings.requestTimeoutMs;
    for (const proposal of this.#proposals.expire(nowMs)) {
      this.counters.proposalsTimedOut += 1;
      proposal.reject(new RequestTimeoutError("proposal", timeoutMs, this.#lead));
    }
    this.#reads.expire(nowMs, () => new RequestTimeoutError("read index", timeoutMs, this.#lead));
    for (const waiter of this.#transferWaiters.filter((candidate) => candidate.deadlineMs <= nowMs)) {
      this.#transferWaiters.splice(this.#transferWaiters.indexOf(waiter), 1);
      waiter.reject(new RequestTimeoutError(`leadership transfer to ${waiter.to}`, timeoutMs, this.#lead));
    }
  }

  async #startTransport(): Promise<void> {
    const inbox = this.#inbox;
    this.#transport = await Transport.start({
      localId: this.id,
      listenAddress: this.#options.listenAddress,
      ...(this.#options.peerServices === undefined ? {} : { extraServices: this.#options.peerServices }),
      handler: {
        receive: (message) => {
          if (inbox.messages.length >= raftNodeDefaults.inboxMessagesMax) {
            this.counters.inboxMessagesDropped += 1;
            return;
          }
          inbox.messages.push(message);
          this.#wake();
        },
        reportUnreachable: (peerId) => {
          inbox.unreachable.add(peerId);
          this.#wake();
        },
        reportSnapshot: (peerId, status) => {
          inbox.snapshotReports.push([peerId, status]);
          this.#wake();
        },
        isRemoved: (peerId) => this.#removedMembers.has(peerId),
        reportRemoved: () => this.#onRemoved(),
      },
      logger: this.#logger,
      ...(this.#options.clusterId === undefined ? {} : { clusterId: this.#options.clusterId }),
      ...(this.#options.serverCredentials === undefined ? {} : { serverCredentials: this.#options.serverCredentials }),
      ...(this.#options.channelCredentials === undefined ? {} : { channelCredentials: this.#options.channelCredentials }),
      ...(this.#options.transportLimits === undefined ? {} : { limits: this.#options.transportLimits }),
    });
    this.#transport.setPeers(this.#peers);
  }

  /** A failed disk write or state machine stops the member: it must not go on with unknown state. */
  #fail(error: Error): void {
    if (this.#state !== "running" && this.#state !== "stopping") return;
    this.#state = "failed";
    this.#failure = error;
    clearInterval(this.#tickTimer);
    clearTimeout(this.#heldAppendsTimer);
    this.#logger.error(`raft node ${this.id}: fatal: ${error.stack ?? error.message}`);
    this.#rejectEverything(new NodeStoppedError("failed", { cause: error }));
    // Peers must stop counting on this member at once.
    void this.#transport?.close();
    const onFatal =
      this.#options.onFatal ??
      ((fatal: Error) => {
        process.nextTick(() => {
          throw fatal;
        });
      });
    onFatal(error);
  }

  #rejectEverything(error: Error): void {
    this.#proposals.rejectAll(error);
    this.#reads.rejectAll(error);
    for (const waiter of this.#transferWaiters.splice(0)) waiter.reject(error);
    this.#inbox.proposals.length = 0;
    this.#inbox.confChanges.length = 0;
  }
}

function isMember(confState: ConfState, id: NodeId): boolean {
  return confState.voters.includes(id) || confState.learners.includes(id);
}

function checkOptions<R>(options: RaftNodeOptions<R>): void {
  const positive = (name: string, value: number): void => {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`raft node: ${name} must be a positive integer, got ${value}`);
  };
  positive("id", options.id);
  positive("heartbeatIntervalMs", options.heartbeatIntervalMs);
  positive("electionTicks", options.electionTicks);
  positive("snapshotCount", options.snapshotCount);
  if (options.initialClusterState === "new" && !options.initialPeers.has(options.id)) {
    throw new RangeError(`raft node: member ${options.id} is not among the initial peers of a new cluster`);
  }
}

function bootstrapFor<R>(options: RaftNodeOptions<R>): { confState: ConfState; peers: ReadonlyMap<NodeId, string> } {
  if (options.initialClusterState === "existing") return { confState: emptyConfState, peers: options.initialPeers };
  const voters = [...options.initialPeers.keys()].sort((a, b) => a - b);
  return { confState: { voters, learners: [] }, peers: options.initialPeers };
}

function raftConfig<R>(options: RaftNodeOptions<R>, log: DurableLog, appliedIndex: number): RaftConfig {
  return {
    id: options.id,
    storage: log.storage,
    electionTicks: options.electionTicks,
    heartbeatTicks: 1,
    appliedIndex,
    maxMessageBytes: options.raft?.maxMessageBytes ?? defaultRaftBounds.maxMessageBytes,
    maxInflightMessages: options.raft?.maxInflightMessages ?? defaultRaftBounds.maxInflightMessages,
    maxUncommittedEntriesBytes: options.raft?.maxUncommittedEntriesBytes ?? defaultRaftBounds.maxUncommittedEntriesBytes,
    maxCommittedBytesPerReady: options.raft?.maxCommittedBytesPerReady ?? defaultRaftBounds.maxCommittedBytesPerReady,
    preVote: options.raft?.preVote ?? true,
    checkQuorum: options.raft?.checkQuorum ?? true,
    // By default clients get NotLeaderError with a hint and retry at the leader. The store turns
    // forwarding on: a follower's proposal travels to the leader inside Raft (as etcd does) and
    // completes here when the entry is applied, matched by its request id.
    disableProposalForwarding: options.raft?.disableProposalForwarding ?? true,
    prng: createPrng(options.seed ?? randomInt(0, 2 ** 31)),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
}

/**
 * Brings the state machine to a known applied index before Raft starts:
 *  - in memory: restore the latest snapshot (if any); the log after it is applied again.
 *  - durable, applied >= snapshot: load its records; they match the stored applied index.
 *  - durable, applied < snapshot: the member crashed after persisting a snapshot from the leader
 *    but before restoring it; restore it now (records and applied index in one batch).
 */
async function recoverStateMachine<R>(log: DurableLog, stateMachine: StateMachine<R>): Promise<number> {
  const snapshotIndex = log.snapshotIndex;
  const snapshotContent = (): ReturnType<typeof decodeNodeSnapshot> => decodeNodeSnapshot(log.storage.snapshot().data);
  if (!stateMachine.durable) {
    if (snapshotIndex > 0) stateMachine.restore(snapshotContent().stateMachine);
    // The stored applied index meant nothing for this machine; record where it restarts.
    await log.saveApplied({ appliedIndex: snapshotIndex, records: [], replaceState: true, sync: false });
    return snapshotIndex;
  }
  if (log.appliedIndex < snapshotIndex) {
    const content = snapshotContent();
    const records = stateMachine.restore(content.stateMachine) ?? [];
    await log.saveApplied({ appliedIndex: snapshotIndex, records, replaceState: true, peers: content.peers, removedMembers: content.removed, sync: true });
    return snapshotIndex;
  }
  await stateMachine.load?.(log.stateRecords());
  return log.appliedIndex;
}
