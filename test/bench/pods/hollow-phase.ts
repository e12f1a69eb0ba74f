/** bench-pods in hollow mode: one real control plane, many `--runtime fake` agents. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Node, Pod } from "../../../libs/api/index.ts";
import { findResource } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import { inParallel, mebibytes, percentile, podsResource, TreeSampler, watchRunning } from "./measure.ts";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const flotilla = join(repoRoot, "scripts/flotilla");
const nodesResource = findResource("", "v1", "nodes")!;
const namespace = "default";
const createConcurrency = 32;
const startTimeoutMs = 120_000;
const pollMs = 1_000;
const samplerIntervalMs = 1_000;
const serverLogPath = join(tmpdir(), `flotilla-bench-pods-server-${process.pid}.log`);
/** Set once the run tears the control plane down, so that its exit is not reported as a crash. */
let stopping = false;

export interface HollowOptions {
  readonly nodes: number;
  readonly pods: number;
  readonly agentsPerProcess: number;
  readonly budgetMs: number;
  /**
   * Creation pace in pods per second (upstream measures startup at a steady rate below the
   * cluster's throughput); 0: as fast as createConcurrency allows, which measures queueing.
   */
  readonly createPerSecond: number;
}

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

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

interface ControlPlane {
  readonly child: ChildProcess;
  readonly client: HttpApiClient;
  readonly nodeApi: string;
  readonly dataDir: string;
}

async function startControlPlane(workDir: string): Promise<ControlPlane> {
  const [api, nodeApi, storeClient, storePeer] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = join(workDir, "server");
  const args = ["server", "--cluster-init", `--data-dir=${dataDir}`, `--api-port=${api}`, `--node-api-port=${nodeApi}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`];
  // Its log (errors only) goes to a file that outlives the work directory: it would drown the
  // figures, but it is what says why a server died in the middle of a run.
  const logFd = openSync(serverLogPath, "w");
  const child = spawn(flotilla, args, { stdio: ["ignore", "ignore", logFd], env: { ...process.env, FLOTILLA_LOG_LEVEL: "error" } });
  closeSync(logFd);
  child.once("exit", (code, signal) => {
    if (!stopping) process.stderr.write(`flotilla server exited during the run (code ${String(code)}, signal ${String(signal)}); its log: ${serverLogPath}\n`);
  });
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  const client = await until("flotilla server", startTimeoutMs, async () => {
    if (!existsSync(kubeconfig)) return undefined;
    const candidate = new HttpApiClient(optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")));
    await candidate.list(podsResource, namespace, { limit: 1 });
    return candidate;
  });
  return { child, client, nodeApi: `127.0.0.1:${nodeApi}`, dataDir };
}

function readyNodes(nodes: readonly Node[]): number {
  return nodes.filter((node) => node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true).length;
}

/** FLOTILLA_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=D`) reaches the hollow processes as it reaches scripts/flotilla. */
function extraNodeFlags(): string[] {
  return (process.env["FLOTILLA_NODE_FLAGS"] ?? "").split(" ").filter((flag) => flag !== "");
}

function startHollowAgents(plane: ControlPlane, workDir: string, options: HollowOptions): ChildProcess[] {
  const token = execFileSync(flotilla, ["token", "create", "--kind", "agent", "--data-dir", plane.dataDir], { encoding: "utf8" }).trim();
  const processes: ChildProcess[] = [];
  for (let first = 0, index = 0; first < options.nodes; first += options.agentsPerProcess, index++) {
    const count = Math.min(options.agentsPerProcess, options.nodes - first);
    const args = [...extraNodeFlags(), "--import", "tsx", join(repoRoot, "test/bench/pods/hollow.ts"), "--server", plane.nodeApi, "--token", token, "--prefix", `hollow-${index}-`, "--count", String(count), "--data-dir", join(workDir, `hollow-${index}`)];
    processes.push(spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, FLOTILLA_LOG_LEVEL: "error" } }));
  }
  return processes;
}

function hollowPod(index: number): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `hollow-pod-${index}`, namespace, labels: { app: `w${index % 100}` } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "main", image: "flotilla/busybox:1", imagePullPolicy: "IfNotPresent", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
  };
}

