/**
 * One simulated replica: a durable Disk (hard state, log, snapshot and the applied state machine)
 * that survives crashes, and a volatile RawNode + MemoryStorage rebuilt from the disk on restart.
 * A Ready is handled phase by phase in the documented order; the driver may plan a crash or a
 * stall (a slow fsync) at any phase boundary, so a crash can land between sending and persisting.
 */
import { assert } from "../../libs/assert/index.ts";
import { createPrng } from "../../libs/prng/index.ts";
import {
  EntryType,
  MemoryStorage,
  MessageType,
  NotLeaderError,
  ProposalDroppedError,
  RawNode,
  Role,
  bootstrapLog,
  decodeConfChange,
} from "../../libs/raft/index.ts";
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftConfig,
  Ready,
  Snapshot,
  SnapshotStatus,
  Status,
} from "../../libs/raft/index.ts";
import type { Prng } from "../../libs/prng/index.ts";
import { emptyDigest, extendDigest } from "./checker.ts";
import type { LogView } from "./checker.ts";
import type { PlantName } from "./plants.ts";

/** The order in which a Ready is handled; a crash or stall may happen before any of them. */
export const readyPhases = [
  "send",
  "persist-snapshot",
  "persist-entries",
  "persist-hard-state",
  "send-after-persist",
  "apply",
  "advance",
] as const;
export type ReadyPhase = (typeof readyPhases)[number];

/** Readys handled back to back in one drain before the node yields to the rest of the step. */
export const readyRoundsMax = 16;
/** ReadIndex requests one replica keeps waiting for; further reads are not issued. */
export const pendingReadsMax = 32;

export type RaftSettings = Omit<RaftConfig, "id" | "storage" | "prng" | "appliedIndex" | "logger">;

export interface NodeSettings {
  readonly raft: RaftSettings;
  /** Take a snapshot once this many entries were applied since the last one. */
  readonly snapshotEveryEntries: number;
  /** Entries kept in the log below the snapshot index after compaction. */
  readonly compactionKeepEntries: number;
}

/** What a node tells the driver. The driver forwards it to the network and the checker. */
export interface NodeEnvironment {
  readonly plants: ReadonlySet<PlantName>;
  now(): number;
  /** Seeds each incarnation's RawNode Prng. */
  readonly prng: Prng;
  send(from: SimNode, message: Message): void;
  applied(node: SimNode, entry: Entry, digest: number): void;
  confChangeApplied(node: SimNode, change: ConfChange): void;
  snapshotRestored(node: SimNode, index: number, digest: number): void;
  persisted(node: SimNode): void;
  readServed(node: SimNode, readId: string): void;
  readAbandoned(readId: string): void;
  /** Cuts every link to and from `node` (a planned isolation strikes). */
  isolate(node: SimNode): void;
  note(text: string): void;
}

/** The applied state: an append-only list of client values, durable together with its index. */
export interface Machine {
  applied: number;
  values: string[];
  valueSet: Set<string>;
  digest: number;
  confState: ConfState;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeValue(value: string): Uint8Array {
  return textEncoder.encode(value);
}

export function decodeValue(data: Uint8Array): string {
  return textDecoder.decode(data);
}

function newMachine(confState: ConfState): Machine {
  return { applied: 0, values: [], valueSet: new Set(), digest: emptyDigest, confState };
}

function machineFromSnapshot(snapshot: Snapshot): Machine {
  const values = snapshot.data.length === 0 ? [] : (JSON.parse(decodeValue(snapshot.data)) as string[]);
  const machine = newMachine(snapshot.metadata.confState);
  machine.applied = snapshot.metadata.index;
  for (const value of values) addValue(machine, value);
  return machine;
}

function addValue(machine: Machine, value: string): void {
  machine.values.push(value);
  machine.valueSet.add(value);
  machine.digest = extendDigest(machine.digest, value);
}

/** What survives a crash. Writes are synchronous and durable once the method returns. */
export class Disk {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  /** Contiguous, ascending; may start below the snapshot index (kept for slow followers). */
  entries: Entry[] = [];
  snapshot: Snapshot | undefined;
  machine: Machine;
  /** The voters a founding member starts with; empty for a member that joins later. */
  readonly bootConfState: ConfState;
  /** Bumped on every write, so the checker re-reads the log only when it changed. */
  version = 0;

