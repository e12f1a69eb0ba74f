/**
 * The watch cache of one resource (upstream's Cacher and watchCache): one etcd watch on the
 * resource's prefix feeds an in-memory copy of every object and a window of recent events, and
 * any number of API watchers are served from it. Many watchers cost one store watch.
 *
 * Start-up lists the resource at the latest revision R and watches from R+1. When the etcd watch
 * breaks, the cache watches again from the last revision it saw; when that revision has been
 * compacted (the store cancels the watch), it lists again and terminates every watcher, as
 * upstream does (their clients re-watch and get 410 if they are too far behind).
 *
 * Reads: lists and gets that allow any or a not-older-than resourceVersion the cache has reached
 * are answered from memory (upstream's shouldDelegateList rules); all others go to the store.
 * Writes go to the store. See README.md for the watch resourceVersion table.
 */
import { assert } from "../../../libs/assert/index.ts";
import { prefixEnd } from "../../../libs/etcd-client/index.ts";
import type { Event__Output, WatchResponse__Output } from "../../../libs/etcdpb/index.ts";
import type { Logger } from "../../../libs/log/index.ts";
import { GoneError, InternalError, NotFoundError, StorageUnavailableError } from "./errors.ts";
import { EventWindow } from "./event-window.ts";
import { checkListPrefix, checkObjectKey } from "./keys.ts";
import { headerRevision, wireNumber, type KvWatch } from "./kv.ts";
import type { ListEntry, ListOptions, ListResult } from "./list.ts";
import { decodeObject, deepFreeze, withResourceVersion, type ObjectFilter, type StoredObject } from "./objects.ts";
import { parseResourceVersion } from "./resource-version.ts";
import type { DeleteCollectionOptions, DeleteOptions, GetOptions, ObjectStore, UpdateFunction, UpdateOptions } from "./store.ts";
import { CacheWatcher, targetCovers, type CacheEntry, type CacheEvent, type WatchTarget } from "./watch.ts";

export const cacherDefaults = {
  /** Recent events kept for watches that resume from a resourceVersion. */
  eventWindowEventsMax: 100,
  /** How often watchers that allow bookmarks get one (upstream: about a minute). 0: never on a timer. */
  bookmarkIntervalMs: 60_000,
  /**
   * Live events one watcher may have waiting before it is terminated. Above one etcd response
   * (Flotilla's store sends up to 256 events per response) so a healthy watcher survives a burst.
   */
  watcherQueueEventsMax: 1000,
  /** Objects per page when the cache lists the resource. */
  relistPageItems: 500,
  /** Pages one relist reads at most (50M objects); past that the resource cannot be cached. */
  relistPagesMax: 100_000,
  /** First wait before re-watching or re-listing after a failure; doubled up to the max. */
  restartDelayMs: 100,
  restartDelayMsMax: 5_000,
  /** How long a watch waits for the cache's first list before StorageUnavailableError. */
  readyTimeoutMs: 10_000,
} as const;

export interface CacherOptions {
  readonly store: ObjectStore;
  readonly eventWindowEventsMax?: number | undefined;
  readonly bookmarkIntervalMs?: number | undefined;
  readonly watcherQueueEventsMax?: number | undefined;
  readonly relistPageItems?: number | undefined;
  readonly restartDelayMs?: number | undefined;
  readonly restartDelayMsMax?: number | undefined;
  readonly readyTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
}

export interface WatchOptions {
  /** "" or absent: state at the latest revision, then changes; "0": state from the cache, then changes; N: changes after N. */
  readonly resourceVersion?: string | undefined;
  readonly filter?: ObjectFilter | undefined;
  readonly allowBookmarks?: boolean | undefined;
  /** true: ADDED events for the state first (with N: state not older than N); false: none, even for "" and "0". */
  readonly sendInitialEvents?: boolean | undefined;
}

export interface CacherStats {
  readonly ready: boolean;
  /** The revision the cache reflects (events and progress notifications seen). */
  readonly revision: number;
  readonly objects: number;
  readonly windowEvents: number;
  readonly watchers: number;
  /** etcd watches this cache has opened (one at a time). */
  readonly storeWatchesOpened: number;
  readonly relists: number;
  readonly decodeErrors: number;
  readonly watchersTerminatedSlow: number;
}

