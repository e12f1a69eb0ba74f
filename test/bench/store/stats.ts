/** Latency summaries for the store benchmark: nearest-rank percentiles over every sample. */
import { assert } from "../../../libs/assert/index.ts";

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * The nearest-rank percentile of ascending `sortedMs`: the smallest sample such that at least
 * `fraction` of all samples are at or below it (so p99 of 100 samples is the 99th, not the max).
 */
export function percentile(sortedMs: ArrayLike<number>, fraction: number): number {
  assert(sortedMs.length > 0, "percentile of a non-empty sample");
  assert(fraction > 0 && fraction <= 1, "percentile fraction in (0, 1]", () => String(fraction));
  const rank = Math.ceil(fraction * sortedMs.length);
  return sortedMs[rank - 1] as number;
}

/** Mean, p50, p99 and max of the samples; undefined when there are none. */
export function summarize(samplesMs: ArrayLike<number>): LatencySummary | undefined {
  if (samplesMs.length === 0) return undefined;
  const sorted = Float64Array.from(samplesMs).sort();
  let totalMs = 0;
  for (const sampleMs of sorted) totalMs += sampleMs;
  return {
    count: sorted.length,
    meanMs: totalMs / sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] as number,
  };
}

/** Operations per second over a wall-clock interval; 0 when nothing completed or no time passed. */
export function ratePerSecond(operations: number, elapsedMs: number): number {
  if (operations === 0 || elapsedMs <= 0) return 0;
  return (operations * 1000) / elapsedMs;
}
