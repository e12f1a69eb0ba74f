/**
 * Restarts of a single-member cluster over data left at chosen crash points. Each crash point is
 * built with DurableLog directly (the writes that happened before the "kill"), then a RaftNode
 * starts over it; the state machine must end with every committed entry applied exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EntryType, type Entry, type NodeId } from "../../../libs/raft/index.ts";
import { encodeEnvelope, encodeNodeSnapshot } from "./codec.ts";
import { CorruptRecordError, DurableLog } from "./durable-log.ts";
import { RaftNode, type RaftNodeOptions } from "./raft-node.ts";
import { freePort, kvCommand, KvStateMachine, waitUntil, type KvResult } from "./test-helpers.ts";

const waitMs = 10_000;
const memberId: NodeId = 1;

function addEntries(first: number, last: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = first; index <= last; index++) {
    entries.push({ term: 1, index, type: EntryType.Normal, data: encodeEnvelope(BigInt(index), kvCommand({ op: "add", key: "n", delta: 1 })) });
  }
  return entries;
}

describe("RaftNode recovery after a crash", () => {
  let dataDir: string;
  let port: number;
  let peers: Map<NodeId, string>;
  const nodes: Array<RaftNode<KvResult>> = [];
  const fatalErrors: Error[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-raft-recovery-"));
    port = await freePort();
    peers = new Map([[memberId, `http://127.0.0.1:${port}`]]);
  });

  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
    await rm(dataDir, { recursive: true, force: true });
    expect(fatalErrors.splice(0)).toEqual([]);
  });

  async function start(stateMachine: KvStateMachine, overrides: Partial<RaftNodeOptions<KvResult>> = {}): Promise<RaftNode<KvResult>> {
    const node = await RaftNode.start<KvResult>({
      id: memberId,
      dataDir,
      stateMachine,
      initialPeers: peers,
      initialClusterState: "new",
      listenAddress: `127.0.0.1:${port}`,
      heartbeatIntervalMs: 20,
      electionTicks: 10,
      snapshotCount: 1000,
      onFatal: (error) => fatalErrors.push(error),
      ...overrides,
    });
    nodes.push(node);
    return node;
  }

  async function stop(node: RaftNode<KvResult>): Promise<void> {
    await node.stop();
    nodes.splice(nodes.indexOf(node), 1);
  }

  /** The disk as a kill left it: entries 1..5 committed, only 1..2 applied (durably). */
  async function crashAfterPersistBeforeApply(): Promise<void> {
    const log = await DurableLog.open(dataDir, { bootstrap: { confState: { voters: [memberId], learners: [] }, peers } });
    await log.persist({ entries: addEntries(1, 5), hardState: { term: 1, vote: memberId, commit: 5 } }, true);
    const encoder = new TextEncoder();
    await log.saveApplied({ appliedIndex: 2, records: [{ type: "put", key: encoder.encode("n"), value: encoder.encode("2") }], sync: true });
    await log.close();
  }

  it("a durable state machine applies only the committed entries it had not yet applied", async () => {
    await crashAfterPersistBeforeApply();
    const stateMachine = new KvStateMachine(true);
    const node = await start(stateMachine);
    await waitUntil(() => node.appliedIndex >= 5, { timeoutMs: waitMs, description: "entries 3..5 applied" });
    expect(stateMachine.values.get("n")).toBe("5");
    expect(stateMachine.applyCalls).toBe(3);
  });

  it("an in-memory state machine replays the whole committed log once", async () => {
    await crashAfterPersistBeforeApply();
    const stateMachine = new KvStateMachine(false);
    const node = await start(stateMachine);
    await waitUntil(() => node.appliedIndex >= 5, { timeoutMs: waitMs, description: "entries 1..5 applied" });
    expect(stateMachine.values.get("n")).toBe("5");
    expect(stateMachine.applyCalls).toBe(5);
  });

  it("restores a snapshot that was persisted but not yet restored when the member died", async () => {
    const log = await DurableLog.open(dataDir, { bootstrap: { confState: { voters: [memberId], learners: [] }, peers } });
    const data = encodeNodeSnapshot({ peers, removed: new Set([7]), stateMachine: new TextEncoder().encode(JSON.stringify([["n", "10"]])) });
    const snapshot = { data, metadata: { index: 10, term: 1, confState: { voters: [memberId], learners: [] } } };
    await log.persist({ snapshot, entries: addEntries(11, 12), hardState: { term: 1, vote: memberId, commit: 12 } }, true);
    await log.close();
    const stateMachine = new KvStateMachine(true);
    const node = await start(stateMachine);
    await waitUntil(() => node.appliedIndex >= 12, { timeoutMs: waitMs, description: "entries after the snapshot applied" });
    expect(stateMachine.restoreCalls).toBe(1);
    expect(stateMachine.applyCalls).toBe(2);
    expect(stateMachine.values.get("n")).toBe("12");
  });

  for (const durable of [true, false]) {
    it(`keeps ${durable ? "a durable" : "an in-memory"} state across a clean restart, through snapshots and compaction`, async () => {
      const first = await start(new KvStateMachine(durable), { snapshotCount: 4, snapshotCatchUpEntries: 2 });
      await waitUntil(() => first.isLeader, { timeoutMs: waitMs, description: "the lone member to lead" });
      for (let i = 0; i < 10; i++) await first.propose(kvCommand({ op: "add", key: "n", delta: 1 }));
      expect(first.counters.snapshotsCreated).toBeGreaterThan(0);
      await stop(first);
      const stateMachine = new KvStateMachine(durable);
      const second = await start(stateMachine, { snapshotCount: 4, snapshotCatchUpEntries: 2 });
      await waitUntil(() => second.isLeader, { timeoutMs: waitMs, description: "the restarted member to lead" });
      // Applied after everything before it in the log: "11" means each earlier add counted once.
      expect((await second.propose(kvCommand({ op: "add", key: "n", delta: 1 }))).value).toBe("11");
      if (durable) expect(stateMachine.applyCalls).toBe(1);
    });
  }

  it("refuses to start over a log with a damaged entry, naming it", async () => {
    const first = await start(new KvStateMachine(false));
    await waitUntil(() => first.isLeader, { timeoutMs: waitMs, description: "the lone member to lead" });
    const result = await first.propose(kvCommand({ op: "put", key: "k", value: "v" }));
    await stop(first);
    const db = new Level<Uint8Array, Uint8Array>(join(dataDir, "db"), { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const key = new Uint8Array(9);
    key[0] = 0x65;
    new DataView(key.buffer).setBigUint64(1, BigInt(result.index));
    const value = Uint8Array.from((await db.get(key)) ?? []);
    value[value.length - 1] = (value[value.length - 1] as number) ^ 0x40;
    await db.put(key, value);
    await db.close();
    const failure = await start(new KvStateMachine(false)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CorruptRecordError);
    expect((failure as CorruptRecordError).record).toBe(`entry ${result.index}`);
  });
});
