import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootstrapLog, EntryType, type ConfState, type Entry, type HardState } from "../../../libs/raft/index.ts";
import { CorruptRecordError, DurableLog, type DurableLogOptions } from "./durable-log.ts";

const voters: ConfState = { voters: [1, 2, 3], learners: [] };
const peers = new Map([
  [1, "http://127.0.0.1:2380"],
  [2, "http://127.0.0.1:2381"],
  [3, "http://127.0.0.1:2382"],
]);
const options: DurableLogOptions = { bootstrap: { confState: voters, peers } };
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function entries(first: number, last: number, term: number): Entry[] {
  const result: Entry[] = [];
  for (let index = first; index <= last; index++) result.push({ term, index, type: EntryType.Normal, data: bytes(`entry ${index} term ${term}`) });
  return result;
}

function allEntries(log: DurableLog): Entry[] {
  const storage = log.storage;
  if (storage.lastIndex() < storage.firstIndex()) return [];
  return storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
}

async function stateRecords(log: DurableLog): Promise<Array<[string, string]>> {
  const records: Array<[string, string]> = [];
  const decoder = new TextDecoder();
  for await (const record of log.stateRecords()) records.push([decoder.decode(record.key), decoder.decode(record.value)]);
  return records;
}

/** Everything a reopen must reproduce, as plain data. */
async function visibleState(log: DurableLog): Promise<unknown> {
  const snapshot = log.storage.snapshot();
  return {
    initialState: log.storage.initialState(),
    entries: allEntries(log),
    firstIndex: log.storage.firstIndex(),
    lastIndex: log.storage.lastIndex(),
    snapshot: { metadata: snapshot.metadata, data: Array.from(snapshot.data) },
    appliedIndex: log.appliedIndex,
    peers: [...log.peers],
    diskEntryRange: log.diskEntryRange,
    stateRecords: await stateRecords(log),
  };
}

