/** bench-pods on real nodes: the testbed's 2 agent hosts with their own containerd. */
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Pod } from "../../../libs/api/index.ts";
import { findResource } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import { inParallel, mebibytes, percentile, podsResource, treeUsage, watchRunning } from "./measure.ts";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const execFileAsync = promisify(execFile);
const stateDir = "/var/lib/flotilla-testbed";
const namespace = "bench-pods";
/** Kubernetes' pod startup SLO: p99 at most 5 s (stateless pods, images present). */
const sloP99Seconds = 5;
const createConcurrency = 16;
const runningTimeoutMs = 300_000;
const pollMs = 500;

export interface RealOptions {
  readonly pods: number;
  readonly memoryPods: number;
  /**
   * A second pass creates the same number of pods at this steady rate (pods/s; 0 skips it):
   * upstream's SLO is measured at a steady creation rate, not with every pod created at once.
   */
  readonly createPerSecond: number;
  /** An existing testbed (with --testbed-name); empty: the bench brings one up and down. */
  readonly kubeconfig: string;
  readonly testbedName: string;
}

function benchPod(name: string, nodeName?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { bench: "pods" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(nodeName === undefined ? {} : { nodeSelector: { "kubernetes.io/hostname": nodeName } }),
      containers: [{ name: "main", image: "flotilla/busybox:1", imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"], resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    },
  };
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

/**
 * Creates `count` pods, as fast as createConcurrency allows or at `createPerSecond` when above 0;
 * returns each one's create-to-Running latency in seconds.
 */
async function startPods(client: HttpApiClient, prefix: string, count: number, nodeName?: string, createPerSecond = 0): Promise<number[]> {
  const list = await client.list<Pod>(podsResource, namespace, { limit: 1 });
  const stop = new AbortController();
  const watch = watchRunning(client, namespace, list.metadata.resourceVersion ?? "0", stop.signal);
  const createdAtMs = new Map<string, number>();
  const loadStartMs = performance.now();
  await inParallel(count, createConcurrency, async (index) => {
    // Indexes are handed out in order, so pod `index` waits for its slot of the paced schedule.
    const waitMs = createPerSecond > 0 ? loadStartMs + (index * 1000) / createPerSecond - performance.now() : 0;
    if (waitMs > 0) await new Promise((done) => setTimeout(done, waitMs));
    const name = `${prefix}-${index}`;
    createdAtMs.set(name, performance.now());
    await client.create(podsResource, benchPod(name, nodeName));
  });
  await waitUntil(`${count} pods Running`, runningTimeoutMs, () => [...createdAtMs.keys()].every((name) => watch.runningAtMs.has(name)));
  stop.abort();
  await watch.done;
  return [...createdAtMs].map(([name, startMs]) => ((watch.runningAtMs.get(name) ?? startMs) - startMs) / 1000).sort((a, b) => a - b);
}

function reportStartup(how: string, latencies: readonly number[]): void {
  const p50 = percentile(latencies, 0.5);
  const p99 = percentile(latencies, 0.99);
  process.stdout.write(`real nodes (2 agents, containerd): ${how}, create -> Running seen by a watch\n`);
  process.stdout.write(`  min ${(latencies[0] ?? 0).toFixed(2)} s   p50 ${p50.toFixed(2)} s   p99 ${p99.toFixed(2)} s   max ${(latencies.at(-1) ?? 0).toFixed(2)} s   (Kubernetes SLO: p99 <= ${sloP99Seconds} s: ${p99 <= sloP99Seconds ? "met" : "NOT met"})\n`);
}

async function deleteBenchPods(client: HttpApiClient): Promise<void> {
  const list = await client.list<Pod>(podsResource, namespace, {});
  await inParallel(list.items.length, createConcurrency, async (index) => client.delete(podsResource, namespace, list.items[index]?.metadata?.name ?? "").catch(() => undefined));
  for (let round = 0; round < runningTimeoutMs / pollMs; round++) {
    if ((await client.list<Pod>(podsResource, namespace, {})).items.length === 0) return;
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

/**
 * Waits until neither agent host's containerd holds a container (pod sandboxes included). The
 * API forgets a deleted pod before its sandbox is torn down (CNI, shim exit), so without this a
 * pass would start while the last one's teardown still loads the 2 cores.
 */
async function waitForEmptyNodes(testbed: string): Promise<void> {
  const containers = async (host: string): Promise<number> => {
    const socket = join(stateDir, testbed, host, "containerd", "containerd.sock");
    const { stdout } = await execFileAsync("ctr", ["-a", socket, "-n", "k8s.io", "containers", "ls", "-q"], { encoding: "utf8", timeout: 30_000 });
    return stdout.split("\n").filter((line) => line.trim() !== "").length;
  };
  const deadline = Date.now() + runningTimeoutMs;
  for (;;) {
    const left = (await containers("a1")) + (await containers("a2"));
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the agent hosts to remove ${left} containers`);
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

function agentPid(testbed: string, host: string): number {
  return Number(readFileSync(join(stateDir, testbed, host, "flotilla-agent.pid"), "utf8"));
}

async function measure(client: HttpApiClient, options: RealOptions, testbed: string): Promise<void> {
  await client.create(findResource("", "v1", "namespaces")!, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }).catch(() => undefined);
  await deleteBenchPods(client);
  await waitForEmptyNodes(testbed);
  const idleRssBytes = treeUsage(agentPid(testbed, "a1")).rssBytes;
  const latencies = await startPods(client, "start", options.pods);
  reportStartup(`${options.pods} pods created with ${createConcurrency} in flight`, latencies);
  await deleteBenchPods(client);
  await waitForEmptyNodes(testbed);
  if (options.createPerSecond > 0) {
    reportStartup(`${options.pods} pods created at ${options.createPerSecond} pods/s`, await startPods(client, "paced", options.pods, undefined, options.createPerSecond));
    await deleteBenchPods(client);
    await waitForEmptyNodes(testbed);
  }
  const nodeName = `${testbed}-a1`;
  await startPods(client, "mem", options.memoryPods, nodeName);
  const busyRssBytes = treeUsage(agentPid(testbed, "a1")).rssBytes;
  process.stdout.write(`agent resident memory (${nodeName}): idle ${mebibytes(idleRssBytes)}, running ${options.memoryPods} pods ${mebibytes(busyRssBytes)}\n`);
  await deleteBenchPods(client);
}

export async function runReal(options: RealOptions): Promise<void> {
  const ownTestbed = options.kubeconfig === "";
  const testbed = ownTestbed ? `bp${randomInt(0, 36 ** 3).toString(36)}` : options.testbedName;
  let kubeconfig = options.kubeconfig;
  if (ownTestbed) {
    process.stderr.write(`bench-pods: bringing up testbed ${testbed} (1 server, 2 agents)\n`);
    const { stdout } = await execFileAsync(join(repoRoot, "scripts/testbed"), ["up", "--servers", "1", "--agents", "2", "--name", testbed], { encoding: "utf8", timeout: 600_000 });
    kubeconfig = (stdout.trim().split("\n").pop() ?? "").replace(/^KUBECONFIG=/, "");
  }
  const client = new HttpApiClient(optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")));
  try {
    await measure(client, options, testbed);
  } finally {
    client.close();
    if (ownTestbed) await execFileAsync(join(repoRoot, "scripts/testbed"), ["down", "--name", testbed], { timeout: 300_000 }).catch(() => undefined);
  }
}
