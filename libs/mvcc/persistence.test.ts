import { describe, expect, it } from "vitest";
import { CorruptDataError } from "./errors.ts";
import { MvccStore } from "./store.ts";
import type { StoredRecord, WriteResult } from "./types.ts";
import { b, FakeDatabase, newStore } from "./test-support.ts";

const all = new Uint8Array([0]);

/** Applies writes to a store while keeping a fake database in step, as the caller does. */
function persisted() {
  const store = newStore();
  const database = new FakeDatabase();
  const apply = <R>(result: WriteResult<R>): void => database.apply(result.records);
  return { store, database, apply };
}

function workload(store: MvccStore, apply: <R>(result: WriteResult<R>) => void): void {
  apply(store.leaseGrant(7n, 30));
  apply(store.leaseGrant(8n, 60));
  for (let i = 0; i < 20; i++) apply(store.put({ key: b(`key/${i % 7}`), value: b(`v${i}`), ...(i % 3 === 0 ? { lease: 7n } : {}) }));
  apply(store.deleteRange({ key: b("key/2") }));
  apply(store.txn({ success: [{ requestPut: { key: b("t/1"), value: b("x"), lease: 8n } }, { requestPut: { key: b("t/2"), value: b("y") } }] }));
  apply(store.compact(12));
  apply(store.put({ key: b("key/2"), value: b("back") }));
  apply(store.leaseCheckpoint([{ id: 8n, remainingTtlSeconds: 44 }]));
}

/** Everything observable about a store, for comparing two of them. */
function observe(store: MvccStore) {
  const ranges = [];
  for (let revision = store.compactRevision; revision <= store.currentRevision; revision++) {
    ranges.push(store.range({ key: b("\u0001"), rangeEnd: all, revision: Math.max(revision, 0) }));
  }
  return {
    currentRevision: store.currentRevision,
    compactRevision: store.compactRevision,
    ranges,
    leases: store.leases(),
    lease7: store.leaseTimeToLive(7n, true),
    hashKv: store.hashKv(0),
    hash: store.hash(),
  };
}

describe("restore from persisted records", () => {
  it("rebuilds the same observable state from what the writes asked to persist", () => {
    const { store, database, apply } = persisted();
    workload(store, apply);
    const restarted = newStore();
    const report = restarted.restore(database.records());
    expect(report.cleanup).toEqual([]);
    expect(report.leases).toBe(2);
    expect(observe(restarted)).toEqual(observe(store));
    // What the writes asked to persist is exactly what the store says its database should hold.
    expect(database.records()).toEqual(store.storedRecords().sort(byBucketThenKey));
  });

  it("continues identically after the restore: same responses, events and records", () => {
    const { store, database, apply } = persisted();
    workload(store, apply);
    const restarted = newStore();
    restarted.restore(database.records());
    const next = (target: MvccStore) => [
      target.put({ key: b("key/1"), value: b("after"), prevKv: true }),
      target.leaseRevoke(7n),
      target.compact(target.currentRevision),
    ];
    expect(next(restarted)).toEqual(next(store));
  });

  it("finishes a compaction whose deletions were only partly written", () => {
    const { store, database, apply } = persisted();
    for (let i = 0; i < 6; i++) apply(store.put({ key: b("k"), value: b(`${i}`) }));
    const compaction = store.compact(6);
    // The meta record and one deletion reached disk; the other deletions did not.
    database.apply([...compaction.records.slice(0, 1), ...compaction.records.slice(-1)]);
    const restarted = newStore();
    const report = restarted.restore(database.records());
    expect(report.cleanup.length).toBe(compaction.records.length - 2);
    database.apply(report.cleanup);
    expect(database.records()).toEqual(restarted.storedRecords().sort(byBucketThenKey));
    expect(observe(restarted)).toEqual(observe(store));
  });

  it("rejects corrupt records without touching the current state", () => {
    const { store, database, apply } = persisted();
    workload(store, apply);
    const records: StoredRecord[] = database.records().map((record) => (record.bucket === "key" ? { ...record, key: record.key.subarray(0, 10) } : record));
    const before = observe(store);
    expect(() => store.restore(records)).toThrow(CorruptDataError);
    expect(observe(store)).toEqual(before);
  });
});

function byBucketThenKey(x: StoredRecord, y: StoredRecord): number {
  const order = ["key", "lease", "meta"];
  const bucket = order.indexOf(x.bucket) - order.indexOf(y.bucket);
  if (bucket !== 0) return bucket;
  const length = Math.min(x.key.length, y.key.length);
  for (let i = 0; i < length; i++) if (x.key[i] !== y.key[i]) return (x.key[i] as number) - (y.key[i] as number);
  return x.key.length - y.key.length;
}

describe("snapshots", () => {
  it("round-trips the whole state through serializeSnapshot and restoreSnapshot", () => {
    const { store, apply } = persisted();
    workload(store, apply);
    const follower = new MvccStore({ minLeaseTtlSeconds: 2 });
    follower.put({ key: b("stale"), value: b("state") });
    const records = follower.restoreSnapshot(store.serializeSnapshot());
    expect(observe(follower)).toEqual(observe(store));
    expect(records.every((record) => record.op === "put")).toBe(true);
    expect(records).toHaveLength(store.storedRecords().length);
  });

  it("an empty store round-trips too", () => {
    const follower = newStore();
    follower.restoreSnapshot(newStore().serializeSnapshot());
    expect(follower.currentRevision).toBe(1);
    expect(follower.compactRevision).toBe(-1);
  });

  it("detects a flipped byte anywhere, a wrong version, a bad magic and truncation", () => {
    const { store, apply } = persisted();
    workload(store, apply);
    const snapshot = store.serializeSnapshot();
    const target = newStore();
    for (const offset of [6, Math.floor(snapshot.length / 2), snapshot.length - 1]) {
      const damaged = snapshot.slice();
      damaged[offset] = (damaged[offset] as number) ^ 0x40;
      expect(() => target.restoreSnapshot(damaged)).toThrow("checksum");
    }
    const versioned = snapshot.slice();
    versioned[4] = 9;
    expect(() => target.restoreSnapshot(versioned)).toThrow("format version 9");
    expect(() => target.restoreSnapshot(b("nope, not a snapshot"))).toThrow("FMVC");
    expect(() => target.restoreSnapshot(snapshot.subarray(0, 6))).toThrow("too short");
    expect(() => target.restoreSnapshot(snapshot.subarray(0, snapshot.length - 1))).toThrow(CorruptDataError);
    expect(target.currentRevision).toBe(1);
  });
});
