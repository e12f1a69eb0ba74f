/**
 * The store's replication layer: Raft (libs/raft) driven over LevelDB and gRPC, generic over a
 * state machine. See README.md for what goes in and out and why it survives a crash.
 */
export { RaftNode, raftNodeDefaults } from "./raft-node.ts";
export type { ApplyResult, RaftNodeCounters, RaftNodeLogger, RaftNodeOptions, StateMachine } from "./raft-node.ts";
export { CorruptRecordError, DurableLog, defaultSnapshotInlineBytesMax } from "./durable-log.ts";
export type { AppliedUpdate, DurableLogOptions, RaftUpdate, StateRecord } from "./durable-log.ts";
export { Transport, defaultTransportLimits, peerTarget } from "./transport.ts";
export type { PeerService, TransportHandler, TransportLimits, TransportLogger, TransportOptions } from "./transport.ts";
export {
  LearnerNotReadyError,
  MemberExistsError,
  MemberNotFoundError,
  NodeStoppedError,
  RequestDroppedError,
  RequestTimeoutError,
  TooManyRequestsError,
} from "./errors.ts";
export { crc32c } from "../../../libs/crc32c/index.ts";
// A Raft snapshot's data as RaftNode writes it (peers, removed members, state machine bytes).
export { encodeNodeSnapshot } from "./codec.ts";
// propose() and friends reject with the Raft core's NotLeaderError (it carries a leader hint).
export { NotLeaderError } from "../../../libs/raft/index.ts";
// Serving chosen gRPC paths from node:http2 beside a grpc-js Server (the hot paths).
export {
  FrameReader,
  GrpcMessageTooLargeError,
  grpcFrame,
  grpcFramePrefixBytes,
  grpcResponseHeaders,
  respondGrpcStatus,
  routeGrpcPaths,
} from "./grpc-routes.ts";
export type { GrpcRoute, GrpcRouteCounters } from "./grpc-routes.ts";
