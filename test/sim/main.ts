/**
 * CLI of the Raft simulator:
 *   node --import tsx test/sim/main.ts --seeds N [--from F] [--seed S] [--replicas 3|5|3,5]
 *                                      [--steps K] [--plant BUG] [--workaround NAME] [--trace EVENTS]
 * Runs seeds F..F+N-1 (F defaults to 1; only S with --seed) for each replica count, prints a one-line summary, and for each
 * failing seed the command that replays it and the last events of its trace. Exits 1 on failure.
 */
import { parseArgs } from "node:util";
import { isPlantName, isWorkaroundName, plantDescriptions, workaroundDescriptions } from "./plants.ts";
import type { PlantName, WorkaroundName } from "./plants.ts";
import { simulate } from "./simulate.ts";
import type { SimulationResult } from "./simulate.ts";

/** Ticks of faults per seed: sized so that 300 seeds of 3 and of 5 replicas fit `make test`. */
export const defaultSteps = 1000;
export const defaultTraceEvents = 60;
/** Failing seeds whose traces are printed in full; the rest are listed by seed only. */
export const printedFailuresMax = 3;

interface CliOptions {
  seeds: number[];
  replicas: number[];
  steps: number;
  plants: Set<PlantName>;
  workarounds: Set<WorkaroundName>;
  traceEvents: number;
  single: boolean;
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: "string", default: "100" },
      seed: { type: "string" },
      from: { type: "string", default: "1" },
      replicas: { type: "string", default: "3,5" },
      steps: { type: "string", default: String(defaultSteps) },
      plant: { type: "string", multiple: true, default: [] },
      workaround: { type: "string", multiple: true, default: [] },
      trace: { type: "string", default: String(defaultTraceEvents) },
    },
    strict: true,
  });
  const seedCount = positiveInteger("--seeds", values.seeds);
  const single = values.seed !== undefined;
  const from = integer("--from", values.from);
  const seeds = single ? [integer("--seed", values.seed ?? "")] : Array.from({ length: seedCount }, (_, i) => from + i);
  const replicas = values.replicas.split(",").map((text) => positiveInteger("--replicas", text));
  for (const count of replicas) if (count !== 3 && count !== 5) throw new Error(`--replicas takes 3, 5 or 3,5, got ${count}`);
  const plants = new Set<PlantName>();
  for (const name of values.plant) {
    if (!isPlantName(name)) throw new Error(`--plant: unknown bug ${JSON.stringify(name)}; known: ${Object.keys(plantDescriptions).join(", ")}`);
    plants.add(name);
  }
  const workarounds = new Set<WorkaroundName>();
  for (const name of values.workaround) {
    if (!isWorkaroundName(name)) throw new Error(`--workaround: unknown name ${JSON.stringify(name)}; known: ${Object.keys(workaroundDescriptions).join(", ")}`);
    workarounds.add(name);
  }
  const steps = positiveInteger("--steps", values.steps);
  return { seeds, replicas, steps, plants, workarounds, traceEvents: positiveInteger("--trace", values.trace), single };
}

function integer(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${flag} takes an integer, got ${JSON.stringify(text)}`);
  return value;
}

function positiveInteger(flag: string, text: string): number {
  const value = integer(flag, text);
  if (value < 1) throw new Error(`${flag} takes a positive integer, got ${value}`);
  return value;
}

function replayCommand(result: SimulationResult, cli: CliOptions): string {
  const { seed, replicas, steps } = result.options;
  const parts = ["node --import tsx test/sim/main.ts", `--seed ${seed}`, `--replicas ${replicas}`];
  if (steps !== defaultSteps) parts.push(`--steps ${steps}`);
  for (const plant of cli.plants) parts.push(`--plant ${plant}`);
  for (const workaround of cli.workarounds) parts.push(`--workaround ${workaround}`);
  return parts.join(" ");
}

function printFailure(result: SimulationResult, cli: CliOptions): void {
  const failure = result.failure;
  if (failure === undefined) return;
  console.log(`\nFAIL seed ${result.options.seed} (${result.options.replicas} replicas) at tick ${failure.tick}: ${failure.invariant}`);
  console.log(`  ${failure.detail.split("\n").join("\n  ")}`);
  console.log(`  replay: ${replayCommand(result, cli)}`);
  console.log(`  ${result.summary}`);
  console.log(`  settings ${result.settings}`);
  console.log(`  last ${cli.traceEvents} events:`);
  for (const line of result.trace.lines(cli.traceEvents)) console.log(`    ${line}`);
}

function main(): number {
  const cli = parseCli(process.argv.slice(2));
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const failures: SimulationResult[] = [];
  const runsByReplicas = new Map<number, number>();
  for (const plant of cli.plants) console.log(`planted bug ${plant}: ${plantDescriptions[plant]}`);
  for (const name of cli.workarounds) console.log(`workaround ${name}: ${workaroundDescriptions[name]}`);
  for (const replicas of cli.replicas) {
    for (const seed of cli.seeds) {
      const result = simulate({ seed, replicas, steps: cli.steps, plants: cli.plants, workarounds: cli.workarounds });
      runsByReplicas.set(replicas, (runsByReplicas.get(replicas) ?? 0) + 1);
      if (result.failure !== undefined) {
        failures.push(result);
        if (failures.length <= printedFailuresMax) printFailure(result, cli);
      } else if (cli.single) {
        console.log(`seed ${seed} (${replicas} replicas) passed: ${result.summary}`);
        for (const line of result.trace.lines(cli.traceEvents)) console.log(`    ${line}`);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const runs = [...runsByReplicas.values()].reduce((sum, count) => sum + count, 0);
  const perReplicas = [...runsByReplicas].map(([replicas, count]) => `${count}x${replicas} replicas`).join(", ");
  if (failures.length > printedFailuresMax) {
    console.log(`\n${failures.length - printedFailuresMax} more failing seeds: ${failures.slice(printedFailuresMax).map((f) => `${f.options.seed}/${f.options.replicas}r (${f.failure?.invariant ?? ""})`).join(", ")}`);
  }
  console.log(
    `sim: ${runs} seeds (${perReplicas}), ${cli.steps} steps each, ${failures.length} failures, ` +
      `${seconds.toFixed(1)} s wall, ${(runs / seconds).toFixed(1)} seeds/s, ${((seconds * 1000) / runs).toFixed(0)} ms/seed ` +
      `(cpu ${cpuSeconds.toFixed(1)} s, ${((cpuSeconds * 1000) / runs).toFixed(0)} ms/seed)`,
  );
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main();
