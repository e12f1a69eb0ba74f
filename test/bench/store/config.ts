/**
 * What one `make bench-store` run does: which implementations, how much work, and the bounds on
 * each phase. Counts and time bounds scale together with BENCH_SCALE, so a scaled run still ends.
 */
import { parseArgs } from "node:util";
import type { StoreImplementation } from "../../harness/store-cluster.ts";

export interface BenchSizes {
  readonly sequentialPuts: number;
  readonly concurrentPuts: number;
  readonly gets: number;
  /** Keys written before the get phase, read round-robin by it. */
  readonly getKeys: number;
  readonly watchers: number;
  readonly watchEvents: number;
  readonly failoverRounds: number;
  /** Upper bound on each load phase's wall time (sequential, put, get, watch). */
  readonly phaseDurationMsMax: number;
}

export interface BenchOptions {
  readonly implementations: readonly StoreImplementation[];
  readonly scale: number;
  readonly sizes: BenchSizes;
}

/** Members per cluster: the issue compares 3-member clusters. */
export const clusterSize = 3;
/** Requests outstanding in the put and get phases (etcd's benchmark --clients). */
export const loadInFlight = 128;
/** Client objects the in-flight requests are spread over (etcd's benchmark --conns). */
export const loadClients = 16;
export const valueBytes = 100;
/**
 * Requests before each measured phase, not counted: connections, caches and, for flotilla, V8's
 * JIT. 200 was too few for a JIT: a member's request path was still partly in V8's baseline tier
 * after it, so the figure was a start-up transient rather than what a running member delivers
 * (FINDINGS.md "Warm-up"). Both implementations get the same warm-up.
 */
export const warmupOperations = 2000;
/** Puts the watch writer keeps outstanding, so the event rate is not one put latency at a time. */
export const watchWriterInFlight = 16;
export const scaleMin = 0.01;
export const scaleMax = 100;

const baseSizes: BenchSizes = {
  sequentialPuts: 2000,
  concurrentPuts: 20_000,
  gets: 40_000,
  getKeys: 1000,
  watchers: 8,
  watchEvents: 5000,
  failoverRounds: 3,
  phaseDurationMsMax: 30_000,
};

export function scaledSizes(scale: number): BenchSizes {
  const count = (base: number): number => Math.max(1, Math.round(base * scale));
  return {
    sequentialPuts: count(baseSizes.sequentialPuts),
    concurrentPuts: count(baseSizes.concurrentPuts),
    gets: count(baseSizes.gets),
    getKeys: count(baseSizes.getKeys),
    watchers: baseSizes.watchers,
    watchEvents: count(baseSizes.watchEvents),
    failoverRounds: baseSizes.failoverRounds,
    // A small scale keeps the full bound: it is a ceiling, and a slow store must still finish.
    phaseDurationMsMax: Math.round(baseSizes.phaseDurationMsMax * Math.max(1, scale)),
  };
}

export function parseScale(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return 1;
  const scale = Number(text);
  if (!Number.isFinite(scale) || scale < scaleMin || scale > scaleMax) {
    throw new Error(`BENCH_SCALE must be a number from ${scaleMin} to ${scaleMax}, got "${text}"`);
  }
  return scale;
}

export function parseImplementations(text: string): StoreImplementation[] {
  if (text === "both") return ["flotilla", "etcd"];
  if (text === "flotilla" || text === "etcd") return [text];
  throw new Error(`--impl must be flotilla, etcd or both, got "${text}"`);
}

export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({ args: [...argv], options: { impl: { type: "string", default: "both" } }, strict: true, allowPositionals: false });
  const scale = parseScale(env["BENCH_SCALE"]);
  return { implementations: parseImplementations(values.impl), scale, sizes: scaledSizes(scale) };
}
