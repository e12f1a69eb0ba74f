/**
 * etcdctl (Debian's etcd-client, API v3) against a 3-member cluster. Every test runs against
 * Flotilla's store and against a real etcd 3.4, so any difference is ours to fix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { parseEtcdctlJson, StoreCluster, storeImplementations } from "../../harness/store-cluster.ts";
import { run as runProcess } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

interface JsonKv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number;
}
interface JsonGet {
  header: { revision: number };
  kvs?: JsonKv[];
  count?: number;
  more?: boolean;
}


const decode = (base64: string | undefined): string => Buffer.from(base64 ?? "", "base64").toString("utf8");

async function getJson(cluster: StoreCluster, args: readonly string[]): Promise<JsonGet> {
  return JSON.parse(await cluster.etcdctlOk(["get", "-w", "json", ...args])) as JsonGet;
}

/** Starts `etcdctl watch ...` and collects its stdout until stopped. */
function startWatch(cluster: StoreCluster, args: readonly string[]): { output: () => string; stop: () => void } {
  const child = spawn("etcdctl", [`--endpoints=${cluster.endpoints}`, "watch", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return { output: () => output, stop: () => child.kill("SIGKILL") };
}

describe.each(storeImplementations())("etcdctl against a 3-member %s cluster", (implementation) => {
  let cluster: StoreCluster;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 3 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("puts, gets and deletes single keys, ranges and prefixes", async () => {
    for (const key of ["/app/a", "/app/b", "/app/c", "/other/x"]) expect(await cluster.etcdctlOk(["put", key, `v-${key}`])).toBe("OK\n");
    expect(await cluster.etcdctlOk(["get", "/app/b"])).toBe("/app/b\nv-/app/b\n");
    expect(await cluster.etcdctlOk(["get", "--prefix", "--keys-only", "/app/"])).toBe("/app/a\n\n/app/b\n\n/app/c\n\n");
    expect(await cluster.etcdctlOk(["get", "/app/a", "/app/c", "--keys-only"])).toBe("/app/a\n\n/app/b\n\n");
    const limited = await getJson(cluster, ["--prefix", "/app/", "--limit=2"]);
    expect(limited.kvs?.map((kv) => decode(kv.key))).toEqual(["/app/a", "/app/b"]);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const descending = await getJson(cluster, ["--prefix", "/app/", "--sort-by=KEY", "--order=DESCEND"]);
    expect(descending.kvs?.map((kv) => decode(kv.key))).toEqual(["/app/c", "/app/b", "/app/a"]);
    expect(await cluster.etcdctlOk(["del", "--prefix", "/app/"])).toBe("3\n");
    expect(await cluster.etcdctlOk(["get", "--prefix", "/app/"])).toBe("");
    expect(await cluster.etcdctlOk(["del", "/other/x", "--prev-kv"])).toBe("1\n/other/x\nv-/other/x\n");
  });

  it("keeps etcd's revision rules: create, mod, version, reset by delete", async () => {
    await cluster.etcdctlOk(["put", "rev/k", "1"]);
    const first = (await getJson(cluster, ["rev/k"])).kvs?.[0];
    await cluster.etcdctlOk(["put", "rev/k", "2"]);
    const second = (await getJson(cluster, ["rev/k"])).kvs?.[0];
    expect(second?.create_revision).toBe(first?.create_revision);
    expect(second?.mod_revision).toBe((first?.mod_revision ?? 0) + 1);
    expect(second?.version).toBe(2);
    await cluster.etcdctlOk(["del", "rev/k"]);
    await cluster.etcdctlOk(["put", "rev/k", "3"]);
    const recreated = (await getJson(cluster, ["rev/k"])).kvs?.[0];
    expect(recreated?.version).toBe(1);
    expect(recreated?.create_revision).toBe(recreated?.mod_revision);
    const old = await getJson(cluster, ["rev/k", `--rev=${first?.mod_revision}`]);
    expect(decode(old.kvs?.[0]?.value)).toBe("1");
  });

  it("runs a txn: compare value, then success or failure branch", async () => {
    await cluster.etcdctlOk(["put", "txn/k", "a"]);
    const run = async (input: string) => (await runProcess("etcdctl", [`--endpoints=${cluster.endpoints}`, "txn"], { input, timeoutMs: 15_000 })).stdout;
    expect(await run('value("txn/k") = "a"\n\nput txn/k b\nput txn/other yes\n\nput txn/k failed\n\n')).toBe("SUCCESS\n\nOK\n\nOK\n");
    expect(await run('value("txn/k") = "a"\n\nput txn/k c\n\nput txn/k failed\n\n')).toBe("FAILURE\n\nOK\n");
    expect(await cluster.etcdctlOk(["get", "txn/k", "--print-value-only"])).toBe("failed\n");
    expect(await run('mod("txn/other") > "0"\n\nget txn/other\n\n\n')).toBe("SUCCESS\n\ntxn/other\nyes\n");
  });

  it("watches a prefix from a past revision with previous values", async () => {
    await cluster.etcdctlOk(["put", "w/a", "1"]);
    const start = (await getJson(cluster, ["w/a"])).kvs?.[0]?.mod_revision ?? 0;
    await cluster.etcdctlOk(["put", "w/a", "2"]);
    await cluster.etcdctlOk(["put", "w/b", "3"]);
    await cluster.etcdctlOk(["put", "nw/ignored", "x"]);
    const watch = startWatch(cluster, ["--prefix", "--prev-kv", `--rev=${start}`, "w/"]);
    try {
      await cluster.etcdctlOk(["del", "w/a"]);
      const expected = "PUT\nw/a\n1\nPUT\nw/a\n1\nw/a\n2\nPUT\nw/b\n3\nDELETE\nw/a\n2\nw/a\n\n";
      await waitFor(() => (watch.output() === expected ? true : undefined), {
        timeoutMs: 10_000,
        description: `watch output ${JSON.stringify(expected)}, have ${JSON.stringify(watch.output())}`,
      });
    } finally {
      watch.stop();
    }
  });

  it("grants, keeps alive, inspects, lists and revokes leases; keys expire with their lease", async () => {
    const grant = await cluster.etcdctlOk(["lease", "grant", "60"]);
    const leaseId = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(grant)?.[1];
    expect(leaseId).toBeDefined();
    await cluster.etcdctlOk(["put", "lease/k", "v", `--lease=${leaseId}`]);
    const ttl = await cluster.etcdctlOk(["lease", "timetolive", leaseId ?? "", "--keys"]);
    expect(ttl).toMatch(new RegExp(`lease ${leaseId} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[lease/k\\]\\)`));
    expect(await cluster.etcdctlOk(["lease", "list"])).toContain(leaseId);
    expect(await cluster.etcdctlOk(["lease", "keep-alive", "--once", leaseId ?? ""])).toMatch(new RegExp(`lease ${leaseId} keepalived with TTL\\(60\\)`));
    expect(await cluster.etcdctlOk(["lease", "revoke", leaseId ?? ""])).toBe(`lease ${leaseId} revoked\n`);
    expect(await cluster.etcdctlOk(["get", "lease/k"])).toBe("");

    const short = /lease ([0-9a-f]+) granted/.exec(await cluster.etcdctlOk(["lease", "grant", "2"]))?.[1];
    await cluster.etcdctlOk(["put", "lease/short", "v", `--lease=${short}`]);
    await waitFor(async () => ((await cluster.etcdctlOk(["get", "lease/short"])) === "" ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 250,
      description: "a key attached to a 2 s lease to expire",
    });
  });

  it("compacts history and refuses reads at a compacted revision", async () => {
    await cluster.etcdctlOk(["put", "c/k", "1"]);
    const revision = (await getJson(cluster, ["c/k"])).header.revision;
    await cluster.etcdctlOk(["put", "c/k", "2"]);
    expect(await cluster.etcdctlOk(["compaction", String(revision)])).toBe(`compacted revision ${revision}\n`);
    const stale = await cluster.etcdctl(["get", "c/k", `--rev=${revision - 1}`]);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain("mvcc: required revision has been compacted");
    const future = await cluster.etcdctl(["get", "c/k", `--rev=${revision + 1_000_000}`]);
    expect(future.stderr).toContain("mvcc: required revision is a future revision");
  });

  it("reports endpoint health and status, and moves the leader", async () => {
    const health = await cluster.etcdctl(["endpoint", "health"]);
    expect(health.code).toBe(0);
    expect((health.stdout + health.stderr).match(/is healthy/g)).toHaveLength(3);
    const leader = await cluster.leader();
    const statusJson = parseEtcdctlJson<{ Status: { header: { member_id: string }; leader: string; raftTerm: number } }[]>(
      await cluster.etcdctlOk(["endpoint", "status", "-w", "json"], leader.clientUrl),
    );
    const target = cluster.members.find((member) => member !== leader);
    const memberList = parseEtcdctlJson<{ members: { ID: string; name: string }[] }>(await cluster.etcdctlOk(["member", "list", "-w", "json"]));
    const targetId = memberList.members.find((member) => member.name === target?.name)?.ID;
    expect(statusJson[0]?.Status.leader).toBe(statusJson[0]?.Status.header.member_id);
    const hexId = BigInt(targetId ?? 0).toString(16);
    const moved = await cluster.etcdctlOk(["move-leader", hexId], leader.clientUrl);
    expect(moved).toContain("Leadership transferred");
    await waitFor(async () => ((await cluster.leader()) === target ? true : undefined), { timeoutMs: 10_000, description: "the new leader" });
  });
});
