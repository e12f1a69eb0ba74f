/**
 * One implementation's benchmark: start a 3-member cluster, run the phases in order (memory is
 * read after the load and before the kills restart members), and always tear the cluster down.
 * A failed phase is recorded and the next one still runs.
 */
import { execFile } from "node:child_process";
import { performance } from "node:perf_hooks";
import { StoreCluster, type StoreImplementation } from "../../harness/store-cluster.ts";
import { commands } from "../../../services/cli/commands.ts";
import { clusterSize, type BenchSizes } from "./config.ts";
import { findLeader, measureFailover } from "./failover.ts";
import { memberMemory, membersCpuMs } from "./proc.ts";
import { cpuMeter, type Meter } from "./meter.ts";
import type { ImplementationResult, Outcome } from "./report.ts";
import { watchDelivery } from "./watch.ts";
import { concurrentPuts, linearizableGets, sequentialPuts } from "./workloads.ts";

const etcdVersionTimeoutMs = 10_000;

export type Progress = (message: string) => void;

/** The cluster being measured, so that a signal handler can tear it down. */
export const activeClusters = new Set<StoreCluster>();

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readMembersCpu(cluster: StoreCluster): Map<string, number> | undefined {
  try {
    return membersCpuMs(cluster);
  } catch {
    return undefined; // a member is down: the members' CPU over this stretch is not known.
  }
}

/** Runs one phase, recording its whole cost and turning a failure into a recorded error. */
async function attempt<T>(meter: Meter, name: string, progress: Progress, body: () => Promise<T>, describe: (value: T) => string): Promise<Outcome<T>> {
  progress(`${name}...`);
  const end = meter.begin();
  try {
    const value = await body();
    const cost = end();
    progress(`${name}: ${describe(value)} (${(cost.wallMs / 1000).toFixed(1)} s)`);
    return { ok: true, value, cost };
  } catch (error) {
    progress(`${name}: error: ${message(error)}`);
    return { ok: false, error: message(error), cost: end() };
  }
}

/** Why this implementation cannot be started at all, or undefined when it can be tried. */
export async function notRunnableReason(implementation: StoreImplementation): Promise<string | undefined> {
  if (implementation === "flotilla") {
    return commands["store"] === undefined ? 'scripts/flotilla has no "store" command yet (services/cli/commands.ts lists none)' : undefined;
  }
  return new Promise((resolve) => {
    execFile("etcd", ["--version"], { timeout: etcdVersionTimeoutMs }, (error) => {
      resolve(error === null ? undefined : `etcd --version failed (run make deps to install etcd 3.4): ${error.message}`);
    });
  });
}

async function leaderUrl(cluster: StoreCluster): Promise<string> {
  return (await findLeader(cluster)).clientUrl;
}

const rate = (value: { opsPerSecond: number; latency?: { p50Ms: number; p99Ms: number } | undefined }): string =>
  `${Math.round(value.opsPerSecond)} ops/s, p50 ${value.latency?.p50Ms.toFixed(2) ?? "-"} ms, p99 ${value.latency?.p99Ms.toFixed(2) ?? "-"} ms`;

async function runPhases(cluster: StoreCluster, sizes: BenchSizes, progress: Progress): Promise<Omit<ImplementationResult, "implementation" | "status" | "durationMs">> {
  const endpoints = cluster.members.map((member) => member.clientUrl);
  const meter = cpuMeter(() => readMembersCpu(cluster));
  const boundMs = sizes.phaseDurationMsMax;
  const sequentialPut = await attempt(meter, "sequential put", progress, async () => sequentialPuts(meter, await leaderUrl(cluster), sizes.sequentialPuts, boundMs), rate);
  const concurrentPut = await attempt(meter, "concurrent put", progress, async () => concurrentPuts(meter, await leaderUrl(cluster), sizes.concurrentPuts, boundMs), rate);
  const linearizableGet = await attempt(meter, "linearizable get", progress, async () => linearizableGets(meter, await leaderUrl(cluster), endpoints, sizes.gets, sizes.getKeys, boundMs), rate);
  const watch = await attempt(
    meter,
    "watch",
    progress,
    async () => watchDelivery(meter, await leaderUrl(cluster), endpoints, sizes.watchers, sizes.watchEvents, boundMs),
    (value) => `${Math.round(value.eventsPerSecondPerWatcherMean)} events/s per watcher, p99 ${value.latency?.p99Ms.toFixed(2) ?? "-"} ms`,
  );
  const memory = await attempt(meter, "memory", progress, async () => memberMemory(cluster), (members) => members.map((member) => `${member.residentMiB.toFixed(1)} MiB`).join(", "));
  const failover = await attempt(meter, "leader kill", progress, async () => measureFailover(cluster, sizes.failoverRounds), (rounds) =>
    rounds.map((round) => (round.unavailableMs === undefined ? "not resumed" : `${Math.round(round.unavailableMs)} ms`)).join(", "),
  );
  return { sequentialPut, concurrentPut, linearizableGet, watch, memory, failover };
}

export async function benchImplementation(implementation: StoreImplementation, sizes: BenchSizes, report: Progress): Promise<ImplementationResult> {
  const startedAtMs = performance.now();
  const progress: Progress = (text) => report(`[${implementation}] ${text}`);
  const durationMs = (): number => performance.now() - startedAtMs;
  const reason = await notRunnableReason(implementation);
  if (reason !== undefined) {
    progress(`not runnable: ${reason}`);
    return { implementation, status: "not runnable", error: reason, durationMs: durationMs() };
  }
  progress(`starting ${clusterSize} members`);
  let cluster: StoreCluster;
  try {
    cluster = await StoreCluster.start({ implementation, size: clusterSize });
  } catch (error) {
    progress(`failed to start: ${message(error)}`);
    return { implementation, status: "failed to start", error: message(error), durationMs: durationMs() };
  }
  activeClusters.add(cluster);
  try {
    const phases = await runPhases(cluster, sizes, progress);
    return { implementation, status: "ran", ...phases, durationMs: durationMs() };
  } finally {
    await cluster.destroy();
    activeClusters.delete(cluster);
  }
}
