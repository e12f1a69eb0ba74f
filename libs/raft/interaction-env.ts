/**
 * The world of the scripted Raft tests: a set of RawNodes over MemoryStorages, a network of
 * in-flight messages that the script delivers explicitly (or lets `stabilize` deliver), and an
 * output transcript that shows every Ready, every delivered message and the nodes' log lines.
 * Modelled on etcd's rafttest.InteractionEnv; everything is deterministic (seeded PRNGs).
 */
import { assert } from "../assert/index.ts";
import { createPrng } from "../prng/index.ts";
import type { RaftConfig, RaftLogger } from "./config.ts";
import { defaultRaftBounds } from "./config.ts";
import { decodeConfChange } from "./conf-change.ts";
import type { Argument, TestCase } from "./datadriven.ts";
import { describeConfState, describeEntry, describeHardState, describeMessage, describeReady } from "./describe.ts";
import { NotLeaderError, ProposalDroppedError } from "./errors.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { RawNode } from "./raw-node.ts";
import { ConfChangeType, EntryType } from "./types.ts";
import type { ConfState, Entry, Message, NodeId, Ready } from "./types.ts";
import { emptyBytes } from "./util.ts";

/** Bound on stabilize rounds; a script that needs more has a livelock worth seeing. */
export const maxStabilizeRounds = 1000;

const logLevels = ["debug", "info", "warn", "none"] as const;
type LogLevel = (typeof logLevels)[number];

