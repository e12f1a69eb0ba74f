import { describe, expect, it } from "vitest";
import { decodeRevisionKey } from "./codec.ts";
import { MvccError } from "./errors.ts";
import { EventType } from "./types.ts";
import { b, describeEvent, newStore, putText, text } from "./test-support.ts";

describe("revisions", () => {
  it("a fresh store is at revision 1 and the first put gets revision 2, as etcd", () => {
    const store = newStore();
    expect(store.currentRevision).toBe(1);
    expect(store.compactRevision).toBe(-1);
    const result = store.put({ key: b("a"), value: b("1") });
    expect(result.response.header.revision).toBe(2);
    const kv = store.range({ key: b("a") }).kvs[0];
    expect(kv).toMatchObject({ createRevision: 2, modRevision: 2, version: 1, lease: 0n });
  });

  it("a second put keeps the create revision and bumps version and mod revision", () => {
    const store = newStore();
    putText(store, "a", "1");
    putText(store, "other", "x");
    putText(store, "a", "2");
    expect(store.range({ key: b("a") }).kvs[0]).toMatchObject({ createRevision: 2, modRevision: 4, version: 2 });
  });

  it("a delete resets the version: the next put starts a new life", () => {
    const store = newStore();
    putText(store, "a", "1");
    putText(store, "a", "2");
    const deleted = store.deleteRange({ key: b("a") });
    expect(deleted.response).toMatchObject({ deleted: 1, header: { revision: 4 } });
    expect(store.range({ key: b("a") }).kvs).toEqual([]);
    putText(store, "a", "3");
    expect(store.range({ key: b("a") }).kvs[0]).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 });
  });

  it("all writes of one txn share one main revision, numbered by sub revision", () => {
    const store = newStore();
    const result = store.txn({
      success: [{ requestPut: { key: b("a"), value: b("1") } }, { requestPut: { key: b("b"), value: b("2") } }],
    });
    expect(result.response.header.revision).toBe(2);
    expect(store.currentRevision).toBe(2);
    expect(result.events.map(describeEvent)).toEqual(["PUT a=1@2", "PUT b=2@2"]);
    const keyRecords = result.records.filter((record) => record.bucket === "key").map((record) => decodeRevisionKey(record.key));
    expect(keyRecords).toEqual([
      { main: 2, sub: 0, tombstone: false },
      { main: 2, sub: 1, tombstone: false },
    ]);
  });

  it("a delete that matches nothing and a read-only txn do not advance the revision", () => {
    const store = newStore();
    putText(store, "a", "1");
    const deleted = store.deleteRange({ key: b("zzz") });
    expect(deleted.response).toMatchObject({ deleted: 0, header: { revision: 2 } });
    expect(deleted.records).toEqual([]);
    const txn = store.txn({ success: [{ requestRange: { key: b("a") } }] });
    expect(txn.records).toEqual([]);
    expect(store.currentRevision).toBe(2);
  });
});

describe("put", () => {
  it("returns the previous key-value when asked and emits a PUT event carrying it", () => {
    const store = newStore();
    putText(store, "a", "1");
    const result = store.put({ key: b("a"), value: b("2"), prevKv: true });
    expect(text(result.response.prevKv?.value ?? new Uint8Array())).toBe("1");
    expect(result.events).toHaveLength(1);
    expect(result.events[0]?.type).toBe(EventType.Put);
    expect(text(result.events[0]?.prevKv?.value ?? new Uint8Array())).toBe("1");
  });

  it("ignore_value keeps the stored value and ignore_lease keeps the stored lease", () => {
    const store = newStore();
    store.leaseGrant(7n, 60);
    store.put({ key: b("a"), value: b("kept"), lease: 7n });
    store.put({ key: b("a"), ignoreValue: true, ignoreLease: true });
    const kv = store.range({ key: b("a") }).kvs[0];
    expect(text(kv?.value ?? new Uint8Array())).toBe("kept");
    expect(kv?.lease).toBe(7n);
    expect(kv?.version).toBe(2);
  });

  it("ignore_value on a missing key fails with etcd's key-not-found error and writes nothing", () => {
    const store = newStore();
    const attempt = () => store.put({ key: b("missing"), ignoreValue: true });
    expect(attempt).toThrow(MvccError);
    expect(attempt).toThrow("etcdserver: key not found");
    expect(store.currentRevision).toBe(1);
  });

  it("a put with an unknown lease fails with NotFound 'requested lease not found'", () => {
    const store = newStore();
    try {
      store.put({ key: b("a"), value: b("1"), lease: 99n });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MvccError);
      expect((error as MvccError).grpcMessage).toBe("etcdserver: requested lease not found");
      expect((error as MvccError).code).toBe(5);
    }
    expect(store.currentRevision).toBe(1);
  });

  it("rejects an empty key, a value with ignore_value and a lease with ignore_lease", () => {
    const store = newStore();
    expect(() => store.put({ key: new Uint8Array(0), value: b("1") })).toThrow("etcdserver: key is not provided");
    expect(() => store.put({ key: b("a"), value: b("1"), ignoreValue: true })).toThrow("etcdserver: value is provided");
    expect(() => store.put({ key: b("a"), lease: 1n, ignoreLease: true })).toThrow("etcdserver: lease is provided");
  });

  it("copies the request's buffers, so a caller reusing them cannot change stored data", () => {
    const store = newStore();
    const key = b("a");
    const value = b("1");
    store.put({ key, value });
    key[0] = 0x7a;
    value[0] = 0x39;
    expect(text(store.range({ key: b("a") }).kvs[0]?.value ?? new Uint8Array())).toBe("1");
  });
});

describe("deleteRange", () => {
  it("deletes a range in one revision, returns prev kvs and emits DELETE events with key and mod revision only", () => {
    const store = newStore();
    putText(store, "a", "1");
    putText(store, "b", "2");
    putText(store, "c", "3");
    const result = store.deleteRange({ key: b("a"), rangeEnd: b("c"), prevKv: true });
    expect(result.response.deleted).toBe(2);
    expect(result.response.header.revision).toBe(5);
    expect(result.response.prevKvs.map((kv) => text(kv.value))).toEqual(["1", "2"]);
    expect(result.events.map(describeEvent)).toEqual(["DELETE a@5", "DELETE b@5"]);
    expect(result.events[0]?.kv).toMatchObject({ createRevision: 0, version: 0, lease: 0n });
    expect(text(result.events[0]?.prevKv?.value ?? new Uint8Array())).toBe("1");
    expect(store.range({ key: b("a"), rangeEnd: new Uint8Array([0]) }).count).toBe(1);
  });

  it("with range_end \\0 deletes every key from the start key on", () => {
    const store = newStore();
    for (const key of ["a", "b", "c"]) putText(store, key, key);
    expect(store.deleteRange({ key: b("b"), rangeEnd: new Uint8Array([0]) }).response.deleted).toBe(2);
    expect(store.range({ key: b("a"), rangeEnd: new Uint8Array([0]) }).kvs.map((kv) => text(kv.key))).toEqual(["a"]);
  });
});
