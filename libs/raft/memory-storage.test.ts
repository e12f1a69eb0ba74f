import { describe, expect, it } from "vitest";
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from "./errors.ts";
import { bootstrapLog } from "./bootstrap.ts";
import { decodeConfChange, encodeConfChange } from "./conf-change.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { entriesWithTerms } from "./test-support.ts";
import { ConfChangeType, EntryType } from "./types.ts";
import { entry } from "./util.ts";

const confState = { voters: [1, 2, 3], learners: [] };
const data = new Uint8Array([7]);

function storageWith(terms: number[]): MemoryStorage {
  const storage = new MemoryStorage(confState);
  storage.append(entriesWithTerms(...terms));
  return storage;
}

describe("MemoryStorage", () => {
  it("a founding member starts with one committed conf change per member at term 1, indexes 1..N", () => {
    const storage = new MemoryStorage({ voters: [3, 1, 2], learners: [5] });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(0)]).toEqual([1, 4, 0]);
    expect(storage.initialState()).toEqual({ hardState: { term: 1, vote: 0, commit: 4 }, confState: { voters: [3, 1, 2], learners: [5] } });
    const entries = storage.entries(1, 5, Infinity);
    expect(entries.every((e) => e.type === EntryType.ConfChange && e.term === 1)).toBe(true);
    expect(entries.map((e) => decodeConfChange(e.data))).toEqual([
      { type: ConfChangeType.AddNode, nodeId: 1, context: new Uint8Array() },
      { type: ConfChangeType.AddNode, nodeId: 2, context: new Uint8Array() },
      { type: ConfChangeType.AddNode, nodeId: 3, context: new Uint8Array() },
      { type: ConfChangeType.AddLearnerNode, nodeId: 5, context: new Uint8Array() },
    ]);
  });

  it("every founding member's bootstrap log is byte-identical, whatever order the members were listed in", () => {
    const a = bootstrapLog({ voters: [1, 2, 3], learners: [] });
    const b = bootstrapLog({ voters: [3, 2, 1], learners: [] });
    expect(b).toEqual(a);
    expect(a.entries.map((e) => e.data)).toEqual([1, 2, 3].map((nodeId) => encodeConfChange({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array() })));
    expect(a.hardState).toEqual({ term: 1, vote: 0, commit: 3 });
  });

  it("a joining member starts empty at index 0 with no configuration", () => {
    const storage = new MemoryStorage();
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(0)]).toEqual([1, 0, 0]);
    expect(storage.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, confState: { voters: [], learners: [] } });
    expect(bootstrapLog({ voters: [], learners: [] }).entries).toEqual([]);
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
