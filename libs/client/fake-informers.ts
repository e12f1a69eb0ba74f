/**
 * Fakes of the rest of the controller contract, fed from a FakeClient: informers whose caches
 * follow the client's store (synced at once; `hold()` makes them lag behind so tests can show what
 * expectations are for), a manual WorkQueue that records what was enqueued and when, and an
 * EventRecorder that keeps every event. `fakeControllerContext()` wires them together.
 */
import { parseFieldSelector, parseSelector, Selector } from "../api/index.ts";
import type { KubeObject } from "../api/index.ts";
import { FakeClient, objectKey, resourceKey } from "./fake.ts";
import type { FakeChange } from "./fake.ts";
import type { ControllerContext, EventRecorder, Informer, InformerFactory, InformerHandlers, Resource, WorkQueue } from "./types.ts";

/** Changes a held factory keeps before a test must release them: a bound against runaway tests. */
export const heldChangesMax = 100_000;

export class FakeInformer<T extends KubeObject> implements Informer<T> {
  readonly synced: Promise<void> = Promise.resolve();
  readonly #cache = new Map<string, T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #indexers = new Map<string, (object: T) => string[]>();
  readonly #filter: (object: KubeObject) => boolean;

  constructor(initial: T[], filter: (object: KubeObject) => boolean) {
    this.#filter = filter;
    for (const object of initial) if (filter(object)) this.#cache.set(objectKey(object), object);
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
    // Like client-go, a late handler hears an add for everything already in the cache.
    for (const object of this.#cache.values()) handlers.onAdd?.(object);
  }

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  listMatching(namespace: string | undefined, labelSelector: string): T[] {
    const selector = labelSelector === "" ? Selector.everything() : parseSelector(labelSelector);
    return this.list().filter((object) => (namespace === undefined || object.metadata.namespace === namespace) && selector.matches(object.metadata.labels));
  }

  addIndex(name: string, indexer: (object: T) => string[]): void {
    this.#indexers.set(name, indexer);
  }

  byIndex(name: string, value: string): T[] {
    const indexer = this.#indexers.get(name);
    if (indexer === undefined) throw new Error(`no index named ${name}`);
    return this.list().filter((object) => indexer(object).includes(value));
  }

  /** Applies one change from the client's store and tells the handlers. */
  deliver(change: FakeChange): void {
    const object = change.object as T;
    const key = objectKey(object);
    const previous = this.#cache.get(key);
    if (change.type === "DELETED" || !this.#filter(object)) {
      if (previous === undefined) return;
      this.#cache.delete(key);
      for (const handlers of this.#handlers) handlers.onDelete?.(previous);
      return;
    }
    this.#cache.set(key, object);
    for (const handlers of this.#handlers) {
      if (previous === undefined) handlers.onAdd?.(object);
      else handlers.onUpdate?.(previous, object);
    }
  }
}

function informerFilter(options: { namespace?: string; fieldSelector?: string; labelSelector?: string } | undefined): (object: KubeObject) => boolean {
  const labels = options?.labelSelector === undefined || options.labelSelector === "" ? Selector.everything() : parseSelector(options.labelSelector);
  const fields = options?.fieldSelector === undefined || options.fieldSelector === "" ? undefined : parseFieldSelector(options.fieldSelector);
  return (object) => {
    if (options?.namespace !== undefined && object.metadata.namespace !== options.namespace) return false;
    if (!labels.matches(object.metadata.labels)) return false;
    if (fields === undefined) return true;
    const values: Record<string, string> = {};
    for (const requirement of fields.requirements) values[requirement.field] = fieldValue(object, requirement.field) ?? "";
    return fields.matches(values);
  };
}

function fieldValue(object: KubeObject, path: string): string | undefined {
  let value: unknown = object;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value === undefined || value === null ? "" : String(value as string | number | boolean);
}

export class FakeInformerFactory implements InformerFactory {
  readonly #client: FakeClient;
  readonly #informers: { resource: Resource; informer: FakeInformer<KubeObject> }[] = [];
  readonly #shared = new Map<string, FakeInformer<KubeObject>>();
  #held: FakeChange[] | undefined;

  constructor(client: FakeClient) {
    this.#client = client;
    client.subscribe((change) => {
      if (this.#held === undefined) {
        this.#deliver(change);
        return;
      }
      if (this.#held.length >= heldChangesMax) throw new Error("fake informers held too many changes: release() them");
      this.#held.push(change);
    });
  }

  informerFor<T extends KubeObject>(resource: Resource, options?: { namespace?: string; fieldSelector?: string; labelSelector?: string }): Informer<T> {
    const sharedKey = `${resourceKey(resource)}|${options?.namespace ?? ""}|${options?.fieldSelector ?? ""}|${options?.labelSelector ?? ""}`;
    const existing = this.#shared.get(sharedKey);
    if (existing !== undefined) return existing as unknown as Informer<T>;
    const informer = new FakeInformer<KubeObject>(this.#client.storedAll(resource), informerFilter(options));
    this.#shared.set(sharedKey, informer);
    this.#informers.push({ resource, informer });
    return informer as unknown as Informer<T>;
  }

  start(_signal: AbortSignal): void {}

  /** From now on, changes wait in a buffer until release(): the caches lag behind the store. */
  hold(): void {
    this.#held ??= [];
  }

  /** Delivers the buffered changes in order and stops holding. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const change of held) this.#deliver(change);
  }

  #deliver(change: FakeChange): void {
    for (const { resource, informer } of this.#informers) {
      if (resourceKey(resource) === resourceKey(change.resource)) informer.deliver(change);
    }
  }
}

/** A WorkQueue driven by the test: keys wait in order, deduplicated; delays are only recorded. */
export class ManualQueue implements WorkQueue {
  readonly #keys: string[] = [];
  /** Keys given to addAfter, with their delays, in call order. */
  readonly delayed: { key: string; delayMs: number }[] = [];
  /** Keys given to requeueWithBackoff, in call order. */
  readonly backedOff: string[] = [];
  readonly forgotten: string[] = [];
  #shutDown = false;

  add(key: string): void {
    if (!this.#keys.includes(key)) this.#keys.push(key);
  }

  addAfter(key: string, delayMs: number): void {
    this.delayed.push({ key, delayMs });
  }

  requeueWithBackoff(key: string): void {
    this.backedOff.push(key);
  }

  forget(key: string): void {
    this.forgotten.push(key);
  }

  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    return Promise.resolve(this.#keys.shift());
  }

  done(_key: string): void {}

  shutDown(): void {
    this.#shutDown = true;
  }

  get length(): number {
    return this.#keys.length;
  }

  /** The keys waiting, in order. */
  pending(): string[] {
    return [...this.#keys];
  }

  /** Empties the queue and returns what was in it. */
  takeAll(): string[] {
    return this.#keys.splice(0, this.#keys.length);
  }
}

export interface RecordedEvent {
  kind: string;
  namespace: string | undefined;
  name: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export class FakeEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  record(object: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.push({ kind: object.kind ?? "", namespace: object.metadata.namespace, name: object.metadata.name ?? "", type, reason, message });
  }

  reasons(): string[] {
    return this.events.map((event) => event.reason);
  }
}

/** A controllable clock: tests move it forward explicitly. */
export class FakeClock {
  nowMs: number;

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  advance(deltaMs: number): void {
    this.nowMs += deltaMs;
  }
}

export interface FakeControllerContext {
  client: FakeClient;
  informers: FakeInformerFactory;
  queue: ManualQueue;
  events: FakeEventRecorder;
  clock: FakeClock;
  context: ControllerContext;
}

/** 2026-01-01T00:00:00Z: a round start so timestamps in expectations read well. */
export const fakeStartMs = Date.UTC(2026, 0, 1);

export function fakeControllerContext(startMs: number = fakeStartMs): FakeControllerContext {
  const clock = new FakeClock(startMs);
  const client = new FakeClient(() => clock.nowMs);
  const informers = new FakeInformerFactory(client);
  const queue = new ManualQueue();
  const events = new FakeEventRecorder();
  const context: ControllerContext = { client, informers, queue, events, nowMs: () => clock.nowMs };
  return { client, informers, queue, events, clock, context };
}

/** Reconciles queued keys until the queue is empty (bounded: a controller that never settles fails). */
export async function drainQueue(queue: ManualQueue, reconcile: (key: string) => Promise<void>, roundsMax = 1000): Promise<string[]> {
  const processed: string[] = [];
  for (let round = 0; round < roundsMax; round++) {
    const key = await queue.get();
    if (key === undefined) return processed;
    processed.push(key);
    await reconcile(key);
  }
  throw new Error(`queue did not drain within ${roundsMax} reconciles: ${queue.pending().join(", ")}`);
}
