/**
 * The Kubernetes-compatible API server under load (issue 4): 10 000 pods created by 16 clients,
 * each with a watch open on the pods, then single-pod gets and cluster-wide lists, against
 * 1 and 3 `flotilla server` replicas (clients spread round-robin over the replicas), and against
 * `flotilla apiserver` over a 1-member Flotilla store and over a 1-member etcd 3.4, so that the
 * store's share shows as a ratio. Reports ops/s and p50/p99 latency per verb, the CPU each
 * server process spent per phase, and the Kubernetes API-call latency SLOs next to the figures.
 * Writes the whole record to .tmp/bench-api-<time>.json.
 *
 *   node --import tsx test/bench/api/main.ts [--scale 1.0] [--seconds 360] [--clients 16]
 *        [--topologies server-1,server-3,apiserver+store,apiserver+etcd] [--cpu-prof-dir DIR]
 *
 * --seconds caps each topology's load (phases stop issuing requests at the cap and are marked
 * truncated). --cpu-prof-dir runs the API-serving processes under node --cpu-prof (read the
 * profiles with test/bench/store/analyze-profile.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseCpuMs } from "../store/proc.ts";
import { summarize, ratePerSecond, type LatencySummary } from "../store/stats.ts";
import { formatTable } from "../store/format.ts";
import { runLoad, type PhaseSamples } from "./load.ts";
import { startTopology, topologyNames, type BenchProcess, type Topology, type TopologyName } from "./topology.ts";

const podsAtScaleOne = 10_000;
const defaultClients = 16;
const defaultSeconds = 360;
const scaleMin = 0.001;
const scaleMax = 10;

/**
 * Upstream's API call latency SLOs (kubernetes/community sig-scalability/slos/api_call_latency.md):
 * p99 over 5 minutes of mutating calls for single objects <= 1 s; of non-streaming read-only calls
 * <= 1 s for a single object and <= 30 s for lists cluster-wide.
 */
const sloP99Ms: Record<string, number> = { create: 1000, get: 1000, list: 30_000, "list-paged": 30_000, "list-rv0": 30_000 };

interface BenchOptions {
  readonly scale: number;
  readonly seconds: number;
  readonly clients: number;
  readonly topologies: readonly TopologyName[];
  readonly cpuProfDir: string | undefined;
}

