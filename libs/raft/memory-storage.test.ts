import { describe, expect, it } from "vitest";
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from "./errors.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { entriesWithTerms } from "./test-support.ts";
import { entry } from "./util.ts";

const confState = { voters: [1, 2, 3], learners: [] };
const data = new Uint8Array([7]);

function storageWith(terms: number[]): MemoryStorage {
  const storage = new MemoryStorage(confState);
  storage.append(entriesWithTerms(...terms));
  return storage;
}

describe("MemoryStorage", () => {
  it("a new member starts empty at index 0 with its initial voters", () => {
    const storage = new MemoryStorage(confState);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(0)]).toEqual([1, 0, 0]);
    expect(storage.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, confState });
    expect(new MemoryStorage().initialState().confState).toEqual({ voters: [], learners: [] });
  });

  it("append truncates a conflicting suffix first", () => {
    const storage = storageWith([1, 1, 1, 1]);
    storage.append([entry(2, 3)]);
    expect(storage.entries(1, 4, Infinity).map((e) => e.term)).toEqual([1, 1, 2]);
    expect(storage.lastIndex()).toBe(3);
  });

  it("append ignores entries already covered by the snapshot and refuses a gap", () => {
    const storage = storageWith([1, 1, 1]);
    storage.createSnapshot(2, confState, data);
    storage.compact(2);
    storage.append([entry(1, 1), entry(1, 2), entry(3, 3)]);
    expect(storage.term(3)).toBe(3);
    expect(() => storage.append([entry(3, 9)])).toThrow(/no gap/);
  });

  it("entries stop once their size would exceed the limit, but hold at least one", () => {
    const storage = new MemoryStorage(confState);
    storage.append([entry(1, 1, new Uint8Array(4)), entry(1, 2, new Uint8Array(4)), entry(1, 3, new Uint8Array(4))]);
    expect(storage.entries(1, 4, 2).length).toBe(1);
    expect(storage.entries(1, 4, 8).length).toBe(2);
  });

  it("reads outside the log throw CompactedError or UnavailableError", () => {
    const storage = storageWith([1, 1, 1]);
    storage.createSnapshot(2, confState, data);
    storage.compact(2);
    expect(() => storage.entries(2, 3, Infinity)).toThrow(CompactedError);
    expect(() => storage.entries(3, 5, Infinity)).toThrow(UnavailableError);
    expect(() => storage.term(1)).toThrow(CompactedError);
    expect(() => storage.term(4)).toThrow(UnavailableError);
    expect(storage.term(2)).toBe(1);
  });

  it("compact drops entries up to and including the index", () => {
    const storage = storageWith([1, 2, 3, 4]);
    storage.createSnapshot(3, confState, data);
    storage.compact(3);
    expect([storage.firstIndex(), storage.lastIndex()]).toEqual([4, 4]);
    expect(() => storage.compact(3)).toThrow(CompactedError);
  });

  it("createSnapshot records the term at its index and refuses an older one", () => {
    const storage = storageWith([1, 2, 3]);
    const snapshot = storage.createSnapshot(2, confState, data);
    expect(snapshot.metadata).toEqual({ index: 2, term: 2, confState });
    expect(() => storage.createSnapshot(1, confState, data)).toThrow(SnapshotOutOfDateError);
  });

  it("applySnapshot replaces the log and refuses a snapshot older than the one held", () => {
    const storage = storageWith([1, 1, 1]);
    storage.applySnapshot({ data, metadata: { index: 10, term: 4, confState } });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(10)]).toEqual([11, 10, 4]);
    expect(() => storage.applySnapshot({ data, metadata: { index: 9, term: 4, confState } })).toThrow(SnapshotOutOfDateError);
  });
});
