/**
 * List+watch informers, as client-go's reflector and indexer: list (in pages), then watch from
 * the list's resourceVersion with bookmarks; a watch that ends is resumed from the last
 * resourceVersion seen; 410 Gone relists and synthesizes deletes for objects that vanished
 * meanwhile; errors back off exponentially (bounded). Handlers only enqueue keys; a handler added
 * after the first list is replayed the cache as adds.
 */
import { isStatusError, parseSelector, type KubeObject, type Status, type WatchEvent } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import type { ApiClient, Informer, InformerFactory, InformerHandlers, Resource } from "./types.ts";
import { sleepOrAbort } from "./sleep.ts";

/** Objects per list page. */
export const listPageItems = 500;
/** Pages in one list before it is refused (500 000 objects). */
export const listPagesMax = 1_000;
/** Server-side timeout asked of each watch; the informer re-watches after it. */
export const watchTimeoutSeconds = 300;
/** Backoff between failed lists or watches: client-go's reflector uses 800 ms to 30 s. */
export const retryBackoffInitialMs = 800;
export const retryBackoffMaxMs = 30_000;

export interface InformerOptions {
  readonly namespace?: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly logger?: Logger;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: KubeObject): string {
  const namespace = object.metadata.namespace;
  return namespace === undefined || namespace === "" ? object.metadata.name ?? "" : `${namespace}/${object.metadata.name ?? ""}`;
}

function resourceVersionOf(object: KubeObject): string {
  return object.metadata.resourceVersion ?? "";
}

interface Index<T> {
  readonly indexer: (object: T) => string[];
  readonly entries: Map<string, Set<string>>;
}

/** A relist or a 410 is a Status error with code 410 (reason Gone or Expired). */
function isGone(error: unknown): boolean {
  return isStatusError(error) && error.code === 410;
}

class GoneSignal extends Error {}

export class SharedInformer<T extends KubeObject> implements Informer<T> {
  readonly synced: Promise<void>;
  readonly #client: ApiClient;
  readonly #resource: Resource;
  readonly #options: InformerOptions;
  readonly #items = new Map<string, T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #indexes = new Map<string, Index<T>>();
  #markSynced: () => void = () => undefined;
  #hasSynced = false;
  #resourceVersion = "";
  #running = false;

