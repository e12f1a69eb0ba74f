/**
 * A deduplicating, rate-limited work queue of keys, as client-go's workqueue: a key waits at most
 * once (dirty set), a key being processed is not handed to a second worker (processing set; an
 * add meanwhile is replayed at `done`), and `requeueWithBackoff` delays by the larger of a
 * per-key exponential backoff (5 ms doubling to 1000 s) and an overall token bucket (10 per
 * second, burst 100): client-go's DefaultControllerRateLimiter.
 */
import { assert } from "../assert/index.ts";
import type { WorkQueue } from "./types.ts";

export const backoffBaseMs = 5;
export const backoffMaxMs = 1_000_000;
export const bucketRatePerSecond = 10;
export const bucketBurst = 100;

/** A clock the queue reads and schedules with; tests pass a manual one. */
export interface QueueClock {
  nowMs(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: QueueClock = {
  nowMs: () => Date.now(),
  setTimer: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs);
    handle.unref();
    return handle;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** client-go's ItemExponentialFailureRateLimiter: base × 2^failures, capped. */
export function backoffDelayMs(failures: number, baseMs = backoffBaseMs, maxMs = backoffMaxMs): number {
  assert(failures >= 0, "failure count is not negative");
  // 2^60 already exceeds any cap in milliseconds; stop doubling there so the number stays finite.
  const exponent = Math.min(failures, 60);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

/** A token bucket (golang.org/x/time/rate's reservation): the delay until the next token is ours. */
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    assert(ratePerSecond > 0 && burst >= 1, "a token bucket has a positive rate and burst");
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** Takes one token (possibly going into debt) and returns how long its holder must wait. */
  reserve(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = Math.max(this.#lastMs, nowMs);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsedMs * this.#ratePerSecond) / 1000);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#ratePerSecond);
  }
}

export interface WorkQueueOptions {
  readonly clock?: QueueClock;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly bucketRatePerSecond?: number;
  readonly bucketBurst?: number;
}

export class RateLimitingQueue implements WorkQueue {
  readonly #clock: QueueClock;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #bucket: TokenBucket;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  /** Keys waiting for a delay: the earliest time they are due and the timer that adds them. */
  readonly #waiting = new Map<string, { readonly dueMs: number; readonly timer: unknown }>();
  readonly #getters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#baseMs = options.backoffBaseMs ?? backoffBaseMs;
    this.#maxMs = options.backoffMaxMs ?? backoffMaxMs;
    this.#bucket = new TokenBucket(options.bucketRatePerSecond ?? bucketRatePerSecond, options.bucketBurst ?? bucketBurst, this.#clock.nowMs());
  }

  get length(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** How many times `key` was requeued with backoff since its last `forget`. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    // A key in processing is queued again by done(), so two workers never hold it at once.
    if (this.#processing.has(key)) return;
    this.#handOut(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueMs = this.#clock.nowMs() + delayMs;
    const waiting = this.#waiting.get(key);
    // As client-go: a key already waiting keeps the earlier of its two due times.
    if (waiting !== undefined) {
      if (waiting.dueMs <= dueMs) return;
      this.#clock.clearTimer(waiting.timer);
    }
    const timer = this.#clock.setTimer(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { dueMs, timer });
  }

  requeueWithBackoff(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const itemDelayMs = backoffDelayMs(failures, this.#baseMs, this.#maxMs);
    const bucketDelayMs = this.#bucket.reserve(this.#clock.nowMs());
    this.addAfter(key, Math.max(itemDelayMs, bucketDelayMs));
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  async get(): Promise<string | undefined> {
    if (this.#shuttingDown) return undefined;
    const key = this.#queue.shift();
    if (key !== undefined) return this.#take(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    assert(this.#processing.has(key), "done() is called only for a key handed out by get()", () => key);
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#handOut(key);
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimer(timer);
    this.#waiting.clear();
    for (const getter of this.#getters.splice(0)) getter(undefined);
  }

  #take(key: string): string {
    this.#dirty.delete(key);
    this.#processing.add(key);
    return key;
  }

  #handOut(key: string): void {
    const getter = this.#getters.shift();
    if (getter !== undefined) getter(this.#take(key));
    else this.#queue.push(key);
  }
}