/** Creates the pods and follows them to Running; API latency from the creates and a get probe. */
async function load(plane: ControlPlane, options: HollowOptions): Promise<{ startup: number[]; binding: number[]; onNode: number[]; creates: number[]; gets: number[]; runningSeen: number; wallSeconds: number; failedCreates: string[] }> {
  const list = await plane.client.list<Pod>(podsResource, namespace, { limit: 1 });
  const stop = new AbortController();
  const watch = watchRunning(plane.client, namespace, list.metadata.resourceVersion ?? "0", stop.signal);
  const createdAtMs = new Map<string, number>();
  const failedCreates = new Map<string, string>();
  const loadStartMs = performance.now();
  const creates: number[] = [];
  const gets: number[] = [];
  const probe = setInterval(() => {
    const startMs = performance.now();
    void plane.client.get(nodesResource, undefined, "hollow-0-0").then(() => gets.push((performance.now() - startMs) / 1000), () => undefined);
  }, 1_000);
  await inParallel(options.pods, createConcurrency, async (index) => {
    // Indexes are handed out in order, so pod `index` waits for its slot of the paced schedule.
    const dueMs = options.createPerSecond > 0 ? loadStartMs + (index * 1000) / options.createPerSecond : 0;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await new Promise((done) => setTimeout(done, waitMs));
    const pod = hollowPod(index);
    const startMs = performance.now();
    createdAtMs.set(pod.metadata?.name ?? "", startMs);
    await plane.client.create(podsResource, pod).then(
      () => creates.push((performance.now() - startMs) / 1000),
      (error: unknown) => failedCreates.set(pod.metadata?.name ?? "", error instanceof Error ? error.message : String(error)),
    );
  });
  // A failed create is not waited for (it may still have been stored: if it runs, it counts).
  const waiting = (): number => [...createdAtMs.keys()].filter((name) => !failedCreates.has(name) && !watch.runningAtMs.has(name)).length;
  let watchEnded = false;
  void watch.done.then(() => (watchEnded = true));
  const deadline = Date.now() + options.budgetMs;
  while (waiting() > 0 && !watchEnded && Date.now() < deadline) await new Promise((done) => setTimeout(done, pollMs));
  if (watchEnded) process.stderr.write("the bench's pod watch ended early: pods Running after that were not seen\n");
  clearInterval(probe);
  stop.abort();
  await watch.done;
  const startup = [...createdAtMs].filter(([name]) => watch.runningAtMs.has(name)).map(([name, startMs]) => ((watch.runningAtMs.get(name) ?? startMs) - startMs) / 1000);
  const binding = [...createdAtMs].filter(([name]) => watch.boundAtMs.has(name)).map(([name, startMs]) => ((watch.boundAtMs.get(name) ?? startMs) - startMs) / 1000);
  const onNode = [...watch.runningAtMs].filter(([name]) => watch.boundAtMs.has(name)).map(([name, runningMs]) => (runningMs - (watch.boundAtMs.get(name) ?? runningMs)) / 1000);
  const sort = (values: number[]): number[] => values.sort((a, b) => a - b);
  return { startup: sort(startup), binding: sort(binding), onNode: sort(onNode), creates: sort(creates), gets: sort(gets), runningSeen: watch.runningAtMs.size, wallSeconds: (Math.max(loadStartMs, ...watch.runningAtMs.values()) - loadStartMs) / 1000, failedCreates: [...failedCreates.values()] };
}

function report(options: HollowOptions, result: Awaited<ReturnType<typeof load>>, usage: ReturnType<TreeSampler["stop"]>): void {
  const seconds = (values: readonly number[]): string => `p50 ${percentile(values, 0.5).toFixed(2)} s, p99 ${percentile(values, 0.99).toFixed(2)} s`;
  const pace = options.createPerSecond > 0 ? `at ${options.createPerSecond} pods/s` : "as fast as possible";
  process.stdout.write(`hollow mode: ${options.nodes} nodes (${options.agentsPerProcess} fake-runtime agents per process), ${options.pods} pods created ${pace} with at most ${createConcurrency} in flight\n`);
  process.stdout.write(`  Running seen for ${result.runningSeen}/${options.pods} pods in ${result.wallSeconds.toFixed(0)} s; startup ${seconds(result.startup)}\n`);
  process.stdout.write(`  of which create to bound (scheduler) ${seconds(result.binding)}; bound to Running (node API, agent) ${seconds(result.onNode)}\n`);
  process.stdout.write(`  API latency: create ${seconds(result.creates)}; get node (1/s) ${seconds(result.gets)}\n`);
  if (result.failedCreates.length > 0) process.stdout.write(`  ${result.failedCreates.length} creates failed (first: ${result.failedCreates[0] ?? ""})\n`);
  process.stdout.write(`  control plane (flotilla server and its children): ${(usage.cpuSeconds / usage.wallSeconds).toFixed(2)} cores over ${usage.wallSeconds.toFixed(0)} s, peak RSS ${mebibytes(usage.peakRssBytes)}, RSS at end ${mebibytes(usage.rssBytes)}\n`);
}

export async function runHollow(options: HollowOptions): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-bench-pods-"));
  const plane = await startControlPlane(workDir);
  const agents = startHollowAgents(plane, workDir, options);
  try {
    const nodeReadyMs = Math.max(startTimeoutMs, options.nodes * 1_000);
    await until(`${options.nodes} hollow nodes Ready`, nodeReadyMs, async () => (readyNodes((await plane.client.list<Node>(nodesResource, undefined, {})).items) >= options.nodes ? true : undefined));
    const sampler = new TreeSampler(plane.child.pid ?? 0, samplerIntervalMs);
    const result = await load(plane, options);
    report(options, result, sampler.stop());
  } finally {
    for (const agent of agents) agent.kill("SIGTERM");
    plane.client.close();
    stopping = true;
    if (plane.child.exitCode === null && plane.child.signalCode === null) {
      plane.child.kill("SIGTERM");
      await new Promise((done) => plane.child.once("exit", done));
    }
    rmSync(workDir, { recursive: true, force: true });
  }
}