  constructor(client: ApiClient, resource: Resource, options: InformerOptions = {}) {
    this.#client = client;
    this.#resource = resource;
    this.#options = options;
    this.synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** The resourceVersion of the last list, watch event or bookmark applied. */
  get lastResourceVersion(): string {
    return this.#resourceVersion;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
    if (this.#hasSynced) for (const object of this.#items.values()) this.#call(() => handlers.onAdd?.(object));
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  listMatching(namespace: string | undefined, labelSelector: string): T[] {
    const selector = parseSelector(labelSelector);
    return this.list().filter((object) => (namespace === undefined || object.metadata.namespace === namespace) && selector.matches(object.metadata.labels));
  }

  addIndex(name: string, indexer: (object: T) => string[]): void {
    const index: Index<T> = { indexer, entries: new Map() };
    this.#indexes.set(name, index);
    for (const [key, object] of this.#items) this.#indexAdd(index, key, object);
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.#indexes.get(name)?.entries.get(value);
    if (keys === undefined) return [];
    return [...keys].map((key) => this.#items.get(key)).filter((object): object is T => object !== undefined);
  }

  /** Lists and watches until `signal` aborts. Resolves once stopped. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) await this.#relist(signal);
        needList = false;
        await this.#watch(signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof GoneSignal || isGone(error)) {
          needList = true;
          continue;
        }
        failures++;
        const delayMs = Math.min(retryBackoffInitialMs * 2 ** Math.min(failures - 1, 16), retryBackoffMaxMs);
        this.#options.logger?.warn({ err: error, resource: this.#resource.resource, delayMs }, "informer list/watch failed; retrying");
        // Without a resourceVersion to resume from, the next round lists again.
        if (this.#resourceVersion === "") needList = true;
        await sleepOrAbort(delayMs, signal);
      }
    }
    this.#running = false;
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion = "";
    for (let page = 0; page < listPagesMax; page++) {
      if (signal.aborted) return;
      const list = await this.#client.list<T>(this.#resource, this.#options.namespace, {
        ...this.#selectors(),
        limit: listPageItems,
        ...(continueToken === undefined ? {} : { continue: continueToken }),
      });
      for (const item of list.items) fresh.set(objectKey(item), item);
      if (page === 0) resourceVersion = list.metadata.resourceVersion ?? "";
      continueToken = list.metadata.continue;
      if (continueToken === undefined || continueToken === "") break;
    }
    if (continueToken !== undefined && continueToken !== "") throw new Error(`list of ${this.#resource.resource} has more than ${listPagesMax} pages`);
    this.#replace(fresh);
    this.#resourceVersion = resourceVersion;
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#markSynced();
    }
  }

  /** Applies a fresh list: adds, updates, and deletes (with the last state seen) for the vanished. */
  #replace(fresh: Map<string, T>): void {
    for (const [key, previous] of [...this.#items]) {
      if (!fresh.has(key)) this.#remove(key, previous);
    }
    for (const [key, object] of fresh) this.#upsert(key, object);
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const events = this.#client.watch<T>(
      this.#resource,
      this.#options.namespace,
      { ...this.#selectors(), resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds },
      signal,
    );
    for await (const event of events) {
      if (signal.aborted) return;
      this.#apply(event);
    }
  }

  #apply(event: WatchEvent<T>): void {
    if (event.type === "ERROR") {
      const status = event.object as Status;
      if (status.code === 410) throw new GoneSignal(status.message ?? "resourceVersion too old");
      throw new Error(`watch of ${this.#resource.resource} answered an error: ${status.message ?? status.reason ?? "unknown"}`);
    }
    const object = event.object as T;
    const key = objectKey(object);
    if (event.type === "ADDED" || event.type === "MODIFIED") this.#upsert(key, object);
    else if (event.type === "DELETED") this.#remove(key, this.#items.get(key) ?? object, object);
    const resourceVersion = resourceVersionOf(object);
    if (resourceVersion !== "") this.#resourceVersion = resourceVersion;
  }

  #upsert(key: string, object: T): void {
    const previous = this.#items.get(key);
    if (previous !== undefined && resourceVersionOf(previous) === resourceVersionOf(object)) return;
    if (previous !== undefined) this.#indexRemove(key, previous);
    this.#items.set(key, object);
    for (const index of this.#indexes.values()) this.#indexAdd(index, key, object);
    for (const handlers of this.#handlers) {
      if (previous === undefined) this.#call(() => handlers.onAdd?.(object));
      else this.#call(() => handlers.onUpdate?.(previous, object));
    }
  }

  #remove(key: string, previous: T, final?: T): void {
    if (!this.#items.has(key)) return;
    this.#indexRemove(key, previous);
    this.#items.delete(key);
    const last = final ?? previous;
    for (const handlers of this.#handlers) this.#call(() => handlers.onDelete?.(last));
  }

  #indexAdd(index: Index<T>, key: string, object: T): void {
    for (const value of index.indexer(object)) {
      let keys = index.entries.get(value);
      if (keys === undefined) index.entries.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #indexRemove(key: string, object: T): void {
    for (const index of this.#indexes.values()) {
      for (const value of index.indexer(object)) {
        const keys = index.entries.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.entries.delete(value);
      }
    }
  }

  #selectors(): { labelSelector?: string; fieldSelector?: string } {
    return {
      ...(this.#options.labelSelector === undefined ? {} : { labelSelector: this.#options.labelSelector }),
      ...(this.#options.fieldSelector === undefined ? {} : { fieldSelector: this.#options.fieldSelector }),
    };
  }

  // A throwing handler is a bug in a controller; it must not stop the informer for the others.
  #call(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.#options.logger?.error({ err: error, resource: this.#resource.resource }, "informer handler threw");
    }
  }
}

type InformerScope = { namespace?: string; fieldSelector?: string; labelSelector?: string };

/** One informer per resource and scope, shared by everyone in the process. */
export class SharedInformerFactory implements InformerFactory {
  readonly #client: ApiClient;
  readonly #logger: Logger | undefined;
  readonly #informers = new Map<string, SharedInformer<KubeObject>>();
  readonly #runs: Promise<void>[] = [];
  #signal: AbortSignal | undefined;

  constructor(client: ApiClient, logger?: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  informerFor<T extends KubeObject>(resource: Resource, options: InformerScope = {}): Informer<T> {
    const key = JSON.stringify([resource.group, resource.version, resource.resource, options.namespace ?? "", options.fieldSelector ?? "", options.labelSelector ?? ""]);
    let informer = this.#informers.get(key);
    if (informer === undefined) {
      informer = new SharedInformer<KubeObject>(this.#client, resource, { ...options, ...(this.#logger === undefined ? {} : { logger: this.#logger }) });
      this.#informers.set(key, informer);
      if (this.#signal !== undefined) this.#runs.push(informer.run(this.#signal));
    }
    return informer as unknown as Informer<T>;
  }

  start(signal: AbortSignal): void {
    if (this.#signal !== undefined) return;
    this.#signal = signal;
    for (const informer of this.#informers.values()) this.#runs.push(informer.run(signal));
  }

  /** Resolves once every informer asked for so far has listed, or rejects when `signal` aborts. */
  async waitForSync(signal: AbortSignal): Promise<void> {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new Error("aborted before the informers synced"));
      signal.addEventListener("abort", () => reject(new Error("aborted before the informers synced")), { once: true });
    });
    aborted.catch(() => undefined);
    await Promise.race([Promise.all([...this.#informers.values()].map((informer) => informer.synced)), aborted]);
  }

  /** Resolves once every started informer has stopped (after the start signal aborts). */
  async stopped(): Promise<void> {
    await Promise.all(this.#runs);
  }
}
