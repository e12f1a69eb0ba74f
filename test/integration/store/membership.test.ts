/**
 * Cluster membership and disaster recovery through etcdctl: add a learner, promote it, remove a
 * member; remove a voter and add it back as a new member; compare HashKV across members; save a
 * snapshot and restore it into a fresh cluster, and refuse a corrupt one. Runs against Flotilla
 * and etcd.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEtcdctlJson, StoreCluster, storeImplementations, type StoreMember } from "../../harness/store-cluster.ts";
import { Daemon, run } from "../../harness/process.ts";
import { freePorts } from "../../harness/ports.ts";
import { waitFor } from "../../harness/wait.ts";

interface JsonMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

const hex = (id: string): string => BigInt(id).toString(16);
const flotillaBin = resolve(import.meta.dirname, "../../../scripts/flotilla");

async function members(cluster: StoreCluster): Promise<JsonMember[]> {
  return parseEtcdctlJson<{ members: JsonMember[] }>(await cluster.etcdctlOk(["member", "list", "-w", "json"], cluster.runningEndpoints())).members;
}

describe.each(storeImplementations())("membership and snapshots on a %s cluster", (implementation) => {
  let cluster: StoreCluster;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 3 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("lists the three initial members with their URLs", async () => {
    const listed = await members(cluster);
    expect(listed.map((member) => member.name).sort()).toEqual(["m0", "m1", "m2"]);
    for (const member of cluster.members) {
      const entry = listed.find((candidate) => candidate.name === member.name);
      expect(entry?.peerURLs).toEqual([member.peerUrl]);
      expect(entry?.clientURLs).toEqual([member.clientUrl]);
    }
  });

  it("adds a learner, starts it, promotes it to voter, then removes it", async () => {
    const learner: StoreMember = await cluster.allocateMember("m3");
    // etcd refuses a member change until every member has been connected for a few seconds
    // ("etcdserver: unhealthy cluster"); a client retries.
    const added = await waitFor(
      async () => {
        const result = await cluster.etcdctl(["member", "add", "m3", `--peer-urls=${learner.peerUrl}`, "--learner"], cluster.runningEndpoints());
        return result.code === 0 ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: "the learner to be added" },
    );
    expect(added).toContain("Member");
    expect(added).toContain("added to cluster");
    const learnerId = (await members(cluster)).find((member) => member.peerURLs.includes(learner.peerUrl))?.ID ?? "";
    expect((await members(cluster)).find((member) => member.ID === learnerId)?.isLearner).toBe(true);

    cluster.startMember(learner, "existing", cluster.initialCluster());
    await waitFor(async () => ((await members(cluster)).find((member) => member.ID === learnerId)?.name === "m3" ? true : undefined), {
      timeoutMs: 30_000,
      description: "the learner to start and publish its name",
    });
    // etcd refuses to promote a learner that has not caught up; retry until it has.
    await waitFor(
      async () => {
        const result = await cluster.etcdctl(["member", "promote", hex(learnerId)]);
        return result.code === 0 ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: "the learner to be promoted" },
    );
    expect((await members(cluster)).find((member) => member.ID === learnerId)?.isLearner ?? false).toBe(false);

    const removed = await cluster.etcdctlOk(["member", "remove", hex(learnerId)], cluster.members.slice(0, 3).map((member) => member.clientUrl).join(","));
    // etcdctl prints ids with %16x: Flotilla's 53-bit ids come out space-padded.
    expect(removed).toMatch(new RegExp(`Member +${hex(learnerId)} removed from cluster`));
    await learner.daemon?.kill();
    expect((await members(cluster)).map((member) => member.name).sort()).toEqual(["m0", "m1", "m2"]);
  });

  it("takes membership changes at a follower, with the leader's verdicts", async () => {
    const leader = await cluster.leader();
    const follower = cluster.members.find((member) => member !== leader && member.daemon?.running === true) as StoreMember;
    const [portA, portB, portC] = (await freePorts(3)) as [number, number, number];
    const added = await waitFor(
      async () => {
        const result = await cluster.etcdctl(["member", "add", "f0", `--peer-urls=http://127.0.0.1:${portA}`, "--learner"], follower.clientUrl);
        return result.code === 0 ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: "a learner to be added through a follower" },
    );
    expect(added).toContain("added to cluster");
    const learnerId = (await members(cluster)).find((member) => member.peerURLs.includes(`http://127.0.0.1:${portA}`))?.ID ?? "";
    expect(learnerId).not.toBe("");

    const second = await cluster.etcdctl(["member", "add", "f1", `--peer-urls=http://127.0.0.1:${portC}`, "--learner"], follower.clientUrl);
    expect(second.stderr).toContain("etcdserver: too many learner members in cluster");
    const taken = await cluster.etcdctl(["member", "add", "f1", `--peer-urls=${leader.peerUrl}`], follower.clientUrl);
    expect(taken.stderr).toContain("etcdserver: Peer URLs already exists");
    // The learner never started, so it is not in sync: only the leader can tell.
    const notReady = await cluster.etcdctl(["member", "promote", hex(learnerId)], follower.clientUrl);
    expect(notReady.stderr).toContain("etcdserver: can only promote a learner member which is in sync with leader");
    const voterId = (await members(cluster)).find((member) => member.name === leader.name)?.ID ?? "";
    const notLearner = await cluster.etcdctl(["member", "promote", hex(voterId)], follower.clientUrl);
    expect(notLearner.stderr).toContain("etcdserver: can only promote a learner member");

    const updated = await cluster.etcdctlOk(["member", "update", hex(learnerId), `--peer-urls=http://127.0.0.1:${portB}`], follower.clientUrl);
    expect(updated).toMatch(new RegExp(`Member +${hex(learnerId)} updated in cluster`));
    const listed = parseEtcdctlJson<{ members: JsonMember[] }>(await cluster.etcdctlOk(["member", "list", "-w", "json"], follower.clientUrl)).members;
    expect(listed.find((member) => member.ID === learnerId)?.peerURLs).toEqual([`http://127.0.0.1:${portB}`]);

    const removed = await cluster.etcdctlOk(["member", "remove", hex(learnerId)], follower.clientUrl);
    expect(removed).toMatch(new RegExp(`Member +${hex(learnerId)} removed from cluster`));
    expect((await members(cluster)).some((member) => member.ID === learnerId)).toBe(false);
  });

  it("removes the leader through a follower, then adds it back under a new id with an empty data directory", async () => {
    // The leader removes itself: it must still answer before it stops (etcd delays its stop).
    const target = await cluster.leader();
    const [first, second] = cluster.members.filter((member) => member !== target && member.daemon?.running === true) as [StoreMember, StoreMember];
    const others = [first, second].map((member) => member.clientUrl).join(",");
    const oldId = (await members(cluster)).find((member) => member.name === target.name)?.ID ?? "";
    expect(oldId).not.toBe("");
    await cluster.etcdctlOk(["put", "rejoin/k", "before"]);
    // Retried only while the cluster is not yet healthy enough to lose a member.
    const removed = await waitFor(
      async () => {
        const result = await cluster.etcdctl(["member", "remove", hex(oldId)], others);
        if (result.code !== 0 && !result.stderr.includes("unhealthy cluster")) throw new Error(`member remove failed: ${result.stderr}`);
        return result.code === 0 ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `member ${target.name} to be removed` },
    );
    expect(removed).toMatch(new RegExp(`Member +${hex(oldId)} removed from cluster`));
    await target.daemon?.kill();
    rmSync(target.dataDir, { recursive: true, force: true });
    expect((await members(cluster)).map((member) => member.name).sort()).toEqual([first.name, second.name]);

    await waitFor(
      async () => ((await cluster.etcdctl(["member", "add", target.name, `--peer-urls=${target.peerUrl}`], others)).code === 0 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 500, description: `member ${target.name} to be added back` },
    );
    const newId = (await members(cluster)).find((member) => member.peerURLs.includes(target.peerUrl))?.ID ?? "";
    expect(newId).not.toBe("");
    expect(newId).not.toBe(oldId);
    cluster.startMember(target, "existing", cluster.initialCluster([first, second, target]));
    await waitFor(async () => ((await members(cluster)).find((member) => member.ID === newId)?.name === target.name ? true : undefined), {
      timeoutMs: 30_000,
      description: "the re-added member to start and publish its name",
    });
    await cluster.etcdctlOk(["put", "rejoin/k", "after"]);
    // The new member holds what was written before it left and after it came back.
    await waitFor(
      async () => {
        const result = await cluster.etcdctl(["get", "rejoin/k", "--print-value-only", "--consistency=s"], target.clientUrl);
        return result.stdout === "after\n" ? true : undefined;
      },
      { timeoutMs: 30_000, description: "the re-added member to serve the latest value" },
    );
    await cluster.waitHealthy([first, second, target]);
  });

  it("reports the same HashKV on every member at one revision", async () => {
    for (let i = 0; i < 10; i++) await cluster.etcdctlOk(["put", `hash/${i}`, `v${i}`]);
    await cluster.etcdctlOk(["del", "hash/3"]);
    const revision = (JSON.parse(await cluster.etcdctlOk(["get", "hash/0", "-w", "json"])) as { header: { revision: number } }).header.revision;
    await cluster.etcdctlOk(["compaction", String(revision - 2)]);
    const endpoints = cluster.runningEndpoints();
    const hashes = await waitFor(
      async () => {
        const result = await cluster.etcdctl(["endpoint", "hashkv", `--rev=${revision}`, "-w", "json"], endpoints);
        if (result.code !== 0) return undefined;
        const answers = parseEtcdctlJson<{ Endpoint: string; HashKV: { hash: number; compact_revision: number } }[]>(result.stdout);
        const distinct = new Set(answers.map((answer) => answer.HashKV.hash));
        return answers.length === 3 && distinct.size === 1 ? answers : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `the three members to report one hash at revision ${revision}` },
    );
    expect(hashes.map((answer) => answer.HashKV.compact_revision)).toEqual([revision - 2, revision - 2, revision - 2]);
    await cluster.etcdctlOk(["put", "hash/extra", "x"]);
    const later = parseEtcdctlJson<{ HashKV: { hash: number } }[]>(await cluster.etcdctlOk(["endpoint", "hashkv", "-w", "json"], cluster.members[0]?.clientUrl));
    expect(later[0]?.HashKV.hash).not.toBe(hashes[0]?.HashKV.hash);
  });

  it("refuses to restore a snapshot file with a flipped byte", async () => {
    const leader = await cluster.leader();
    const snapshotPath = join(cluster.workDir, "corrupt.db");
    await cluster.etcdctlOk(["snapshot", "save", snapshotPath], leader.clientUrl);
    const bytes = readFileSync(snapshotPath);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(snapshotPath, bytes);
    const dataDir = join(cluster.workDir, "from-corrupt");
    const [peer] = (await freePorts(1)) as [number];
    const restoreFlags = [
      "--name=c0",
      `--data-dir=${dataDir}`,
      `--initial-cluster=c0=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      "--initial-cluster-token=corrupt",
    ];
    const restore =
      implementation === "etcd"
        ? await run("etcdctl", ["snapshot", "restore", snapshotPath, ...restoreFlags], { timeoutMs: 30_000 })
        : await run(flotillaBin, ["snapshot", "restore", snapshotPath, ...restoreFlags], { timeoutMs: 30_000 });
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(/sha256/);
    // etcdctl creates the directory before it checks the file; Flotilla writes nothing.
    if (implementation === "flotilla") expect(existsSync(dataDir)).toBe(false);
  });

  it("saves a snapshot and restores it into a fresh one-member cluster", async () => {
    for (let i = 0; i < 20; i++) await cluster.etcdctlOk(["put", `snap/${i}`, `value-${i}`]);
    const leader = await cluster.leader();
    const snapshotPath = join(cluster.workDir, "backup.db");
    const saved = await cluster.etcdctlOk(["snapshot", "save", snapshotPath], leader.clientUrl);
    expect(saved).toContain("Snapshot saved at");

    const [client, peer] = (await freePorts(2)) as [number, number];
    const dataDir = join(cluster.workDir, "restored");
    const restoreFlags = [
      "--name=r0",
      `--data-dir=${dataDir}`,
      `--initial-cluster=r0=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      "--initial-cluster-token=restored",
    ];
    const restore =
      implementation === "etcd"
        ? await run("etcdctl", ["snapshot", "restore", snapshotPath, ...restoreFlags], { timeoutMs: 30_000 })
        : await run(flotillaBin, ["snapshot", "restore", snapshotPath, ...restoreFlags], { timeoutMs: 30_000 });
    expect(restore.code, restore.stderr).toBe(0);

    const serveFlags = [
      ...restoreFlags,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
    ];
    const logPath = join(cluster.workDir, "restored.log");
    const daemon = implementation === "etcd" ? new Daemon("etcd", serveFlags, logPath) : new Daemon(flotillaBin, ["store", ...serveFlags], logPath);
    try {
      const endpoint = `http://127.0.0.1:${client}`;
      const values = await waitFor(
        async () => {
          const result = await cluster.etcdctl(["get", "--prefix", "snap/", "--print-value-only"], endpoint);
          return result.code === 0 && result.stdout !== "" ? result.stdout : undefined;
        },
        { timeoutMs: 30_000, description: "the restored member to serve the snapshot's keys" },
      );
      expect(values.trim().split("\n").sort()).toEqual(Array.from({ length: 20 }, (_, i) => `value-${i}`).sort());
    } finally {
      await daemon.kill();
    }
  });
});
