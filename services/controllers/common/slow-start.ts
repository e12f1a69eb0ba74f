/**
 * Creation in growing batches (pkg/controller slowStartBatch): 1, 2, 4, ... calls at a time, and
 * stop at the first batch with a failure, so a controller that cannot create (quota, a bad
 * template) makes one failing call instead of hundreds.
 */

export interface SlowStartResult {
  successes: number;
  /** Calls never made because an earlier batch failed. */
  skipped: number;
  errors: unknown[];
}

export async function slowStartBatch(count: number, initialBatchSize: number, call: (index: number) => Promise<void>): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  let index = 0;
  for (let batchSize = Math.min(remaining, initialBatchSize); batchSize > 0; batchSize = Math.min(2 * batchSize, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batchSize }, () => call(index++)));
    const errors = results.filter((result) => result.status === "rejected").map((result) => (result as PromiseRejectedResult).reason as unknown);
    successes += batchSize - errors.length;
    remaining -= batchSize;
    if (errors.length > 0) return { successes, skipped: remaining, errors };
  }
  return { successes, skipped: 0, errors: [] };
}
