/**
 * A quick cost probe for store work: runs only the load phases (no kills, no report) on
 * flotilla and/or etcd in one run, and prints each member's CPU per 1000 operations (leader and
 * followers apart) and RSS. With --cpu-prof-dir DIR, flotilla members run under node --cpu-prof
 * and are stopped with SIGTERM so that they write their profiles there; read them with
 * `node --import tsx test/bench/store/analyze-profile.ts FILE.cpuprofile`.
 *
 *   node --import tsx test/bench/store/profile.ts [--impl both] [--scale 0.25] [--phases seq,put,get,watch]
 *        [--cpu-prof-dir DIR] [--logs-dir DIR]   (logs: the members' logs are kept there)
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { StoreCluster, type StoreImplementation } from "../../harness/store-cluster.ts";
import { findLeader } from "./failover.ts";
import { memberMemory, membersCpuMs } from "./proc.ts";
import { cpuMeter } from "./meter.ts";
import { parseImplementations, scaledSizes } from "./config.ts";
import { watchDelivery } from "./watch.ts";
import { concurrentPuts, linearizableGets, sequentialPuts, type ThroughputResult } from "./workloads.ts";

type Phase = "seq" | "put" | "get" | "watch";
const phasesAll: readonly Phase[] = ["seq", "put", "get", "watch"];
/** Grace for a member to write its CPU profile after SIGTERM. */
const profileStopGraceMs = 20_000;

function perMemberDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, afterMs] of after) delta.set(key, afterMs - (before.get(key) ?? afterMs));
  return delta;
}

async function runPhase(cluster: StoreCluster, phase: Phase, scale: number): Promise<void> {
  const sizes = scaledSizes(scale);
  const meter = cpuMeter(() => membersCpuMs(cluster));
  const leader = await findLeader(cluster);
  const before = membersCpuMs(cluster);
  const endpoints = cluster.members.map((member) => member.clientUrl);
  let result: ThroughputResult;
  if (phase === "seq") result = await sequentialPuts(meter, leader.clientUrl, sizes.sequentialPuts, sizes.phaseDurationMsMax);
  else if (phase === "put") result = await concurrentPuts(meter, leader.clientUrl, sizes.concurrentPuts, sizes.phaseDurationMsMax);
  else if (phase === "get") result = await linearizableGets(meter, leader.clientUrl, endpoints, sizes.gets, sizes.getKeys, sizes.phaseDurationMsMax);
  else {
    const watched = await watchDelivery(meter, leader.clientUrl, endpoints, sizes.watchers, sizes.watchEvents, sizes.phaseDurationMsMax);
    process.stdout.write(`[${cluster.implementation}] watch: ${Math.round(watched.eventsPerSecondPerWatcherMean)} events/s per watcher, p99 ${watched.latency?.p99Ms.toFixed(2) ?? "-"} ms\n`);
    result = watched.writer;
  }
  // The per-member split includes warm-up and key loading; the total below is the measured loop.
  const split = [...perMemberDelta(before, membersCpuMs(cluster))]
    .map(([key, ms]) => `${key.split("/")[0] ?? key}${key.startsWith(`${leader.name}/`) ? "(L)" : ""} ${Math.round(ms)}`)
    .join(", ");
  const perThousand = result.cost.membersCpuMs === undefined ? "?" : ((result.cost.membersCpuMs * 1000) / Math.max(1, result.completed)).toFixed(0);
  process.stdout.write(
    `[${cluster.implementation}] ${phase}: ${result.completed} ok ${result.failed} failed, ${Math.round(result.opsPerSecond)} ops/s, ` +
      `p50 ${result.latency?.p50Ms.toFixed(2) ?? "-"} ms, members ${perThousand} CPU-ms/1000, client ${Math.round(result.cost.clientCpuMs)} ms, ` +
      `per member (incl. warm-up) ${split}, load ${loadavg()[0]?.toFixed(1) ?? "?"}\n`,
  );
}

/** Keeps the members' logs (the cluster's work dir is deleted on teardown). */
function copyLogs(cluster: StoreCluster, logsDir: string): void {
  mkdirSync(logsDir, { recursive: true });
  for (const member of cluster.members) {
    const path = join(cluster.workDir, `${member.name}.log`);
    if (existsSync(path)) copyFileSync(path, join(logsDir, `${cluster.implementation}-${member.name}.log`));
  }
}

interface ProfileOptions {
  readonly phases: readonly Phase[];
  readonly scale: number;
  readonly profileDir: string | undefined;
  readonly logsDir: string | undefined;
}

async function profileImplementation(implementation: StoreImplementation, options: ProfileOptions): Promise<void> {
  const { phases, scale, profileDir, logsDir } = options;
  if (implementation === "flotilla" && profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true });
    process.env["FLOTILLA_NODE_FLAGS"] = `${process.env["FLOTILLA_NODE_FLAGS"] ?? ""} --cpu-prof --cpu-prof-dir=${profileDir}`.trim();
  }
  const cluster = await StoreCluster.start({ implementation, size: 3 });
  try {
    for (const phase of phases) await runPhase(cluster, phase, scale);
    const memory = memberMemory(cluster).map((member) => `${member.member} ${member.residentMiB.toFixed(0)} MiB`);
    process.stdout.write(`[${implementation}] rss: ${memory.join(", ")}\n`);
    // SIGTERM first: a flotilla member writes its CPU profile on a clean exit.
    await Promise.all(cluster.members.map(async (member) => member.daemon?.stop(profileStopGraceMs)));
  } finally {
    if (logsDir !== undefined) copyLogs(cluster, logsDir);
    await cluster.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      impl: { type: "string", default: "both" },
      scale: { type: "string", default: "0.25" },
      phases: { type: "string", default: phasesAll.join(",") },
      "cpu-prof-dir": { type: "string" },
      "logs-dir": { type: "string" },
    },
  });
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number, got ${values.scale}`);
  const phases = values.phases.split(",").map((name) => {
    if (!phasesAll.includes(name as Phase)) throw new Error(`--phases takes ${phasesAll.join(",")}, got ${name}`);
    return name as Phase;
  });
  const profileDir = values["cpu-prof-dir"] === undefined ? undefined : resolve(values["cpu-prof-dir"]);
  const logsDir = values["logs-dir"] === undefined ? undefined : resolve(values["logs-dir"]);
  for (const implementation of parseImplementations(values.impl)) await profileImplementation(implementation, { phases, scale, profileDir, logsDir });
}

await main();
