import { describe, expect, it } from "vitest";
import { createPrng } from "../prng/index.ts";
import { defaultRaftBounds } from "./config.ts";
import type { RaftConfig } from "./config.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { NotLeaderError } from "./errors.ts";
import { RawNode } from "./raw-node.ts";
import { decodeConfChange } from "./conf-change.ts";
import { ConfChangeType, EntryType, MessageType, Role } from "./types.ts";
import type { Entry, Message, NodeId } from "./types.ts";

interface TestNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly node: RawNode;
  readonly applied: Entry[];
}

/** A minimal cluster: every Ready is handled in the documented order and messages are delivered in FIFO order. */
class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  inFlight: Message[] = [];

  constructor(ids: NodeId[], overrides: Partial<RaftConfig> = {}) {
    for (const id of ids) {
      const storage = new MemoryStorage({ voters: ids, learners: [] });
      const config: RaftConfig = { id, storage, ...defaultRaftBounds, preVote: false, checkQuorum: false, disableProposalForwarding: false, prng: createPrng(id), ...overrides };
      this.nodes.set(id, { id, storage, node: new RawNode(config), applied: [] });
    }
    // Founding members first apply their committed bootstrap entries (they may not campaign before).
    for (const n of this.nodes.values()) this.processReady(n);
  }

  get(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  processReady(n: TestNode): boolean {
    if (!n.node.hasReady()) return false;
    const ready = n.node.ready();
    this.inFlight.push(...ready.messages);
    if (ready.snapshot !== undefined) n.storage.applySnapshot(ready.snapshot);
    n.storage.append(ready.entries);
    if (ready.hardState !== undefined) n.storage.setHardState(ready.hardState);
    this.inFlight.push(...ready.messagesAfterPersist);
    n.applied.push(...ready.committedEntries);
    n.node.advance();
    return true;
  }

  /** Runs until nothing moves; the bound catches a livelock. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let progressed = false;
      for (const n of this.nodes.values()) progressed = this.processReady(n) || progressed;
      const delivering = this.inFlight;
      this.inFlight = [];
      for (const m of delivering) this.nodes.get(m.to)?.node.step(m);
      if (!progressed && delivering.length === 0) return;
    }
    throw new Error("cluster did not stabilize");
  }
}

const text = (s: string) => new TextEncoder().encode(s);

describe("RawNode", () => {
  it("a candidate that wins a majority becomes leader and its proposal is committed everywhere", () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();
    expect(cluster.get(1).node.status().softState).toEqual({ lead: 1, role: Role.Leader });
    expect(cluster.get(2).node.status().softState.lead).toBe(1);
    cluster.get(1).node.propose(text("hello"));
    cluster.stabilize();
    const helloIndex = cluster.get(1).storage.lastIndex();
    for (const n of cluster.nodes.values()) {
      const data = n.applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => new TextDecoder().decode(e.data));
      expect(data).toEqual(["hello"]);
      expect(n.node.status().hardState.commit).toBe(helloIndex);
    }
  });

  it("proposeBatch() sends each follower one append for the whole batch, where propose() sends one per entry", () => {
    const appendsPerFollower = (proposeAll: (node: RawNode, data: Uint8Array[]) => void): number[] => {
      const cluster = new Cluster([1, 2, 3]);
      cluster.get(1).node.campaign();
      cluster.stabilize();
      proposeAll(cluster.get(1).node, ["a", "b", "c"].map(text));
      const ready = cluster.get(1).node.ready();
      expect(ready.entries.map((e) => new TextDecoder().decode(e.data))).toEqual(["a", "b", "c"]);
      const appends = ready.messages.filter((m) => m.type === MessageType.App);
      expect(appends.flatMap((m) => m.entries).length).toBe(6);
      return [2, 3].map((id) => appends.filter((m) => m.to === id).length);
    };
    expect(appendsPerFollower((node, data) => node.proposeBatch(data))).toEqual([1, 1]);
    expect(appendsPerFollower((node, data) => data.forEach((bytes) => node.propose(bytes)))).toEqual([3, 3]);
  });

  it("proposeBatch() on a follower that may not forward throws NotLeaderError and appends nothing", () => {
    const cluster = new Cluster([1, 2, 3], { disableProposalForwarding: true });
    cluster.get(1).node.campaign();
    cluster.stabilize();
    const follower = cluster.get(2);
    const lastIndex = follower.storage.lastIndex();
    expect(() => follower.node.proposeBatch([text("x"), text("y")])).toThrow(NotLeaderError);
    cluster.stabilize();
    expect(follower.storage.lastIndex()).toBe(lastIndex);
    expect(cluster.get(1).storage.lastIndex()).toBe(lastIndex);
  });

  it("a founding member hands out its committed bootstrap entries first and cannot campaign before applying them", () => {
    const storage = new MemoryStorage({ voters: [3, 1, 2], learners: [4] });
    const config: RaftConfig = { id: 1, storage, ...defaultRaftBounds, preVote: false, checkQuorum: false, disableProposalForwarding: false, prng: createPrng(1) };
    const node = new RawNode(config);
    expect(node.status().hardState).toEqual({ term: 1, vote: 0, commit: 4 });
    node.campaign();
    expect(node.status().softState.role).toBe(Role.Follower);
    const ready = node.ready();
    expect(ready.entries).toEqual([]);
    expect(ready.hardState).toBeUndefined();
    const changes = ready.committedEntries.map((e) => [e.index, e.term, decodeConfChange(e.data).type, decodeConfChange(e.data).nodeId]);
    expect(changes).toEqual([
      [1, 1, ConfChangeType.AddNode, 1],
      [2, 1, ConfChangeType.AddNode, 2],
      [3, 1, ConfChangeType.AddNode, 3],
      [4, 1, ConfChangeType.AddLearnerNode, 4],
    ]);
    // Applying them again is a no-op for a member that bootstrapped with them.
    for (const e of ready.committedEntries) expect(node.applyConfChange(decodeConfChange(e.data))).toEqual({ voters: [1, 2, 3], learners: [4] });
    node.advance();
    node.campaign();
    expect(node.status().softState.role).toBe(Role.Candidate);
    expect(node.status().hardState.term).toBe(2);
  });

  it("a single voter commits its own entries only after they are persisted", () => {
    const cluster = new Cluster([1]);
    const n = cluster.get(1);
    n.node.campaign();
    expect(n.node.status().softState.role).toBe(Role.Leader);
    const first = n.node.ready();
    // After the bootstrap entry (index 1, committed from the start), the leader's empty entry.
    expect(first.entries.map((e) => [e.index, e.term, e.type])).toEqual([[2, 2, EntryType.Normal]]);
    expect(first.committedEntries).toEqual([]);
    expect(n.node.status().hardState.commit).toBe(1);
    n.storage.append(first.entries);
    if (first.hardState !== undefined) n.storage.setHardState(first.hardState);
    n.node.advance();
    expect(n.node.status().hardState.commit).toBe(2);
    expect(n.node.ready().committedEntries.map((e) => e.index)).toEqual([2]);
  });

  it("vote requests wait in messagesAfterPersist until the candidate's term and vote are on disk", () => {
    const cluster = new Cluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    const ready = cluster.get(1).node.ready();
    expect(ready.messages).toEqual([]);
    expect(ready.messagesAfterPersist.map((m) => [m.type, m.to])).toEqual([[MessageType.Vote, 2], [MessageType.Vote, 3]]);
    expect(ready.mustSync).toBe(true);
    expect(ready.hardState).toEqual({ term: 2, vote: 1, commit: 3 });
  });

  it("a node that crashed after persisting a snapshot but before its hard state restarts at the snapshot", () => {
    const storage = new MemoryStorage();
    storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 107, term: 7, confState: { voters: [1, 2], learners: [3] } } });
    storage.setHardState({ term: 6, vote: 0, commit: 0 });
    const node = new RawNode({ id: 3, storage, ...defaultRaftBounds, preVote: false, checkQuorum: false, disableProposalForwarding: false, prng: createPrng(3) });
    expect(node.status().hardState).toEqual({ term: 6, vote: 0, commit: 107 });
    expect(node.status().applied).toBe(107);
  });

  it("a stored commit index past the end of the log is a broken invariant (the log was lost)", () => {
    const storage = new MemoryStorage({ voters: [1], learners: [] });
    storage.setHardState({ term: 1, vote: 1, commit: 5 });
    const config = { id: 1, storage, ...defaultRaftBounds, preVote: false, checkQuorum: false, disableProposalForwarding: false, prng: createPrng(1) };
    expect(() => new RawNode(config)).toThrow(/stored commit index is within the log/);
  });
});
