/**
 * The watch hub: watchers on a key or a range, fed by notify() after each applied write and
 * drained by the caller with take(). Pure and synchronous.
 *
 * A watcher is synced (its events arrive through notify into a bounded queue) or unsynced (it
 * reads what it misses from the store's history, a bounded slice per take). A watcher starting
 * at a past revision begins unsynced. A synced watcher whose queue would pass watchQueueEventsMax
 * is marked slow: its queue is dropped and it goes back to reading history from its first
 * undelivered revision, so memory stays bounded and nothing is lost (etcd moves such watchers to
 * a victim list for the same reason). Only if compaction overtakes an unsynced watcher is it
 * canceled, with the compact revision, exactly as etcd cancels a watch whose start is compacted.
 */
import { assert } from "../assert/index.ts";
import { bytesToBinary, keySpan, spanContains, type KeySpan } from "./bytes.ts";
import { MvccError } from "./errors.ts";
import type { RevisionRecord } from "./key-index.ts";
import type { MvccStore } from "./store.ts";
import { EventType, type Event } from "./types.ts";

export enum WatchFilterType {
  NoPut = 0,
  NoDelete = 1,
}

export interface WatchCreateRequest {
  /** Empty means "\0", the smallest key, as etcd's watch server does. */
  readonly key: Uint8Array;
  /** Absent or empty: the single key. "\0": every key >= key. Otherwise the exclusive end. */
  readonly rangeEnd?: Uint8Array;
  /** 0 or absent: from the next revision. A past revision replays history; a future one waits. */
  readonly startRevision?: number;
  readonly filters?: readonly WatchFilterType[];
  readonly prevKv?: boolean;
}

export interface WatchResponse {
  readonly watchId: number;
  /** The store revision when the response was taken (the header revision). */
  readonly revision: number;
  /** Whole revisions, in revision order. */
  readonly events: readonly Event[];
  /** Set (with canceled) when the watcher's next revision was compacted away. */
  readonly compactRevision: number;
  readonly canceled: boolean;
  readonly cancelReason: string;
}

export interface WatchHubOptions {
  /** Events a synced watcher may hold before it is marked slow and falls back to history. */
  readonly watchQueueEventsMax?: number;
  /** History records one take() scans for an unsynced watcher (whole revisions may exceed it). */
  readonly catchUpRecordsMax?: number;
  readonly watchersMax?: number;
}

export const watchHubDefaults = { watchQueueEventsMax: 4096, catchUpRecordsMax: 10_000, watchersMax: 100_000 } as const;

interface Watcher {
  readonly id: number;
  readonly span: KeySpan;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  /** The requested start revision (0 when none): progress is not reported before it. */
  readonly startRevision: number;
  synced: boolean;
  /** Synced: the first revision to deliver. Unsynced: the next revision to read from history. */
  nextRevision: number;
  queue: Event[];
  slowCount: number;
}

export interface WatchHubStats {
  readonly watchers: number;
  readonly unsynced: number;
  /** How many times a watcher's queue overflowed and it fell back to reading history. */
  readonly slowDemotions: number;
}

function withoutPrevKv(event: Event): Event {
  return event.prevKv === undefined ? event : { type: event.type, kv: event.kv };
}

export class WatchHub {
  readonly #store: MvccStore;
  readonly #queueEventsMax: number;
  readonly #catchUpRecordsMax: number;
  readonly #watchersMax: number;
  readonly #watchers = new Map<number, Watcher>();
  readonly #byKey = new Map<string, Set<Watcher>>();
  readonly #ranged = new Set<Watcher>();
  readonly #ready = new Set<number>();
  #nextId = 0;
  #epoch: number;
  #lastNotified: number;
  #slowDemotions = 0;

