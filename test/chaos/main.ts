/**
 * `make chaos-store`: fault injection on a store cluster (Flotilla's or a real etcd, with the
 * same flags) under concurrent load, with a linearizability check of the recorded history, a
 * check of the watch streams, and a convergence check of the members. Exits non-zero on any
 * anomaly; under --plant stale-reads it exits zero only if the planted stale reads are caught.
 */
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FlagError, flagsHelp, parseFlags, type FlagValues } from "../../libs/flags/index.ts";
import { installCleanupHandlers, registerCleanup, sweepAll } from "./cleanup.ts";
import { choosePlan } from "./plan.ts";
import { formatScenario, formatSummary } from "./report.ts";
import { inconclusiveKeys, runScenario, scenarioAnomalies, scenarioName, type RunSettings, type ScenarioResult } from "./scenario.ts";

const chaosFlagSpecs = {
  impl: { type: "enum", values: ["flotilla", "etcd"], default: "flotilla", help: "store implementation under test" },
  seconds: { type: "integer", default: 60, min: 5, max: 3600, help: "seconds of load and faults per scenario" },
  full: { type: "boolean", default: false, help: "run every scenario (every fault kind on 3 and 5 members)" },
  only: { type: "list", default: [], help: "run only these scenarios, e.g. 3/kill-leader,5/partition" },
  plant: { type: "enum", values: ["none", "stale-reads"], default: "none", help: "plant a fault the checker must catch" },
  seed: { type: "integer", default: 0, min: 0, help: "seed of the fault plan and the load (0 picks one)" },
  clients: { type: "integer", default: 16, min: 1, max: 256, help: "concurrent clients" },
  keys: { type: "integer", default: 8, min: 1, max: 64, help: "keys the clients share" },
  watchers: { type: "integer", default: 3, min: 1, max: 16, help: "watch streams on the key prefix" },
  "think-ms": { type: "integer", default: 10, min: 0, max: 1000, help: "upper bound of a client's random pause between operations" },
  "request-timeout-ms": { type: "integer", default: 1000, min: 100, max: 30_000, help: "deadline of each client request" },
  keep: { type: "boolean", default: false, help: "keep histories and member logs even when every check passes" },
} as const;

type ChaosFlags = FlagValues<typeof chaosFlagSpecs>;

const repoRoot = resolve(import.meta.dirname, "../..");
const requiredTools = ["ip", "nft", "nsenter"];
/** Per-scenario time beyond the load: cluster start, recovery, final reads, convergence, checks. */
const overheadSecondsPerScenario = 8;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Says what is missing before any namespace is made; undefined when the run can start. */
function preflight(flags: ChaosFlags): string | undefined {
  if (process.getuid?.() !== 0) return "chaos runs need root (network namespaces, nftables, SIGSTOP of store processes)";
  const tools = flags.impl === "etcd" ? [...requiredTools, "etcd"] : requiredTools;
  for (const tool of tools) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (make deps installs it)`;
  }
  if (flags.impl === "flotilla") {
    const probe = spawnSync(join(repoRoot, "scripts/flotilla"), ["store", "--help"], { encoding: "utf8", timeout: 30_000 });
    if (probe.status !== 0) {
      const said = `${probe.stderr ?? ""}${probe.stdout ?? ""}`.trim().split("\n").slice(0, 3).join(" / ");
      return `flotilla store is not runnable yet (\`scripts/flotilla store --help\` exited ${probe.status}: ${said}); try CHAOS_IMPL=etcd`;
    }
  }
  return undefined;
}

function settingsFrom(flags: ChaosFlags, workRoot: string): RunSettings {
  return {
    implementation: flags.impl,
    seconds: flags.seconds,
    clients: flags.clients,
    keys: flags.keys,
    watchers: flags.watchers,
    thinkTimeMsMax: flags["think-ms"],
    requestTimeoutMs: flags["request-timeout-ms"],
    seed: flags.seed === 0 ? randomInt(1, 2 ** 31) : flags.seed,
    plantStaleReads: flags.plant === "stale-reads",
    runId: randomInt(0, 36 ** 6).toString(36).padStart(6, "0"),
    workRoot,
    keepArtifacts: flags.keep,
    log,
  };
}