  constructor(bootConfState: ConfState) {
    this.bootConfState = bootConfState;
    this.machine = newMachine(bootConfState);
    // A founding member's disk starts with the committed bootstrap log, as a new data dir does.
    const initial = bootstrapLog(bootConfState);
    this.entries = [...initial.entries];
    this.hardState = initial.hardState;
  }

  get snapshotIndex(): number {
    return this.snapshot?.metadata.index ?? 0;
  }

  /** A snapshot from the leader replaces the whole log. */
  installSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = [];
    this.version++;
  }

  /** A locally taken snapshot of applied state; the log is kept until compact(). */
  saveSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.version++;
  }

  /** Appends, first dropping any suffix the new entries overwrite. */
  writeEntries(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const offset = this.entries[0]?.index ?? this.snapshotIndex + 1;
    assert(first.index <= offset + this.entries.length, "disk log stays contiguous", () => `append at ${first.index}, disk holds ${offset}..${offset + this.entries.length - 1}`);
    const keep = Math.max(0, first.index - offset);
    this.entries = [...this.entries.slice(0, keep), ...entries];
    this.version++;
  }

  writeHardState(hardState: HardState): void {
    this.hardState = hardState;
    this.version++;
  }

  /** Drops entries up to and including `index`. */
  compact(index: number): void {
    const offset = this.entries[0]?.index;
    if (offset === undefined || index < offset) return;
    this.entries = this.entries.slice(index - offset + 1);
    this.version++;
  }
}

interface ReadyInProgress {
  readonly ready: Ready;
  phase: number;
}

interface CrashPlan {
  readonly phase: ReadyPhase;
  /** Strike only in a Ready that grants a vote: the crash lands right after the grant was sent. */
  readonly afterVoteGrant: boolean;
  /** For the "apply" phase: crash after applying this many committed entries. */
  readonly afterEntries: number;
}

export class SimNode {
  readonly id: NodeId;
  readonly disk: Disk;
  readonly #settings: NodeSettings;
  readonly #env: NodeEnvironment;
  #raw: RawNode | undefined;
  #storage: MemoryStorage | undefined;
  #incarnation = 0;
  #inProgress: ReadyInProgress | undefined;
  #stalledUntilTick = 0;
  #crashPlan: CrashPlan | undefined;
  #stallPlanTicks = 0;
  #isolateOnAppend = false;
  /** requestContext -> ReadState index, once known. */
  readonly #pendingReads = new Map<string, number | undefined>();
  #memoryVersion = 0;
  #memoryView: LogView | undefined;
  #diskView: LogView | undefined;
  #diskViewStamp = -1;
  #memoryViewStamp = "";

  constructor(id: NodeId, bootConfState: ConfState, settings: NodeSettings, env: NodeEnvironment) {
    this.id = id;
    this.disk = new Disk(bootConfState);
    this.#settings = settings;
    this.#env = env;
  }

  get up(): boolean {
    return this.#raw !== undefined;
  }

