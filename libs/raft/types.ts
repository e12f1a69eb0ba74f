/**
 * Raft's data types, mirroring proto/raft.proto field for field. Ids, terms and indexes are safe
 * integers; node id 0 means "none". Everything here is plain data: the state machine never
 * mutates a value after handing it out in a Ready.
 */

export type NodeId = number;
export const noneNodeId: NodeId = 0;

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly confState: ConfState;
  readonly index: number;
  readonly term: number;
}

export interface Snapshot {
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export enum MessageType {
  Hup = 0,
  Beat = 1,
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  Unreachable = 10,
  SnapStatus = 11,
  CheckQuorum = 12,
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  readonly logTerm: number;
  /**
   * Append: the index of the entry before `entries`; vote: the candidate's last index;
   * MsgTransferLeader: the transferee (`from` always names the real sender).
   */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: Uint8Array;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  AddLearnerNode = 2,
}

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  readonly context: Uint8Array;
}

export enum Role {
  Follower = "follower",
  PreCandidate = "pre-candidate",
  Candidate = "candidate",
  Leader = "leader",
}

export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/** A linearizable read point: once `index` is applied, the read tagged `requestContext` may run. */
export interface ReadState {
  readonly index: number;
  readonly requestContext: Uint8Array;
}

/**
 * One batch of work for the caller, who must handle it in this order:
 *   1. send `messages` (they may leave before anything is persisted);
 *   2. persist `snapshot`, then `entries`, then `hardState` (with fsync when `mustSync`);
 *   3. send `messagesAfterPersist` (votes and acknowledgements that promise durable state);
 *   4. apply `committedEntries` (and the snapshot, if any) to the state machine;
 *   5. call `advance()`.
 * A conservative caller may also send `messages` in step 3.
 */
export interface Ready {
  /** Present only when leader or role changed since the last Ready. */
  readonly softState?: SoftState;
  /** Present only when term, vote or commit changed since the last Ready. */
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** True when hardState term/vote or entries changed, so the write must be fsynced. */
  readonly mustSync: boolean;
}

export enum ProgressState {
  Probe = "probe",
  Replicate = "replicate",
  Snapshot = "snapshot",
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly leadTransferee: NodeId;
  /** Only on the leader: replication progress per peer (the leader included). */
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
  readonly confState: ConfState;
}

export type SnapshotStatus = "finish" | "failure";
