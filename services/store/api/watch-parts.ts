/**
 * The pure parts of a watch stream, kept apart so they can be tested without gRPC: the stream's
 * watch ids (client-chosen or assigned, as etcd's watchStream does) and the split of a large
 * response into fragments (as etcd's sendFragments does).
 */
import { assert } from "../../../libs/assert/index.ts";

/**
 * Watch ids of one stream. A non-zero requested id is the client's choice and is refused while in
 * use; 0 asks the stream to assign one: the next id from a counter that starts at 0, skipping ids
 * in use. Like etcd, the counter never goes back, so a canceled id is not handed out again.
 */
export class StreamWatchIds {
  readonly #inUse = new Set<number>();
  #nextId = 0;

  get size(): number {
    return this.#inUse.size;
  }

  has(id: number): boolean {
    return this.#inUse.has(id);
  }

  /** The id for a new watch, or undefined when the client asked for one already in use. */
  allocate(requested: number): number | undefined {
    assert(Number.isSafeInteger(requested), "a watch id is a safe integer");
    if (requested !== 0) {
      if (this.#inUse.has(requested)) return undefined;
      this.#inUse.add(requested);
      return requested;
    }
    // Bounded by the ids in use: each skipped id is one of them.
    while (this.#inUse.has(this.#nextId)) this.#nextId++;
    const id = this.#nextId++;
    this.#inUse.add(id);
    return id;
  }

  release(id: number): boolean {
    return this.#inUse.delete(id);
  }
}

/**
 * How many events go into each response when a watcher asked for fragments: the whole response
 * when it is smaller than `maxBytes` or holds fewer than two events; otherwise consecutive slices,
 * each taking events while it stays below `maxBytes` (but always at least one event). Sizes are
 * the encoded bytes of the response without events (`baseBytes`) and of each event's field.
 */
export function planFragments(baseBytes: number, eventBytes: readonly number[], maxBytes: number): number[] {
  assert(maxBytes > 0 && baseBytes >= 0, "fragment sizes are positive");
  const total = eventBytes.reduce((sum, bytes) => sum + bytes, baseBytes);
  if (total < maxBytes || eventBytes.length < 2) return [eventBytes.length];
  const counts: number[] = [];
  let count = 0;
  let bytes = baseBytes;
  for (const size of eventBytes) {
    if (count > 0 && bytes + size >= maxBytes) {
      counts.push(count);
      count = 0;
      bytes = baseBytes;
    }
    count++;
    bytes += size;
  }
  counts.push(count);
  return counts;
}
