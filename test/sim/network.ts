/**
 * The simulated network: messages wait in per-tick buckets until their delivery tick, and are
 * dropped, duplicated, delayed and reordered according to the current fault settings. Partitions
 * are a set of blocked directed links, consulted at delivery time (a cut link loses what is on
 * the wire). Every random choice comes from the injected Prng.
 */
import type { Prng } from "../../libs/prng/index.ts";
import type { Message, NodeId } from "../../libs/raft/index.ts";

/** Messages on the wire at once; past this the network drops, as a full socket buffer would. */
export const inFlightMessagesMax = 20_000;

export interface LinkFaults {
  /** Probability that a sent message never arrives. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (the copy gets its own delay). */
  readonly duplicateRate: number;
  /** Delivery takes 1..delayTicksMax ticks, so messages sent in one tick overtake each other. */
  readonly delayTicksMax: number;
  /** Probability that a message is held back much longer (up to spikeDelayTicksMax). */
  readonly spikeRate: number;
  readonly spikeDelayTicksMax: number;
  /** Whether messages due in the same tick arrive in random order (else in the order sent). */
  readonly reorder: boolean;
}

/** A healthy network: one tick per hop, nothing lost, FIFO like a TCP connection. */
export const calmLinks: LinkFaults = { dropRate: 0, duplicateRate: 0, delayTicksMax: 1, spikeRate: 0, spikeDelayTicksMax: 1, reorder: false };

/** A message on the wire, stamped with its sender's incarnation (for snapshot status reports). */
export interface InFlight {
  readonly message: Message;
  readonly senderIncarnation: number;
}

export type SendOutcome = "queued" | "dropped" | "duplicated";

export class Network {
  readonly #prng: Prng;
  readonly #buckets = new Map<number, InFlight[]>();
  readonly #blocked = new Set<string>();
  #faults: LinkFaults = calmLinks;
  #inFlight = 0;
  /** Optional rewrite of every delivered message (used by planted bugs). */
  rewrite: ((message: Message) => Message) | undefined;

  constructor(prng: Prng) {
    this.#prng = prng;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get faults(): LinkFaults {
    return this.#faults;
  }

  setFaults(faults: LinkFaults): void {
    this.#faults = faults;
  }

  send(now: number, flight: InFlight): SendOutcome {
    if (this.#inFlight >= inFlightMessagesMax || this.#prng.nextFloat() < this.#faults.dropRate) return "dropped";
    this.#enqueue(now + this.#delayTicks(), flight);
    if (this.#prng.nextFloat() >= this.#faults.duplicateRate) return "queued";
    this.#enqueue(now + this.#delayTicks(), flight);
    return "duplicated";
  }

  /** Removes and returns the messages due at `now`; with reordering on, same-tick arrivals race. */
  takeDue(now: number): InFlight[] {
    const due = this.#buckets.get(now);
    if (due === undefined) return [];
    this.#buckets.delete(now);
    this.#inFlight -= due.length;
    if (this.#faults.reorder) shuffle(this.#prng, due);
    return due;
  }

  /** Puts a message back to arrive at `tick` (its receiver was busy). */
  requeue(tick: number, flight: InFlight): void {
    this.#enqueue(tick, flight);
  }

  /** Drops everything on the wire, e.g. before a deterministic benchmark or a final check. */
  clear(): void {
    this.#buckets.clear();
    this.#inFlight = 0;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.#blocked.size > 0 && this.#blocked.has(linkKey(from, to));
  }

  blockOneWay(from: NodeId, to: NodeId): void {
    if (from !== to) this.#blocked.add(linkKey(from, to));
  }

  /** Nodes in different groups cannot talk, in either direction. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const [g, group] of groups.entries()) {
      for (const [h, other] of groups.entries()) {
        if (g === h) continue;
        for (const from of group) for (const to of other) this.blockOneWay(from, to);
      }
    }
  }

  heal(): void {
    this.#blocked.clear();
  }

  blockedLinks(): string[] {
    return [...this.#blocked].sort();
  }

  #delayTicks(): number {
    const faults = this.#faults;
    if (faults.spikeRate > 0 && this.#prng.nextFloat() < faults.spikeRate) return 1 + this.#prng.nextInt(faults.spikeDelayTicksMax);
    return 1 + this.#prng.nextInt(faults.delayTicksMax);
  }

  #enqueue(tick: number, flight: InFlight): void {
    const bucket = this.#buckets.get(tick);
    if (bucket === undefined) this.#buckets.set(tick, [flight]);
    else bucket.push(flight);
    this.#inFlight++;
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}

/** Fisher-Yates with the simulation's Prng. */
export function shuffle<T>(prng: Prng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    const item = items[i] as T;
    items[i] = items[j] as T;
    items[j] = item;
  }
  return items;
}
