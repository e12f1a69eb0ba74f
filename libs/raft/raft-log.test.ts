import { describe, expect, it } from "vitest";
import { CompactedError } from "./errors.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { RaftLog } from "./raft-log.ts";
import { entriesWithTerms } from "./test-support.ts";
import type { Entry, Snapshot } from "./types.ts";
import { Unstable } from "./unstable.ts";
import { entry, unlimitedBytes } from "./util.ts";

const confState = { voters: [1, 2, 3], learners: [] };
const snapshotAt = (index: number, term: number): Snapshot => ({ data: new Uint8Array(), metadata: { index, term, confState } });
const sized = (term: number, index: number, bytes: number): Entry => entry(term, index, new Uint8Array(bytes));
const indexes = (entries: readonly Entry[]) => entries.map((e) => e.index);

/** A log whose storage holds `stored` and whose unstable part holds `fresh`. */
function logWith(stored: Entry[], fresh: Entry[] = [], maxCommittedBytesPerReady = unlimitedBytes): RaftLog {
  const storage = new MemoryStorage(confState);
  storage.append(stored);
  const log = new RaftLog(storage, maxCommittedBytesPerReady);
  log.append(fresh);
  return log;
}

describe("Unstable", () => {
  it("stableTo drops persisted entries, but not when the entry there was replaced since", () => {
    const unstable = new Unstable(5);
    unstable.truncateAndAppend([entry(1, 5), entry(1, 6), entry(1, 7)]);
    expect(unstable.stableTo(6, 2)).toBe(false); // term differs: not what was persisted
    expect(unstable.stableTo(6, 1)).toBe(true);
    expect([unstable.offset, indexes(unstable.entries)]).toEqual([7, [7]]);
  });

  it("truncateAndAppend replaces a conflicting suffix, or everything when it starts earlier", () => {
    const unstable = new Unstable(5);
    unstable.truncateAndAppend([entry(1, 5), entry(1, 6), entry(1, 7)]);
    unstable.truncateAndAppend([entry(2, 6)]);
    expect(unstable.entries.map((e) => [e.index, e.term])).toEqual([[5, 1], [6, 2]]);
    unstable.truncateAndAppend([entry(3, 4)]);
    expect([unstable.offset, unstable.entries.map((e) => e.term)]).toEqual([4, [3]]);
  });

  it("a restored snapshot replaces the entries and answers for its own index", () => {
    const unstable = new Unstable(5);
    unstable.truncateAndAppend([entry(1, 5)]);
    unstable.restore(snapshotAt(10, 3));
    expect([unstable.offset, unstable.entries.length]).toEqual([11, 0]);
    expect(unstable.maybeTerm(10)).toBe(3);
    expect(unstable.maybeFirstIndex()).toBe(11);
    expect(unstable.maybeLastIndex()).toBe(10);
  });
});