/** Rewrites one stored value through LevelDB itself, flipping one bit at `offset` of the value. */
async function flipStoredByte(dataDir: string, key: Uint8Array, offset: number): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(join(dataDir, "db"), { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  try {
    const value = await db.get(key);
    if (value === undefined) throw new Error("flipStoredByte: key not found");
    const changed = Uint8Array.from(value);
    changed[offset] = (changed[offset] as number) ^ 0x01;
    await db.put(key, changed);
  } finally {
    await db.close();
  }
}

function entryKey(index: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = 0x65;
  new DataView(key.buffer).setBigUint64(1, BigInt(index));
  return key;
}

describe("DurableLog", () => {
  let dataDir: string;
  const opened: DurableLog[] = [];

  async function open(overrides: Partial<DurableLogOptions> = {}): Promise<DurableLog> {
    const log = await DurableLog.open(dataDir, { ...options, ...overrides });
    opened.push(log);
    return log;
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-durable-log-"));
  });

  afterEach(async () => {
    for (const log of opened.splice(0)) await log.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}-crash`, { recursive: true, force: true });
  });

  it("opens a new directory with the bootstrap voters, addresses and the committed bootstrap log", async () => {
    const log = await open();
    const expected = bootstrapLog(voters);
    expect(log.storage.initialState()).toEqual({ confState: voters, hardState: expected.hardState });
    expect(log.storage.entries(1, 4, Infinity)).toEqual(expected.entries);
    expect(log.appliedIndex).toBe(0);
    expect([...log.peers]).toEqual([...peers]);
  });

  it("writes the bootstrap log to disk, so it is there after a reopen and can be replaced by a leader's entries", async () => {
    await (await open()).close();
    const reopened = await open();
    expect(reopened.storage.entries(1, 4, Infinity)).toEqual(bootstrapLog(voters).entries);
    expect(reopened.storage.initialState().hardState).toEqual({ term: 1, vote: 0, commit: 3 });
    await reopened.persist({ entries: entries(4, 4, 2), hardState: { term: 2, vote: 1, commit: 4 } }, true);
    await reopened.close();
    const again = await open();
    expect(again.storage.lastIndex()).toBe(4);
    expect(again.storage.term(3)).toBe(1);
  });

  it("opens a joining member's new directory empty", async () => {
    const log = await open({ bootstrap: { confState: { voters: [], learners: [] }, peers } });
    expect(log.storage.initialState()).toEqual({ confState: { voters: [], learners: [] }, hardState: { term: 0, vote: 0, commit: 0 } });
    expect(log.storage.lastIndex()).toBe(0);
  });

  it("ignores the bootstrap options once the directory exists", async () => {
    await (await open()).close();
    const reopened = await open({ bootstrap: { confState: { voters: [9], learners: [] }, peers: new Map() } });
    expect(reopened.storage.initialState().confState).toEqual(voters);
    expect([...reopened.peers]).toEqual([...peers]);
  });

  it("reopens to exactly the state it had after entries, hard state and applied records", async () => {
    const log = await open();
    const hardState: HardState = { term: 2, vote: 1, commit: 4 };
    await log.persist({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 0 } }, true);
    await log.persist({ entries: entries(4, 6, 2), hardState }, true);
    await log.saveApplied({ appliedIndex: 4, records: [{ type: "put", key: bytes("a"), value: bytes("1") }], sync: true });
    const before = await visibleState(log);
    expect(log.storage.initialState().hardState).toEqual(hardState);
    expect(allEntries(log).map((entry) => entry.index)).toEqual([1, 2, 3, 4, 5, 6]);
    await log.close();
    const reopened = await open();
    expect(await visibleState(reopened)).toEqual(before);
  });

  it("truncates a conflicting suffix, on disk as in memory", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 5, 1) }, true);
    await log.persist({ entries: entries(3, 4, 2) }, true);
    expect(allEntries(log).map((entry) => [entry.index, entry.term])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2]]);
    await log.close();
    const reopened = await open();
    expect(allEntries(reopened).map((entry) => [entry.index, entry.term])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2]]);
    expect(reopened.diskEntryRange).toEqual({ first: 1, last: 4 });
  });

  it("replaces the whole log when a received snapshot is persisted", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 5, 1), hardState: { term: 1, vote: 1, commit: 5 } }, true);
    const snapshot = { data: bytes("state at 10"), metadata: { index: 10, term: 3, confState: voters } };
    await log.persist({ snapshot, entries: entries(11, 12, 3), hardState: { term: 3, vote: 0, commit: 10 } }, true);
    expect(log.storage.firstIndex()).toBe(11);
    const before = await visibleState(log);
    await log.close();
    const reopened = await open();
    expect(await visibleState(reopened)).toEqual(before);
    expect(reopened.diskEntryRange).toEqual({ first: 11, last: 12 });
    expect(new TextDecoder().decode(reopened.storage.snapshot().data)).toBe("state at 10");
  });

  it("keeps a margin of entries below its own snapshot when compacting, and reopens from the snapshot", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 20, 1), hardState: { term: 1, vote: 1, commit: 20 } }, true);
    await log.saveApplied({ appliedIndex: 20, records: [], sync: true });
    const snapshot = await log.createSnapshot(15, voters, bytes("state at 15"));
    expect(snapshot.metadata).toEqual({ index: 15, term: 1, confState: voters });
    await log.compact(10);
    expect(log.storage.firstIndex()).toBe(11);
    expect(log.diskEntryRange).toEqual({ first: 11, last: 20 });
    await log.close();
    const reopened = await open();
    expect(reopened.snapshotIndex).toBe(15);
    expect(reopened.storage.firstIndex()).toBe(16);
    expect(reopened.storage.lastIndex()).toBe(20);
    expect(reopened.diskEntryRange).toEqual({ first: 11, last: 20 });
  });

  it("stores a large snapshot in a file, drops the previous file, and checks the file on open", async () => {
    const log = await open({ snapshotInlineBytesMax: 16 });
    await log.persist({ entries: entries(1, 10, 1), hardState: { term: 1, vote: 1, commit: 10 } }, true);
    await log.saveApplied({ appliedIndex: 10, records: [], sync: true });
    await log.createSnapshot(5, voters, new Uint8Array(1000).fill(5));
    await log.createSnapshot(8, voters, new Uint8Array(2000).fill(8));
    const files = await readdir(join(dataDir, "snap"));
    expect(files).toHaveLength(1);
    await log.close();
    const reopened = await open({ snapshotInlineBytesMax: 16 });
    expect(reopened.storage.snapshot().data).toEqual(new Uint8Array(2000).fill(8));
    await reopened.close();
    const filePath = join(dataDir, "snap", files[0] as string);
    const content = await readFile(filePath);
    content[100] = (content[100] as number) ^ 0xff;
    await writeFile(filePath, content);
    await expect(open()).rejects.toThrow(/snapshot 8 data: checksum mismatch/);
  });

  it("refuses to open when a stored entry has a flipped byte, naming the entry", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 5, 1), hardState: { term: 1, vote: 1, commit: 5 } }, true);
    await log.close();
    await flipStoredByte(dataDir, entryKey(3), 20);
    const failure = await open().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CorruptRecordError);
    expect((failure as CorruptRecordError).record).toBe("entry 3");
    expect((failure as Error).message).toMatch(/entry 3: checksum mismatch/);
  });

  it("refuses to open when the hard state is damaged, naming it", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 2 } }, true);
    await log.close();
    await flipStoredByte(dataDir, bytes("h"), 9);
    await expect(open()).rejects.toThrow(/hard state: checksum mismatch/);
  });

  it("names a damaged state-machine record when it is read", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 1, 1), hardState: { term: 1, vote: 1, commit: 1 } }, true);
    await log.saveApplied({ appliedIndex: 1, records: [{ type: "put", key: bytes("k1"), value: bytes("value one") }], sync: true });
    await log.close();
    await flipStoredByte(dataDir, bytes("kk1"), 6);
    const reopened = await open();
    await expect(stateRecords(reopened)).rejects.toThrow(/state record 6b31: checksum mismatch/);
  });

  it("writes state records with the applied index, and replaceState clears the old ones", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 3 } }, true);
    await log.saveApplied({
      appliedIndex: 2,
      records: [
        { type: "put", key: bytes("a"), value: bytes("1") },
        { type: "put", key: bytes("b"), value: bytes("2") },
      ],
      sync: true,
    });
    await log.saveApplied({ appliedIndex: 3, records: [{ type: "del", key: bytes("a") }], sync: true });
    expect(await stateRecords(log)).toEqual([["b", "2"]]);
    await log.saveApplied({ appliedIndex: 3, records: [{ type: "put", key: bytes("c"), value: bytes("3") }], replaceState: true, sync: true });
    expect(await stateRecords(log)).toEqual([["c", "3"]]);
    expect(log.appliedIndex).toBe(3);
  });

  it("after a crash between persisting entries and saving what they applied, reopens with the entries still to apply", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 3 } }, true);
    await log.saveApplied({ appliedIndex: 3, records: [{ type: "put", key: bytes("x"), value: bytes("3") }], sync: true });
    await log.persist({ entries: entries(4, 6, 1), hardState: { term: 1, vote: 1, commit: 6 } }, true);
    // The process dies here: the entries and commit are durable, their application is not.
    await log.close();
    const reopened = await open();
    expect(reopened.appliedIndex).toBe(3);
    expect(reopened.storage.initialState().hardState.commit).toBe(6);
    expect(allEntries(reopened).map((entry) => entry.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await stateRecords(reopened)).toEqual([["x", "3"]]);
  });

  /** What a crash right now would leave: a copy of the directory (LevelDB's files hold every write issued so far). */
  async function crashCopy(): Promise<DurableLog> {
    const copyDir = `${dataDir}-crash`;
    await cp(dataDir, copyDir, { recursive: true });
    const reopened = await DurableLog.open(copyDir, options);
    opened.push(reopened);
    return reopened;
  }

  it("holds a deferred state write back until the next synced write, which carries it", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 1, commit: 3 } }, true);
    const deferred = log.saveApplied({ appliedIndex: 3, records: [{ type: "put", key: bytes("x"), value: bytes("3") }], sync: false, deferred: true });
    // Queued bookkeeping moves at once; nothing is on disk yet.
    expect(log.appliedIndex).toBe(3);
    const beforeCrash = await crashCopy();
    expect(beforeCrash.appliedIndex).toBe(0);
    expect(await stateRecords(beforeCrash)).toEqual([]);
    await beforeCrash.close();
    await rm(`${dataDir}-crash`, { recursive: true, force: true });
    await log.persist({ entries: entries(4, 4, 1) }, true);
    await deferred;
    const afterSyncedWrite = await crashCopy();
    expect(afterSyncedWrite.appliedIndex).toBe(3);
    expect(await stateRecords(afterSyncedWrite)).toEqual([["x", "3"]]);
    expect(allEntries(afterSyncedWrite).map((entry) => entry.index)).toEqual([1, 2, 3, 4]);
    await afterSyncedWrite.close();
    await rm(`${dataDir}-crash`, { recursive: true, force: true });
  });

  it("writes a deferred state write on its own when no synced write comes, and close() writes what is still deferred", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 2 } }, true);
    await log.saveApplied({ appliedIndex: 1, records: [{ type: "put", key: bytes("a"), value: bytes("1") }], sync: false, deferred: true });
    const copy = await crashCopy();
    expect(copy.appliedIndex).toBe(1);
    await copy.close();
    await rm(`${dataDir}-crash`, { recursive: true, force: true });
    void log.saveApplied({ appliedIndex: 2, records: [{ type: "put", key: bytes("b"), value: bytes("2") }], sync: false, deferred: true });
    await log.close();
    const reopened = await open();
    expect(reopened.appliedIndex).toBe(2);
    expect(await stateRecords(reopened)).toEqual([["a", "1"], ["b", "2"]]);
  });

  it("defers a hard state that only moves the commit index, and keeps it ahead of the applied index it enabled", async () => {
    const log = await open();
    await log.persist({ entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 1 } }, true);
    const commitOnly = log.persist({ entries: [], hardState: { term: 1, vote: 1, commit: 2 } }, false);
    const applied = log.saveApplied({ appliedIndex: 2, records: [], sync: false, deferred: true });
    const beforeCrash = await crashCopy();
    expect(beforeCrash.storage.initialState().hardState.commit).toBe(1);
    expect(beforeCrash.appliedIndex).toBe(0);
    await beforeCrash.close();
    await rm(`${dataDir}-crash`, { recursive: true, force: true });
    await Promise.all([commitOnly, applied]);
    const afterDelay = await crashCopy();
    expect(afterDelay.storage.initialState().hardState.commit).toBe(2);
    expect(afterDelay.appliedIndex).toBe(2);
    await afterDelay.close();
    await rm(`${dataDir}-crash`, { recursive: true, force: true });
  });

  it("deletes snapshot files that no record names (a crash between file and record)", async () => {
    await (await open()).close();
    await writeFile(join(dataDir, "snap", "0000000000000009-0000000000000001-deadbeef.snap"), "orphan");
    await writeFile(join(dataDir, "snap", "0000000000000009-0000000000000001-deadbeef.snap.tmp"), "half");
    await open();
    expect(await readdir(join(dataDir, "snap"))).toEqual([]);
  });
});
