/** Helpers shared by the Raft unit tests (not exported from index.ts). */
import { createPrng } from "../prng/index.ts";
import type { RaftConfig } from "./config.ts";
import { defaultRaftBounds } from "./config.ts";
import { MemoryStorage } from "./memory-storage.ts";
import type { InitialState } from "./storage.ts";
import { Raft } from "./raft.ts";
import type { ConfState, Entry, Message, NodeId } from "./types.ts";
import { EntryType, MessageType } from "./types.ts";
import { entry, message } from "./util.ts";

export interface RaftOptions {
  readonly voters?: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Entries already in the log (persisted), as [term, index] pairs or entries. */
  readonly log?: readonly Entry[];
  readonly term?: number;
  readonly vote?: NodeId;
  readonly config?: Partial<RaftConfig>;
}

/**
 * A MemoryStorage whose configuration sits at index 0 with an empty log, without the bootstrap
 * entries a founding member's storage holds (memory-storage.ts). The core's unit tests script
 * the log entry by entry from index 1; the bootstrap log is tested on its own and in the
 * scripted interactions.
 */
export class IndexZeroStorage extends MemoryStorage {
  readonly #confState: ConfState;

  constructor(confState: ConfState) {
    super();
    this.#confState = { voters: [...confState.voters], learners: [...confState.learners] };
  }

  override initialState(): InitialState {
    const initial = super.initialState();
    // A snapshot applied or created later carries its own configuration.
    if (this.snapshot().metadata.index > 0) return initial;
    return { hardState: initial.hardState, confState: this.#confState };
  }
}

export function newTestRaft(id: NodeId, options: RaftOptions = {}): { raft: Raft; storage: MemoryStorage } {
  const storage = new IndexZeroStorage({ voters: options.voters ?? [1, 2, 3], learners: options.learners ?? [] });
  if (options.log !== undefined) storage.append(options.log);
  if (options.term !== undefined) storage.setHardState({ term: options.term, vote: options.vote ?? 0, commit: 0 });
  const config: RaftConfig = {
    id,
    storage,
    ...defaultRaftBounds,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: false,
    checkQuorum: false,
    disableProposalForwarding: false,
    prng: createPrng(id),
    ...options.config,
  };
  return { raft: new Raft(config), storage };
}

/** Entries with the given terms at indexes 1, 2, ... */
export function entriesWithTerms(...terms: number[]): Entry[] {
  return terms.map((term, i) => entry(term, i + 1));
}

export function takeMessages(raft: Raft): Message[] {
  const all = [...raft.msgs, ...raft.msgsAfterPersist];
  raft.msgs = [];
  raft.msgsAfterPersist = [];
  return all;
}

export function proposal(data: string, from: NodeId): Message {
  return message({ type: MessageType.Prop, from, entries: [entry(0, 0, new TextEncoder().encode(data), EntryType.Normal)] });
}

/** Persists everything unstable, as a caller would after a Ready, and acknowledges it. */
export function persistAll(raft: Raft, storage: MemoryStorage): void {
  const entries = [...raft.log.unstableEntries()];
  storage.append(entries);
  const last = entries[entries.length - 1];
  raft.advance({ ...(last !== undefined ? { lastEntry: { index: last.index, term: last.term } } : {}), committedBytes: 0 });
}

/** Makes `raft` (a voter of 1..3) the leader of term 1 with its first entries persisted and acknowledged by 2. */
export function electedLeader(id: NodeId = 1, options: RaftOptions = {}): { raft: Raft; storage: MemoryStorage } {
  const built = newTestRaft(id, options);
  const { raft, storage } = built;
  raft.step(message({ type: MessageType.Hup, from: id }));
  for (const voter of raft.tracker.voters) {
    if (voter !== id) raft.step(message({ type: MessageType.VoteResp, from: voter, to: id, term: raft.term }));
  }
  persistAll(raft, storage);
  takeMessages(raft);
  return built;
}
