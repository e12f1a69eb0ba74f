/** Configuration of one Raft node. Every bound is a named number with its unit last. */
import type { Prng } from "../prng/index.ts";
import type { Storage } from "./storage.ts";
import type { NodeId } from "./types.ts";

export interface RaftLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Followers campaign after a random timeout in [electionTicks+1, 2*electionTicks]. */
  readonly electionTicks: number;
  /** The leader sends heartbeats every heartbeatTicks; must be < electionTicks. */
  readonly heartbeatTicks: number;
  /** Index of the last entry the caller had applied before restarting (0 for a new node). */
  readonly appliedIndex?: number;
  /** Upper bound on entries' data bytes in one append message (at least one entry is sent). */
  readonly maxMessageBytes: number;
  /** Upper bound on append messages in flight to one follower while replicating. */
  readonly maxInflightMessages: number;
  /** Upper bound on data bytes of uncommitted entries on the leader; proposals past it are dropped. */
  readonly maxUncommittedEntriesBytes: number;
  /** Upper bound on data bytes of committed entries handed out in one Ready. */
  readonly maxCommittedBytesPerReady: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** When true, proposals on a follower throw NotLeaderError instead of being forwarded. */
  readonly disableProposalForwarding: boolean;
  /** The only source of randomness (election timeout jitter). */
  readonly prng: Prng;
  readonly logger?: RaftLogger;
}

/** Defaults suited to a store on a LAN: 100 ms ticks give a 1 s election timeout. */
export const defaultRaftBounds = {
  electionTicks: 10,
  heartbeatTicks: 1,
  maxMessageBytes: 1024 * 1024,
  maxInflightMessages: 256,
  maxUncommittedEntriesBytes: 64 * 1024 * 1024,
  maxCommittedBytesPerReady: 8 * 1024 * 1024,
} as const;