async function runAll(flags: ChaosFlags): Promise<ScenarioResult[]> {
  const plan = choosePlan({ full: flags.full, plant: flags.plant, only: flags.only });
  const workRoot = mkdtempSync(join(tmpdir(), "flotilla-chaos-"));
  const settings = settingsFrom(flags, workRoot);
  // An interrupted run leaves half-written data directories and logs: remove them all.
  const unregisterWorkRoot = registerCleanup(`remove ${workRoot}`, () => rmSync(workRoot, { recursive: true, force: true }));
  const budgetSeconds = plan.scenarios.length * (settings.seconds + overheadSecondsPerScenario);
  log(`chaos-store: ${settings.implementation}, ${plan.description}`);
  log(`  ${plan.scenarios.map(scenarioName).join(", ")}; ${settings.seconds} s of faults each, about ${Math.ceil(budgetSeconds / 60)} min in all`);
  log(`  ${settings.clients} clients, ${settings.keys} keys, ${settings.watchers} watchers, ${settings.requestTimeoutMs} ms deadlines; seed ${settings.seed} (replay the fault plan with --seed ${settings.seed})`);
  const results: ScenarioResult[] = [];
  for (const [index, spec] of plan.scenarios.entries()) {
    log(`\n== scenario ${index + 1}/${plan.scenarios.length}: ${spec.size} members, ${spec.kind} (${settings.implementation}) ==`);
    const result = await runScenario(spec, index, settings);
    log(formatScenario(result));
    results.push(result);
  }
  unregisterWorkRoot();
  if (readdirSync(workRoot).length === 0) rmSync(workRoot, { recursive: true, force: true });
  return results;
}

/** Plant mode passes when the checker reports a violation that names a planted read. */
function plantVerdict(results: readonly ScenarioResult[]): number {
  const planted = results.reduce((sum, result) => sum + result.plantedReads, 0);
  const caught = results.flatMap((result) => result.plantedInViolation);
  if (planted === 0) {
    log("\nPLANT NOT EXERCISED: no stale read was planted (no isolation happened during the load)");
    return 1;
  }
  if (caught.length === 0) {
    log(`\nPLANT MISSED: ${planted} stale reads were planted and the checker named none of them`);
    return 1;
  }
  const control = results.map((result) => result.statusWithoutPlanted).filter((status) => status !== undefined);
  if (control.some((status) => status !== "linearizable")) {
    log(`\nPLANT INCONCLUSIVE: the history without the planted reads is not linearizable either (${control.join(", ")}): the violation may not be the plant's`);
    return 1;
  }
  log(`\nPLANT CAUGHT: ${planted} stale reads planted; the linearizability check names planted reads history[${caught.slice(0, 5).join("], history[")}] in its violations, and without them the history is linearizable`);
  return 0;
}

function verdict(results: readonly ScenarioResult[]): number {
  const anomalies = results.reduce((sum, result) => sum + scenarioAnomalies(result).length, 0);
  const inconclusive = results.reduce((sum, result) => sum + inconclusiveKeys(result).length, 0);
  if (anomalies > 0) {
    log(`\nFAIL: ${anomalies} anomalies`);
    return 1;
  }
  if (inconclusive > 0) {
    log(`\nINCONCLUSIVE: the checker ran out of budget on ${inconclusive} keys`);
    return 1;
  }
  log("\nPASS: 0 anomalies");
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let flags: ChaosFlags;
  try {
    const parsed = parseFlags(chaosFlagSpecs, argv);
    if (parsed.help) {
      log(flagsHelp("node --import tsx test/chaos/main.ts [flags]", chaosFlagSpecs));
      return 0;
    }
    flags = parsed.values;
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`chaos-store: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const problem = preflight(flags);
  if (problem !== undefined) {
    process.stderr.write(`chaos-store: ${problem}\n`);
    return 2;
  }
  installCleanupHandlers();
  try {
    const results = await runAll(flags);
    log(`\n== summary (${flags.impl}) ==\n${formatSummary(results)}`);
    return flags.plant === "stale-reads" ? plantVerdict(results) : verdict(results);
  } finally {
    sweepAll();
  }
}

// Exit explicitly: a gRPC channel or timer left behind must not keep a finished run alive.
process.exit(await main(process.argv.slice(2)));
