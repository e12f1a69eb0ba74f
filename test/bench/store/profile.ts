/**
 * A quick cost probe for store work: runs only the load phases (no kills, no report) on
 * flotilla and/or etcd in one run, and prints each member's CPU per 1000 operations (leader and
 * followers apart) and RSS. With --cpu-prof-dir DIR, flotilla members run under node --cpu-prof
 * and are stopped with SIGTERM so that they write their profiles there; read them with
 * `node --import tsx test/bench/store/analyze-profile.ts FILE.cpuprofile`.
 *
 *   node --import tsx test/bench/store/profile.ts [--impl both] [--scale 0.25] [--phases seq,put,get,watch]
 *        [--cpu-prof-dir DIR] [--logs-dir DIR] [--perf-stat] [--kills N]
 *
 * The "kill" phase (not in the default list) SIGKILLs the leader --kills times as the benchmark
 * does, printing each round's write unavailability and when a survivor first named the new
 * leader, so that a slow round can be told apart as a slow election or a slow client.
 * --logs-dir keeps the members' logs there. --perf-stat (needs `perf`, root) runs
 * `perf stat --per-thread` on every member during each measured phase and prints each member's
 * CPU split into its main thread and the rest (V8's GC and compiler threads, the libuv pool),
 * with context switches: the profiler's sampled stacks charge a member that waits for a core to
 * whatever it was running, perf's task clock does not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { StoreCluster, type StoreImplementation } from "../../harness/store-cluster.ts";
import { findLeader, measureFailover } from "./failover.ts";
import { memberMemory, membersCpuMs } from "./proc.ts";
import { cpuMeter } from "./meter.ts";
import { parseImplementations, scaledSizes } from "./config.ts";
import { watchDelivery } from "./watch.ts";
import { concurrentPuts, linearizableGets, sequentialPuts, type ThroughputResult } from "./workloads.ts";

type Phase = "seq" | "put" | "get" | "watch" | "kill";
const phasesAll: readonly Phase[] = ["seq", "put", "get", "watch", "kill"];
/** Upper bound on --kills (each round takes a few seconds). */
const killRoundsMax = 200;
/** Grace for a member to write its CPU profile after SIGTERM. */
const profileStopGraceMs = 20_000;
/** perf needs a moment to attach before the phase starts. */
const perfAttachMs = 300;

interface PerfStat {
  readonly member: string;
  readonly process: ChildProcess;
  readonly output: string;
  readonly exited: Promise<void>;
}

function startPerfStat(cluster: StoreCluster): PerfStat[] {
  return cluster.members.map((member) => {
    const output = join(tmpdir(), `flotilla-perf-stat-${process.pid}-${member.name}.csv`);
    const pid = String(member.daemon?.pid ?? 0);
    const child = spawn("perf", ["stat", "--per-thread", "-x", ",", "-e", "task-clock,context-switches", "-o", output, "-p", pid], { stdio: "ignore" });
    return { member: member.name, process: child, output, exited: new Promise((done) => child.on("exit", () => done())) };
  });
}

/** "m0 main 812 + other 240 CPU-ms, 9.1 switches/op" per member, from perf's per-thread CSV. */
async function stopPerfStat(stats: readonly PerfStat[], operations: number): Promise<string> {
  for (const stat of stats) stat.process.kill("SIGINT");
  await Promise.all(stats.map((stat) => stat.exited));
  return stats
    .map((stat) => {
      const rows = existsSync(stat.output) ? readFileSync(stat.output, "utf8").split("\n").map((line) => line.split(",")) : [];
      rmSync(stat.output, { force: true });
      const cpu = rows.filter((row) => row[3] === "task-clock").map((row) => ({ tid: Number((row[0] ?? "").split("-").at(-1)), ms: Number(row[1]) || 0 }));
      const switches = rows.filter((row) => row[3] === "context-switches").reduce((total, row) => total + (Number(row[1]) || 0), 0);
      const mainTid = Math.min(...cpu.map((thread) => thread.tid));
      const mainMs = cpu.find((thread) => thread.tid === mainTid)?.ms ?? 0;
      const otherMs = cpu.reduce((total, thread) => total + thread.ms, 0) - mainMs;
      return `${stat.member} main ${Math.round(mainMs)} + other ${Math.round(otherMs)} CPU-ms, ${(switches / Math.max(1, operations)).toFixed(1)} switches/op`;
    })
    .join("; ");
}

function perMemberDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, afterMs] of after) delta.set(key, afterMs - (before.get(key) ?? afterMs));
  return delta;
}

/** Leader kills one after another: each round's unavailability and when a survivor named the new leader. */
async function runKills(cluster: StoreCluster, rounds: number): Promise<void> {
  const results = await measureFailover(cluster, rounds);
  results.forEach((round, index) => {
    const resumed = round.unavailableMs === undefined ? "not resumed" : `${Math.round(round.unavailableMs)} ms`;
    const elected = round.electedMs === undefined ? "-" : `${Math.round(round.electedMs)} ms`;
    process.stdout.write(`[${cluster.implementation}] kill ${index + 1} of ${round.killedMember}: writes resumed ${resumed}, new leader named ${elected}\n`);
  });
}

async function runPhase(cluster: StoreCluster, phase: Phase, scale: number, perfStat: boolean): Promise<void> {
  const sizes = scaledSizes(scale);
  const meter = cpuMeter(() => membersCpuMs(cluster));
  const leader = await findLeader(cluster);
  const stats = perfStat ? startPerfStat(cluster) : [];
  if (perfStat) await new Promise((done) => setTimeout(done, perfAttachMs));
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
  if (perfStat) process.stdout.write(`[${cluster.implementation}] ${phase} perf (incl. warm-up): ${await stopPerfStat(stats, result.completed)}\n`);
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
  readonly perfStat: boolean;
  readonly kills: number;
}

async function profileImplementation(implementation: StoreImplementation, options: ProfileOptions): Promise<void> {
  const { phases, scale, profileDir, logsDir, perfStat } = options;
  if (implementation === "flotilla" && profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true });
    process.env["FLOTILLA_NODE_FLAGS"] = `${process.env["FLOTILLA_NODE_FLAGS"] ?? ""} --cpu-prof --cpu-prof-dir=${profileDir}`.trim();
    // From the sources rather than scripts/flotilla's bundle, so that each frame's URL names its
    // source file (analyze-profile.ts groups by file).
    process.env["FLOTILLA_RUN"] ??= "tsx";
  }
  const cluster = await StoreCluster.start({ implementation, size: 3 });
  try {
    for (const phase of phases) {
      if (phase === "kill") await runKills(cluster, options.kills);
      else await runPhase(cluster, phase, scale, perfStat);
    }
    const memory = memberMemory(cluster).map(
      (member) => `${member.member} ${member.residentMiB.toFixed(0)} MiB (anon ${member.anonymousMiB.toFixed(0)}, file ${member.fileMiB.toFixed(0)})`,
    );
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
      phases: { type: "string", default: "seq,put,get,watch" },
      "cpu-prof-dir": { type: "string" },
      "logs-dir": { type: "string" },
      "perf-stat": { type: "boolean", default: false },
      kills: { type: "string", default: "3" },
    },
  });
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale must be a positive number, got ${values.scale}`);
  const phases = values.phases.split(",").map((name) => {
    if (!phasesAll.includes(name as Phase)) throw new Error(`--phases takes ${phasesAll.join(",")}, got ${name}`);
    return name as Phase;
  });
  const kills = Number(values.kills);
  if (!Number.isInteger(kills) || kills < 1 || kills > killRoundsMax) throw new Error(`--kills must be an integer from 1 to ${killRoundsMax}, got ${values.kills}`);
  const profileDir = values["cpu-prof-dir"] === undefined ? undefined : resolve(values["cpu-prof-dir"]);
  const logsDir = values["logs-dir"] === undefined ? undefined : resolve(values["logs-dir"]);
  for (const implementation of parseImplementations(values.impl)) await profileImplementation(implementation, { phases, scale, profileDir, logsDir, perfStat: values["perf-stat"], kills });
}

await main();
