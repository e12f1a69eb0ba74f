/**
 * CrashLoopBackOff as the kubelet does it (flowcontrol.Backoff keyed by pod and container): the
 * first restart is immediate; each later one waits 10 s, doubling to 5 min; an entry untouched for
 * 10 min (the container ran that long) starts over at 10 s. Time is passed in.
 */

export const crashLoopInitialDelayMs = 10_000;
export const crashLoopMaxDelayMs = 300_000;
/** Twice the maximum, as upstream: a container that ran this long has its backoff reset. */
export const crashLoopResetAfterMs = 2 * crashLoopMaxDelayMs;
/** Bound on tracked containers; the oldest entries go first when it is reached. */
export const backoffEntriesMax = 100_000;

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class CrashLoopBackoff {
  readonly #entries = new Map<string, Entry>();

  /**
   * Whether a restart of `key`, whose last instance finished at finishedAtMs, must still wait at
   * nowMs; the remaining delay is in the result. A restart that may go ahead is recorded (the next
   * delay doubles), so call this only when about to restart.
   */
  tryRestart(key: string, finishedAtMs: number, nowMs: number): { allowed: true } | { allowed: false; delayMs: number; remainingMs: number } {
    const entry = this.#entries.get(key);
    if (entry !== undefined && nowMs - finishedAtMs < entry.delayMs && finishedAtMs - entry.lastUpdateMs <= crashLoopResetAfterMs) {
      return { allowed: false, delayMs: entry.delayMs, remainingMs: entry.delayMs - (nowMs - finishedAtMs) };
    }
    this.#next(key, finishedAtMs);
    return { allowed: true };
  }

  /** The delay a restart after a failure at finishedAtMs would wait now, without recording anything. */
  currentDelayMs(key: string): number | undefined {
    return this.#entries.get(key)?.delayMs;
  }

  #next(key: string, eventMs: number): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || eventMs - entry.lastUpdateMs > crashLoopResetAfterMs) {
      if (entry === undefined && this.#entries.size >= backoffEntriesMax) {
        const oldest = this.#entries.keys().next();
        if (oldest.done !== true) this.#entries.delete(oldest.value);
      }
      this.#entries.set(key, { delayMs: crashLoopInitialDelayMs, lastUpdateMs: eventMs });
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, crashLoopMaxDelayMs);
    entry.lastUpdateMs = eventMs;
  }

  /** Forgets every key starting with `prefix` (a pod's uid when the pod goes). */
  forget(prefix: string): void {
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}