interface EnvNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  node: RawNode;
  readonly config: RaftConfig;
  /** The state machine: the data of applied normal entries, in order. */
  applied: string[];
  appliedIndex: number;
  confState: ConfState;
  /** A Ready whose messages were sent but which is not yet persisted (take-ready). */
  pendingReady: Ready | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class InteractionEnv {
  readonly nodes = new Map<NodeId, EnvNode>();
  /** Messages sent and not yet delivered, in send order. */
  inFlight: Message[] = [];
  /** When set, messages between this group and the other nodes are dropped on delivery. */
  isolated: ReadonlySet<NodeId> | undefined;
  #output: string[] = [];
  #indent = "";
  #logLevel: LogLevel = "info";

  /** Runs one command and returns its transcript ("ok" when it printed nothing). */
  handle(testCase: TestCase): string {
    this.#output = [];
    this.#indent = "";
    const args = new Args(testCase);
    this.#dispatch(testCase.command, args);
    const text = this.#output.join("\n");
    assert(!this.#output.some((line) => line.trim() === ""), "a transcript has no blank lines");
    return text === "" ? "ok" : text;
  }

  #dispatch(command: string, args: Args): void {
    const handlers: Record<string, (args: Args) => void> = {
      "add-nodes": (a) => this.#addNodes(a),
      campaign: (a) => this.#node(a.id(0)).node.campaign(),
      propose: (a) => this.#propose(a),
      "propose-batch": (a) => this.#proposeBatch(a),
      "propose-conf-change": (a) => this.#proposeConfChange(a),
      tick: (a) => this.#tick(a.id(0), a.int(1)),
      "tick-election": (a) => this.#tick(a.id(0), this.#node(a.id(0)).config.electionTicks),
      "tick-heartbeat": (a) => this.#tick(a.id(0), this.#node(a.id(0)).config.heartbeatTicks),
      "deliver-msgs": (a) => this.#deliverMessages(a.ids()),
      "process-ready": (a) => a.ids().forEach((id) => this.#processReady(this.#node(id))),
      "take-ready": (a) => a.ids().forEach((id) => this.#takeReady(this.#node(id))),
      "finish-ready": (a) =>
        a.ids().forEach((id) => {
          this.#print(`> ${id} persisting, applying and acknowledging its Ready`);
          this.#finishReady(this.#node(id));
        }),
      stabilize: (a) => this.#quietly(a.flag("quiet"), () => this.#stabilize(a.ids())),
      partition: (a) => this.#partition(a.ids()),
      heal: () => this.#heal(),
      "log-level": (a) => this.#setLogLevel(a.word(0)),
      "raft-log": (a) => this.#raftLog(this.#node(a.id(0))),
      "raft-state": () => this.#raftState(),
      status: (a) => this.#status(this.#node(a.id(0))),
      "read-index": (a) => this.#node(a.id(0)).node.readIndex(encoder.encode(a.word(1))),
      "transfer-leadership": (a) => this.#node(a.id(0)).node.transferLeadership(a.id(1)),
      compact: (a) => this.#compact(this.#node(a.id(0)), a.int(1)),
      "drop-msgs": (a) => this.#dropMessages(a),
      "report-unreachable": (a) => this.#node(a.id(0)).node.reportUnreachable(a.id(1)),
      "report-snapshot": (a) => this.#node(a.id(0)).node.reportSnapshot(a.id(1), a.word(2) === "failure" ? "failure" : "finish"),
      restart: (a) => this.#restart(this.#node(a.id(0))),
      "applied-state": (a) => this.#appliedState(this.#node(a.id(0))),
    };
    const handler = handlers[command];
    if (handler === undefined) throw new Error(`unknown command ${command}`);
    handler(args);
  }

  #print(line: string): void {
    for (const part of line.split("\n")) this.#output.push(this.#indent + part);
  }

  /** Runs `body` and discards what it printed when `quiet` (for setup steps shown elsewhere). */
  #quietly(quiet: boolean, body: () => void): void {
    const kept = this.#output.length;
    body();
    if (quiet) this.#output.length = kept;
  }

  #withIndent(indent: string, body: () => void): void {
    const previous = this.#indent;
    this.#indent = previous + indent;
    try {
      body();
    } finally {
      this.#indent = previous;
    }
  }

  #logger(): RaftLogger {
    const at = (level: LogLevel, tag: string) => (text: string) => {
      if (logLevels.indexOf(level) >= logLevels.indexOf(this.#logLevel)) this.#print(`${tag} ${text}`);
    };
    return { debug: at("debug", "DEBUG"), info: at("info", "INFO"), warn: at("warn", "WARN") };
  }

  #node(id: NodeId): EnvNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  // ---- nodes --------------------------------------------------------------------------------

  /**
   * add-nodes N [voters=(..)] [learners=(..)] [prevote=true] [checkquorum=true]
   * [disable-forwarding=true] [election=N] [heartbeat=N] [max-msg-bytes=N] [max-inflight=N]
   * [max-uncommitted-bytes=N] [max-committed-bytes=N]. Nodes named in voters/learners bootstrap
   * with that configuration; without either, the first nodes of an empty world bootstrap as
   * voters, and later nodes start empty and join when the leader adds them.
   */
  #addNodes(args: Args): void {
    const count = args.int(0);
    const firstId = this.nodes.size + 1;
    const ids = Array.from({ length: count }, (_, i) => firstId + i);
    const voters = args.idList("voters");
    const learners = args.idList("learners");
    let bootstrap: ConfState = { voters: voters ?? [], learners: learners ?? [] };
    if (voters === undefined && learners === undefined && this.nodes.size === 0) bootstrap = { voters: ids, learners: [] };
    const members = new Set([...bootstrap.voters, ...bootstrap.learners]);
    for (const id of ids) {
      const storage = new MemoryStorage(members.has(id) ? bootstrap : undefined);
      const config: RaftConfig = {
        id,
        storage,
        electionTicks: args.optionalInt("election") ?? 10,
        heartbeatTicks: args.optionalInt("heartbeat") ?? 1,
        maxMessageBytes: args.optionalInt("max-msg-bytes") ?? defaultRaftBounds.maxMessageBytes,
        maxInflightMessages: args.optionalInt("max-inflight") ?? defaultRaftBounds.maxInflightMessages,
        maxUncommittedEntriesBytes: args.optionalInt("max-uncommitted-bytes") ?? defaultRaftBounds.maxUncommittedEntriesBytes,
        maxCommittedBytesPerReady: args.optionalInt("max-committed-bytes") ?? defaultRaftBounds.maxCommittedBytesPerReady,
        preVote: args.flag("prevote"),
        checkQuorum: args.flag("checkquorum"),
        disableProposalForwarding: args.flag("disable-forwarding"),
        prng: createPrng(id),
        logger: this.#logger(),
      };
      const confState = storage.initialState().confState;
      const n: EnvNode = { id, storage, node: new RawNode(config), config, applied: [], appliedIndex: 0, confState, pendingReady: undefined };
      this.nodes.set(id, n);
      // A founding member applies its committed bootstrap entries before it may campaign (in
      // several Readys when max-committed-bytes is small).
      for (let round = 0; round < maxStabilizeRounds && n.node.hasReady(); round++) this.#processReady(n);
    }
  }

  /**
   * restart ID: the node crashes, losing whatever it had not persisted (a taken Ready's entries
   * and hard state among them), and starts over its storage.
   */
  #restart(n: EnvNode): void {
    if (n.pendingReady !== undefined) this.#print(`${n.id} crashed before persisting its Ready`);
    n.pendingReady = undefined;
    const config: RaftConfig = { ...n.config, appliedIndex: n.appliedIndex };
    n.node = new RawNode(config);
  }

  #propose(args: Args): void {
    const n = this.#node(args.id(0));
    this.#reportProposalError(() => n.node.propose(encoder.encode(args.word(1))));
  }

  /** `propose-batch ID DATA...`: every DATA word as one entry of a single proposal. */
  #proposeBatch(args: Args): void {
    const n = this.#node(args.id(0));
    const data = args.words(1).map((word) => encoder.encode(word));
    this.#reportProposalError(() => n.node.proposeBatch(data));
  }

  #proposeConfChange(args: Args): void {
    const n = this.#node(args.id(0));
    const types: Record<string, ConfChangeType> = {
      add: ConfChangeType.AddNode,
      remove: ConfChangeType.RemoveNode,
      "add-learner": ConfChangeType.AddLearnerNode,
    };
    const type = types[args.word(1)];
    if (type === undefined) throw new Error(`unknown conf change ${args.word(1)}`);
    this.#reportProposalError(() => n.node.proposeConfChange({ type, nodeId: args.id(2), context: emptyBytes }));
  }

  #reportProposalError(propose: () => void): void {
    try {
      propose();
    } catch (error) {
      if (!(error instanceof ProposalDroppedError) && !(error instanceof NotLeaderError)) throw error;
      const hint = error instanceof NotLeaderError ? ` (leaderHint: ${error.leaderHint})` : "";
      this.#print(`${error.name}: ${error.message}${hint}`);
    }
  }

  #tick(id: NodeId, count: number): void {
    const n = this.#node(id);
    for (let i = 0; i < count; i++) n.node.tick();
  }

  // ---- Ready handling and the network -------------------------------------------------------

  /** Handles one Ready in the documented order: send, persist, send after persist, apply, advance. */
  #processReady(n: EnvNode): void {
    this.#takeReady(n);
    this.#finishReady(n);
  }

  /** take-ready: the first step of handling a Ready only, sending `messages`. */
  #takeReady(n: EnvNode): void {
    assert(n.pendingReady === undefined, "take-ready follows finish-ready", () => `node ${n.id}`);
    this.#print(`> ${n.id} handling Ready`);
    this.#withIndent("  ", () => {
      if (!n.node.hasReady()) {
        this.#print("<empty Ready>");
        return;
      }
      const ready = n.node.ready();
      this.#print(describeReady(ready));
      this.inFlight.push(...ready.messages);
      n.pendingReady = ready;
    });
  }

  /** finish-ready: persist, send `messagesAfterPersist`, apply and advance the taken Ready. */
  #finishReady(n: EnvNode): void {
    const ready = n.pendingReady;
    if (ready === undefined) return;
    n.pendingReady = undefined;
    this.#withIndent("  ", () => {
      if (ready.snapshot !== undefined) {
        n.storage.applySnapshot(ready.snapshot);
        n.applied = decodeState(ready.snapshot.data);
        n.appliedIndex = ready.snapshot.metadata.index;
        n.confState = ready.snapshot.metadata.confState;
      }
      n.storage.append(ready.entries);
      if (ready.hardState !== undefined) n.storage.setHardState(ready.hardState);
      this.inFlight.push(...ready.messagesAfterPersist);
      for (const e of ready.committedEntries) this.#apply(n, e);
      n.node.advance();
    });
  }

  #apply(n: EnvNode, e: Entry): void {
    if (e.type === EntryType.ConfChange) {
      n.confState = n.node.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.length > 0) {
      n.applied.push(decoder.decode(e.data));
    }
    n.appliedIndex = e.index;
  }

  #isCut(m: Message): boolean {
    if (this.isolated === undefined) return false;
    return this.isolated.has(m.from) !== this.isolated.has(m.to);
  }

  /** Delivers every in-flight message addressed to one of `ids`; returns whether any was. */
  #deliverMessages(ids: readonly NodeId[]): boolean {
    let delivered = false;
    for (const id of ids.length > 0 ? ids : this.#sortedIds()) {
      const n = this.#node(id);
      const mine = this.inFlight.filter((m) => m.to === id);
      if (mine.length === 0) continue;
      this.inFlight = this.inFlight.filter((m) => m.to !== id);
      delivered = true;
      this.#print(`> ${id} receiving messages`);
      this.#withIndent("  ", () => {
        for (const m of mine) {
          if (this.#isCut(m)) {
            this.#print(`dropped: ${describeMessage(m)}`);
            continue;
          }
          this.#print(describeMessage(m));
          this.#withIndent("  ", () => n.node.step(m));
        }
      });
    }
    return delivered;
  }

  /** Alternates Ready handling and delivery on `ids` (or everyone) until nothing moves. */
  #stabilize(ids: readonly NodeId[]): void {
    const targets = ids.length > 0 ? [...ids] : this.#sortedIds();
    for (let round = 0; round < maxStabilizeRounds; round++) {
      let moved = false;
      for (const id of targets) {
        const n = this.#node(id);
        if (n.pendingReady !== undefined || !n.node.hasReady()) continue;
        this.#processReady(n);
        moved = true;
      }
      const deliverable = targets.filter((id) => this.inFlight.some((m) => m.to === id));
      if (deliverable.length > 0) moved = this.#deliverMessages(deliverable) || moved;
      if (!moved) return;
    }
    throw new Error(`stabilize did not settle within ${maxStabilizeRounds} rounds`);
  }

  #partition(ids: readonly NodeId[]): void {
    this.isolated = new Set(ids);
    const rest = this.#sortedIds().filter((id) => !ids.includes(id));
    this.#print(`partitioned (${ids.join(" ")}) from (${rest.join(" ")})`);
  }

  #heal(): void {
    this.isolated = undefined;
    this.#print("healed");
  }

  /** drop-msgs [from=ID] [to=ID]: drops in-flight messages (all of them without a filter). */
  #dropMessages(args: Args): void {
    const from = args.optionalInt("from");
    const to = args.optionalInt("to");
    const dropped = (m: Message) => (from === undefined || m.from === from) && (to === undefined || m.to === to);
    for (const m of this.inFlight.filter(dropped)) this.#print(`dropped: ${describeMessage(m)}`);
    this.inFlight = this.inFlight.filter((m) => !dropped(m));
  }

  // ---- inspection ---------------------------------------------------------------------------

  #raftLog(n: EnvNode): void {
    const first = n.storage.firstIndex();
    const last = n.storage.lastIndex();
    if (last < first) {
      this.#print(`log is empty: first index=${first}, last index=${last}`);
      return;
    }
    for (const e of n.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) this.#print(describeEntry(e));
  }

  #raftState(): void {
    for (const id of this.#sortedIds()) {
      const status = this.#node(id).node.status();
      const { voters, learners } = status.confState;
      const membership = voters.includes(id) ? "Voter" : learners.includes(id) ? "Learner" : "Non-Member";
      this.#print(`${id}: ${status.softState.role} (${membership}) Term:${status.hardState.term} Lead:${status.softState.lead}`);
    }
  }

  #status(n: EnvNode): void {
    const status = n.node.status();
    this.#print(`${status.softState.role} ${describeHardState(status.hardState)} Applied:${status.applied} ${describeConfState(status.confState)}`);
    for (const [id, p] of status.progress ?? []) {
      this.#print(`${id}: ${p.state} match=${p.match} next=${p.next}${p.isLearner ? " learner" : ""}${p.recentActive ? "" : " inactive"}`);
    }
  }

  #appliedState(n: EnvNode): void {
    this.#print(`applied index ${n.appliedIndex}: [${n.applied.join(" ")}]`);
  }

  /** compact ID INDEX: snapshot the state machine at INDEX (which must be applied) and drop the log up to it. */
  #compact(n: EnvNode, index: number): void {
    assert(index === n.appliedIndex, "the scripted compaction snapshots the applied state", () =>
      `index=${index} applied=${n.appliedIndex}`,
    );
    n.storage.createSnapshot(index, n.confState, encodeState(n.applied));
    n.storage.compact(index);
    this.#raftLog(n);
  }

  #setLogLevel(level: string): void {
    if (!(logLevels as readonly string[]).includes(level)) throw new Error(`unknown log level ${level}`);
    this.#logLevel = level as LogLevel;
  }

  #sortedIds(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }
}

