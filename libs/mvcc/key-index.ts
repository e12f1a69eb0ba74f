/**
 * Per-key revision history, as etcd's keyIndex: a list of generations, each the revisions of one
 * life of the key from its creating put to its tombstone. The last generation is empty while the
 * key is deleted. Records hold the KeyValue itself, so reads need no second lookup.
 *
 * Example: put@1.0, put@2.0, delete@3.0, put@4.0 gives generations [1.0, 2.0, 3.0(t)], [4.0].
 */
import { assert } from "../assert/index.ts";
import type { KeyValue } from "./types.ts";

/** One stored revision of one key: a put, or a tombstone whose kv carries only key and modRevision. */
export interface RevisionRecord {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
  readonly kv: KeyValue;
  /** The key as a binary string (see bytes.ts), for matching without conversions. */
  readonly keyString: string;
}

export function revisionAfter(a: RevisionRecord, b: RevisionRecord): boolean {
  return a.main > b.main || (a.main === b.main && a.sub > b.sub);
}

export class KeyIndex {
  readonly key: Uint8Array;
  readonly keyString: string;
  /** Never empty; only the last generation may be empty (the key is deleted or never written). */
  generations: RevisionRecord[][] = [[]];
  /** The live value at the newest revision, cached so that scans touch one object per key. */
  currentKv: KeyValue | undefined;
  #last: RevisionRecord | undefined;

  constructor(key: Uint8Array, keyString: string) {
    this.key = key;
    this.keyString = keyString;
  }

  /** The key exists at the newest revision. */
  get live(): boolean {
    return this.currentKv !== undefined;
  }

  /** The newest put of the current life, when the key is live. */
  get current(): RevisionRecord | undefined {
    return (this.generations.at(-1) as RevisionRecord[]).at(-1);
  }

  /** The newest record of any kind (etcd's `modified`). */
  get last(): RevisionRecord | undefined {
    return this.#last;
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && (this.generations[0] as RevisionRecord[]).length === 0;
  }

  put(record: RevisionRecord): void {
    assert(!record.tombstone, "keyIndex.put takes a put record");
    this.#append(record);
    this.currentKv = record.kv;
  }

  tombstone(record: RevisionRecord): void {
    assert(record.tombstone, "keyIndex.tombstone takes a tombstone record");
    assert(this.live, "tombstone of a live key");
    this.#append(record);
    this.generations.push([]);
    this.currentKv = undefined;
  }

  /**
   * Rebuilds from stored records in revision order. A tombstone seen first (its puts compacted
   * away) opens a one-record generation, as etcd's restoreTombstone; a tombstone for a key that is
   * already deleted is ignored, as etcd does with a warning.
   */
  restore(record: RevisionRecord): void {
    if (!record.tombstone) {
      this.put(record);
    } else if (this.live) {
      this.tombstone(record);
    } else if (this.isEmpty()) {
      this.generations = [[record], []];
      this.#last = record;
    }
  }

  #append(record: RevisionRecord): void {
    assert(this.#last === undefined || revisionAfter(record, this.#last), "key revisions increase");
    (this.generations.at(-1) as RevisionRecord[]).push(record);
    this.#last = record;
  }

  /** The put visible at `atRevision`, or undefined when the key did not exist then. */
  get(atRevision: number): RevisionRecord | undefined {
    // Most keys did not change since the revision asked for: their newest record answers.
    const last = this.#last;
    if (last !== undefined && last.main <= atRevision) return last.tombstone ? undefined : last;
    const generation = this.#findGeneration(atRevision);
    if (generation === undefined) return undefined;
    for (let i = generation.length - 1; i >= 0; i--) {
      const record = generation[i] as RevisionRecord;
      if (record.main <= atRevision) return record.tombstone ? undefined : record;
    }
    return undefined;
  }

  #findGeneration(atRevision: number): RevisionRecord[] | undefined {
    const lastIndex = this.generations.length - 1;
    for (let index = lastIndex; index >= 0; index--) {
      const generation = this.generations[index] as RevisionRecord[];
      if (generation.length === 0) continue;
      if (index !== lastIndex && (generation.at(-1) as RevisionRecord).main <= atRevision) return undefined;
      if ((generation[0] as RevisionRecord).main <= atRevision) return generation;
    }
    return undefined;
  }

  /**
   * Drops every revision that no read at or after `atRevision` can see, adding the survivors at or
   * below it to `available` (etcd's keyIndex.compact). A tombstone exactly at `atRevision` is kept,
   * as etcd > 3.5.15 does, so that a watch from the compact revision still sees that delete.
   */
  compact(atRevision: number, available: Set<RevisionRecord>): void {
    assert(!this.isEmpty(), "compact of a non-empty keyIndex");
    const [generationIndex, revisionIndex] = this.#doCompact(atRevision, available);
    const generation = this.generations[generationIndex] as RevisionRecord[];
    const kept = revisionIndex > 0 ? generation.slice(revisionIndex) : generation;
    this.generations = [kept, ...this.generations.slice(generationIndex + 1)];
  }

  /** What compact(atRevision) would keep, minus a tombstone exactly there (etcd's keep, for hashKV). */
  keep(atRevision: number, available: Set<RevisionRecord>): void {
    if (this.isEmpty()) return;
    const [generationIndex, revisionIndex] = this.#doCompact(atRevision, available);
    const generation = this.generations[generationIndex] as RevisionRecord[];
    if (generation.length > 0 && revisionIndex === generation.length - 1 && generationIndex !== this.generations.length - 1) {
      available.delete(generation[revisionIndex] as RevisionRecord);
    }
  }

  #doCompact(atRevision: number, available: Set<RevisionRecord>): [generationIndex: number, revisionIndex: number] {
    let generationIndex = 0;
    while (generationIndex < this.generations.length - 1) {
      const tombstone = (this.generations[generationIndex] as RevisionRecord[]).at(-1) as RevisionRecord;
      if (tombstone.main >= atRevision) break;
      generationIndex++;
    }
    const generation = this.generations[generationIndex] as RevisionRecord[];
    for (let i = generation.length - 1; i >= 0; i--) {
      const record = generation[i] as RevisionRecord;
      if (record.main <= atRevision) {
        available.add(record);
        return [generationIndex, i];
      }
    }
    return [generationIndex, -1];
  }
}
