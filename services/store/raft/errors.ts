/**
 * Errors a RaftNode rejects requests with. Each carries data, and those a client can act on carry
 * `leaderHint` (0 when unknown) so the API layer can redirect; mapping to gRPC codes happens at
 * the edge. NotLeaderError comes from libs/raft.
 */
import type { NodeId } from "../../../libs/raft/index.ts";

/** The request did not finish within its time bound; it may still be applied later. */
export class RequestTimeoutError extends Error {
  readonly leaderHint: NodeId;
  constructor(what: string, timeoutMs: number, leaderHint: NodeId) {
    super(`raft: ${what} timed out after ${timeoutMs} ms${leaderHint === 0 ? " (no leader known)" : ` (leader is ${leaderHint})`}`);
    this.name = "RequestTimeoutError";
    this.leaderHint = leaderHint;
  }
}

/** The proposal was refused or lost (leader change, transfer in progress, log too large...). */
export class RequestDroppedError extends Error {
  readonly reason: string;
  readonly leaderHint: NodeId;
  constructor(reason: string, leaderHint: NodeId, options?: { cause?: unknown }) {
    super(`raft: request dropped: ${reason}`, options);
    this.name = "RequestDroppedError";
    this.reason = reason;
    this.leaderHint = leaderHint;
  }
}

/** More requests are waiting than the bound allows (etcd: "too many requests"). */
export class TooManyRequestsError extends Error {
  readonly leaderHint: NodeId;
  constructor(waitingMax: number, leaderHint: NodeId) {
    super(`raft: too many requests (${waitingMax} already waiting)`);
    this.name = "TooManyRequestsError";
    this.leaderHint = leaderHint;
  }
}

/** The node is stopping, stopped, failed, or was removed from the cluster. */
export class NodeStoppedError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`raft: member stopped: ${reason}`, options);
    this.name = "NodeStoppedError";
  }
}

export class MemberNotFoundError extends Error {
  readonly memberId: NodeId;
  constructor(memberId: NodeId) {
    super(`raft: member ${memberId} is not in the cluster configuration`);
    this.name = "MemberNotFoundError";
    this.memberId = memberId;
  }
}

export class MemberExistsError extends Error {
  readonly memberId: NodeId;
  constructor(memberId: NodeId) {
    super(`raft: member ${memberId} is already in the cluster configuration`);
    this.name = "MemberExistsError";
    this.memberId = memberId;
  }
}

/** A learner cannot be promoted before it has caught up with the leader (etcd's rule: 90%). */
export class LearnerNotReadyError extends Error {
  readonly memberId: NodeId;
  constructor(memberId: NodeId, match: number, leaderMatch: number) {
    super(`raft: learner ${memberId} is not in sync with the leader (match ${match} of ${leaderMatch})`);
    this.name = "LearnerNotReadyError";
    this.memberId = memberId;
  }
}
