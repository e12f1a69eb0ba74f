import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EntryType } from "../../libs/raft/index.ts";
import { parseStoreFlags, type StoreConfig } from "./config.ts";
import { encodeClientRequest, encodeInternal, PayloadTag } from "./payload.ts";
import { RaftNode } from "./raft/index.ts";
import { restoreSnapshot } from "./restore.ts";
import { encodeSnapshotBody, sealSnapshot, SnapshotFileError } from "./snapshot-file.ts";
import { StoreStateMachine, type ApplyOutcome } from "./state-machine.ts";

const waitMs = 10_000;

function stateMachine(memberId: number, clusterId: number): StoreStateMachine {
  return new StoreStateMachine({ memberId, clusterId, minLeaseTtlSeconds: 2, raftTerm: () => 1 });
}

/** A snapshot file of an old cluster: 5 keys, a published member and a NOSPACE alarm. */
function oldClusterSnapshot(): Uint8Array {
  const old = stateMachine(7, 8);
  let index = 0;
  const apply = (data: Uint8Array) => old.apply({ term: 1, index: ++index, type: EntryType.Normal, data });
  for (let i = 0; i < 5; i++) apply(encodeClientRequest(PayloadTag.Put, { key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }));
  apply(encodeInternal(PayloadTag.MemberAttributes, { memberId: "7", name: "old", clientUrls: ["http://old:2379"] }));
  apply(encodeInternal(PayloadTag.Alarm, { action: "activate", memberId: "7", alarm: "NOSPACE" }));
  return sealSnapshot(encodeSnapshotBody({ appliedIndex: index, state: old.snapshot() }));
}

function restoreConfig(dataDir: string, peerPort: number): StoreConfig {
  const parsed = parseStoreFlags([
    "--name=r0",
    `--data-dir=${dataDir}`,
    `--initial-cluster=r0=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    "--initial-cluster-token=restored",
  ]);
  if (!("config" in parsed)) throw new Error("expected a config");
  return parsed.config;
}

async function waitUntil(probe: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("restoreSnapshot()", () => {
  const directories: string[] = [];
  const nodes: RaftNode<ApplyOutcome>[] = [];

  async function scratch(): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), "flotilla-restore-"));
    directories.push(directory);
    return directory;
  }

  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
    for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
  });

  it("writes a data directory from which a new one-member cluster serves the snapshot's keys, without the old members and alarms", async () => {
    const directory = await scratch();
    const file = join(directory, "backup.db");
    await writeFile(file, oldClusterSnapshot());
    const config = restoreConfig(join(directory, "r0"), 0);
    const result = await restoreSnapshot(file, config);
    expect(result.revision).toBe(6);
    expect(JSON.parse(await readFile(join(config.dataDir, "member.json"), "utf8"))).toMatchObject({ memberId: config.memberId, clusterId: config.clusterId });

    const machine = stateMachine(config.memberId, config.clusterId);
    const node = await RaftNode.start<ApplyOutcome>({
      id: config.memberId,
      clusterId: config.clusterId,
      dataDir: config.dataDir,
      stateMachine: machine,
      initialPeers: new Map([[config.memberId, config.advertisePeerUrls[0] ?? ""]]),
      initialClusterState: "new",
      listenAddress: "127.0.0.1:0",
      heartbeatIntervalMs: 20,
      electionTicks: 10,
      snapshotCount: 1000,
    });
    nodes.push(node);
    expect(node.confState.voters).toEqual([config.memberId]);
    expect(machine.mvcc.range({ key: Buffer.from("k3") }).kvs.map((kv) => Buffer.from(kv.value).toString())).toEqual(["v3"]);
    expect([...machine.members.keys()]).toEqual([]);
    expect([...machine.alarms]).toEqual([]);
    await waitUntil(() => node.isLeader, "the restored member to lead");
    const outcome = await node.propose(encodeClientRequest(PayloadTag.Put, { key: Buffer.from("after"), value: Buffer.from("restore") }));
    expect(outcome.ok).toBe(true);
    expect(machine.mvcc.currentRevision).toBe(7);
  });

  it("refuses a file with a flipped byte and writes nothing", async () => {
    const directory = await scratch();
    const file = join(directory, "backup.db");
    const bytes = oldClusterSnapshot();
    bytes[20] = (bytes[20] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const config = restoreConfig(join(directory, "r0"), 2380);
    await expect(restoreSnapshot(file, config)).rejects.toThrow(SnapshotFileError);
    await expect(restoreSnapshot(file, config)).rejects.toThrow(/sha256 mismatch/);
    expect(existsSync(config.dataDir)).toBe(false);
  });

  it("refuses a file with a valid trailer that is not a store snapshot", async () => {
    const directory = await scratch();
    const file = join(directory, "etcd.db");
    await writeFile(file, sealSnapshot(Buffer.from("bolt pages, not a Flotilla snapshot")));
    const config = restoreConfig(join(directory, "r0"), 2380);
    await expect(restoreSnapshot(file, config)).rejects.toThrow(/not a Flotilla store snapshot/);
    expect(existsSync(config.dataDir)).toBe(false);
  });

  it("refuses a framed file whose state does not decode", async () => {
    const directory = await scratch();
    const file = join(directory, "garbage.db");
    await writeFile(file, sealSnapshot(encodeSnapshotBody({ appliedIndex: 3, state: Buffer.from("FSTO garbage") })));
    const config = restoreConfig(join(directory, "r0"), 2380);
    await expect(restoreSnapshot(file, config)).rejects.toThrow(/holds no valid store state/);
    expect(existsSync(config.dataDir)).toBe(false);
  });

  it("refuses a data directory that is not empty, as etcdctl does", async () => {
    const directory = await scratch();
    const file = join(directory, "backup.db");
    await writeFile(file, oldClusterSnapshot());
    const config = restoreConfig(join(directory, "r0"), 2380);
    await mkdir(config.dataDir);
    await writeFile(join(config.dataDir, "something"), "x");
    await expect(restoreSnapshot(file, config)).rejects.toThrow(/not empty/);
  });
});
