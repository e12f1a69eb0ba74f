/**
 * The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", and Ongaro's thesis for PreVote, CheckQuorum, ReadIndex and leadership transfer).
 * It only changes memory: step() and tick() queue messages, append to the unstable log and move
 * the commit index; RawNode hands the results out as a Ready. Each role has its own step and
 * tick behaviour, swapped on every transition.
 */
import { assert } from "../assert/index.ts";
import type { RaftConfig, RaftLogger } from "./config.ts";
import { decodeConfChange } from "./conf-change.ts";
import { CompactedError, NotLeaderError, ProposalDroppedError, SnapshotTemporarilyUnavailableError } from "./errors.ts";
import { describeConfState } from "./describe.ts";
import type { Progress } from "./progress.ts";
import { RaftLog } from "./raft-log.ts";
import { ReadOnly } from "./read-only.ts";
import { ProgressTracker, VoteResult } from "./tracker.ts";
import { ConfChangeType, EntryType, MessageType, ProgressState, Role, noneNodeId } from "./types.ts";
import type {
  ConfChange, ConfState, Entry, HardState, Message, NodeId, ProgressStatus, ReadState, Snapshot, SoftState, Status,
} from "./types.ts";
import { buildMessage, bytesEqual, emptyBytes, entry, message, payloadBytes, sortedIds, voteResponseType } from "./util.ts";

export enum CampaignType {
  /** PreVote's first phase: ask whether an election could be won, without raising the term. */
  PreElection = "pre-election",
  Election = "election",
  /** Started by MsgTimeoutNow during a leadership transfer: voters ignore their leader lease. */
  Transfer = "transfer",
}

/** Marks vote requests of a transfer campaign, as etcd does, so that voters skip the lease check. */
export const campaignTransferContext: Uint8Array = new TextEncoder().encode("CampaignTransfer");

/** Bound on read requests held until the leader's first commit in its term; more are dropped. */
export const maxPendingReadIndexMessages = 4096;

/** Page size when scanning committed-but-unapplied entries for configuration changes. */
const confChangeScanPageBytes = 1024 * 1024;

const silentLogger: RaftLogger = { debug() {}, info() {}, warn() {} };