type WatchOutcome = "compacted" | "broken" | "stopped";

interface ResolvedOptions {
  readonly bookmarkIntervalMs: number;
  readonly watcherQueueEventsMax: number;
  readonly relistPageItems: number;
  readonly restartDelayMs: number;
  readonly restartDelayMsMax: number;
  readonly readyTimeoutMs: number;
}

interface MutableStats {
  storeWatchesOpened: number;
  relists: number;
  decodeErrors: number;
  watchersTerminatedSlow: number;
}

export class Cacher {
  readonly store: ObjectStore;
  readonly #prefix: string;
  readonly #window: EventWindow;
  readonly #options: ResolvedOptions;
  readonly #logger: Logger | undefined;
  readonly #objects = new Map<string, CacheEntry>();
  readonly #watchers = new Set<CacheWatcher>();
  readonly #stats: MutableStats = { storeWatchesOpened: 0, relists: 0, decodeErrors: 0, watchersTerminatedSlow: 0 };
  #sortedKeys: string[] | undefined;
  #revision = 0;
  #lastEventRevision = 0;
  #ready = false;
  #readyWaiters: (() => void)[] = [];
  #needsList = true;
  #stopped = false;
  #started = false;
  #running: Promise<void> | undefined;
  #storeWatch: KvWatch | undefined;
  #bookmarkTimer: NodeJS.Timeout | undefined;
  #wakeSleeper: (() => void) | undefined;

  constructor(options: CacherOptions) {
    this.store = options.store;
    this.#prefix = options.store.resourcePrefix;
    this.#window = new EventWindow(options.eventWindowEventsMax ?? cacherDefaults.eventWindowEventsMax);
    this.#logger = options.logger;
    this.#options = {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? cacherDefaults.bookmarkIntervalMs,
      watcherQueueEventsMax: options.watcherQueueEventsMax ?? cacherDefaults.watcherQueueEventsMax,
      relistPageItems: options.relistPageItems ?? cacherDefaults.relistPageItems,
      restartDelayMs: options.restartDelayMs ?? cacherDefaults.restartDelayMs,
      restartDelayMsMax: options.restartDelayMsMax ?? cacherDefaults.restartDelayMsMax,
      readyTimeoutMs: options.readyTimeoutMs ?? cacherDefaults.readyTimeoutMs,
    };
    assert(this.#options.restartDelayMs > 0 && this.#options.restartDelayMsMax >= this.#options.restartDelayMs, "restart delays are positive and ordered");
  }

