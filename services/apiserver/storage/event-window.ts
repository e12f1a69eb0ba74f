/**
 * The watch cache's window of recent events: a ring buffer of at most `capacity` events in
 * revision order. A watch from resourceVersion N is served from it when every event after N is
 * still here: N >= oldestServableRevision. Events leave only from the front, so that revision
 * is the list revision the window started from, or the newest evicted event's revision,
 * whichever is higher (a revision's events may be split by eviction; the whole revision then
 * counts as gone, stricter than upstream's "first event's revision - 1").
 */
import { assert } from "../../../libs/assert/index.ts";
import type { CacheEvent } from "./watch.ts";

export class EventWindow {
  readonly capacity: number;
  readonly #events: (CacheEvent | undefined)[];
  /** Absolute index of the oldest event held, and one past the newest. */
  #start = 0;
  #end = 0;
  #listRevision = 0;
  #evictedRevision = 0;

  constructor(capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, "event window capacity is a positive integer");
    this.capacity = capacity;
    this.#events = new Array<CacheEvent | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#end - this.#start;
  }

  /** A watch may start at this revision or later. */
  get oldestServableRevision(): number {
    return Math.max(this.#listRevision, this.#evictedRevision);
  }

  /** Empties the window after a (re)list at `listRevision`. */
  reset(listRevision: number): void {
    this.#events.fill(undefined);
    this.#start = 0;
    this.#end = 0;
    this.#listRevision = listRevision;
    this.#evictedRevision = 0;
  }

  push(event: CacheEvent): void {
    const newest = this.#at(this.#end - 1);
    assert(newest === undefined || newest.resourceVersion <= event.resourceVersion, "window events are in revision order");
    assert(event.resourceVersion > this.#listRevision, "window events follow the list");
    if (this.size === this.capacity) {
      const evicted = this.#at(this.#start) as CacheEvent;
      this.#evictedRevision = Math.max(this.#evictedRevision, evicted.resourceVersion);
      this.#events[this.#start % this.capacity] = undefined;
      this.#start++;
    }
    this.#events[this.#end % this.capacity] = event;
    this.#end++;
  }

  /** The events after `revision`, oldest first (the caller checked oldestServableRevision). */
  since(revision: number): CacheEvent[] {
    let low = this.#start;
    let high = this.#end;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if ((this.#at(middle) as CacheEvent).resourceVersion > revision) high = middle;
      else low = middle + 1;
    }
    const events: CacheEvent[] = [];
    for (let index = low; index < this.#end; index++) events.push(this.#at(index) as CacheEvent);
    return events;
  }

  #at(index: number): CacheEvent | undefined {
    if (index < this.#start || index >= this.#end) return undefined;
    return this.#events[index % this.capacity];
  }
}
