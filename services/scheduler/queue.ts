/**
 * The scheduling queue, as kube-scheduler's PriorityQueue without priorities: pending pods wait
 * in the active queue (FIFO), in backoff (after a failed attempt, 1 s doubling to 10 s per pod), or
 * in the unschedulable pool, which only a cluster event that may help (core/requeue.ts) or
 * five minutes without one moves back to backoff or active. A pod that failed while an event
 * arrived during its attempt goes to backoff, not the pool, so the event is not lost.
 */
import { assert } from "../../libs/assert/index.ts";
import { mayBecomeSchedulable, podBackoffMs, type ClusterEvent, type Diagnosis } from "./core/index.ts";

/** Upstream's podMaxInUnschedulablePodsDuration: the pool is retried at least this often. */
export const unschedulableMaxMs = 5 * 60_000;

type State = "active" | "backoff" | "unschedulable" | "inFlight";

interface Entry {
  state: State;
  attempts: number;
  lastFailureMs: number;
  diagnosis: Diagnosis | undefined;
  /** The event count when the pod was popped: a failure after a newer event goes to backoff. */
  poppedAtEvent: number;
  /** Set when the pod changed while it was in flight: it goes back to active at `done`. */
  changedInFlight: boolean;
}

export class SchedulingQueue {
  readonly #nowMs: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #active: string[] = [];
  readonly #getters: ((key: string | undefined) => void)[] = [];
  #events = 0;
  #closed = false;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  /** Pods the queue holds, in any state. */
  get size(): number {
    return this.#entries.size;
  }

  stateOf(key: string): State | undefined {
    return this.#entries.get(key)?.state;
  }

  /** A pending pod appeared or its spec or labels changed: try it now. */
  add(key: string): void {
    if (this.#closed) return;
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#entries.set(key, { state: "active", attempts: 0, lastFailureMs: 0, diagnosis: undefined, poppedAtEvent: 0, changedInFlight: false });
      this.#push(key);
      return;
    }
    if (entry.state === "inFlight") entry.changedInFlight = true;
    else if (entry.state !== "active") this.#activate(key, entry);
  }

  /** The pod is bound or gone. */
  remove(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    if (entry.state === "active") this.#active.splice(this.#active.indexOf(key), 1);
  }

  /** The next pod to schedule; undefined once closed. */
  async pop(): Promise<string | undefined> {
    if (this.#closed) return undefined;
    const key = this.#active.shift();
    if (key !== undefined) return this.#take(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** The attempt failed because no node fits: park the pod until an event may help. */
  failedUnschedulable(key: string, diagnosis: Diagnosis): void {
    this.#failed(key, diagnosis);
  }

  /** The attempt failed for another reason (a bind error): retry after backoff. */
  failedWithError(key: string): void {
    this.#failed(key, undefined);
  }

  /** A pod whose bind failed after its attempt succeeded: retry it after a backoff. */
  addBackoff(key: string): void {
    if (this.#closed) return;
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.state !== "unschedulable") return;
    const attempts = (entry?.attempts ?? 0) + 1;
    this.#entries.set(key, { state: "backoff", attempts, lastFailureMs: this.#nowMs(), diagnosis: undefined, poppedAtEvent: 0, changedInFlight: false });
  }

  /** The attempt succeeded (the pod is assumed and its bind is on its way). */
  succeeded(key: string): void {
    this.remove(key);
  }

  /** A cluster change: parked pods it may help move to backoff or active. */
  onClusterEvent(event: ClusterEvent): void {
    this.#events++;
    for (const [key, entry] of this.#entries) {
      if (entry.state !== "unschedulable") continue;
      if (entry.diagnosis === undefined || mayBecomeSchedulable(entry.diagnosis, event)) this.#toBackoffOrActive(key, entry);
    }
  }

  /** Moves pods whose backoff ended to active, and pods parked too long to backoff or active. */
  flush(): void {
    const nowMs = this.#nowMs();
    for (const [key, entry] of this.#entries) {
      if (entry.state === "backoff" && this.#backoffEndsMs(entry) <= nowMs) this.#activate(key, entry);
      else if (entry.state === "unschedulable" && nowMs - entry.lastFailureMs >= unschedulableMaxMs) this.#toBackoffOrActive(key, entry);
    }
  }

  close(): void {
    this.#closed = true;
    for (const getter of this.#getters.splice(0)) getter(undefined);
  }

  #failed(key: string, diagnosis: Diagnosis | undefined): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    assert(entry.state === "inFlight", "only a popped pod reports the outcome of its attempt", () => key);
    entry.attempts++;
    entry.lastFailureMs = this.#nowMs();
    entry.diagnosis = diagnosis;
    if (entry.changedInFlight) {
      entry.changedInFlight = false;
      this.#activate(key, entry);
    } else if (diagnosis !== undefined && entry.poppedAtEvent === this.#events) {
      entry.state = "unschedulable";
    } else {
      entry.state = "backoff";
    }
  }

  #backoffEndsMs(entry: Entry): number {
    return entry.lastFailureMs + podBackoffMs(entry.attempts);
  }

  #toBackoffOrActive(key: string, entry: Entry): void {
    if (this.#backoffEndsMs(entry) > this.#nowMs()) entry.state = "backoff";
    else this.#activate(key, entry);
  }

  #activate(key: string, entry: Entry): void {
    entry.state = "active";
    this.#push(key);
  }

  #push(key: string): void {
    const getter = this.#getters.shift();
    if (getter !== undefined) getter(this.#take(key));
    else this.#active.push(key);
  }

  #take(key: string): string {
    const entry = this.#entries.get(key);
    assert(entry !== undefined && entry.state === "active", "only active pods are handed out", () => key);
    entry.state = "inFlight";
    entry.poppedAtEvent = this.#events;
    entry.changedInFlight = false;
    return key;
  }
}
