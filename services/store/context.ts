/**
 * What every etcd API handler of a store member shares: the Raft node, the state machine, the
 * configuration, and the two ways to reach consensus (propose a write, wait for a linearizable
 * read point), with Raft's errors mapped to etcd's.
 */
import type { Logger } from "../../libs/log/index.ts";
import { NotLeaderError } from "../../libs/raft/index.ts";
import type { StoreConfig } from "./config.ts";
import { EtcdError, etcdErrors } from "./errors.ts";
import {
  LearnerNotReadyError,
  MemberExistsError,
  MemberNotFoundError,
  NodeStoppedError,
  RequestDroppedError,
  RequestTimeoutError,
  TooManyRequestsError,
  type RaftNode,
} from "./raft/index.ts";
import type { ApplyOutcome, StoreStateMachine } from "./state-machine.ts";

export interface StoreContext {
  readonly config: StoreConfig;
  readonly node: RaftNode<ApplyOutcome>;
  readonly stateMachine: StoreStateMachine;
  readonly logger: Logger;
  /** Replicates a framed payload; resolves with the wire response, rejects with an EtcdError. */
  propose(payload: Uint8Array): Promise<unknown>;
  /** Resolves once this member has applied everything committed before the call. */
  readBarrier(): Promise<void>;
}

export function createStoreContext(config: StoreConfig, node: RaftNode<ApplyOutcome>, stateMachine: StoreStateMachine, logger: Logger): StoreContext {
  return {
    config,
    node,
    stateMachine,
    logger,
    async propose(payload) {
      if (payload.length > config.maxRequestBytes) throw etcdErrors.requestTooLarge;
      let outcome: ApplyOutcome;
      try {
        outcome = await node.propose(payload);
      } catch (error) {
        throw toEtcdError(error);
      }
      if (!outcome.ok) throw outcome.error;
      return outcome.response;
    },
    async readBarrier() {
      try {
        await node.readIndex();
      } catch (error) {
        throw toEtcdError(error);
      }
    },
  };
}

/** Raft-layer failures as the etcd errors clients expect (and retry on, where etcd's are retryable). */
export function toEtcdError(error: unknown): EtcdError {
  if (error instanceof EtcdError) return error;
  if (error instanceof RequestTimeoutError) return error.leaderHint === 0 ? etcdErrors.timeoutDueToLeaderFail : etcdErrors.timeout;
  if (error instanceof RequestDroppedError) return error.leaderHint === 0 ? etcdErrors.noLeader : etcdErrors.leaderChanged;
  if (error instanceof NotLeaderError) return error.leaderHint === 0 ? etcdErrors.noLeader : etcdErrors.notLeader;
  if (error instanceof TooManyRequestsError) return etcdErrors.tooManyRequests;
  if (error instanceof NodeStoppedError) return etcdErrors.stopped;
  if (error instanceof MemberNotFoundError) return etcdErrors.memberNotFound;
  if (error instanceof MemberExistsError) return etcdErrors.memberExists;
  if (error instanceof LearnerNotReadyError) return etcdErrors.learnerNotReady;
  throw error;
}
