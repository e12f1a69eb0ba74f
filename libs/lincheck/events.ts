/**
 * The two data structures the search walks and remembers with: the time-ordered list of call
 * and return events (with O(1) removal and reinsertion), and the set of placed operations.
 */
import { assert } from "../assert/index.ts";
import type { PartitionOperation } from "./history.ts";

/** An operation with a deadline must be linearized before its completion; the others never must. */
export function hasDeadline(operation: PartitionOperation): boolean {
  return Number.isFinite(operation.completeTime);
}

/** Returned by EventList.first/after at the end of the list. */
export const headNode = -1;

/**
 * The call/return event list; node 2*id is the call of operation id, 2*id+1 its return. An
 * operation without a deadline has no return node: it never ends the candidate window.
 */
export class EventList {
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  readonly #head: number;
  readonly #hasReturn: Uint8Array;

  constructor(operations: readonly PartitionOperation[]) {
    const nodeCount = operations.length * 2;
    this.#head = nodeCount;
    this.#next = new Int32Array(nodeCount + 1);
    this.#prev = new Int32Array(nodeCount + 1);
    this.#hasReturn = new Uint8Array(operations.map((operation) => (hasDeadline(operation) ? 1 : 0)));
    const eventTime = (node: number): number => {
      const operation = operations[node >> 1];
      assert(operation !== undefined, "event node names an operation");
      return (node & 1) === 0 ? operation.invokeTime : operation.completeTime;
    };
    const order = Array.from({ length: nodeCount }, (_, node) => node).filter((node) => (node & 1) === 0 || this.#hasReturn[node >> 1] === 1);
    // Calls sort before returns at equal times: touching intervals count as concurrent, which
    // can only accept more histories, never reject a correct one.
    order.sort((a, b) => eventTime(a) - eventTime(b) || (a & 1) - (b & 1) || a - b);
    let previous = this.#head;
    for (const node of order) {
      this.#next[previous] = node;
      this.#prev[node] = previous;
      previous = node;
    }
    this.#next[previous] = this.#head;
    this.#prev[this.#head] = previous;
  }

  first(): number {
    const node = this.#next[this.#head];
    assert(node !== undefined, "list has a head");
    return node === this.#head ? headNode : node;
  }

  after(node: number): number {
    const next = this.#next[node];
    assert(next !== undefined, "node in list");
    return next === this.#head ? headNode : next;
  }

  /** Takes the events of an operation out of the list (dancing links: they remember their place). */
  lift(id: number): void {
    this.#unlink(2 * id);
    if (this.#hasReturn[id] === 1) this.#unlink(2 * id + 1);
  }

  /** Undoes lift(id); must be called in the reverse order of the lifts. */
  unlift(id: number): void {
    if (this.#hasReturn[id] === 1) this.#relink(2 * id + 1);
    this.#relink(2 * id);
  }

  #unlink(node: number): void {
    const before = this.#prev[node] as number;
    const after = this.#next[node] as number;
    this.#next[before] = after;
    this.#prev[after] = before;
  }

  #relink(node: number): void {
    this.#next[this.#prev[node] as number] = node;
    this.#prev[this.#next[node] as number] = node;
  }
}

/** The set of linearized operation ids, with a compact exact encoding for the cache. */
export class LinearizedSet {
  readonly #words: Uint32Array;

  constructor(size: number) {
    this.#words = new Uint32Array(Math.ceil(size / 32));
  }

  add(id: number): void {
    this.#words[id >>> 5] = (this.#words[id >>> 5] as number) | (1 << (id & 31));
  }

  remove(id: number): void {
    this.#words[id >>> 5] = (this.#words[id >>> 5] as number) & ~(1 << (id & 31));
  }

  /**
   * Encodes the set as "top|holes": every id below `top` is in the set except the holes. The
   * holes are the operations still concurrent with the search front (at most one definite
   * operation per client, plus pending unknown ones), so the key stays short on long histories.
   */
  encode(): string {
    let topWord = this.#words.length - 1;
    while (topWord >= 0 && this.#words[topWord] === 0) topWord--;
    if (topWord < 0) return "0|";
    const topBits = this.#words[topWord] as number;
    const top = topWord * 32 + (32 - Math.clz32(topBits));
    const holes: number[] = [];
    for (let word = 0; word <= topWord; word++) {
      const bits = this.#words[word] as number;
      if (bits === 0xffffffff) continue;
      const limit = Math.min(32, top - word * 32);
      for (let bit = 0; bit < limit; bit++) {
        if ((bits & (1 << bit)) === 0) holes.push(word * 32 + bit);
      }
    }
    return `${top}|${holes.join(",")}`;
  }
}