  /** Lists, then watches, in the background until stop(). Call once. */
  start(): void {
    assert(!this.#started, "a cacher starts once");
    this.#started = true;
    this.#running = this.#run();
    if (this.#options.bookmarkIntervalMs > 0) {
      this.#bookmarkTimer = setInterval(() => this.sendBookmarks(), this.#options.bookmarkIntervalMs);
      this.#bookmarkTimer.unref();
    }
  }

  /** Stops the store watch and terminates every watcher. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#bookmarkTimer);
    this.#storeWatch?.cancel();
    this.#wakeSleeper?.();
    for (const watcher of [...this.#watchers]) watcher.terminate("cacher-stopped");
    await this.#running;
  }

  /** Resolves once the first list is in; StorageUnavailableError after timeoutMs. */
  async ready(timeoutMs = this.#options.readyTimeoutMs): Promise<void> {
    if (this.#ready) return;
    if (this.#stopped) throw new StorageUnavailableError("the watch cache is stopped");
    await new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // A waiter that times out leaves the list, so waiting requests never pile up during an outage.
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((candidate) => candidate !== waiter);
        reject(new StorageUnavailableError("storage is (re)initializing"));
      }, timeoutMs);
      this.#readyWaiters.push(waiter);
    });
  }

  get revision(): number {
    return this.#revision;
  }

  stats(): CacherStats {
    return {
      ready: this.#ready,
      revision: this.#revision,
      objects: this.#objects.size,
      windowEvents: this.#window.size,
      watchers: this.#watchers.size,
      ...this.#stats,
    };
  }

  // ---- reads ----

  /** get(): "" reads the store; "0" and revisions the cache has reached read the cache. */
  async get(key: string, options: GetOptions = {}): Promise<StoredObject> {
    const resourceVersion = parseResourceVersion(options.resourceVersion);
    if (resourceVersion === undefined || !this.#ready || resourceVersion > this.#revision) return this.store.get(key, options);
    checkObjectKey(this.#prefix, key);
    const entry = this.#objects.get(key);
    if (entry === undefined) throw new NotFoundError(this.store.resource, key);
    return entry.object;
  }

  /**
   * list(): from the cache for "0" and for not-older-than revisions it has reached (the limit is
   * then ignored, as upstream does for "0"); everything else (consistent, exact, paged) from the store.
   */
  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const resourceVersion = parseResourceVersion(options.resourceVersion);
    if (delegatesList(options) || !this.#ready || (resourceVersion ?? 0) > this.#revision) return this.store.list(prefix, options);
    const keyPrefix = checkListPrefix(this.#prefix, prefix);
    const items: StoredObject[] = [];
    for (const entry of this.#entriesUnder(keyPrefix)) {
      if (options.filter === undefined || options.filter(entry.attrs, entry.object)) items.push(entry.object);
    }
    return { items, resourceVersion: String(this.#revision) };
  }

  /**
   * A watch on one key or on a prefix (ending in "/"). Throws GoneError when the resourceVersion
   * is older than the window holds: "too old resource version: N (oldest)".
   */
  async watch(target: string, options: WatchOptions = {}): Promise<CacheWatcher> {
    const watchTarget = this.#checkTarget(target);
    const resourceVersion = parseResourceVersion(options.resourceVersion);
    await this.ready();
    const sendState = options.sendInitialEvents ?? (resourceVersion === undefined || resourceVersion === 0);
    if (!sendState) {
      const start = resourceVersion === undefined ? await this.store.currentRevision() : resourceVersion === 0 ? this.#revision : resourceVersion;
      return this.#register(watchTarget, options, [], start);
    }
    if (resourceVersion === 0 || (resourceVersion !== undefined && resourceVersion <= this.#revision)) {
      return this.#register(watchTarget, options, this.#snapshot(watchTarget), this.#revision);
    }
    // "Most recent" (or a revision the cache has not reached): the state comes from the store.
    const { entries, revision } = await this.#readState(watchTarget, resourceVersion ?? 0);
    return this.#register(watchTarget, options, entries, revision);
  }

  /** Offers every watcher that allows bookmarks one at the cache's revision (the timer calls this). */
  sendBookmarks(): number {
    let sent = 0;
    for (const watcher of this.#watchers) if (watcher.offerBookmark(this.#revision)) sent++;
    return sent;
  }

  // ---- writes go to the store ----

  async create(object: StoredObject): Promise<StoredObject> {
    return this.store.create(object);
  }

  async update(key: string, mutate: UpdateFunction, options: UpdateOptions = {}): Promise<StoredObject> {
    return this.store.update(key, mutate, options);
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<StoredObject> {
    return this.store.delete(key, options);
  }

  async deleteCollection(prefix: string, options: DeleteCollectionOptions = {}): Promise<StoredObject[]> {
    return this.store.deleteCollection(prefix, options);
  }

  // ---- watchers ----

  #checkTarget(target: string): WatchTarget {
    if (target.endsWith("/")) return { key: checkListPrefix(this.#prefix, target), prefix: true };
    checkObjectKey(this.#prefix, target);
    return { key: target, prefix: false };
  }

  #register(target: WatchTarget, options: WatchOptions, initial: readonly CacheEntry[], startRevision: number): CacheWatcher {
    if (this.#stopped) throw new StorageUnavailableError("the watch cache is stopped");
    const oldest = this.#window.oldestServableRevision;
    if (startRevision < oldest) throw new GoneError(`too old resource version: ${startRevision} (${oldest})`);
    const watcher = new CacheWatcher({
      target,
      filter: options.filter,
      allowBookmarks: options.allowBookmarks === true,
      startRevision,
      initial,
      initialEventsEnd: options.sendInitialEvents === true,
      replay: this.#window.since(startRevision).filter((event) => targetCovers(target, event.key)),
      queueEventsMax: this.#options.watcherQueueEventsMax,
      onClose: (closed) => this.#onWatcherClosed(closed),
    });
    this.#watchers.add(watcher);
    return watcher;
  }

  #onWatcherClosed(watcher: CacheWatcher): void {
    this.#watchers.delete(watcher);
    if (watcher.terminationReason === "fell-behind") {
      this.#stats.watchersTerminatedSlow++;
      this.#logger?.info({ resource: this.#prefix, target: watcher.target.key }, "watch cache: terminated a watcher that fell behind");
    }
  }

  #snapshot(target: WatchTarget): CacheEntry[] {
    if (!target.prefix) {
      const entry = this.#objects.get(target.key);
      return entry === undefined ? [] : [entry];
    }
    return [...this.#entriesUnder(target.key)];
  }

  *#entriesUnder(keyPrefix: string): Generator<CacheEntry> {
    this.#sortedKeys ??= [...this.#objects.keys()].sort();
    for (const key of this.#sortedKeys) {
      if (!key.startsWith(keyPrefix)) continue;
      const entry = this.#objects.get(key);
      if (entry !== undefined) yield entry;
    }
  }

  /** The target's state read from the store, at least at `minimumRevision`. */
  async #readState(target: WatchTarget, minimumRevision: number): Promise<{ entries: CacheEntry[]; revision: number }> {
    if (!target.prefix) {
      const { entry, revision } = await this.store.readKey(target.key, minimumRevision);
      return { entries: entry === undefined ? [] : [this.#entryOf(entry)], revision };
    }
    const { entries, revision } = await this.#listAll(target.key, minimumRevision);
    return { entries: entries.map((entry) => this.#entryOf(entry)), revision };
  }

  #entryOf(entry: ListEntry): CacheEntry {
    const object = deepFreeze(entry.object);
    return { key: entry.key, object, attrs: this.store.getAttrs(object) };
  }

  /** Every object under `keyPrefix` at one revision (at least `minimumRevision`), page by page. */
  async #listAll(keyPrefix: string, minimumRevision: number): Promise<{ entries: ListEntry[]; revision: number }> {
    const entries: ListEntry[] = [];
    let token: string | undefined;
    const first: ListOptions =
      minimumRevision > 0 ? { resourceVersion: String(minimumRevision), resourceVersionMatch: "NotOlderThan" } : {};
    for (let page = 0; page < cacherDefaults.relistPagesMax; page++) {
      const options: ListOptions = token === undefined ? { ...first, limit: this.#options.relistPageItems } : { limit: this.#options.relistPageItems, continue: token };
      const result = await this.store.listEntries(keyPrefix, options);
      entries.push(...result.entries);
      token = result.continue;
      if (token === undefined) return { entries, revision: result.revision };
    }
    throw new InternalError(`${keyPrefix} holds more than ${cacherDefaults.relistPagesMax} pages of objects; it cannot be cached`);
  }

  // ---- the store watch ----

  async #run(): Promise<void> {
    let delayMs = this.#options.restartDelayMs;
    while (!this.#stopped) {
      let healthy = false;
      try {
        if (this.#needsList) await this.#relist();
        const outcome = await this.#watchStore(() => (healthy = true));
        if (outcome === "compacted") this.#needsList = true;
      } catch (error) {
        this.#logger?.warn({ err: error, resource: this.#prefix }, "watch cache: list or watch failed; retrying");
      }
      if (this.#stopped) break;
      delayMs = healthy ? this.#options.restartDelayMs : Math.min(delayMs * 2, this.#options.restartDelayMsMax);
      await this.#sleep(delayMs);
    }
  }

  async #sleep(delayMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.#wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wakeSleeper = undefined;
  }

  async #relist(): Promise<void> {
    const hadState = this.#stats.relists > 0;
    this.#ready = false;
    const { entries, revision } = await this.#listAll(this.#prefix, 0);
    this.#objects.clear();
    for (const entry of entries) this.#objects.set(entry.key, this.#entryOf(entry));
    this.#sortedKeys = undefined;
    this.#window.reset(revision);
    this.#revision = revision;
    this.#lastEventRevision = revision;
    this.#needsList = false;
    this.#stats.relists++;
    // Watchers of the old state cannot be continued consistently: they re-watch (upstream does this too).
    if (hadState) for (const watcher of [...this.#watchers]) watcher.terminate("cache-restarted");
    this.#ready = true;
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }

  /** Watches the store from the cache's revision + 1 until the watch ends; says why it ended. */
  async #watchStore(onHealthy: () => void): Promise<WatchOutcome> {
    const watch = this.store.client.watch({
      key: Buffer.from(this.#prefix),
      range_end: prefixEnd(this.#prefix),
      start_revision: this.#revision + 1,
      progress_notify: true,
    });
    this.#storeWatch = watch;
    this.#stats.storeWatchesOpened++;
    try {
      for await (const response of watch) {
        if (this.#stopped) return "stopped";
        if (response.canceled) return wireNumber(response.compact_revision) > 0 ? "compacted" : "broken";
        if (response.created) continue;
        onHealthy();
        this.#applyResponse(response);
      }
      return this.#stopped ? "stopped" : "broken";
    } finally {
      watch.cancel();
      this.#storeWatch = undefined;
    }
  }

  #applyResponse(response: WatchResponse__Output): void {
    if (response.events.length === 0) {
      // A progress notification: every event up to this revision has been delivered.
      this.#revision = Math.max(this.#revision, headerRevision(response.header));
      return;
    }
    for (const event of response.events) this.#applyEvent(event);
  }

  #applyEvent(event: Event__Output): void {
    assert(event.kv !== null, "watch events carry a key-value");
    const key = event.kv.key.toString("utf8");
    const revision = wireNumber(event.kv.mod_revision);
    assert(revision > this.#revision || revision === this.#lastEventRevision, "store watch events arrive in revision order", () => `${revision} after ${this.#revision}`);
    this.#lastEventRevision = revision;
    this.#revision = revision;
    const cacheEvent = event.type === "DELETE" ? this.#applyDelete(key, revision) : this.#applyPut(key, event.kv.value, revision);
    if (cacheEvent === undefined) return;
    this.#window.push(cacheEvent);
    // offer() may terminate a watcher, which leaves the set; Set iteration tolerates that.
    for (const watcher of this.#watchers) watcher.offer(cacheEvent);
  }

  #applyPut(key: string, value: Buffer, revision: number): CacheEvent | undefined {
    let object: StoredObject;
    try {
      object = deepFreeze(decodeObject(value, key, revision));
    } catch (error) {
      // Upstream's watcher cannot decode it either; the object stays as it was (and lists from the store show the error).
      this.#stats.decodeErrors++;
      this.#logger?.error({ err: error, key }, "watch cache: cannot decode a stored object");
      return undefined;
    }
    const previous = this.#objects.get(key);
    const entry: CacheEntry = { key, object, attrs: this.store.getAttrs(object) };
    this.#objects.set(key, entry);
    if (previous === undefined) this.#sortedKeys = undefined;
    return { type: previous === undefined ? "ADDED" : "MODIFIED", key, resourceVersion: revision, object, attrs: entry.attrs, previous };
  }

  #applyDelete(key: string, revision: number): CacheEvent | undefined {
    const previous = this.#objects.get(key);
    if (previous === undefined) return undefined;
    this.#objects.delete(key);
    this.#sortedKeys = undefined;
    return { type: "DELETED", key, resourceVersion: revision, object: withResourceVersion(previous.object, revision), attrs: previous.attrs, previous };
  }
}

/** upstream's shouldDelegateList: what the cache cannot answer goes to the store. */
function delegatesList(options: ListOptions): boolean {
  const resourceVersion = options.resourceVersion ?? "";
  const hasContinue = options.continue !== undefined && options.continue !== "";
  const hasLimit = (options.limit ?? 0) > 0 && resourceVersion !== "0";
  const unsupportedMatch = options.resourceVersionMatch !== undefined && options.resourceVersionMatch !== "NotOlderThan";
  return resourceVersion === "" || hasContinue || hasLimit || unsupportedMatch;
}