  constructor(store: MvccStore, options: WatchHubOptions = {}) {
    this.#store = store;
    this.#queueEventsMax = options.watchQueueEventsMax ?? watchHubDefaults.watchQueueEventsMax;
    this.#catchUpRecordsMax = options.catchUpRecordsMax ?? watchHubDefaults.catchUpRecordsMax;
    this.#watchersMax = options.watchersMax ?? watchHubDefaults.watchersMax;
    assert(this.#queueEventsMax > 0 && this.#catchUpRecordsMax > 0 && this.#watchersMax > 0, "watch hub bounds are positive");
    this.#epoch = store.epoch;
    this.#lastNotified = store.currentRevision;
  }

  get stats(): WatchHubStats {
    let unsynced = 0;
    for (const watcher of this.#watchers.values()) if (!watcher.synced) unsynced++;
    return { watchers: this.#watchers.size, unsynced, slowDemotions: this.#slowDemotions };
  }

  /** Registers a watcher and returns its id (0, 1, 2... per hub). */
  watch(request: WatchCreateRequest): number {
    this.#syncEpoch();
    const startRevision = request.startRevision ?? 0;
    // etcd's watch server answers a negative start with a canceled "compacted" watch.
    if (startRevision < 0) throw new MvccError("compacted");
    if (this.#watchers.size >= this.#watchersMax) throw new MvccError("tooManyWatchers");
    const current = this.#store.currentRevision;
    const synced = startRevision === 0 || startRevision > current;
    const filters = request.filters ?? [];
    const watcher: Watcher = {
      id: this.#nextId++,
      span: keySpan(request.key.length === 0 ? new Uint8Array([0]) : request.key, request.rangeEnd),
      noPut: filters.includes(WatchFilterType.NoPut),
      noDelete: filters.includes(WatchFilterType.NoDelete),
      prevKv: request.prevKv === true,
      startRevision,
      synced,
      nextRevision: synced ? Math.max(current + 1, startRevision) : startRevision,
      queue: [],
      slowCount: 0,
    };
    this.#watchers.set(watcher.id, watcher);
    if (watcher.span.end === null) this.#keyWatchers(watcher.span.start).add(watcher);
    else this.#ranged.add(watcher);
    if (!synced) this.#ready.add(watcher.id);
    return watcher.id;
  }

  #keyWatchers(key: string): Set<Watcher> {
    let watchers = this.#byKey.get(key);
    if (watchers === undefined) {
      watchers = new Set();
      this.#byKey.set(key, watchers);
    }
    return watchers;
  }

  cancel(watchId: number): boolean {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return false;
    this.#watchers.delete(watchId);
    this.#ready.delete(watchId);
    if (watcher.span.end !== null) {
      this.#ranged.delete(watcher);
    } else {
      const watchers = this.#byKey.get(watcher.span.start);
      watchers?.delete(watcher);
      if (watchers?.size === 0) this.#byKey.delete(watcher.span.start);
    }
    return true;
  }

  /** Ids of watchers with something to take (events, history to catch up on, or a cancel). */
  ready(): number[] {
    this.#syncEpoch();
    return [...this.#ready];
  }

  isReady(watchId: number): boolean {
    this.#syncEpoch();
    return this.#ready.has(watchId);
  }

  /**
   * Delivers one write's events (one revision, as returned by the store) to synced watchers. Call
   * it once per write that returned events, in order, before serving any take() or progress().
   */
  notify(events: readonly Event[]): void {
    this.#syncEpoch();
    if (events.length === 0) return;
    const revision = (events[0] as Event).kv.modRevision;
    assert(revision === this.#lastNotified + 1, "notify follows the revisions one by one", () => `${revision} after ${this.#lastNotified}`);
    assert(revision <= this.#store.currentRevision, "notify of an applied revision");
    this.#lastNotified = revision;
    for (const event of events) {
      assert(event.kv.modRevision === revision, "one revision per notify");
      const key = bytesToBinary(event.kv.key);
      const stripped = withoutPrevKv(event);
      for (const watcher of this.#byKey.get(key) ?? []) this.#offer(watcher, event, stripped);
      for (const watcher of this.#ranged) if (spanContains(watcher.span, key)) this.#offer(watcher, event, stripped);
    }
  }

  #offer(watcher: Watcher, event: Event, stripped: Event): void {
    if (!watcher.synced || event.kv.modRevision < watcher.nextRevision) return;
    if (event.type === EventType.Put ? watcher.noPut : watcher.noDelete) return;
    watcher.queue.push(watcher.prevKv ? event : stripped);
    this.#ready.add(watcher.id);
    if (watcher.queue.length <= this.#queueEventsMax) return;
    // Slow: drop the queue and re-read from history, starting at the first undelivered revision.
    watcher.synced = false;
    watcher.nextRevision = (watcher.queue[0] as Event).kv.modRevision;
    watcher.queue = [];
    watcher.slowCount++;
    this.#slowDemotions++;
  }

  /**
   * The next response for a watcher: at least one whole revision and, past that, whole revisions
   * up to `maxEvents` events. Undefined when there is nothing to send now (an unsynced watcher
   * may stay ready: call again). A canceled response removes the watcher.
   */
  take(watchId: number, maxEvents: number): WatchResponse | undefined {
    assert(maxEvents > 0, "take at least one event");
    this.#syncEpoch();
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return undefined;
    const events = watcher.synced ? this.#dequeue(watcher, maxEvents) : this.#catchUp(watcher, maxEvents);
    if (events === undefined) return this.#cancelResponse(watchId, this.#store.compactRevision);
    if (watcher.synced && watcher.queue.length === 0) this.#ready.delete(watchId);
    if (events.length === 0) return undefined;
    return { watchId, revision: this.#store.currentRevision, events, compactRevision: 0, canceled: false, cancelReason: "" };
  }

  #cancelResponse(watchId: number, compactRevision: number): WatchResponse {
    this.cancel(watchId);
    return { watchId, revision: this.#store.currentRevision, events: [], compactRevision, canceled: true, cancelReason: "" };
  }

  #dequeue(watcher: Watcher, maxEvents: number): Event[] {
    let end = 0;
    while (end < watcher.queue.length) {
      const revision = (watcher.queue[end] as Event).kv.modRevision;
      if (end >= maxEvents) break;
      while (end < watcher.queue.length && (watcher.queue[end] as Event).kv.modRevision === revision) end++;
    }
    return watcher.queue.splice(0, end);
  }

  /** Reads a bounded slice of history for an unsynced watcher; undefined when it was compacted. */
  #catchUp(watcher: Watcher, maxEvents: number): Event[] | undefined {
    const space = this.#store.keySpace;
    if (watcher.nextRevision < space.compactRevision) return undefined;
    const history = space.history;
    let index = space.firstHistoryIndexAtOrAbove(watcher.nextRevision);
    const events: Event[] = [];
    let scanned = 0;
    let revision = 0;
    for (; index < history.length; index++) {
      const record = history[index] as RevisionRecord;
      // Bounds are checked only between revisions, so a response never splits one.
      if (record.main !== revision && (events.length >= maxEvents || scanned >= this.#catchUpRecordsMax)) break;
      revision = record.main;
      scanned++;
      const event = this.#historyEvent(watcher, record);
      if (event !== undefined) events.push(event);
    }
    if (index < history.length) {
      watcher.nextRevision = (history[index] as RevisionRecord).main;
    } else {
      // Everything up to the current revision came from history; a pending notify of it is skipped.
      watcher.synced = true;
      watcher.nextRevision = Math.max(this.#store.currentRevision + 1, watcher.startRevision);
    }
    return events;
  }

  #historyEvent(watcher: Watcher, record: RevisionRecord): Event | undefined {
    if (!spanContains(watcher.span, record.keyString)) return undefined;
    const type = record.tombstone ? EventType.Delete : EventType.Put;
    if (type === EventType.Put ? watcher.noPut : watcher.noDelete) return undefined;
    if (!watcher.prevKv) return { type, kv: record.kv };
    const prevKv = this.#store.keySpace.getKey(record.keyString, record.main - 1);
    return prevKv === undefined ? { type, kv: record.kv } : { type, kv: record.kv, prevKv };
  }

  /**
   * The revision to report in a progress notification, when the watcher has delivered everything
   * up to the current revision (etcd's progressIfSync); undefined otherwise.
   */
  progress(watchId: number): number | undefined {
    return this.progressAll([watchId]);
  }

  /** One progress revision for a whole stream: only when every watcher in it is caught up. */
  progressAll(watchIds: readonly number[]): number | undefined {
    this.#syncEpoch();
    const current = this.#store.currentRevision;
    if (this.#lastNotified !== current) return undefined;
    for (const watchId of watchIds) {
      const watcher = this.#watchers.get(watchId);
      if (watcher === undefined || !watcher.synced || watcher.queue.length > 0 || current < watcher.startRevision) return undefined;
    }
    return current;
  }

  /** After the store restored from disk or a snapshot, every watcher re-reads history. */
  #syncEpoch(): void {
    if (this.#store.epoch === this.#epoch) return;
    this.#epoch = this.#store.epoch;
    for (const watcher of this.#watchers.values()) {
      if (watcher.synced) {
        watcher.nextRevision = watcher.queue[0]?.kv.modRevision ?? Math.max(watcher.nextRevision, this.#lastNotified + 1);
        watcher.synced = false;
        watcher.queue = [];
      }
      this.#ready.add(watcher.id);
    }
    this.#lastNotified = this.#store.currentRevision;
  }
}
