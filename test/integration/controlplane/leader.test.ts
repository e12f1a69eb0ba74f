/**
 * libs/client against a real `flotilla server` (controllers and scheduler disabled so that only
 * the test acts): the HTTPS client from admin.kubeconfig, an informer following creates, updates
 * and deletes, and two leader electors on one Lease: one leads, and when it stops renewing (its
 * requests fail, as in a partition) it stops acting within the renew deadline and the other takes
 * over within the lease duration, never both at once.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, isStatusError, type ConfigMap, type Lease } from "../../../libs/api/index.ts";
import { HttpApiClient, LeaderElector, optionsFromKubeconfig, SharedInformer, type ApiClient } from "../../../libs/client/index.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const startTimeoutMs = 60_000;
const configMaps = findResource("", "v1", "configmaps")!;
const leases = findResource("coordination.k8s.io", "v1", "leases")!;
const leaseDurationMs = 15_000;
/**
 * Takeover bound after the last renewal: the lease duration, counted from when the candidate saw
 * that renewal (up to one jittered retry period later), plus its next retry, plus slack for a busy
 * machine.
 */
const takeoverBoundMs = leaseDurationMs + 2 * 2_400 + 3_000;

/** Forwards to a real client until `partitioned`, then fails every call as an unreachable server would. */
function partitionable(client: ApiClient): { client: ApiClient; partition: () => void } {
  let partitioned = false;
  const fail = () => Promise.reject(Object.assign(new Error("partitioned by the test"), { code: "ECONNREFUSED" }));
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (partitioned ? fail() : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { client: proxy, partition: () => (partitioned = true) };
}

describe("libs/client against flotilla server", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-leader-"));
  const dataDir = join(workDir, "d");
  let daemon: Daemon | undefined;
  let client: HttpApiClient;

  beforeAll(async () => {
    const [api, storeClient, storePeer] = await freePorts(3);
    daemon = new Daemon(
      flotillaBin,
      ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", "--node-api-port=0", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`],
      join(workDir, "server.log"),
    );
    const kubeconfig = join(dataDir, "admin.kubeconfig");
    client = await waitFor(
      async () => {
        if (!existsSync(kubeconfig)) return undefined;
        const candidate = new HttpApiClient(optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")));
        await candidate.list(configMaps, "default", { limit: 1 });
        return candidate;
      },
      { timeoutMs: startTimeoutMs, description: "flotilla server to serve the admin client" },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    await client.create(findResource("", "v1", "namespaces")!, { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } }).catch((error: unknown) => {
      if (!isStatusError(error, "AlreadyExists")) throw error;
    });
  });

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("answers a missing object with a NotFound StatusError", async () => {
    const error = await client.get(configMaps, "default", "absent").catch((caught: unknown) => caught);
    expect(isStatusError(error, "NotFound")).toBe(true);
  });

  it("keeps an informer's cache in step with creates, updates and deletes", async () => {
    await client.create<ConfigMap>(configMaps, { metadata: { name: "before", namespace: "default" }, data: { a: "1" } });
    const informer = new SharedInformer<ConfigMap>(client, configMaps, { namespace: "default" });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (object) => seen.push(`add ${object.metadata.name}`),
      onUpdate: (_, object) => seen.push(`update ${object.metadata.name} ${object.data?.["a"]}`),
      onDelete: (object) => seen.push(`delete ${object.metadata.name}`),
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    try {
      await informer.synced;
      await client.create<ConfigMap>(configMaps, { metadata: { name: "after", namespace: "default" }, data: { a: "1" } });
      await client.patch(configMaps, "default", "before", "merge", { data: { a: "2" } });
      await client.delete(configMaps, "default", "after");
      await waitFor(() => (seen.length >= 4 ? true : undefined), { timeoutMs: 10_000, description: "four informer notifications" });
      expect(seen).toEqual(["add before", "add after", "update before 2", "delete after"]);
      expect(informer.list().map((object) => object.metadata.name)).toEqual(["before"]);
    } finally {
      stop.abort();
      await running;
    }
  });

  it("elects one of two candidates and hands over within the lease duration when the leader stops renewing", async () => {
    const timeline: string[] = [];
    const leading = new Set<string>();
    let overlap = false;
    const elector = (identity: string, candidateClient: ApiClient) =>
      new LeaderElector({
        client: candidateClient,
        namespace: "kube-system",
        name: "test-election",
        identity,
        leaseDurationMs,
        onStartedLeading: async (signal) => {
          if (leading.size > 0) overlap = true;
          leading.add(identity);
          timeline.push(`${identity} leads`);
          await new Promise<void>((done) => signal.addEventListener("abort", () => done(), { once: true }));
          leading.delete(identity);
          timeline.push(`${identity} stops`);
        },
      });
    const first = partitionable(client);
    const stop = new AbortController();
    const a = elector("a", first.client);
    const runA = a.run(stop.signal);
    await waitFor(() => (a.isLeader ? true : undefined), { timeoutMs: 10_000, description: "a to lead" });
    const b = elector("b", client);
    const runB = b.run(stop.signal);
    try {
      await waitFor(() => (b.observedHolder === "a" ? true : undefined), { timeoutMs: 10_000, description: "b to observe a as holder" });
      expect(b.isLeader).toBe(false);
      const lastRenew = Date.parse((await client.get<Lease>(leases, "kube-system", "test-election")).spec?.renewTime ?? "");
      first.partition();
      await waitFor(() => (b.isLeader ? true : undefined), { timeoutMs: takeoverBoundMs + 5_000, intervalMs: 100, description: "b to take over" });
      const tookOverAfterMs = Date.now() - lastRenew;
      expect(tookOverAfterMs).toBeLessThan(takeoverBoundMs);
      expect(tookOverAfterMs).toBeGreaterThanOrEqual(leaseDurationMs - 1_000);
      expect(a.isLeader).toBe(false);
      expect(overlap).toBe(false);
      expect(timeline).toEqual(["a leads", "a stops", "b leads"]);
      const lease = await client.get<Lease>(leases, "kube-system", "test-election");
      expect(lease.spec).toMatchObject({ holderIdentity: "b", leaseDurationSeconds: 15, leaseTransitions: 1 });
    } finally {
      stop.abort();
      await Promise.all([runA, runB]);
    }
  }, 60_000);
});