describe("RaftLog", () => {
  it("knows the term of the entry just before its first (for matching after a snapshot)", () => {
    const storage = new MemoryStorage(confState);
    storage.append(entriesWithTerms(1, 1, 2, 2));
    storage.createSnapshot(2, confState, new Uint8Array());
    storage.compact(2);
    const log = new RaftLog(storage, unlimitedBytes);
    expect(log.firstIndex()).toBe(3);
    expect(log.term(2)).toBe(1);
    expect(log.term(1)).toBeUndefined();
    expect(log.term(5)).toBeUndefined();
  });

  it("reads a range across storage and the unstable suffix", () => {
    const log = logWith(entriesWithTerms(1, 1, 1), [entry(2, 4), entry(2, 5)]);
    expect(indexes(log.slice(2, 6, unlimitedBytes))).toEqual([2, 3, 4, 5]);
  });

  it("a size-limited read returns at least one entry and stops before exceeding the limit", () => {
    const log = logWith([sized(1, 1, 5), sized(1, 2, 5)], [sized(1, 3, 5)]);
    expect(indexes(log.slice(1, 4, 1))).toEqual([1]);
    expect(indexes(log.slice(1, 4, 10))).toEqual([1, 2]);
    expect(indexes(log.slice(2, 4, 10))).toEqual([2, 3]);
    expect(indexes(log.slice(1, 4, 15))).toEqual([1, 2, 3]);
  });

  it("reading below the first index throws CompactedError", () => {
    const storage = new MemoryStorage(confState);
    storage.append(entriesWithTerms(1, 1, 1));
    storage.createSnapshot(2, confState, new Uint8Array());
    storage.compact(2);
    const log = new RaftLog(storage, unlimitedBytes);
    expect(() => log.entriesFrom(2, unlimitedBytes)).toThrow(CompactedError);
  });

  it("findConflict names the first new or differing entry", () => {
    const log = logWith(entriesWithTerms(1, 2, 3));
    expect(log.findConflict([entry(1, 1), entry(2, 2)])).toBe(0);
    expect(log.findConflict([entry(2, 2), entry(3, 3), entry(4, 4)])).toBe(4);
    expect(log.findConflict([entry(2, 2), entry(4, 3)])).toBe(3);
  });

  it("findConflictByTerm walks back to the last index whose term is at most the given term", () => {
    const log = logWith(entriesWithTerms(1, 1, 3, 3, 5));
    expect(log.findConflictByTerm(5, 4)).toEqual({ index: 4, term: 3 });
    expect(log.findConflictByTerm(5, 2)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(5, 0)).toEqual({ index: 0, term: 0 });
    expect(log.findConflictByTerm(3, 9)).toEqual({ index: 3, term: 3 });
  });

  it("maybeAppend refuses entries whose previous entry does not match", () => {
    const log = logWith(entriesWithTerms(1, 1));
    expect(log.maybeAppend(2, 2, 0, [entry(2, 3)])).toBeUndefined();
    expect(log.lastIndex()).toBe(2);
  });

  it("maybeAppend never truncates a committed entry", () => {
    const log = logWith(entriesWithTerms(1, 1, 1));
    log.commitTo(3);
    expect(() => log.maybeAppend(1, 1, 3, [entry(2, 2)])).toThrow(/committed entry is never overwritten/);
  });

  it("the commit index never moves backward and never passes the last entry", () => {
    const log = logWith(entriesWithTerms(1, 1, 1));
    log.commitTo(2);
    log.commitTo(1);
    expect(log.committed).toBe(2);
    expect(() => log.commitTo(4)).toThrow(/commit index is within the log/);
  });

  it("committed entries are handed out in batches bounded in bytes, at least one each", () => {
    const log = logWith([sized(1, 1, 3), sized(1, 2, 3), sized(1, 3, 3)], [], 4);
    log.commitTo(3);
    expect(indexes(log.nextCommittedEntries())).toEqual([1]);
    log.appliedTo(1);
    expect(indexes(log.nextCommittedEntries())).toEqual([2]);
    log.appliedTo(3);
    expect(log.hasNextCommittedEntries()).toBe(false);
  });

  it("no committed entries are handed out while a snapshot waits to be persisted", () => {
    const log = logWith(entriesWithTerms(1, 1));
    log.commitTo(2);
    log.restore(snapshotAt(10, 2));
    expect(log.nextCommittedEntries()).toEqual([]);
  });

  it("persistedLastIndex stops before the unstable entries", () => {
    const log = logWith(entriesWithTerms(1, 1), [entry(1, 3)]);
    expect(log.persistedLastIndex()).toBe(2);
    (log.storage as MemoryStorage).append([entry(1, 3)]); // the caller persists, then acknowledges
    expect(log.stableTo(3, 1)).toBe(true);
    expect(log.persistedLastIndex()).toBe(3);
  });

  it("maybeCommit commits only an index whose entry is of the given term", () => {
    const log = logWith(entriesWithTerms(1, 1, 2));
    expect(log.maybeCommit(2, 2)).toBe(false);
    expect(log.maybeCommit(3, 2)).toBe(true);
    expect(log.committed).toBe(3);
  });
});