function encodeState(applied: readonly string[]): Uint8Array {
  return encoder.encode(applied.join(" "));
}

function decodeState(data: Uint8Array): string[] {
  const text = decoder.decode(data);
  return text === "" ? [] : text.split(" ");
}

/** Typed access to a command's arguments; positional ones are bare words in order. */
class Args {
  readonly #testCase: TestCase;
  readonly #positional: string[];
  readonly #named: Map<string, Argument>;

  constructor(testCase: TestCase) {
    this.#testCase = testCase;
    this.#positional = testCase.args.filter((a) => !a.named).map((a) => a.key);
    this.#named = new Map(testCase.args.filter((a) => a.named).map((a) => [a.key, a]));
  }

  #fail(what: string): never {
    throw new Error(`line ${this.#testCase.line} (${this.#testCase.commandLine}): ${what}`);
  }

  word(position: number): string {
    return this.#positional[position] ?? this.#fail(`missing argument ${position + 1}`);
  }

  /** The positional arguments from `position` on (at least one). */
  words(position: number): string[] {
    this.word(position);
    return this.#positional.slice(position);
  }

  int(position: number): number {
    const value = Number(this.word(position));
    if (!Number.isSafeInteger(value)) this.#fail(`argument ${position + 1} is not an integer`);
    return value;
  }

  id(position: number): NodeId {
    return this.int(position);
  }

  /** Every positional argument as a node id. */
  ids(): NodeId[] {
    return this.#positional.map((_, i) => this.int(i));
  }

  optionalInt(key: string): number | undefined {
    const value = this.#named.get(key)?.values[0];
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed)) this.#fail(`${key} is not an integer`);
    return parsed;
  }

  flag(key: string): boolean {
    return this.#named.get(key)?.values[0] === "true";
  }

  idList(key: string): NodeId[] | undefined {
    const argument = this.#named.get(key);
    return argument === undefined ? undefined : argument.values.map(Number);
  }
}