/** What the last Ready handed out, so that advance() can acknowledge exactly that. */
export interface ReadyAcknowledgement {
  readonly lastEntry?: { readonly index: number; readonly term: number };
  readonly snapshotIndex?: number;
  readonly committedLastIndex?: number;
  readonly committedBytes: number;
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = noneNodeId;
  lead: NodeId = noneNodeId;
  role: Role = Role.Follower;
  isLearner = false;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readOnly = new ReadOnly();
  /** Messages that may leave before anything of this Ready is persisted. */
  msgs: Message[] = [];
  /** Messages that promise durable state: sent only after the Ready is persisted. */
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId = noneNodeId;
  /** Index of the latest conf-change entry proposed by this leader; one may be pending at a time. */
  pendingConfIndex = 0;
  uncommittedBytes = 0;
  pendingReadIndexMessages: Message[] = [];
  readonly #config: RaftConfig;
  readonly #logger: RaftLogger;
  #stepRole: (m: Message) => void = (m) => this.#stepFollower(m);
  #tickRole: () => void = () => this.#tickElection();

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.#config = config;
    this.#logger = config.logger ?? silentLogger;
    this.log = new RaftLog(config.storage, config.maxCommittedBytesPerReady);
    const { hardState, confState } = config.storage.initialState();
    this.tracker = new ProgressTracker(config.maxInflightMessages);
    this.tracker.setConfState(confState, this.log.lastIndex() + 1);
    this.#loadHardState(hardState);
    const appliedIndex = config.appliedIndex ?? 0;
    if (appliedIndex > this.log.applied) this.log.appliedTo(appliedIndex);
    this.#replayAppliedConfChanges();
    this.isLearner = this.tracker.learners.has(this.id);
    this.becomeFollower(this.term, noneNodeId);
    this.#logger.info(
      `${this.id} started [${describeConfState(this.tracker.confState())}] term=${this.term} commit=${this.log.committed} ` +
        `applied=${this.log.applied} lastIndex=${this.log.lastIndex()} lastTerm=${this.log.lastTerm()}`,
    );
  }

  // ---- state --------------------------------------------------------------------------------

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  status(): Status {
    const base = {
      id: this.id,
      hardState: this.hardState(),
      softState: this.softState(),
      applied: this.log.applied,
      leadTransferee: this.leadTransferee,
      confState: this.tracker.confState(),
    };
    if (this.role !== Role.Leader) return base;
    const progress = new Map<NodeId, ProgressStatus>();
    for (const id of this.tracker.memberIds()) progress.set(id, this.tracker.getProgress(id).toStatus());
    return { ...base, progress };
  }

  #loadHardState(hardState: HardState): void {
    // A snapshot is committed by definition. The caller persists snapshot, entries and hard
    // state in that order, not atomically: a crash in between may leave a stored commit index
    // below the snapshot. Past the last entry, though, it means the log was lost.
    assert(hardState.commit <= this.log.lastIndex(), "stored commit index is within the log", () =>
      `commit=${hardState.commit} lastIndex=${this.log.lastIndex()}`,
    );
    this.log.committed = Math.max(hardState.commit, this.log.committed);
    this.term = hardState.term;
    this.vote = hardState.vote;
  }

  /**
   * A restarted node's configuration is the stored one plus the conf changes it had applied
   * after it (the caller does not apply them again). Each change sets one member's final role,
   * so replaying them over a configuration that already includes some of them is harmless.
   */
  #replayAppliedConfChanges(): void {
    let lo = this.log.firstIndex();
    const hi = this.log.applied + 1;
    while (lo < hi) {
      const entries = this.log.slice(lo, hi, confChangeScanPageBytes);
      assert(entries.length > 0, "a log scan makes progress");
      for (const e of entries) {
        if (e.type === EntryType.ConfChange) this.#applyToTracker(decodeConfChange(e.data));
      }
      lo = (entries[entries.length - 1] as Entry).index + 1;
    }
  }

  // ---- role transitions ---------------------------------------------------------------------

  becomeFollower(term: number, lead: NodeId): void {
    this.#stepRole = (m) => this.#stepFollower(m);
    this.#reset(term);
    this.#tickRole = () => this.#tickElection();
    this.lead = lead;
    this.role = Role.Follower;
    this.#logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomePreCandidate(): void {
    assert(this.role !== Role.Leader, "invalid transition [leader -> pre-candidate]");
    // PreVote changes neither term nor vote: losing a pre-election must leave no trace.
    this.#stepRole = (m) => this.#stepCandidate(m);
    this.tracker.resetVotes();
    this.#tickRole = () => this.#tickElection();
    this.lead = noneNodeId;
    this.role = Role.PreCandidate;
    this.#logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.role !== Role.Leader, "invalid transition [leader -> candidate]");
    this.#stepRole = (m) => this.#stepCandidate(m);
    this.#reset(this.term + 1);
    this.#tickRole = () => this.#tickElection();
    this.vote = this.id;
    this.role = Role.Candidate;
    this.#logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.role !== Role.Follower, "invalid transition [follower -> leader]");
    this.#stepRole = (m) => this.#stepLeader(m);
    this.#reset(this.term);
    this.#tickRole = () => this.#tickHeartbeat();
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.tracker.getProgress(this.id);
    self.becomeReplicate();
    // Only what is already on disk counts toward commitment; advance() raises it later.
    self.match = this.log.persistedLastIndex();
    self.next = this.log.lastIndex() + 1;
    self.recentActive = true;
    // An empty entry of the new term lets the leader commit (and learn the commit index).
    const appended = this.#appendEntries([entry(0, 0)]);
    assert(appended, "the leader's first entry is always accepted");
    // The log may hold an uncommitted conf change: allow no new one until everything is applied.
    this.pendingConfIndex = this.log.lastIndex();
    this.#logger.info(`${this.id} became leader at term ${this.term}`);
  }

  #reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = noneNodeId;
    }
    this.lead = noneNodeId;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    // In [electionTicks+1, 2*electionTicks]: a peer's tick phase may lag ours by up to one tick, so
    // campaigning at exactly electionTicks could find it still inside its leader lease (checkQuorum)
    // and refusing our pre-vote; that cost a whole second timeout after leader kills in bench-store.
    this.randomizedElectionTimeout = this.#config.electionTicks + 1 + this.#config.prng.nextInt(this.#config.electionTicks);
    this.leadTransferee = noneNodeId;
    this.tracker.resetVotes();
    this.tracker.resetProgress(this.log.lastIndex() + 1);
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    // Reads accepted in an earlier role or term are abandoned: serving them could be stale.
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  /** A node may campaign only while it is a voter and is not installing a snapshot. */
  promotable(): boolean {
    return this.tracker.voters.has(this.id) && !this.isLearner && this.log.unstable.snapshot === undefined;
  }

  // ---- ticks --------------------------------------------------------------------------------

  tick(): void {
    this.#tickRole();
  }

  /** Followers and candidates: start an election when no leader was heard from for a while. */
  #tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  /** The leader: heartbeats every heartbeatTicks, CheckQuorum and transfer timeout every electionTicks. */
  #tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.#config.electionTicks) {
      this.electionElapsed = 0;
      if (this.#config.checkQuorum) this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
      if (this.role === Role.Leader && this.leadTransferee !== noneNodeId) {
        this.#logger.info(`${this.id} aborts leadership transfer to ${this.leadTransferee}: it did not finish within an election timeout`);
        this.leadTransferee = noneNodeId;
      }
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.#config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- step: term rules common to every role -------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term && !this.#stepHigherTerm(m)) return;
    if (m.term > 0 && m.term < this.term) {
      this.#stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.Hup:
        this.#hup(this.#config.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.#handleVoteRequest(m);
        return;
      default:
        this.#stepRole(m);
    }
  }

  /** Returns false when the message must be ignored. */
  #stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = bytesEqual(m.context, campaignTransferContext);
      // Leader lease (thesis §4.2.3): while a leader is heard from, a vote request is disruptive.
      const inLease = this.#config.checkQuorum && this.lead !== noneNodeId && this.electionElapsed < this.#config.electionTicks;
      if (!force && inLease) {
        this.#logger.info(
          `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] ignored Msg${MessageType[m.type]} ` +
            `from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired ` +
            `(remaining ticks: ${this.#config.electionTicks - this.electionElapsed})`,
        );
        return false;
      }
    }
    // A pre-vote request never changes our term, nor does a granted pre-vote (it names the
    // term the pre-candidate would campaign at).
    if (m.type === MessageType.PreVote) return true;
    if (m.type === MessageType.PreVoteResp && !m.reject) return true;
    this.#logger.info(`${this.id} [term: ${this.term}] received a Msg${MessageType[m.type]} message with higher term from ${m.from} [term: ${m.term}]`);
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : noneNodeId);
    return true;
  }

  #stepLowerTerm(m: Message): void {
    if ((this.#config.checkQuorum || this.#config.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A node whose term rose during a partition ignores votes under CheckQuorum/PreVote and
      // would never rejoin; answering the old leader with our term lets the cluster move on.
      this.#send({ type: MessageType.AppResp, to: m.from });
    } else if (m.type === MessageType.PreVote || m.type === MessageType.Vote) {
      // Tell the (pre-)candidate our term (Raft §5.1: every reply carries the responder's term).
      // Otherwise a candidate whose term lags ours never learns it: a voter with a stale
      // configuration that does not count the candidate, and whose own term ran ahead, asks only
      // others for votes, and the cluster can stay leaderless for good. The rejection raises only
      // the candidate's own term; it deposes no one.
      this.#send({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true });
    } else {
      this.#logger.debug(`${this.id} [term: ${this.term}] ignored a Msg${MessageType[m.type]} message with lower term from ${m.from} [term: ${m.term}]`);
    }
  }

  /** Raft §5.2/§5.4.1: one vote per term, only for a candidate whose log is at least as up-to-date. */
  #handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === noneNodeId && this.lead === noneNodeId) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    const describe = () =>
      `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] %s Msg${MessageType[m.type]} ` +
      `for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.#logger.info(describe().replace("%s", "cast"));
      this.#send({ type: voteResponseType(m.type), to: m.from, term: m.term });
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.#logger.info(describe().replace("%s", "rejected"));
      this.#send({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true });
    }
  }

  // ---- elections ----------------------------------------------------------------------------

  #hup(type: CampaignType): void {
    if (this.role === Role.Leader) {
      this.#logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.#logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.#hasUnappliedConfChanges()) {
      this.#logger.warn(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.#logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.#campaign(type);
  }

  /**
   * A node must not campaign with a committed conf change it has not applied: it would count
   * votes under a configuration that is no longer current.
   */
  #hasUnappliedConfChanges(): boolean {
    let lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const hi = this.log.committed + 1;
    while (lo < hi) {
      const entries = this.log.slice(lo, hi, confChangeScanPageBytes);
      assert(entries.length > 0, "a log scan makes progress");
      if (entries.some((e) => e.type === EntryType.ConfChange)) return true;
      lo = (entries[entries.length - 1] as Entry).index + 1;
    }
    return false;
  }

  #campaign(type: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (type === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // the term we would campaign at; our own term is unchanged
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    // Our own vote counts at once: requests to others leave only after term and vote are
    // persisted (they are in msgsAfterPersist), so no one can count on an unpersisted vote.
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes().result === VoteResult.Won) {
      if (type === CampaignType.PreElection) this.#campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const context = type === CampaignType.Transfer ? campaignTransferContext : emptyBytes;
    for (const id of sortedIds(this.tracker.voters)) {
      if (id === this.id) continue;
      this.#logger.info(
        `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}] sent Msg${MessageType[voteType]} request to ${id} at term ${this.term}`,
      );
      this.#send({ type: voteType, to: id, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), context });
    }
  }

  #stepCandidate(m: Message): void {
    const myVoteResponse = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        this.#dropProposal(m, this.#config.disableProposalForwarding ? new NotLeaderError(noneNodeId) : new ProposalDroppedError("no leader"));
        return;
      case MessageType.App:
        this.becomeFollower(m.term, m.from); // a leader of our term exists
        this.#handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.#handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.#handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        this.#logger.debug(`${this.id} [term ${this.term} state ${this.role}] ignored MsgTimeoutNow from ${m.from}`);
        return;
      default:
        if (m.type === myVoteResponse) this.#handleVoteResponse(m);
    }
  }

  #handleVoteResponse(m: Message): void {
    this.tracker.recordVote(m.from, !m.reject);
    const { granted, rejected, result } = this.tracker.tallyVotes();
    this.#logger.info(
      `${this.id} has received ${granted} Msg${MessageType[m.type]} votes and ${rejected} vote rejections`,
    );
    if (result === VoteResult.Won) {
      if (this.role === Role.PreCandidate) {
        this.#campaign(CampaignType.Election);
      } else {
        this.becomeLeader();
        this.#broadcastAppend();
      }
    } else if (result === VoteResult.Lost) {
      // A lost pre-election leaves the term as it was; a lost election keeps the new term.
      this.becomeFollower(this.term, noneNodeId);
    }
  }

  // ---- follower -----------------------------------------------------------------------------

  #stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        this.#forwardProposal(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
      case MessageType.ReadIndex:
        this.#forwardToLeader(m);
        return;
      case MessageType.TimeoutNow:
        this.#logger.info(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
        // Leadership transfer skips PreVote: the leader asked for this election.
        this.#hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, requestContext: m.context });
        return;
      default:
        return;
    }
  }

  #forwardProposal(m: Message): void {
    if (m.from !== this.id) {
      this.#logger.debug(`${this.id} dropped a proposal from ${m.from}: not the leader, and only our own requests are forwarded`);
      return;
    }
    if (this.lead === noneNodeId) {
      this.#dropProposal(m, this.#config.disableProposalForwarding ? new NotLeaderError(noneNodeId) : new ProposalDroppedError("no leader"));
      return;
    }
    if (this.#config.disableProposalForwarding) {
      this.#dropProposal(m, new NotLeaderError(this.lead));
      return;
    }
    this.#send({ ...m, to: this.lead, term: 0 });
  }

  /**
   * Forwards a request made on this node to the leader. Requests from peers are not forwarded
   * again: a message must name its real sender (transports check), and a read answer has to
   * find its way back to the node that asked.
   */
  #forwardToLeader(m: Message): void {
    if (m.from !== this.id) {
      this.#logger.debug(`${this.id} dropped Msg${MessageType[m.type]} from ${m.from}: not the leader`);
      return;
    }
    if (this.lead === noneNodeId) {
      this.#logger.info(`${this.id} no leader at term ${this.term}; dropping Msg${MessageType[m.type]}`);
      return;
    }
    this.#send({ ...m, to: this.lead, term: 0 });
  }

  /** A local proposal fails loudly; one forwarded by a peer is dropped with a log line. */
  #dropProposal(m: Message, error: ProposalDroppedError | NotLeaderError): void {
    if (m.from === this.id || m.from === noneNodeId) throw error;
    this.#logger.info(`${this.id} dropped a proposal from ${m.from}: ${error.message}`);
  }

  /** Raft §5.3: accept entries only after an entry matching in index and term. */
  #handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index is settled; tell the leader where we are.
      this.#send({ type: MessageType.AppResp, to: m.from, index: this.log.committed });
      return;
    }
    const lastNewIndex = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== undefined) {
      this.#send({ type: MessageType.AppResp, to: m.from, index: lastNewIndex });
      return;
    }
    // Reject with a hint: our largest index whose term is <= the leader's term at m.index,
    // so the leader can skip a whole conflicting term in one round trip.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.#logger.debug(
      `${this.id} [logterm: ${this.log.term(m.index) ?? 0}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    this.#send({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  #handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.#send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context });
  }

  #handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (snapshot === undefined) {
      this.#logger.warn(`${this.id} ignored a MsgSnap without a snapshot from ${m.from}`);
      return;
    }
    const { index, term } = snapshot.metadata;
    if (this.#restore(snapshot)) {
      this.#logger.info(`${this.id} [commit: ${this.log.committed}] restored snapshot [index: ${index}, term: ${term}]`);
      this.#send({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() });
    } else {
      this.#logger.info(`${this.id} [commit: ${this.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      this.#send({ type: MessageType.AppResp, to: m.from, index: this.log.committed });
    }
  }

  /** Installs a snapshot that is ahead of our log; false when it brings nothing new. */
  #restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    assert(this.role === Role.Follower, "only a follower restores a snapshot");
    if (!confState.voters.includes(this.id) && !confState.learners.includes(this.id)) {
      // We were added after the snapshot was taken: the entries after it add us. Until then we
      // are not promotable, so a configuration without us is safe to hold (etcd refuses here,
      // which would leave a new member stuck until the leader's next snapshot).
      this.#logger.info(`${this.id} restores a snapshot from before it joined ${describeConfState(confState)}`);
    }
    if (this.log.matchTerm(index, term)) {
      // We already hold that entry: the snapshot only tells us it is committed.
      this.#logger.info(`${this.id} fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`);
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.setConfState(confState, this.log.lastIndex() + 1);
    this.isLearner = this.tracker.learners.has(this.id);
    return true;
  }

  // ---- leader -------------------------------------------------------------------------------

  #stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.#broadcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        this.#checkQuorum();
        return;
      case MessageType.Prop:
        this.#handleProposal(m);
        return;
      case MessageType.ReadIndex:
        this.#handleReadIndex(m);
        return;
      case MessageType.TransferLeader:
        this.#handleTransferLeader(m);
        return;
      default:
        break;
    }
    const progress = this.tracker.progress.get(m.from);
    if (progress === undefined) {
      this.#logger.debug(`${this.id} no progress available for ${m.from}`);
      return;
    }
    this.#stepLeaderFromPeer(m, progress);
  }

  #stepLeaderFromPeer(m: Message, progress: Progress): void {
    switch (m.type) {
      case MessageType.AppResp:
        progress.recentActive = true;
        if (m.reject) this.#handleAppendRejection(m, progress);
        else this.#handleAppendSuccess(m, progress);
        return;
      case MessageType.HeartbeatResp:
        this.#handleHeartbeatResponse(m, progress);
        return;
      case MessageType.SnapStatus:
        this.#handleSnapshotStatus(m, progress);
        return;
      case MessageType.Unreachable:
        // The last append may be lost; probe again rather than keep pipelining blindly.
        if (progress.state === ProgressState.Replicate) progress.becomeProbe();
        this.#logger.debug(`${this.id} failed to send message to ${m.from} because it is unreachable [${progress.describe()}]`);
        return;
      default:
        return;
    }
  }

  #checkQuorum(): void {
    if (!this.tracker.quorumActive(this.id)) {
      this.#logger.warn(`${this.id} stepped down to follower since quorum is not active`);
      this.becomeFollower(this.term, noneNodeId);
    }
    // Start a new window: every follower must be heard from again before the next check.
    for (const [id, progress] of this.tracker.progress) progress.recentActive = id === this.id;
  }

  #handleProposal(m: Message): void {
    assert(m.entries.length > 0, "a proposal carries entries");
    if (!this.tracker.progress.has(this.id)) {
      this.#dropProposal(m, new ProposalDroppedError("the leader was removed from the configuration"));
      return;
    }
    if (this.leadTransferee !== noneNodeId) {
      this.#dropProposal(m, new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`));
      return;
    }
    for (const [offset, e] of m.entries.entries()) {
      if (e.type !== EntryType.ConfChange) continue;
      const refusal = this.#refuseConfChange(e);
      if (refusal !== undefined) {
        this.#dropProposal(m, new ProposalDroppedError(refusal));
        return;
      }
      this.pendingConfIndex = this.log.lastIndex() + offset + 1;
    }
    if (!this.#appendEntries(m.entries)) {
      this.#dropProposal(m, new ProposalDroppedError("too many uncommitted bytes on the leader"));
      return;
    }
    this.#broadcastAppend();
  }

  /** Why a conf-change proposal must be refused, or undefined when it may go ahead. */
  #refuseConfChange(e: Entry): string | undefined {
    // Single-server changes are safe only one at a time: the previous one must be applied.
    if (this.pendingConfIndex > this.log.applied) {
      return `a configuration change is already pending (index ${this.pendingConfIndex}, applied ${this.log.applied})`;
    }
    let change: ConfChange;
    try {
      change = decodeConfChange(e.data);
    } catch (error) {
      return `malformed configuration change: ${(error as Error).message}`;
    }
    if (this.#removesLastVoter(change)) return `the change would leave no voter: ${ConfChangeType[change.type]} ${change.nodeId}`;
    return undefined;
  }

  #removesLastVoter(change: ConfChange): boolean {
    if (change.type === ConfChangeType.AddNode) return false;
    return this.tracker.voters.size === 1 && this.tracker.voters.has(change.nodeId);
  }

  /** Stamps entries with our term and the next indexes and appends them; false when over the byte bound. */
  #appendEntries(entries: readonly Entry[]): boolean {
    const lastIndex = this.log.lastIndex();
    const stamped = entries.map((e, offset) => ({ term: this.term, index: lastIndex + 1 + offset, type: e.type, data: e.data }));
    const bytes = payloadBytes(stamped);
    // Always admit a proposal when nothing is uncommitted, so a single large entry is not stuck.
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.#config.maxUncommittedEntriesBytes) {
      return false;
    }
    this.uncommittedBytes += bytes;
    this.log.append(stamped);
    // Our own progress moves only when advance() reports these entries persisted.
    return true;
  }

  reduceUncommittedBytes(bytes: number): void {
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  #maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committedIndex(), this.term);
  }

  /** The commit index moved: serve held reads and tell the followers. */
  #onCommitAdvanced(): void {
    this.#releasePendingReadIndexMessages();
    this.#broadcastAppend();
  }

  #broadcastAppend(): void {
    for (const id of this.tracker.memberIds()) {
      if (id !== this.id) this.#maybeSendAppend(id, true);
    }
  }

  /**
   * Sends the entries `to` is missing (or a snapshot when they are compacted away), unless its
   * flow control is paused. With `sendIfEmpty` an empty append still goes out, carrying the
   * commit index. Returns whether a message was sent.
   */
  #maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const progress = this.tracker.getProgress(to);
    if (progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    assert(prevIndex <= this.log.lastIndex(), "a follower's next index is at most the leader's last index + 1", () =>
      `to=${to} next=${progress.next} last=${this.log.lastIndex()}`,
    );
    const prevTerm = this.log.term(prevIndex);
    let entries: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        entries = this.log.entriesFrom(progress.next, this.#config.maxMessageBytes);
      } catch (error) {
        if (!(error instanceof CompactedError)) throw error;
      }
    }
    if (prevTerm === undefined || entries === undefined) return this.#maybeSendSnapshot(to, progress);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.#send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed });
    progress.sentEntries(entries.length, prevIndex + entries.length);
    progress.sentCommit = Math.max(progress.sentCommit, this.log.committed);
    return true;
  }

  #maybeSendSnapshot(to: NodeId, progress: Progress): boolean {
    if (!progress.recentActive) {
      this.#logger.debug(`${this.id} ignore sending snapshot to ${to} since it is not recently active`);
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (!(error instanceof SnapshotTemporarilyUnavailableError)) throw error;
      this.#logger.debug(`${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
      return false;
    }
    assert(snapshot.metadata.index > 0, "a snapshot sent to a follower is not empty");
    const { index, term } = snapshot.metadata;
    this.#logger.debug(
      `${this.id} [firstindex: ${this.log.firstIndex()}, commit: ${this.log.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${progress.describe()}]`,
    );
    progress.becomeSnapshot(index);
    this.#send({ type: MessageType.Snap, to, snapshot });
    return true;
  }

  #handleAppendSuccess(m: Message, progress: Progress): void {
    if (!progress.maybeUpdate(m.index) && !(progress.match === m.index && progress.state === ProgressState.Probe)) return;
    if (progress.state === ProgressState.Probe) {
      progress.becomeReplicate();
    } else if (progress.state === ProgressState.Snapshot) {
      // The follower caught up through the snapshot (or past it): replicate from there.
      if (progress.match >= progress.pendingSnapshot || progress.match + 1 >= this.log.firstIndex()) {
        progress.becomeProbe();
        progress.becomeReplicate();
        this.#logger.debug(`${this.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${progress.describe()}]`);
      }
    } else {
      progress.inflights.freeLE(m.index);
    }
    if (this.#maybeCommit()) this.#onCommitAdvanced();
    else if (progress.canBumpCommit(this.log.committed)) this.#maybeSendAppend(m.from, true);
    // Pipeline the rest of the log, as far as the inflight window allows.
    for (let sent = 0; sent < this.#config.maxInflightMessages; sent++) {
      if (!this.#maybeSendAppend(m.from, false)) break;
    }
    if (m.from === this.leadTransferee && progress.match === this.log.lastIndex()) {
      this.#logger.info(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
      this.#send({ type: MessageType.TimeoutNow, to: m.from });
    }
  }

  #handleAppendRejection(m: Message, progress: Progress): void {
    this.#logger.debug(
      `${this.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`,
    );
    // Skip back past every entry of ours whose term is above the follower's at the hint: they
    // cannot match either (etcd's findConflictByTerm, run on both sides).
    let nextProbeIndex = m.rejectHint;
    if (m.logTerm > 0) nextProbeIndex = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (!progress.maybeDecrTo(m.index, nextProbeIndex)) return;
    if (progress.state === ProgressState.Replicate) progress.becomeProbe();
    this.#logger.debug(`${this.id} decreased progress of ${m.from} to [${progress.describe()}]`);
    this.#maybeSendAppend(m.from, true);
  }

  #handleHeartbeatResponse(m: Message, progress: Progress): void {
    progress.recentActive = true;
    progress.probeSent = false;
    // Appends may have been lost; an answer to a heartbeat frees room for one more.
    if (progress.state === ProgressState.Replicate && progress.inflights.full()) progress.inflights.freeFirstOne();
    if (progress.match < this.log.lastIndex()) this.#maybeSendAppend(m.from, true);
    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    let voterAcks = 0;
    for (const id of acks) if (this.tracker.voters.has(id)) voterAcks++;
    if (voterAcks < this.tracker.quorumSize()) return;
    for (const { request, index } of this.readOnly.advance(m.context)) this.#respondToReadIndex(request, index);
  }

  #handleSnapshotStatus(m: Message, progress: Progress): void {
    if (progress.state !== ProgressState.Snapshot) return;
    if (m.reject) {
      progress.pendingSnapshot = 0; // resume from match: the follower got nothing
      this.#logger.debug(`${this.id} snapshot failed, resumed sending replication messages to ${m.from}`);
    } else {
      this.#logger.debug(`${this.id} snapshot succeeded, resumed sending replication messages to ${m.from}`);
    }
    progress.becomeProbe();
    // Wait for the follower's answer (or a heartbeat response) before probing.
    progress.probeSent = true;
  }

  /** MsgTransferLeader names the transferee in `index` (`from` is whoever asked). */
  #handleTransferLeader(m: Message): void {
    const transferee = m.index;
    const progress = this.tracker.progress.get(transferee);
    if (progress === undefined) {
      this.#logger.debug(`${this.id} ignored transferring leadership to ${transferee}: not a member`);
      return;
    }
    if (progress.isLearner) {
      this.#logger.debug(`${this.id} is ignoring transferring leadership to learner ${transferee}`);
      return;
    }
    if (this.leadTransferee !== noneNodeId) {
      if (this.leadTransferee === transferee) {
        this.#logger.info(`${this.id} [term ${this.term}] transfer leadership to ${transferee} is in progress, ignores request to same node`);
        return;
      }
      this.#logger.info(`${this.id} [term ${this.term}] abort previous transferring leadership to ${this.leadTransferee}`);
      this.leadTransferee = noneNodeId;
    }
    if (transferee === this.id) {
      this.#logger.debug(`${this.id} is already leader; ignored transferring leadership to itself`);
      return;
    }
    this.#logger.info(`${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`);
    // The transfer must finish within an election timeout (tickHeartbeat aborts it otherwise).
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (progress.match === this.log.lastIndex()) {
      this.#logger.info(`${this.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
      this.#send({ type: MessageType.TimeoutNow, to: transferee });
    } else {
      this.#maybeSendAppend(transferee, true);
    }
  }

  #broadcastHeartbeat(): void {
    const context = this.readOnly.lastPendingRequestContext() ?? emptyBytes;
    this.#broadcastHeartbeatWithContext(context);
  }

  #broadcastHeartbeatWithContext(context: Uint8Array): void {
    for (const id of this.tracker.memberIds()) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const progress = this.tracker.getProgress(id);
      const commit = Math.min(progress.match, this.log.committed);
      this.#send({ type: MessageType.Heartbeat, to: id, commit, context });
      progress.sentCommit = Math.max(progress.sentCommit, commit);
    }
  }

  // ---- ReadIndex ----------------------------------------------------------------------------

  #committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /**
   * Thesis §6.4: a read is served at the commit index once leadership is confirmed. Until the
   * leader commits an entry of its own term it does not know the latest commit index, so reads
   * wait for that first commit.
   */
  #handleReadIndex(m: Message): void {
    if (!this.#committedEntryInCurrentTerm()) {
      if (this.pendingReadIndexMessages.length >= maxPendingReadIndexMessages) {
        this.#logger.warn(`${this.id} dropped a read request: ${maxPendingReadIndexMessages} are already waiting`);
        return;
      }
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.#startReadIndex(m);
  }

  #startReadIndex(m: Message): void {
    // A single voter is the quorum: no one else can have been elected.
    if (this.tracker.isSingleton()) {
      this.#respondToReadIndex(m, this.log.committed);
      return;
    }
    if (!this.readOnly.addRequest(this.log.committed, m)) {
      this.#logger.warn(`${this.id} dropped a read request: its context repeats a pending one or the queue is full`);
      return;
    }
    this.readOnly.recvAck(this.id, m.context);
    this.#broadcastHeartbeatWithContext(m.context);
  }

  #releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.#committedEntryInCurrentTerm()) return;
    const held = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of held) this.#startReadIndex(m);
  }

  #respondToReadIndex(request: Message, index: number): void {
    if (request.from === noneNodeId || request.from === this.id) {
      this.readStates.push({ index, requestContext: request.context });
    } else {
      this.#send({ type: MessageType.ReadIndexResp, to: request.from, index, context: request.context });
    }
  }

  // ---- persistence acknowledgements and configuration ---------------------------------------

  /** The caller persisted and applied what the last Ready held. */
  advance(ack: ReadyAcknowledgement): void {
    if (ack.snapshotIndex !== undefined) {
      this.log.stableSnapTo(ack.snapshotIndex);
      if (ack.snapshotIndex > this.log.applied) this.log.appliedTo(ack.snapshotIndex);
    }
    if (ack.lastEntry !== undefined && this.log.stableTo(ack.lastEntry.index, ack.lastEntry.term)) {
      if (this.role === Role.Leader) this.#onOwnEntriesPersisted(ack.lastEntry.index);
    }
    if (ack.committedLastIndex !== undefined && ack.committedLastIndex > this.log.applied) {
      this.log.appliedTo(ack.committedLastIndex);
      if (this.role === Role.Leader) this.reduceUncommittedBytes(ack.committedBytes);
    }
  }

  /** The leader's own log is durable up to `index`: it now counts toward commitment. */
  #onOwnEntriesPersisted(index: number): void {
    const self = this.tracker.progress.get(this.id);
    if (self === undefined) return; // removed from the configuration
    if (self.maybeUpdate(index) && this.#maybeCommit()) this.#onCommitAdvanced();
  }

  /** Applies a committed conf change (single-server: one member changes role). */
  applyConfChange(change: ConfChange): ConfState {
    const wasMember = this.tracker.progress.has(change.nodeId);
    this.#applyToTracker(change);
    this.isLearner = this.tracker.learners.has(this.id);
    const confState = this.tracker.confState();
    this.#logger.info(`${this.id} switched to configuration ${describeConfState(confState)}`);
    if (this.role !== Role.Leader) return confState;
    if (!this.tracker.progress.has(this.id) || this.isLearner) {
      // Raft thesis §4.2.2: a removed leader steps down once the change is committed.
      this.#logger.info(`${this.id} stepping down: no longer a voter in the configuration`);
      this.becomeFollower(this.term, noneNodeId);
      return confState;
    }
    if (this.leadTransferee !== noneNodeId && !this.tracker.voters.has(this.leadTransferee)) {
      this.#logger.info(`${this.id} aborts leadership transfer: ${this.leadTransferee} is no longer a voter`);
      this.leadTransferee = noneNodeId;
    }
    // A smaller quorum may commit more at once; otherwise greet a new member right away.
    if (this.#maybeCommit()) this.#onCommitAdvanced();
    else if (!wasMember && this.tracker.progress.has(change.nodeId)) this.#maybeSendAppend(change.nodeId, true);
    return confState;
  }

  #applyToTracker(change: ConfChange): void {
    const nextIndex = this.log.lastIndex() + 1;
    if (change.nodeId === noneNodeId) return;
    if (this.#removesLastVoter(change)) {
      this.#logger.warn(`${this.id} ignored conf change ${ConfChangeType[change.type]} ${change.nodeId}: it would leave no voter`);
      return;
    }
    switch (change.type) {
      case ConfChangeType.AddNode:
        this.tracker.addMember(change.nodeId, false, nextIndex);
        return;
      case ConfChangeType.AddLearnerNode:
        this.tracker.addMember(change.nodeId, true, nextIndex);
        return;
      case ConfChangeType.RemoveNode:
        this.tracker.removeMember(change.nodeId);
        return;
    }
  }

  // ---- sending ------------------------------------------------------------------------------

  /**
   * Queues a message. Responses that promise durable state (append and vote answers) and vote
   * requests (whose term and vote must be on disk first) wait in msgsAfterPersist; the rest may
   * leave at once.
   */
  #send(fields: Partial<Message> & Pick<Message, "type">): void {
    const isVoteMessage =
      fields.type === MessageType.Vote || fields.type === MessageType.VoteResp ||
      fields.type === MessageType.PreVote || fields.type === MessageType.PreVoteResp;
    let term = fields.term ?? 0;
    if (isVoteMessage) {
      assert(term !== 0, "a vote message carries a term", () => MessageType[fields.type]);
    } else if (fields.type !== MessageType.Prop && fields.type !== MessageType.ReadIndex) {
      // Proposals and read requests are forwarded without a term: they are local to the leader.
      term = this.term;
    }
    const m = buildMessage(fields, fields.from ?? this.id, term);
    assert(m.to !== this.id && m.to !== noneNodeId, "a message goes to another node", () => `Msg${MessageType[m.type]} to ${m.to}`);
    if (persistFirst.has(m.type)) this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }
}

const persistFirst: ReadonlySet<MessageType> = new Set([
  MessageType.AppResp,
  MessageType.VoteResp,
  MessageType.PreVoteResp,
  MessageType.Vote,
  MessageType.PreVote,
]);

function validateConfig(config: RaftConfig): void {
  const positive = (value: number, name: string) => {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`raft config: ${name} must be a positive integer, got ${value}`);
  };
  positive(config.id, "id");
  positive(config.heartbeatTicks, "heartbeatTicks");
  positive(config.electionTicks, "electionTicks");
  if (config.electionTicks <= config.heartbeatTicks) {
    throw new RangeError(`raft config: electionTicks (${config.electionTicks}) must exceed heartbeatTicks (${config.heartbeatTicks})`);
  }
  positive(config.maxInflightMessages, "maxInflightMessages");
  positive(config.maxMessageBytes, "maxMessageBytes");
  positive(config.maxUncommittedEntriesBytes, "maxUncommittedEntriesBytes");
  positive(config.maxCommittedBytesPerReady, "maxCommittedBytesPerReady");
  const applied = config.appliedIndex ?? 0;
  if (!Number.isSafeInteger(applied) || applied < 0) throw new RangeError(`raft config: appliedIndex must be >= 0, got ${applied}`);
}
