/**
 * Records core/v1 Events as client-go's event recorder does: an event identical to one already
 * written (same object, type, reason, message and source) bumps that Event's count and
 * lastTimestamp instead of making a new one. Writes happen in the background, one at a time,
 * from a bounded queue: recording never blocks or fails the caller (events are best effort).
 */
import { findResource, formatTime, isStatusError, type Event, type KubeObject, type ObjectReference } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import type { ApiClient, EventRecorder, Resource } from "./types.ts";

/** Events waiting to be written; more are dropped (and logged), as client-go's broadcaster does. */
export const pendingEventsMax = 1_000;
/** Distinct events remembered for deduplication (least recently used ones are forgotten). */
export const dedupEntriesMax = 4_096;

const eventsResource = findResource("", "v1", "events");

export interface EventRecorderOptions {
  /** source.component and reportingComponent, e.g. `default-scheduler`. */
  readonly component: string;
  /** source.host and reportingInstance. */
  readonly instance?: string;
  readonly nowMs?: () => number;
  readonly logger?: Logger;
}

interface Remembered {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

interface Pending {
  readonly object: KubeObject;
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
  readonly atMs: number;
}

function referenceTo(object: KubeObject): ObjectReference {
  const reference: ObjectReference = {};
  if (object.kind !== undefined) reference.kind = object.kind;
  if (object.apiVersion !== undefined) reference.apiVersion = object.apiVersion;
  if (object.metadata.namespace !== undefined) reference.namespace = object.metadata.namespace;
  if (object.metadata.name !== undefined) reference.name = object.metadata.name;
  if (object.metadata.uid !== undefined) reference.uid = object.metadata.uid;
  if (object.metadata.resourceVersion !== undefined) reference.resourceVersion = object.metadata.resourceVersion;
  return reference;
}

export class ApiEventRecorder implements EventRecorder {
  readonly #client: ApiClient;
  readonly #events: Resource;
  readonly #options: EventRecorderOptions;
  readonly #nowMs: () => number;
  readonly #pending: Pending[] = [];
  /** Insertion-ordered: the first entry is the least recently used. */
  readonly #seen = new Map<string, Remembered>();
  #draining: Promise<void> | undefined;
  #stopped = false;
  #overflowing = false;
  dropped = 0;

  constructor(client: ApiClient, options: EventRecorderOptions) {
    if (eventsResource === undefined) throw new Error("the registry has no core/v1 events");
    this.#client = client;
    this.#events = eventsResource;
    this.#options = options;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  record(object: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    if (this.#stopped) return;
    if (this.#pending.length >= pendingEventsMax) {
      // One warning per overflow episode, not one per dropped event.
      if (!this.#overflowing) this.#options.logger?.warn({ reason, pendingEventsMax }, "event queue full; dropping events until it drains");
      this.#overflowing = true;
      this.dropped++;
      return;
    }
    if (this.#pending.length === 0) this.#overflowing = false;
    this.#pending.push({ object, type, reason, message, atMs: this.#nowMs() });
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  /**
   * Drops what is still pending and records nothing more; resolves once the write in flight ends.
   * Called when the recording component stops, so that no write outlives it.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pending.length = 0;
    await this.flush();
  }

  /** Resolves once every event recorded so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  async #drain(): Promise<void> {
    for (let event = this.#pending.shift(); event !== undefined; event = this.#pending.shift()) {
      try {
        await this.#write(event);
      } catch (error) {
        this.#options.logger?.warn({ err: error, reason: event.reason }, "writing an event failed");
      }
    }
  }

  #dedupKey(event: Pending): string {
    const reference = referenceTo(event.object);
    return JSON.stringify([reference.kind, reference.namespace, reference.name, reference.uid, event.type, event.reason, event.message, this.#options.component, this.#options.instance]);
  }

  async #write(event: Pending): Promise<void> {
    const key = this.#dedupKey(event);
    const remembered = this.#seen.get(key);
    const timestamp = formatTime(event.atMs);
    if (remembered !== undefined) {
      this.#seen.delete(key);
      this.#seen.set(key, remembered);
      try {
        await this.#client.patch(this.#events, remembered.namespace, remembered.name, "merge", { count: remembered.count + 1, lastTimestamp: timestamp });
        remembered.count++;
        return;
      } catch (error) {
        // The Event was deleted (or expired): write it afresh below.
        if (!isStatusError(error, "NotFound")) throw error;
        this.#seen.delete(key);
      }
    }
    await this.#create(key, event, timestamp);
  }

  async #create(key: string, event: Pending, timestamp: string): Promise<void> {
    const namespace = event.object.metadata.namespace ?? "default";
    // Upstream's name: the object's name and the time in nanoseconds, in hex.
    const name = `${event.object.metadata.name ?? "object"}.${(BigInt(event.atMs) * 1_000_000n + BigInt(this.#seen.size)).toString(16)}`;
    const body: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: referenceTo(event.object),
      reason: event.reason,
      message: event.message,
      type: event.type,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.#options.component, ...(this.#options.instance === undefined ? {} : { host: this.#options.instance }) },
      reportingComponent: this.#options.component,
      reportingInstance: this.#options.instance ?? "",
    };
    await this.#client.create(this.#events, body);
    this.#seen.set(key, { namespace, name, count: 1 });
    while (this.#seen.size > dedupEntriesMax) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }
}
