/**
 * ReadIndex bookkeeping on the leader (Raft thesis §6.4): each read request records the commit
 * index at arrival; it may be served once a heartbeat round carrying its context has been
 * acknowledged by a quorum, proving that no newer leader had been elected at that moment.
 */
import { assert } from "../assert/index.ts";
import type { Message, NodeId } from "./types.ts";
import { bytesKey } from "./util.ts";

/** Bound on read requests awaiting a quorum of acknowledgements; more are dropped (clients retry). */
export const maxPendingReadRequests = 4096;

interface ReadIndexStatus {
  readonly request: Message;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

export class ReadOnly {
  readonly #pending = new Map<string, ReadIndexStatus>();
  /** Context keys in arrival order. */
  #queue: string[] = [];

  get size(): number {
    return this.#queue.length;
  }

  /** Registers a read at commit index `index`; false when the queue is full or the context repeats. */
  addRequest(index: number, request: Message): boolean {
    const key = bytesKey(request.context);
    if (this.#pending.has(key) || this.#queue.length >= maxPendingReadRequests) return false;
    this.#pending.set(key, { request, index, acks: new Set() });
    this.#queue.push(key);
    return true;
  }

  /** Records a heartbeat acknowledgement for `context`; returns who acknowledged so far. */
  recvAck(id: NodeId, context: Uint8Array): ReadonlySet<NodeId> {
    const status = this.#pending.get(bytesKey(context));
    if (status === undefined) return new Set();
    status.acks.add(id);
    return status.acks;
  }

  /**
   * Releases the request with `context` and every request queued before it: an acknowledgement
   * of a later heartbeat round also confirms leadership for earlier reads.
   */
  advance(context: Uint8Array): { request: Message; index: number }[] {
    const key = bytesKey(context);
    const position = this.#queue.indexOf(key);
    if (position < 0) return [];
    const released: { request: Message; index: number }[] = [];
    for (const queuedKey of this.#queue.slice(0, position + 1)) {
      const status = this.#pending.get(queuedKey);
      assert(status !== undefined, "a queued read request is pending");
      released.push({ request: status.request, index: status.index });
      this.#pending.delete(queuedKey);
    }
    this.#queue = this.#queue.slice(position + 1);
    return released;
  }

  /** The context of the newest pending read, carried by the next heartbeat round. */
  lastPendingRequestContext(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1];
    return key === undefined ? undefined : this.#pending.get(key)?.request.context;
  }
}
