/**
 * The scheduler's full path, end to end: a real `flotilla server` (store member, API server, the
 * elected scheduler; controllers off), N Node objects made by the bench, then P pods created as
 * fast as the API server takes them. Each pod goes informer → scheduling queue → decision →
 * assume → bind over HTTPS → watch. Reports pods bound per second (first create to last bind seen)
 * and p50/p99 latency from a pod's create answer to its bind appearing on the bench's own watch,
 * next to kube-scheduler's bar (the same 100 pods/s test/bench/scheduler/main.ts cites).
 *   node --import tsx services/scheduler/bench-e2e.ts [--nodes 1000] [--pods 30000] [--budget-seconds 300]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { findResource, type Node, type Pod } from "../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../libs/client/index.ts";

const upstreamThroughputThresholdPodsPerSecond = 100;
const createConcurrency = 32;
const startTimeoutMs = 60_000;
const defaultBudgetSeconds = 300;
const pods = findResource("", "v1", "pods")!;
const nodes = findResource("", "v1", "nodes")!;

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((done) => setTimeout(done, ms));
}

/** Runs `work` over `count` indexes with at most `concurrency` in flight. */
async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < count; index = next++) await work(index);
    }),
  );
}

function node(name: string): Node {
  const resources = { cpu: "4", memory: "8Gi", pods: "110" };
  return { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } }, status: { allocatable: resources, capacity: resources, conditions: [{ type: "Ready", status: "True" }] } };
}

function pod(index: number): Pod {
  const requests = { cpu: "100m", memory: "128Mi" };
  return { apiVersion: "v1", kind: "Pod", metadata: { name: `bench-${index}`, namespace: "default", labels: { app: `w${index % 300}` } }, spec: { containers: [{ name: "app", image: "busybox", resources: { requests } }] } };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function startServer(workDir: string): Promise<{ client: HttpApiClient; stop: () => Promise<void> }> {
  const [api, storeClient, storePeer] = [await freePort(), await freePort(), await freePort()];
  const dataDir = join(workDir, "d");
  const flotilla = resolve(import.meta.dirname, "../../scripts/flotilla");
  const args = ["server", "--cluster-init", "--disable-controllers", "--node-api-port=0", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`];
  const child = spawn(flotilla, args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn" } });
  const exited = new Promise((done) => child.once("exit", done));
  const deadline = Date.now() + startTimeoutMs;
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  while (Date.now() < deadline) {
    if (existsSync(kubeconfig)) {
      const client = new HttpApiClient(optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")));
      try {
        await client.list(pods, "default", { limit: 1 });
        return { client, stop: async () => (child.kill("SIGTERM"), await exited, client.close()) };
      } catch {
        client.close();
      }
    }
    await sleep(200);
  }
  child.kill("SIGKILL");
  throw new Error(`flotilla server did not serve within ${startTimeoutMs} ms`);
}

/** Follows pods from `resourceVersion`, noting when each is first seen bound. */
function followBinds(client: HttpApiClient, resourceVersion: string, boundAtMs: Map<string, number>, signal: AbortSignal): Promise<void> {
  return (async () => {
    for await (const event of client.watch<Pod>(pods, "default", { resourceVersion }, signal)) {
      const object = event.object as Pod;
      const name = object.metadata?.name;
      if (name !== undefined && (object.spec?.nodeName ?? "") !== "" && !boundAtMs.has(name)) boundAtMs.set(name, performance.now());
    }
  })();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: "string", default: "1000" }, pods: { type: "string", default: "30000" }, "budget-seconds": { type: "string", default: String(defaultBudgetSeconds) } } });
  const nodeCount = Number(values.nodes);
  const podCount = Number(values.pods);
  const budgetMs = Number(values["budget-seconds"]) * 1000;
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-bench-scheduler-"));
  const server = await startServer(workDir);
  const stopWatch = new AbortController();
  try {
    await inParallel(nodeCount, createConcurrency, async (index) => void (await server.client.create(nodes, node(`node-${index}`))));
    const list = await server.client.list<Pod>(pods, "default", { limit: 1 });
    const boundAtMs = new Map<string, number>();
    const watching = followBinds(server.client, list.metadata.resourceVersion ?? "0", boundAtMs, stopWatch.signal).catch(() => undefined);
    const createdAtMs = new Map<string, number>();
    const startMs = performance.now();
    // Creation stops at the budget too, so a slow API server cannot stretch the run unbounded.
    await inParallel(podCount, createConcurrency, async (index) => {
      if (performance.now() - startMs > budgetMs) return;
      await server.client.create(pods, pod(index));
      createdAtMs.set(`bench-${index}`, performance.now());
    });
    const createdMs = performance.now() - startMs;
    while (boundAtMs.size < createdAtMs.size && performance.now() - startMs < budgetMs) await sleep(100);
    stopWatch.abort();
    await watching;
    report({ nodeCount, podCount, startMs, createdMs, createdAtMs, boundAtMs });
  } finally {
    stopWatch.abort();
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function report(run: { nodeCount: number; podCount: number; startMs: number; createdMs: number; createdAtMs: Map<string, number>; boundAtMs: Map<string, number> }): void {
  const latenciesMs = [...run.boundAtMs].map(([name, bound]) => Math.max(0, bound - (run.createdAtMs.get(name) ?? bound))).sort((a, b) => a - b);
  const lastBindMs = Math.max(...run.boundAtMs.values()) - run.startMs;
  const podsPerSecond = (run.boundAtMs.size / lastBindMs) * 1000;
  const lines = [
    `scheduler end to end: ${run.nodeCount} nodes, ${run.podCount} pods (real flotilla server, binds over HTTPS)`,
    `  created ${run.createdAtMs.size} in ${(run.createdMs / 1000).toFixed(1)} s (${((run.createdAtMs.size / run.createdMs) * 1000).toFixed(0)} pods/s through the API)`,
    `  bound: ${run.boundAtMs.size} of ${run.podCount} in ${(lastBindMs / 1000).toFixed(1)} s: ${podsPerSecond.toFixed(0)} pods/s`,
    `  create answer to bind seen: p50 ${percentile(latenciesMs, 0.5).toFixed(0)} ms, p99 ${percentile(latenciesMs, 0.99).toFixed(0)} ms`,
    `  kube-scheduler's bar (clusterloader2 SchedulingThroughput): >= ${upstreamThroughputThresholdPodsPerSecond} pods/s`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