  /** A node in the middle of a Ready (stalled in a slow fsync) neither ticks nor receives. */
  get busy(): boolean {
    return this.#raw !== undefined && this.#inProgress !== undefined;
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  get pendingReads(): number {
    return this.#pendingReads.size;
  }

  /** Builds a RawNode over what the disk holds, as a restarted process would. */
  start(): void {
    assert(this.#raw === undefined, "start() only a stopped node");
    this.#incarnation++;
    const disk = this.disk;
    if (disk.snapshot !== undefined && disk.snapshotIndex > disk.machine.applied) this.#restoreMachine(disk.snapshot);
    const storage = new MemoryStorage(disk.bootConfState);
    if (disk.snapshot !== undefined) storage.applySnapshot(disk.snapshot);
    const snapshotIndex = disk.snapshotIndex;
    storage.append(disk.entries.filter((entry) => entry.index > snapshotIndex));
    const forgetVote = this.#env.plants.has("forget-vote") && this.#incarnation > 1;
    storage.setHardState(forgetVote ? { ...disk.hardState, vote: 0 } : disk.hardState);
    this.#storage = storage;
    this.#raw = new RawNode({
      ...this.#settings.raft,
      id: this.id,
      storage,
      appliedIndex: disk.machine.applied,
      prng: createPrng(this.#env.prng.nextInt(0x1_0000_0000)),
    });
    this.#memoryVersion++;
  }

  /** Loses everything volatile: the RawNode, its MemoryStorage, the Ready being handled, reads. */
  crash(): void {
    this.#raw = undefined;
    this.#storage = undefined;
    this.#inProgress = undefined;
    this.#crashPlan = undefined;
    this.#stallPlanTicks = 0;
    this.#stalledUntilTick = 0;
    for (const readId of this.#pendingReads.keys()) this.#env.readAbandoned(readId);
    this.#pendingReads.clear();
    this.#memoryView = undefined;
  }

  planCrash(phase: ReadyPhase, afterEntries: number): void {
    this.#crashPlan = { phase, afterEntries, afterVoteGrant: false };
  }

  /** Crash right after the node next grants a vote (before it applies anything). */
  planCrashAfterVoteGrant(): void {
    this.#crashPlan = { phase: "apply", afterEntries: 0, afterVoteGrant: true };
  }

  /** The next Ready's persistence will take `ticks` ticks after its messages left. */
  planStall(ticks: number): void {
    this.#stallPlanTicks = ticks;
  }

  /** The next Ready that appends entries is cut off before its messages leave: the entries stay
   * on this node only (how a deposed leader ends up with entries nobody else has). */
  planIsolationOnAppend(): void {
    this.#isolateOnAppend = true;
  }

  get crashPlanned(): boolean {
    return this.#crashPlan !== undefined;
  }

  /** Drops planned faults, e.g. before the final quiet phase. */
  cancelPlans(): void {
    this.#crashPlan = undefined;
    this.#stallPlanTicks = 0;
    this.#isolateOnAppend = false;
    this.#stalledUntilTick = Math.min(this.#stalledUntilTick, this.#env.now());
  }

  status(): Status | undefined {
    return this.#raw?.status();
  }

  isLeader(): boolean {
    return this.#raw?.status().softState.role === Role.Leader;
  }

  tick(): void {
    this.#raw?.tick();
  }

  step(message: Message): void {
    this.#raw?.step(message);
  }

  campaign(): void {
    this.#raw?.campaign();
  }

  transferLeadership(to: NodeId): void {
    this.#raw?.transferLeadership(to);
  }

  reportUnreachable(to: NodeId): void {
    this.#raw?.reportUnreachable(to);
  }

  reportSnapshot(to: NodeId, status: SnapshotStatus): void {
    this.#raw?.reportSnapshot(to, status);
  }

  /** Returns false when the proposal was refused (no leader, too much uncommitted...). */
  propose(value: string): boolean {
    return refusable(() => this.#raw?.propose(encodeValue(value)));
  }

  proposeConfChange(change: ConfChange): boolean {
    return refusable(() => this.#raw?.proposeConfChange(change));
  }

  readIndex(readId: string): boolean {
    if (this.#raw === undefined || this.#pendingReads.size >= pendingReadsMax) return false;
    if (!refusable(() => this.#raw?.readIndex(encodeValue(readId)))) return false;
    this.#pendingReads.set(readId, undefined);
    return true;
  }

  /** Handles Readys until there are none, the node crashes, or it stalls in a slow fsync. */
  drain(): void {
    for (let round = 0; round < readyRoundsMax; round++) {
      const raw = this.#raw;
      if (raw === undefined || this.#stalledUntilTick > this.#env.now()) return;
      if (this.#inProgress === undefined) {
        if (!raw.hasReady()) return;
        this.#inProgress = { ready: raw.ready(), phase: 0 };
      }
      if (!this.#continueReady(this.#inProgress)) return;
      this.#inProgress = undefined;
    }
  }

  /** Runs the remaining phases; false when the node crashed or stalled on the way. */
  #continueReady(progress: ReadyInProgress): boolean {
    while (progress.phase < readyPhases.length) {
      const phase = readyPhases[progress.phase] as ReadyPhase;
      if (this.#crashPlan?.phase === phase && this.#crashStrikes(progress.ready)) {
        this.#env.note(`n${this.id} crashes before ${phase}`);
        this.crash();
        return false;
      }
      if (phase === "send" && this.#isolateOnAppend && progress.ready.entries.length > 0) {
        this.#isolateOnAppend = false;
        this.#env.isolate(this);
      }
      if (phase === "persist-snapshot" && this.#stallPlanTicks > 0) {
        this.#stalledUntilTick = this.#env.now() + this.#stallPlanTicks;
        this.#env.note(`n${this.id} stalls in fsync until t=${this.#stalledUntilTick}`);
        this.#stallPlanTicks = 0;
        return false;
      }
      this.#runPhase(phase, progress.ready);
      if (this.#raw === undefined) return false;
      progress.phase++;
    }
    return true;
  }

  /** A planned crash strikes at its phase, except mid-apply crashes (handled in #apply) and
   * vote-grant crashes in a Ready that grants no vote. */
  #crashStrikes(ready: Ready): boolean {
    const plan = this.#crashPlan;
    if (plan === undefined) return false;
    if (plan.afterVoteGrant) return ready.messagesAfterPersist.some((message) => message.type === MessageType.VoteResp && !message.reject);
    return plan.phase !== "apply";
  }

  #runPhase(phase: ReadyPhase, ready: Ready): void {
    const plants = this.#env.plants;
    switch (phase) {
      case "send":
        for (const message of ready.messages) this.#env.send(this, message);
        if (plants.has("ack-before-persist")) for (const message of ready.messagesAfterPersist) this.#env.send(this, message);
        return;
      case "persist-snapshot":
        if (ready.snapshot === undefined) return;
        this.disk.installSnapshot(ready.snapshot);
        this.#mustStorage().applySnapshot(ready.snapshot);
        this.#memoryVersion++;
        return;
      case "persist-entries":
        if (ready.entries.length === 0) return;
        this.disk.writeEntries(ready.entries);
        this.#mustStorage().append(ready.entries);
        this.#memoryVersion++;
        return;
      case "persist-hard-state":
        if (ready.hardState === undefined) return;
        this.disk.writeHardState(ready.hardState);
        this.#mustStorage().setHardState(ready.hardState);
        this.#memoryVersion++;
        this.#env.persisted(this);
        return;
      case "send-after-persist":
        if (!plants.has("ack-before-persist")) for (const message of ready.messagesAfterPersist) this.#env.send(this, message);
        return;
      case "apply":
        this.#apply(ready);
        return;
      case "advance":
        this.#mustRaw().advance();
        this.#maybeCompact();
        return;
    }
  }

  #apply(ready: Ready): void {
    const machine = this.disk.machine;
    if (ready.snapshot !== undefined && ready.snapshot.metadata.index > machine.applied) {
      if (this.#env.plants.has("skip-snapshot-restore")) machine.applied = ready.snapshot.metadata.index;
      else this.#restoreMachine(ready.snapshot);
      this.#env.persisted(this);
    }
    let appliedEntries = 0;
    for (const entry of ready.committedEntries) {
      if (this.#crashPlan?.phase === "apply" && !this.#crashPlan.afterVoteGrant && appliedEntries >= this.#crashPlan.afterEntries) {
        this.#env.note(`n${this.id} crashes after applying ${appliedEntries} of ${ready.committedEntries.length} entries`);
        this.crash();
        return;
      }
      this.#applyEntry(entry);
      appliedEntries++;
    }
    if (appliedEntries > 0) this.#env.persisted(this);
    for (const readState of ready.readStates) {
      const readId = decodeValue(readState.requestContext);
      if (this.#pendingReads.has(readId)) this.#pendingReads.set(readId, readState.index);
    }
    this.#serveReads();
  }

  #applyEntry(entry: Entry): void {
    const machine = this.disk.machine;
    if (entry.index <= machine.applied) return; // already applied before a restart
    assert(entry.index === machine.applied + 1, "entries are applied in order without gaps", () => `n${this.id} applied ${machine.applied}, got ${entry.index}`);
    if (entry.type === EntryType.ConfChange) {
      const change = decodeConfChange(entry.data);
      machine.confState = this.#mustRaw().applyConfChange(change);
      this.#env.confChangeApplied(this, change);
    } else if (entry.data.length > 0) {
      addValue(machine, decodeValue(entry.data));
    }
    machine.applied = entry.index;
    this.#env.applied(this, entry, machine.digest);
  }

  #serveReads(): void {
    const applied = this.disk.machine.applied;
    const early = this.#env.plants.has("read-before-apply");
    for (const [readId, index] of this.#pendingReads) {
      if (index === undefined || (index > applied && !early)) continue;
      this.#pendingReads.delete(readId);
      this.#env.readServed(this, readId);
    }
  }

  #restoreMachine(snapshot: Snapshot): void {
    this.disk.machine = machineFromSnapshot(snapshot);
    this.#env.snapshotRestored(this, snapshot.metadata.index, this.disk.machine.digest);
  }

  /** Snapshots the applied state every few entries and compacts the log behind it. */
  #maybeCompact(): void {
    const machine = this.disk.machine;
    if (machine.applied - this.disk.snapshotIndex < this.#settings.snapshotEveryEntries) return;
    const storage = this.#mustStorage();
    const data = encodeValue(JSON.stringify(machine.values));
    this.disk.saveSnapshot(storage.createSnapshot(machine.applied, machine.confState, data));
    const compactIndex = machine.applied - this.#settings.compactionKeepEntries;
    if (compactIndex >= storage.firstIndex()) {
      storage.compact(compactIndex);
      this.disk.compact(compactIndex);
    }
    this.#memoryVersion++;
  }

  /** The durable log, and while up the MemoryStorage log, as the checker wants them. */
  logViews(nextVersion: () => number): LogView[] {
    const views = [this.#diskLogView(nextVersion)];
    const memory = this.#memoryLogView(nextVersion);
    if (memory !== undefined) views.push(memory);
    return views;
  }

  #diskLogView(nextVersion: () => number): LogView {
    if (this.#diskView !== undefined && this.#diskViewStamp === this.disk.version) return this.#diskView;
    const hardState = this.disk.hardState;
    this.#diskViewStamp = this.disk.version;
    this.#diskView = {
      label: `n${this.id}/disk`,
      nodeId: this.id,
      version: nextVersion(),
      entries: this.disk.entries,
      commit: hardState.commit,
      term: hardState.term,
      isLeader: false,
    };
    return this.#diskView;
  }

  #memoryLogView(nextVersion: () => number): LogView | undefined {
    const storage = this.#storage;
    if (storage === undefined) return undefined;
    // A node in the middle of a Ready may already lead in memory while its storage lags; judge
    // leader completeness only between Readys.
    const isLeader = this.#inProgress === undefined && this.isLeader();
    const stamp = `${this.#memoryVersion}:${isLeader}`;
    if (this.#memoryView !== undefined && this.#memoryViewStamp === stamp) return this.#memoryView;
    const { hardState } = storage.initialState();
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.#memoryViewStamp = stamp;
    this.#memoryView = {
      label: `n${this.id}/mem`,
      nodeId: this.id,
      version: nextVersion(),
      entries: last >= first ? storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [],
      commit: hardState.commit,
      term: hardState.term,
      isLeader,
    };
    return this.#memoryView;
  }

  #mustRaw(): RawNode {
    assert(this.#raw !== undefined, "a running node has a RawNode");
    return this.#raw;
  }

  #mustStorage(): MemoryStorage {
    assert(this.#storage !== undefined, "a running node has a MemoryStorage");
    return this.#storage;
  }
}

/** Runs a RawNode call that may refuse; a refusal is normal, any other error is a bug. */
function refusable(call: () => void): boolean {
  try {
    call();
    return true;
  } catch (error) {
    if (error instanceof ProposalDroppedError || error instanceof NotLeaderError) return false;
    throw error;
  }
}
