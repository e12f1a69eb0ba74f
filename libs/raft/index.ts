/** The Raft consensus core: a pure, synchronous state machine (see raw-node.ts for the API). */
export type { RaftConfig, RaftLogger } from "./config.ts";
export { defaultRaftBounds } from "./config.ts";
export {
  CompactedError,
  NotLeaderError,
  ProposalDroppedError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "./errors.ts";
export type { InitialState, Storage } from "./storage.ts";
export { ConfChangeType, EntryType, MessageType, ProgressState, Role, noneNodeId } from "./types.ts";
export type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ProgressStatus,
  ReadState,
  Ready,
  Snapshot,
  SnapshotMetadata,
  SnapshotStatus,
  SoftState,
  Status,
} from "./types.ts";
export { MemoryStorage } from "./memory-storage.ts";
export type { BootstrapLog } from "./bootstrap.ts";
export { bootstrapLog } from "./bootstrap.ts";
export { RawNode } from "./raw-node.ts";
export { decodeConfChange, encodeConfChange } from "./conf-change.ts";
export {
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
} from "./describe.ts";
