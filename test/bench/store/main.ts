/**
 * `make bench-store`: Flotilla's store and etcd 3.4 side by side, both as 3 members on loopback
 * with fsync on, driven by the same client code in one run. Prints one table with ratios and the
 * issue's targets, and writes the whole result as JSON under .tmp/ for later comparison.
 *
 *   node --import tsx test/bench/store/main.ts [--impl flotilla|etcd|both]   (BENCH_SCALE=1)
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseBenchOptions, type BenchOptions } from "./config.ts";
import { formatMetricTable, formatTargets, implementationNotes } from "./format.ts";
import { metricRows, targetChecks, type ImplementationResult } from "./report.ts";
import { activeClusters, benchImplementation } from "./run.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
/** The whole run ends by then even if a phase misbehaves past its own bounds. */
const benchDurationMsMaxBase = 20 * 60_000;
const bytesPerMib = 1024 * 1024;

interface Environment {
  readonly command: string;
  readonly date: string;
  readonly machine: { nproc: number; memoryMiB: number; cpuModel: string; kernel: string; node: string; etcd: string; loadAverage1mAtStart: number };
  readonly gitCommit: string;
}

const versionTimeoutMs = 10_000;

/** First line of a short command's output, or why there is none; never throws. */
async function firstLine(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: versionTimeoutMs }, (error, stdout) => {
      resolve(error === null ? (stdout.split("\n")[0] ?? "").trim() : `unavailable (${error.message.split("\n")[0] ?? ""})`);
    });
  });
}

async function describeEnvironment(date: Date): Promise<Environment> {
  const scale = process.env["BENCH_SCALE"];
  const script = relative(repoRoot, process.argv[1] ?? "test/bench/store/main.ts");
  const command = [scale === undefined ? "" : `BENCH_SCALE=${scale}`, "node", ...process.execArgv, script, ...process.argv.slice(2)].filter((part) => part !== "").join(" ");
  return {
    command,
    date: date.toISOString(),
    machine: {
      nproc: availableParallelism(),
      memoryMiB: Math.round(totalmem() / bytesPerMib),
      cpuModel: cpus()[0]?.model ?? "unknown",
      kernel: release(),
      node: process.version,
      etcd: await firstLine("etcd", ["--version"]),
      loadAverage1mAtStart: loadavg()[0] ?? 0,
    },
    gitCommit: await firstLine("git", ["-C", repoRoot, "rev-parse", "HEAD"]),
  };
}

function printHeader(environment: Environment, options: BenchOptions): void {
  const { machine } = environment;
  process.stdout.write(
    [
      "## Store benchmark: flotilla vs etcd (3 members on loopback, fsync on)",
      `command: ${environment.command}   (cwd ${repoRoot})`,
      `date:    ${environment.date}   commit ${environment.gitCommit}`,
      `machine: nproc ${machine.nproc}, memory ${machine.memoryMiB} MiB, ${machine.cpuModel}, kernel ${machine.kernel}, node ${machine.node}, ${machine.etcd}, load ${machine.loadAverage1mAtStart.toFixed(2)}`,
      `scale:   ${options.scale} -> ${JSON.stringify(options.sizes)}`,
      "",
    ].join("\n"),
  );
}

function writeJson(date: Date, body: unknown): string {
  const directory = join(repoRoot, ".tmp");
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `bench-store-${date.toISOString().replace(/[:.]/g, "-")}.json`);
  // A missing figure is written as null, not dropped, so every record has the same keys.
  writeFileSync(path, `${JSON.stringify(body, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`);
  return path;
}

/** A run fails (exit 1) when something that can start did not start or a phase errored. */
function failed(results: readonly ImplementationResult[]): boolean {
  return results.some(
    (result) =>
      result.status === "failed to start" ||
      [result.sequentialPut, result.concurrentPut, result.linearizableGet, result.watch, result.memory, result.failover].some((outcome) => outcome?.ok === false),
  );
}

async function tearDownAndExit(code: number, why: string): Promise<never> {
  process.stderr.write(`bench-store: ${why}; tearing down clusters\n`);
  await Promise.all([...activeClusters].map(async (cluster) => cluster.destroy()));
  process.exit(code);
}

async function main(): Promise<number> {
  const options = parseBenchOptions(process.argv.slice(2), process.env);
  const date = new Date();
  const environment = await describeEnvironment(date);
  printHeader(environment, options);
  const watchdogMs = benchDurationMsMaxBase * Math.max(1, options.scale);
  const watchdog = setTimeout(() => void tearDownAndExit(1, `still running after ${watchdogMs / 60_000} min`), watchdogMs);
  watchdog.unref();
  const results: ImplementationResult[] = [];
  for (const implementation of options.implementations) {
    results.push(await benchImplementation(implementation, options.sizes, (text) => process.stderr.write(`${text}\n`)));
  }
  clearTimeout(watchdog);
  const byName = (name: string): ImplementationResult | undefined => results.find((result) => result.implementation === name);
  const rows = metricRows(byName("flotilla"), byName("etcd"));
  const targets = targetChecks(rows);
  const notes = results.flatMap(implementationNotes);
  const loadAverage1mAtEnd = loadavg()[0] ?? 0;
  notes.push(`load average (1 min) ${environment.machine.loadAverage1mAtStart.toFixed(2)} at start, ${loadAverage1mAtEnd.toFixed(2)} at end on ${environment.machine.nproc} cores: other work on the machine makes every figure noisier`);
  const jsonPath = writeJson(date, { schema: "flotilla/bench-store/1", ...environment, loadAverage1mAtEnd, scale: options.scale, sizes: options.sizes, rows, targets, results });
  process.stdout.write(`\n${formatMetricTable(rows)}\n\n${formatTargets(targets)}\n\n${notes.join("\n")}\n\nresults: ${relative(repoRoot, jsonPath)}\n`);
  return failed(results) ? 1 : 0;
}

process.once("SIGINT", () => void tearDownAndExit(130, "interrupted"));
process.once("SIGTERM", () => void tearDownAndExit(143, "terminated"));
main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => tearDownAndExit(1, error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
