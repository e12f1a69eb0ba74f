/**
 * The API side of a watch served from the watch cache (upstream's cacheWatcher): one client's
 * stream of events, in order: the initial ADDED events (a snapshot), then the events replayed
 * from the cache's window, then live events. Initial and replayed events are read lazily from
 * their snapshot; live events wait in a bounded queue, and a watcher whose queue is full is
 * terminated (the client re-watches from the last resourceVersion it saw, as upstream's clients
 * do when the server closes a watch).
 *
 * Filtered watches follow upstream's convertToWatchEvent: an update that moves an object into the
 * filter is ADDED, one that moves it out is DELETED (with the previous content at the event's
 * resourceVersion).
 */
import { assert } from "../../../libs/assert/index.ts";
import { withResourceVersion, type ObjectAttrs, type ObjectFilter, type StoredObject } from "./objects.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/** What a watcher yields; BOOKMARK objects carry only metadata (the API layer adds kind and apiVersion). */
export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: StoredObject;
}

/** The annotation upstream puts on the bookmark that ends the initial events (sendInitialEvents). */
export const initialEventsEndAnnotation = "k8s.io/initial-events-end";

/** One object as the cache holds it (frozen), with its attrs computed once. */
export interface CacheEntry {
  readonly key: string;
  readonly object: StoredObject;
  readonly attrs: ObjectAttrs;
}

/** One change as the cache records it: the state after it and before it. */
export interface CacheEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly key: string;
  readonly resourceVersion: number;
  /** The new state; for DELETED the last state, with resourceVersion = the deleting revision. */
  readonly object: StoredObject;
  readonly attrs: ObjectAttrs;
  readonly previous: CacheEntry | undefined;
}

/** A key (exact) or a key prefix (ending in "/") a watcher covers. */
export interface WatchTarget {
  readonly key: string;
  readonly prefix: boolean;
}

export function targetCovers(target: WatchTarget, key: string): boolean {
  return target.prefix ? key.startsWith(target.key) : key === target.key;
}

export type TerminationReason = "stopped" | "fell-behind" | "cache-restarted" | "cacher-stopped";

const passes = (filter: ObjectFilter | undefined, attrs: ObjectAttrs, object: StoredObject): boolean => filter === undefined || filter(attrs, object);

/** The event a watcher with `filter` sees for a cache event, if any (upstream's convertToWatchEvent). */
export function convertEvent(event: CacheEvent, filter: ObjectFilter | undefined): WatchEvent | undefined {
  if (event.type === "DELETED") return passes(filter, event.attrs, event.object) ? { type: "DELETED", object: event.object } : undefined;
  const currentPasses = passes(filter, event.attrs, event.object);
  const previous = event.previous;
  const previousPasses = previous !== undefined && passes(filter, previous.attrs, previous.object);
  if (currentPasses && previousPasses) return { type: "MODIFIED", object: event.object };
  if (currentPasses) return { type: "ADDED", object: event.object };
  if (previousPasses) return { type: "DELETED", object: withResourceVersion(previous.object, event.resourceVersion) };
  return undefined;
}

export function bookmarkEvent(resourceVersion: number, initialEventsEnd: boolean): WatchEvent {
  const metadata = initialEventsEnd
    ? { resourceVersion: String(resourceVersion), annotations: { [initialEventsEndAnnotation]: "true" } }
    : { resourceVersion: String(resourceVersion) };
  return { type: "BOOKMARK", object: { metadata } };
}

export interface CacheWatcherParams {
  readonly target: WatchTarget;
  readonly filter: ObjectFilter | undefined;
  readonly allowBookmarks: boolean;
  /** Events at or below this revision are not delivered live (the snapshot covers them). */
  readonly startRevision: number;
  /** The snapshot to send as ADDED events first (already limited to the target). */
  readonly initial: readonly CacheEntry[];
  /** Send a BOOKMARK with the initial-events-end annotation after the initial events. */
  readonly initialEventsEnd: boolean;
  /** Window events after startRevision, already limited to the target. */
  readonly replay: readonly CacheEvent[];
  readonly queueEventsMax: number;
  readonly onClose: (watcher: CacheWatcher) => void;
}

