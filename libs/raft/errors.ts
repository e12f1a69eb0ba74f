/** Errors the Raft core reports to its caller. They carry data; mapping to wire codes is the caller's job. */
import type { NodeId } from "./types.ts";

/** A proposal was not accepted (no leader known, leader transfer in progress, log too large...). */
export class ProposalDroppedError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`raft proposal dropped: ${reason}`);
    this.name = "ProposalDroppedError";
    this.reason = reason;
  }
}

/** This node is not the leader and forwarding is disabled; `leaderHint` is 0 when unknown. */
export class NotLeaderError extends Error {
  readonly leaderHint: NodeId;
  constructor(leaderHint: NodeId) {
    super(leaderHint === 0 ? "raft: not the leader and no leader is known" : `raft: not the leader; leader is ${leaderHint}`);
    this.name = "NotLeaderError";
    this.leaderHint = leaderHint;
  }
}

/** The requested log index has been compacted away into a snapshot. */
export class CompactedError extends Error {
  constructor(index: number, firstIndex: number) {
    super(`raft: index ${index} is compacted (first available index is ${firstIndex})`);
    this.name = "CompactedError";
  }
}

/** The requested log index is beyond the last entry. */
export class UnavailableError extends Error {
  constructor(index: number, lastIndex: number) {
    super(`raft: index ${index} is unavailable (last index is ${lastIndex})`);
    this.name = "UnavailableError";
  }
}

/** The storage cannot produce a snapshot right now; the leader retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super("raft: snapshot is temporarily unavailable");
    this.name = "SnapshotTemporarilyUnavailableError";
  }
}

/** A snapshot older than the one storage already holds was offered. */
export class SnapshotOutOfDateError extends Error {
  constructor(index: number, currentIndex: number) {
    super(`raft: snapshot at ${index} is older than the stored snapshot at ${currentIndex}`);
    this.name = "SnapshotOutOfDateError";
  }
}
