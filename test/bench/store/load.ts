/**
 * A closed-loop load generator: `inFlight` workers each issue one operation, wait for it, and
 * issue the next, until `operationsMax` were issued, `durationMsMax` passed, or too many failed.
 * This is how etcd's benchmark tool drives load (its --clients), so throughput is what the store
 * sustains with that many requests outstanding, not an offered rate.
 */
import { assert } from "../../../libs/assert/index.ts";

export interface ClosedLoopOptions {
  readonly inFlight: number;
  readonly operationsMax: number;
  readonly durationMsMax: number;
  /** One request; `index` runs from 0 to operationsMax - 1, each issued once. */
  readonly operation: (index: number) => Promise<void>;
  readonly nowMs: () => number;
}

export type StopReason = "count" | "time" | "errors";

export interface ClosedLoopResult {
  readonly completed: number;
  readonly failed: number;
  readonly elapsedMs: number;
  /** Latency of each completed operation, in completion order. */
  readonly latenciesMs: Float64Array;
  readonly stoppedBy: StopReason;
  readonly firstError: string | undefined;
}

/** Past this many failed operations a run stops: the store is down, not slow. */
export const failedOperationsMax = 100;
/** Bound on workers, so that a typo in a flag cannot open a million streams. */
export const inFlightMax = 4096;

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  assert(options.inFlight >= 1 && options.inFlight <= inFlightMax, "closed loop in-flight within bounds", () => String(options.inFlight));
  assert(options.operationsMax >= 0 && Number.isSafeInteger(options.operationsMax), "closed loop operation count is an integer");
  const startedAtMs = options.nowMs();
  const deadlineMs = startedAtMs + options.durationMsMax;
  const latenciesMs = new Float64Array(options.operationsMax);
  const state = { issued: 0, completed: 0, failed: 0, stoppedBy: "count" as StopReason, firstError: undefined as string | undefined };

  const worker = async (): Promise<void> => {
    while (state.issued < options.operationsMax) {
      if (state.failed >= failedOperationsMax) return void (state.stoppedBy = "errors");
      if (options.nowMs() >= deadlineMs) return void (state.stoppedBy = "time");
      const index = state.issued++;
      const operationStartMs = options.nowMs();
      try {
        await options.operation(index);
        latenciesMs[state.completed++] = options.nowMs() - operationStartMs;
      } catch (error) {
        state.failed++;
        state.firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(options.inFlight, Math.max(options.operationsMax, 1)); i++) workers.push(worker());
  await Promise.all(workers);
  return {
    completed: state.completed,
    failed: state.failed,
    elapsedMs: options.nowMs() - startedAtMs,
    latenciesMs: latenciesMs.subarray(0, state.completed),
    stoppedBy: state.stoppedBy,
    firstError: state.firstError,
  };
}