/** One client's watch. Iterate it (for await) or call next(); stop() ends it. */
export class CacheWatcher implements AsyncIterable<WatchEvent> {
  readonly target: WatchTarget;
  readonly allowBookmarks: boolean;
  readonly startRevision: number;
  readonly #filter: ObjectFilter | undefined;
  readonly #queueEventsMax: number;
  readonly #onClose: (watcher: CacheWatcher) => void;
  #initial: readonly CacheEntry[];
  #initialIndex = 0;
  #initialEventsEndPending: boolean;
  #replay: readonly CacheEvent[];
  #replayIndex = 0;
  #live: WatchEvent[] = [];
  /** The highest resourceVersion queued so far; bookmarks never go below it. */
  #queuedRevision: number;
  #terminationReason: TerminationReason | undefined;
  #waiter: (() => void) | undefined;

  constructor(params: CacheWatcherParams) {
    assert(params.queueEventsMax > 0, "watcher queue bound is positive");
    this.target = params.target;
    this.allowBookmarks = params.allowBookmarks;
    this.startRevision = params.startRevision;
    this.#filter = params.filter;
    this.#queueEventsMax = params.queueEventsMax;
    this.#onClose = params.onClose;
    this.#initial = params.initial;
    this.#initialEventsEndPending = params.initialEventsEnd && params.allowBookmarks;
    this.#replay = params.replay;
    this.#queuedRevision = Math.max(params.startRevision, params.replay.at(-1)?.resourceVersion ?? 0);
  }

  get terminationReason(): TerminationReason | undefined {
    return this.#terminationReason;
  }

  /** Live events waiting for the client (not counting the snapshot and the replay). */
  get queuedEvents(): number {
    return this.#live.length;
  }

  /** A cache event, offered to every watcher in revision order. */
  offer(event: CacheEvent): void {
    if (this.#terminationReason !== undefined || event.resourceVersion <= this.startRevision || !targetCovers(this.target, event.key)) return;
    const converted = convertEvent(event, this.#filter);
    if (converted === undefined) return;
    if (this.#live.length >= this.#queueEventsMax) {
      this.terminate("fell-behind");
      return;
    }
    this.#live.push(converted);
    this.#queuedRevision = Math.max(this.#queuedRevision, event.resourceVersion);
    this.#wake();
  }

  /** Queues a BOOKMARK at `resourceVersion` when the client asked for them and it moves nobody back. */
  offerBookmark(resourceVersion: number): boolean {
    if (!this.allowBookmarks || this.#terminationReason !== undefined || resourceVersion < this.#queuedRevision) return false;
    // Bookmarks are a courtesy: a full queue drops them rather than ending the watch.
    if (this.#live.length >= this.#queueEventsMax) return false;
    this.#live.push(bookmarkEvent(resourceVersion, false));
    this.#queuedRevision = resourceVersion;
    this.#wake();
    return true;
  }

  /** Ends the watch from the server side; the client's iteration ends after this. */
  terminate(reason: TerminationReason): void {
    if (this.#terminationReason !== undefined) return;
    this.#terminationReason = reason;
    this.#live = [];
    this.#initial = [];
    this.#replay = [];
    this.#wake();
    this.#onClose(this);
  }

  /** Ends the watch from the client side. */
  stop(): void {
    this.terminate("stopped");
  }

  /** The next event, or undefined once the watch has ended. */
  async next(): Promise<WatchEvent | undefined> {
    while (this.#terminationReason === undefined) {
      const event = this.#take();
      if (event !== undefined) return event;
      assert(this.#waiter === undefined, "one reader per watcher");
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    return undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      while (true) {
        const event = await this.next();
        if (event === undefined) return;
        yield event;
      }
    } finally {
      // A consumer that breaks out of its loop is done with the watch.
      this.stop();
    }
  }

  #take(): WatchEvent | undefined {
    while (this.#initialIndex < this.#initial.length) {
      const entry = this.#initial[this.#initialIndex++] as CacheEntry;
      if (passes(this.#filter, entry.attrs, entry.object)) return { type: "ADDED", object: entry.object };
    }
    if (this.#initialEventsEndPending) {
      this.#initialEventsEndPending = false;
      return bookmarkEvent(this.startRevision, true);
    }
    while (this.#replayIndex < this.#replay.length) {
      const converted = convertEvent(this.#replay[this.#replayIndex++] as CacheEvent, this.#filter);
      if (converted !== undefined) return converted;
    }
    return this.#live.shift();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}
