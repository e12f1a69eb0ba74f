import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NotLeaderError, type NodeId } from "../../../libs/raft/index.ts";
import { TooManyRequestsError } from "./errors.ts";
import { RaftNode, type RaftNodeOptions } from "./raft-node.ts";
import { freePort, kvCommand, KvStateMachine, waitUntil, type KvResult } from "./test-helpers.ts";

const waitMs = 15_000;
const heartbeatIntervalMs = 25;
const electionTicks = 10;

interface Member {
  readonly id: NodeId;
  readonly dataDir: string;
  readonly port: number;
  stateMachine: KvStateMachine;
  node: RaftNode<KvResult> | undefined;
}

type Overrides = Partial<RaftNodeOptions<KvResult>>;

describe("RaftNode in a three-member cluster over gRPC", () => {
  const members: Member[] = [];
  const fatalErrors: Error[] = [];

  function peersOf(list: readonly Member[]): Map<NodeId, string> {
    return new Map(list.map((member) => [member.id, `http://127.0.0.1:${member.port}`]));
  }

  async function newMember(id: NodeId): Promise<Member> {
    const member: Member = {
      id,
      dataDir: await mkdtemp(join(tmpdir(), `flotilla-raft-node-${id}-`)),
      port: await freePort(),
      stateMachine: new KvStateMachine(false),
      node: undefined,
    };
    members.push(member);
    return member;
  }

  async function startMember(member: Member, peers: ReadonlyMap<NodeId, string>, overrides: Overrides = {}): Promise<RaftNode<KvResult>> {
    member.stateMachine = new KvStateMachine(member.stateMachine.durable);
    member.node = await RaftNode.start<KvResult>({
      id: member.id,
      dataDir: member.dataDir,
      stateMachine: member.stateMachine,
      initialPeers: peers,
      initialClusterState: "new",
      listenAddress: `127.0.0.1:${member.port}`,
      heartbeatIntervalMs,
      electionTicks,
      snapshotCount: 1000,
      onFatal: (error) => fatalErrors.push(error),
      ...overrides,
    });
    return member.node;
  }

  async function startCluster(size: number, overrides: Overrides = {}): Promise<Member[]> {
    const list: Member[] = [];
    for (let id = 1; id <= size; id++) list.push(await newMember(id));
    const peers = peersOf(list);
    for (const member of list) await startMember(member, peers, overrides);
    return list;
  }

  function running(list: readonly Member[]): Array<Member & { node: RaftNode<KvResult> }> {
    return list.filter((member): member is Member & { node: RaftNode<KvResult> } => member.node !== undefined);
  }

  /** Waits until every running member names the same leader, which leads; returns it. */
  async function agreedLeader(list: readonly Member[], description = "an agreed leader"): Promise<Member & { node: RaftNode<KvResult> }> {
    return waitUntil(
      () => {
        const live = running(list);
        const leader = live.find((member) => member.node.isLeader);
        if (leader === undefined) return undefined;
        return live.every((member) => member.node.leaderId === leader.id) ? leader : undefined;
      },
      { timeoutMs: waitMs, description },
    );
  }

  async function stopMember(member: Member): Promise<void> {
    await member.node?.stop();
    member.node = undefined;
  }

  async function converged(list: readonly Member[], expected: Record<string, string>): Promise<void> {
    const expectedText = JSON.stringify(expected);
    await waitUntil(() => running(list).every((member) => JSON.stringify(member.stateMachine.view()) === expectedText), {
      timeoutMs: waitMs,
      description: `every running member to hold ${expectedText}`,
    });
  }

  afterEach(async () => {
    for (const member of members.splice(0)) {
      await member.node?.stop();
      await rm(member.dataDir, { recursive: true, force: true });
    }
    expect(fatalErrors.splice(0)).toEqual([]);
  });

  it("elects one leader and applies proposals on every member, resolving with the result", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    const results = await Promise.all(Array.from({ length: 30 }, () => leader.node.propose(kvCommand({ op: "add", key: "counter", delta: 1 }))));
    expect(results.map((result) => Number(result.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await converged(list, { counter: "30" });
    const indexes = results.map((result) => result.index);
    expect(new Set(indexes).size).toBe(30);
  });

  it("refuses a proposal on a follower with NotLeaderError naming the leader", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    const follower = running(list).find((member) => member.id !== leader.id);
    const failure = await follower?.node.propose(kvCommand({ op: "put", key: "a", value: "1" })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NotLeaderError);
    expect((failure as NotLeaderError).leaderHint).toBe(leader.id);
  });

  it("writes many concurrent proposals with few fsynced batches", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    const before = leader.node.counters.persistBatches;
    const count = 200;
    await Promise.all(Array.from({ length: count }, (_, i) => leader.node.propose(kvCommand({ op: "put", key: `k${i}`, value: String(i) }))));
    const batches = leader.node.counters.persistBatches - before;
    // One batch for the proposals, a few for commit-index updates: nowhere near one per proposal.
    expect(batches).toBeLessThan(count / 10);
  });

  it("tells followers a new commit index within the hold time, not only with the next heartbeat", async () => {
    // One tick per second: a follower that learnt the commit only from heartbeats would wait ~1 s.
    const list = await startCluster(3, { heartbeatIntervalMs: 1000 });
    running(list)[0]?.node.campaign();
    const leader = await agreedLeader(list);
    await leader.node.propose(kvCommand({ op: "put", key: "warm", value: "up" }));
    await converged(list, { warm: "up" });
    const startedMs = Date.now();
    await leader.node.propose(kvCommand({ op: "put", key: "lone", value: "1" }));
    await converged(list, { lone: "1", warm: "up" });
    expect(Date.now() - startedMs).toBeLessThan(500);
  });

  it("readIndex() on a follower resolves only after it applied what was committed before the read, batching concurrent reads", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    const follower = running(list).find((member) => member.id !== leader.id) as Member & { node: RaftNode<KvResult> };
    await leader.node.propose(kvCommand({ op: "put", key: "x", value: "written before the read" }));
    const requestsBefore = follower.node.counters.readIndexRequests;
    await Promise.all(Array.from({ length: 20 }, () => follower.node.readIndex()));
    expect(follower.stateMachine.values.get("x")).toBe("written before the read");
    // Twenty reads shared one ReadIndex request (a second only if the first needed a retry).
    expect(follower.node.counters.readIndexRequests - requestsBefore).toBeLessThanOrEqual(2);
  });

  it("elects a new leader after the leader stops, and proposals continue", async () => {
    const list = await startCluster(3);
    const first = await agreedLeader(list);
    await first.node.propose(kvCommand({ op: "put", key: "before", value: "1" }));
    await stopMember(first);
    const second = await agreedLeader(list, "a new leader among the two remaining members");
    expect(second.id).not.toBe(first.id);
    const result = await second.node.propose(kvCommand({ op: "put", key: "after", value: "2" }));
    expect(result.value).toBe("2");
    await converged(list, { after: "2", before: "1" });
  });

  it("catches up a restarted member through a snapshot once the leader compacted the entries it missed", async () => {
    const overrides: Overrides = { snapshotCount: 20, snapshotCatchUpEntries: 5 };
    const list = await startCluster(3, overrides);
    const leader = await agreedLeader(list);
    const lagging = running(list).find((member) => member.id !== leader.id) as Member;
    await leader.node.propose(kvCommand({ op: "add", key: "n", delta: 1 }));
    await converged(list, { n: "1" });
    const laggingLastIndex = (lagging.node as RaftNode<KvResult>).logRange().last;
    await stopMember(lagging);
    for (let i = 0; i < 100; i++) await leader.node.propose(kvCommand({ op: "add", key: "n", delta: 1 }));
    expect(leader.node.counters.snapshotsCreated).toBeGreaterThan(0);
    expect(leader.node.logRange().first).toBeGreaterThan(laggingLastIndex + 1);
    const restarted = await startMember(lagging, peersOf(list), overrides);
    await converged(list, { n: "101" });
    expect(restarted.counters.snapshotsRestored).toBeGreaterThan(0);
    expect(restarted.snapshotIndex).toBeGreaterThan(laggingLastIndex);
  });

  it("transferLeadership() hands leadership to the named member", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    const target = running(list).find((member) => member.id !== leader.id) as Member & { node: RaftNode<KvResult> };
    await leader.node.transferLeadership(target.id);
    const next = await agreedLeader(list, "the transferee to lead");
    expect(next.id).toBe(target.id);
  });

  it("refuses proposals past pendingProposalsMax with a too-many-requests error", async () => {
    const list = await startCluster(3, { pendingProposalsMax: 5 });
    const leader = await agreedLeader(list);
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => leader.node.propose(kvCommand({ op: "put", key: `p${i}`, value: "v" }))));
    const refused = outcomes.filter((outcome) => outcome.status === "rejected");
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(5);
    expect(refused).toHaveLength(7);
    for (const outcome of refused) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(TooManyRequestsError);
  });

  it("adds a learner that catches up, promotes it to voter, then removes it", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    await leader.node.propose(kvCommand({ op: "put", key: "seed", value: "s" }));
    const joiner = await newMember(4);
    const allPeers = peersOf([...list, joiner]);
    let removedCalls = 0;
    await startMember(joiner, allPeers, { initialClusterState: "existing", onRemoved: () => (removedCalls += 1) });
    const afterAdd = await leader.node.addMember(4, `http://127.0.0.1:${joiner.port}`, { learner: true });
    expect(afterAdd.learners).toEqual([4]);
    await converged([...list, joiner], { seed: "s" });
    await waitUntil(() => leader.node.status().progress?.get(4)?.match === leader.node.status().progress?.get(leader.id)?.match, {
      timeoutMs: waitMs,
      description: "the learner to match the leader's log",
    });
    const afterPromote = await leader.node.promoteMember(4);
    expect([...afterPromote.voters].sort()).toEqual([1, 2, 3, 4]);
    expect(afterPromote.learners).toEqual([]);
    await leader.node.propose(kvCommand({ op: "put", key: "with four", value: "4" }));
    await converged([...list, joiner], { seed: "s", "with four": "4" });
    const afterRemove = await leader.node.removeMember(4);
    expect([...afterRemove.voters].sort()).toEqual([1, 2, 3]);
    expect(leader.node.peers.has(4)).toBe(false);
    await waitUntil(() => joiner.node?.removed === true, { timeoutMs: waitMs, description: "member 4 to learn it was removed" });
    expect(removedCalls).toBe(1);
  });

  it("updateMember() moves a member to a new peer address on every member without changing the configuration", async () => {
    const list = await startCluster(3);
    const leader = await agreedLeader(list);
    // Applied after the first leader's bootstrap configuration: no change is pending any more.
    await leader.node.propose(kvCommand({ op: "put", key: "before move", value: "b" }));
    const moved = running(list).find((member) => member.id !== leader.id) as Member & { node: RaftNode<KvResult> };
    await stopMember(moved);
    const newPort = await freePort();
    const newAddress = `http://127.0.0.1:${newPort}`;
    const afterUpdate = await leader.node.updateMember(moved.id, newAddress);
    expect([...afterUpdate.voters].sort()).toEqual([1, 2, 3]);
    expect(leader.node.peers.get(moved.id)).toBe(newAddress);
    const restarted = { ...moved, port: newPort };
    members.push(restarted);
    await startMember(restarted, peersOf(list));
    await leader.node.propose(kvCommand({ op: "put", key: "after move", value: "m" }));
    await converged([...list.filter((member) => member !== moved), restarted], { "after move": "m", "before move": "b" });
    await waitUntil(() => (restarted.node?.peers.get(moved.id) === newAddress ? true : undefined), {
      timeoutMs: waitMs,
      description: "the moved member to learn its own new address",
    });
    await expect(leader.node.updateMember(99, newAddress)).rejects.toThrow();
  });
});