function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scale: { type: "string", default: process.env["BENCH_SCALE"] ?? "1" },
      seconds: { type: "string", default: String(defaultSeconds) },
      clients: { type: "string", default: String(defaultClients) },
      topologies: { type: "string", default: topologyNames.join(",") },
      "cpu-prof-dir": { type: "string" },
    },
  });
  const scale = Number(values.scale);
  if (!(scale >= scaleMin && scale <= scaleMax)) throw new Error(`--scale must be from ${scaleMin} to ${scaleMax}, got ${values.scale}`);
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds must be positive, got ${values.seconds}`);
  const clients = Number(values.clients);
  if (!Number.isInteger(clients) || clients < 1) throw new Error(`--clients must be a positive integer, got ${values.clients}`);
  const topologies = values.topologies.split(",").map((name) => {
    if (!(topologyNames as readonly string[]).includes(name)) throw new Error(`unknown topology ${name}; known: ${topologyNames.join(", ")}`);
    return name as TopologyName;
  });
  return { scale, seconds, clients, topologies, cpuProfDir: values["cpu-prof-dir"] };
}

function cpuMsOf(pid: number): number {
  return parseCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

interface PhaseReport {
  readonly phase: string;
  readonly operations: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly truncated: boolean;
  readonly elapsedMs: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary | undefined;
  /** CPU ms per process (and the load generator) while the phase ran. */
  readonly cpuMs: Record<string, number>;
}

interface TopologyReport {
  readonly topology: TopologyName;
  readonly replicas: number;
  readonly phases: PhaseReport[];
  readonly watchEventsSeen: number;
  readonly watchEventsExpected: number;
  readonly error?: string;
}

/** CPU meter over the server processes and this process, snapshot at each phase's start and end. */
function phaseCpuMeter(processes: readonly BenchProcess[]): { mark: (phase: string, starting: boolean) => void; cpu: Map<string, Record<string, number>> } {
  const starts = new Map<string, number>();
  const cpu = new Map<string, Record<string, number>>();
  const read = (): Map<string, number> => {
    const now = new Map<string, number>();
    for (const proc of processes) now.set(proc.role, cpuMsOf(proc.pid));
    const own = process.cpuUsage();
    now.set("load generator", (own.user + own.system) / 1000);
    return now;
  };
  const mark = (phase: string, starting: boolean): void => {
    const now = read();
    if (starting) {
      for (const [role, ms] of now) starts.set(`${phase}/${role}`, ms);
      return;
    }
    const spent: Record<string, number> = {};
    for (const [role, ms] of now) spent[role] = ms - (starts.get(`${phase}/${role}`) ?? ms);
    cpu.set(phase, spent);
  };
  return { mark, cpu };
}

function phaseReport(samples: PhaseSamples, cpuMs: Record<string, number>): PhaseReport {
  return {
    phase: samples.name,
    operations: samples.latenciesMs.length,
    errors: samples.errors,
    firstError: samples.firstError,
    truncated: samples.truncated,
    elapsedMs: samples.elapsedMs,
    opsPerSecond: ratePerSecond(samples.latenciesMs.length, samples.elapsedMs),
    latency: summarize(samples.latenciesMs),
    cpuMs,
  };
}

async function benchTopology(name: TopologyName, options: BenchOptions): Promise<TopologyReport> {
  const startOptions = { nodeFlags: options.cpuProfDir === undefined ? undefined : `--cpu-prof --cpu-prof-dir=${options.cpuProfDir}` };
  let topology: Topology;
  try {
    topology = await startTopology(name, startOptions);
  } catch (error) {
    return { topology: name, replicas: 0, phases: [], watchEventsSeen: 0, watchEventsExpected: 0, error: (error as Error).message };
  }
  try {
    const meter = phaseCpuMeter(topology.processes());
    const podCount = Math.max(1, Math.round(podsAtScaleOne * options.scale));
    const load = await runLoad(topology.apiUrls, topology.credentials, { clientCount: options.clients, podCount, deadlineMs: Date.now() + options.seconds * 1000 }, (phase, starting) => {
      meter.mark(phase, starting);
      if (starting) console.error(`${name}: ${phase}...`);
    });
    // The watch phase's own CPU is only the drain; its events were delivered during create.
    const phases = load.phases.map((samples) => phaseReport(samples, meter.cpu.get(samples.name) ?? {}));
    return { topology: name, replicas: topology.apiUrls.length, phases, watchEventsSeen: load.watchEventsSeen, watchEventsExpected: load.watchEventsExpected };
  } catch (error) {
    return { topology: name, replicas: topology.apiUrls.length, phases: [], watchEventsSeen: 0, watchEventsExpected: 0, error: (error as Error).message };
  } finally {
    await topology.stop();
  }
}

function ms(value: number | undefined): string {
  if (value === undefined) return "-";
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function resultTable(reports: readonly TopologyReport[]): string {
  const header = ["topology", "phase", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms", "SLO p99", "server CPU ms/1000 ops", "loadgen CPU ms/1000"];
  const body: string[][] = [];
  for (const report of reports) {
    if (report.error !== undefined) body.push([report.topology, "failed", "-", "-", "-", "-", "-", "-", "-", report.error.split("\n")[0] ?? "", "-"]);
    for (const phase of report.phases) {
      const serverCpuMs = Object.entries(phase.cpuMs).filter(([role]) => role !== "load generator").reduce((total, [, cpu]) => total + cpu, 0);
      const per1000 = (cpu: number): string => (phase.operations === 0 ? "-" : ((cpu * 1000) / phase.operations).toFixed(0));
      const slo = sloP99Ms[phase.phase];
      const sloText = slo === undefined || phase.latency === undefined ? "-" : `${phase.latency.p99Ms <= slo ? "met" : "MISSED"} (<= ${slo / 1000} s)`;
      body.push([
        report.topology, phase.phase + (phase.truncated ? " (truncated)" : ""), String(phase.operations), String(phase.errors), phase.opsPerSecond.toFixed(0),
        ms(phase.latency?.p50Ms), ms(phase.latency?.p99Ms), ms(phase.latency?.maxMs), sloText, per1000(serverCpuMs), per1000(phase.cpuMs["load generator"] ?? 0),
      ]);
    }
  }
  return formatTable(header, body);
}

function cpuTable(reports: readonly TopologyReport[]): string {
  const body: string[][] = [];
  for (const report of reports) {
    for (const phase of report.phases) {
      if (phase.phase === "watch") continue;
      const parts = Object.entries(phase.cpuMs).map(([role, cpu]) => `${role} ${cpu.toFixed(0)}`);
      body.push([report.topology, phase.phase, (phase.elapsedMs / 1000).toFixed(1), parts.join(", ")]);
    }
  }
  return formatTable(["topology", "phase", "wall s", "CPU ms per process"], body);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.cpuProfDir !== undefined) mkdirSync(options.cpuProfDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg();
  const reports: TopologyReport[] = [];
  for (const name of options.topologies) reports.push(await benchTopology(name, options));
  const record = { startedAt, options, loadAverageAtStart, loadAverageAtEnd: loadavg(), node: process.version, reports };
  const outDir = resolve(import.meta.dirname, "../../../.tmp");
  mkdirSync(outDir, { recursive: true });
  const outPath = join(outDir, `bench-api-${startedAt.replaceAll(":", "-").replaceAll(".", "-")}.json`);
  writeFileSync(outPath, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`API bench: ${Math.round(podsAtScaleOne * options.scale)} pods, ${options.clients} clients each with a watch; load average ${loadAverageAtStart.map((load) => load.toFixed(1)).join(" ")}`);
  console.log("watch: latency is from the create request's start to the ADDED event at each watcher; ops/s counts events at all watchers");
  console.log(resultTable(reports));
  console.log("");
  console.log(cpuTable(reports));
  for (const report of reports) {
    if (report.watchEventsSeen < report.watchEventsExpected) console.log(`${report.topology}: watchers saw ${report.watchEventsSeen} of ${report.watchEventsExpected} ADDED events`);
    for (const phase of report.phases) if (phase.firstError !== undefined) console.log(`${report.topology} ${phase.phase}: first error: ${phase.firstError}`);
  }
  console.log(`record: ${outPath}`);
  if (reports.some((report) => report.error !== undefined)) process.exitCode = 1;
}

await main();
