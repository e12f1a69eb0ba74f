/**
 * The caller's handle on one Raft node: feed it ticks, proposals and peer messages; take a
 * Ready of work (persist, send, apply); acknowledge it with advance(). Single-threaded and
 * synchronous; it never touches disk, network or clock.
 */
import { assert } from "../assert/index.ts";
import type { RaftConfig } from "./config.ts";
import { encodeConfChange } from "./conf-change.ts";
import { Raft } from "./raft.ts";
import type { ReadyAcknowledgement } from "./raft.ts";
import { EntryType, MessageType } from "./types.ts";
import type { ConfChange, ConfState, HardState, Message, NodeId, Ready, SnapshotStatus, SoftState, Status } from "./types.ts";
import { emptyBytes, entry, isLocalMessage, isResponseMessage, message, payloadBytes } from "./util.ts";

export class RawNode {
  readonly #raft: Raft;
  #previousSoftState: SoftState;
  #previousHardState: HardState;
  /** The Ready handed out and not yet acknowledged by advance(). */
  #outstanding: ReadyAcknowledgement | undefined;

  constructor(config: RaftConfig) {
    this.#raft = new Raft(config);
    this.#previousSoftState = this.#raft.softState();
    this.#previousHardState = this.#raft.hardState();
  }

  /** One logical clock tick. */
  tick(): void {
    this.#raft.tick();
  }

  /** Starts an election now (a pre-election first when PreVote is on). */
  campaign(): void {
    this.#raft.step(message({ type: MessageType.Hup, from: this.#raft.id }));
  }

  /** Proposes data for the log; throws ProposalDroppedError or NotLeaderError when it cannot. */
  propose(data: Uint8Array): void {
    this.#raft.step(message({ type: MessageType.Prop, from: this.#raft.id, entries: [entry(0, 0, data)] }));
  }

  /**
   * Proposes several entries in one step (one MsgProp, as etcd's node batches them): the leader
   * appends them together and sends each follower one append for all of them instead of one per
   * entry. All or nothing: throws ProposalDroppedError or NotLeaderError and appends none.
   */
  proposeBatch(data: readonly Uint8Array[]): void {
    assert(data.length > 0, "a batch proposal carries entries");
    const entries = data.map((bytes) => entry(0, 0, bytes));
    this.#raft.step(message({ type: MessageType.Prop, from: this.#raft.id, entries }));
  }

  /** Proposes a membership change; one may be pending at a time (else ProposalDroppedError). */
  proposeConfChange(change: ConfChange): void {
    const proposal = entry(0, 0, encodeConfChange(change), EntryType.ConfChange);
    this.#raft.step(message({ type: MessageType.Prop, from: this.#raft.id, entries: [proposal] }));
  }

  /** A message from a peer. Local-only message types arriving from the network are ignored. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) return;
    // An answer from a node outside the configuration (say, just removed) has no progress to update.
    if (isResponseMessage(m.type) && !this.#raft.tracker.progress.has(m.from)) return;
    this.#raft.step(m);
  }

  /** Requests a linearizable read point; it arrives as a ReadState tagged `requestContext`. */
  readIndex(requestContext: Uint8Array): void {
    this.#raft.step(message({ type: MessageType.ReadIndex, from: this.#raft.id, context: requestContext }));
  }

  /** Asks the leader (this node or, forwarded, the one it knows) to hand leadership to `to`. */
  transferLeadership(to: NodeId): void {
    this.#raft.step(message({ type: MessageType.TransferLeader, from: this.#raft.id, index: to }));
  }

  /** Call when applying a committed conf-change entry; returns the new configuration. */
  applyConfChange(change: ConfChange): ConfState {
    return this.#raft.applyConfChange(change);
  }

  /** Whether ready() has work; false while a Ready is awaiting advance(). */
  hasReady(): boolean {
    if (this.#outstanding !== undefined) return false;
    const raft = this.#raft;
    return (
      !softStateEqual(raft.softState(), this.#previousSoftState) ||
      !hardStateEqual(raft.hardState(), this.#previousHardState) ||
      raft.log.unstable.snapshot !== undefined ||
      raft.log.unstable.entries.length > 0 ||
      raft.msgs.length > 0 ||
      raft.msgsAfterPersist.length > 0 ||
      raft.readStates.length > 0 ||
      raft.log.hasNextCommittedEntries()
    );
  }

  /** The next batch of work; handle it in the order types.ts describes, then call advance(). */
  ready(): Ready {
    assert(this.#outstanding === undefined, "ready() is called again only after advance()");
    const raft = this.#raft;
    const softState = raft.softState();
    const hardState = raft.hardState();
    const softChanged = !softStateEqual(softState, this.#previousSoftState);
    const hardChanged = !hardStateEqual(hardState, this.#previousHardState);
    const entries = [...raft.log.unstableEntries()];
    const snapshot = raft.log.unstable.snapshot;
    const committedEntries = raft.log.nextCommittedEntries();
    const ready: MutableReady = {
      entries,
      committedEntries,
      messages: raft.msgs,
      messagesAfterPersist: raft.msgsAfterPersist,
      readStates: raft.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        hardState.term !== this.#previousHardState.term ||
        hardState.vote !== this.#previousHardState.vote,
    };
    if (softChanged) ready.softState = softState;
    if (hardChanged) ready.hardState = hardState;
    if (snapshot !== undefined) ready.snapshot = snapshot;
    raft.msgs = [];
    raft.msgsAfterPersist = [];
    raft.readStates = [];
    this.#previousSoftState = softState;
    this.#previousHardState = hardState;
    const outstanding: Mutable<ReadyAcknowledgement> = { committedBytes: payloadBytes(committedEntries) };
    const lastEntry = entries[entries.length - 1];
    if (lastEntry !== undefined) outstanding.lastEntry = { index: lastEntry.index, term: lastEntry.term };
    if (snapshot !== undefined) outstanding.snapshotIndex = snapshot.metadata.index;
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) outstanding.committedLastIndex = lastCommitted.index;
    this.#outstanding = outstanding;
    return ready;
  }

  /** Acknowledges the last ready(): its entries, snapshot and hard state are persisted, its entries applied. */
  advance(): void {
    const outstanding = this.#outstanding;
    assert(outstanding !== undefined, "advance() follows a ready()");
    this.#outstanding = undefined;
    this.#raft.advance(outstanding);
  }

  status(): Status {
    return this.#raft.status();
  }

  /** The transport could not deliver to `id`; the leader stops pipelining to it and probes. */
  reportUnreachable(id: NodeId): void {
    this.#raft.step(message({ type: MessageType.Unreachable, from: id }));
  }

  /** The outcome of sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.#raft.step(message({ type: MessageType.SnapStatus, from: id, reject: status === "failure", context: emptyBytes }));
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MutableReady = Mutable<Ready>;

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
