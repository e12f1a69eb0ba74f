/**
 * One monotonic clock per scenario (process.hrtime, never the wall clock, which may step), in
 * milliseconds since the scenario began. Operations, faults and watch events all use it, so
 * their times compare directly.
 */
export class ScenarioClock {
  readonly #originNs = process.hrtime.bigint();

  nowMs(): number {
    return Number(process.hrtime.bigint() - this.#originNs) / 1e6;
  }
}

/** Resolves after `ms`; for pacing load and holding faults, never as a stand-in for a condition. */
export async function sleepMs(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
