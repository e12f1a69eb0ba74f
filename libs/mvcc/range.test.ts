import { describe, expect, it } from "vitest";
import { prefixRangeEnd } from "./bytes.ts";
import { MvccError } from "./errors.ts";
import { SortOrder, SortTarget } from "./types.ts";
import { b, keysOf, newStore, putText, text } from "./test-support.ts";
import type { MvccStore } from "./store.ts";

const all = new Uint8Array([0]);

/** Keys a..e written in an order that makes create, mod, version and value orders all differ. */
function seeded(): MvccStore {
  const store = newStore();
  putText(store, "c", "3"); // rev 2
  putText(store, "a", "5"); // rev 3
  putText(store, "e", "1"); // rev 4
  putText(store, "b", "4"); // rev 5
  putText(store, "d", "2"); // rev 6
  putText(store, "a", "6"); // rev 7: a version 2
  putText(store, "a", "7"); // rev 8: a version 3
  putText(store, "d", "8"); // rev 9: d version 2
  return store;
}

describe("range: key selection", () => {
  it("reads one key when range_end is absent", () => {
    const store = seeded();
    const response = store.range({ key: b("b") });
    expect(keysOf(response.kvs)).toEqual(["b"]);
    expect(response.count).toBe(1);
    expect(store.range({ key: b("bb") })).toMatchObject({ kvs: [], count: 0, more: false });
  });

  it("reads [key, range_end) in key order", () => {
    expect(keysOf(seeded().range({ key: b("b"), rangeEnd: b("d") }).kvs)).toEqual(["b", "c"]);
  });

  it("reads every key >= key when range_end is \\0", () => {
    expect(keysOf(seeded().range({ key: b("c"), rangeEnd: all }).kvs)).toEqual(["c", "d", "e"]);
  });

  it("reads a prefix with prefixRangeEnd, including keys ending in 0xff", () => {
    const store = newStore();
    for (const key of ["p", "p/1", "p/2", "q"]) putText(store, key, "x");
    store.put({ key: new Uint8Array([0x70, 0x2f, 0xff]), value: b("x") });
    const prefix = b("p/");
    const response = store.range({ key: prefix, rangeEnd: prefixRangeEnd(prefix) });
    expect(response.kvs.map((kv) => [...kv.key])).toEqual([[0x70, 0x2f, 0x31], [0x70, 0x2f, 0x32], [0x70, 0x2f, 0xff]]);
    expect([...prefixRangeEnd(new Uint8Array([0x61, 0xff]))]).toEqual([0x62]);
    expect([...prefixRangeEnd(new Uint8Array([0xff, 0xff]))]).toEqual([0]);
  });

  it("compares keys bytewise, not by UTF-16 or locale", () => {
    const store = newStore();
    store.put({ key: new Uint8Array([0xc3, 0xa9]), value: b("é") });
    store.put({ key: new Uint8Array([0x7a]), value: b("z") });
    store.put({ key: new Uint8Array([0x41]), value: b("A") });
    expect(store.range({ key: new Uint8Array([0x01]), rangeEnd: all }).kvs.map((kv) => text(kv.value))).toEqual(["A", "z", "é"]);
  });

  it("returns nothing when range_end is not after key", () => {
    expect(seeded().range({ key: b("d"), rangeEnd: b("b") })).toMatchObject({ kvs: [], count: 0 });
  });

  it("does not return deleted keys", () => {
    const store = seeded();
    store.deleteRange({ key: b("b") });
    const response = store.range({ key: b("a"), rangeEnd: all });
    expect(keysOf(response.kvs)).toEqual(["a", "c", "d", "e"]);
    expect(response.count).toBe(4);
  });
});

describe("range: limit, count, countOnly, keysOnly", () => {
  it("limit cuts the result, sets more, and count stays the total", () => {
    const response = seeded().range({ key: b("a"), rangeEnd: all, limit: 2 });
    expect(keysOf(response.kvs)).toEqual(["a", "b"]);
    expect(response.more).toBe(true);
    expect(response.count).toBe(5);
  });

  it("a limit equal to the number of keys does not set more; zero or negative means no limit", () => {
    const store = seeded();
    expect(store.range({ key: b("a"), rangeEnd: all, limit: 5 }).more).toBe(false);
    expect(store.range({ key: b("a"), rangeEnd: all, limit: 0 }).kvs).toHaveLength(5);
    expect(store.range({ key: b("a"), rangeEnd: all, limit: -3 }).kvs).toHaveLength(5);
  });

  it("countOnly returns the count and no key-values", () => {
    const response = seeded().range({ key: b("b"), rangeEnd: all, countOnly: true });
    expect(response).toMatchObject({ kvs: [], count: 4, more: false });
  });

  it("keysOnly drops values and, without a value sort, leases (etcd's fast keys-only path)", () => {
    const store = newStore();
    store.leaseGrant(5n, 10);
    store.put({ key: b("k"), value: b("v"), lease: 5n });
    const kv = store.range({ key: b("k"), keysOnly: true }).kvs[0];
    expect(kv).toMatchObject({ version: 1, createRevision: 2, modRevision: 2, lease: 0n });
    expect(kv?.value).toHaveLength(0);
    const sortedByValue = store.range({ key: b("k"), keysOnly: true, sortTarget: SortTarget.Value }).kvs[0];
    expect(sortedByValue?.lease).toBe(5n);
    expect(store.range({ key: b("k") }).kvs[0]?.value).toHaveLength(1);
  });

  it("the header carries the current revision even for a past read", () => {
    const store = seeded();
    expect(store.range({ key: b("a"), revision: 3 }).header.revision).toBe(9);
  });
});

describe("range: revisions", () => {
  it("reads a past revision: values, versions and the key set as they were", () => {
    const store = seeded();
    const response = store.range({ key: b("a"), rangeEnd: all, revision: 4 });
    expect(response.kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`)).toEqual(["a=5", "c=3", "e=1"]);
    expect(response.count).toBe(3);
    store.deleteRange({ key: b("c") });
    expect(keysOf(store.range({ key: b("c"), revision: 9 }).kvs)).toEqual(["c"]);
    expect(keysOf(store.range({ key: b("c") }).kvs)).toEqual([]);
  });

  it("a past read with a limit still counts every key at that revision", () => {
    const response = seeded().range({ key: b("a"), rangeEnd: all, revision: 5, limit: 1 });
    expect(keysOf(response.kvs)).toEqual(["a"]);
    expect(response).toMatchObject({ more: true, count: 4 });
  });

  it("counts a past revision the same whether few or many revisions followed it", () => {
    // Few later revisions: today's count is corrected; many: the range is counted key by key.
    const store = newStore();
    for (const key of ["a", "b", "c", "d"]) putText(store, key, "1");
    const revision = store.currentRevision;
    store.deleteRange({ key: b("b") });
    store.deleteRange({ key: b("d") });
    putText(store, "e", "1");
    const few = store.range({ key: b("a"), rangeEnd: all, revision, limit: 1 });
    expect(few).toMatchObject({ count: 4, more: true });
    for (let i = 0; i < 1100; i++) putText(store, "c", `${i}`);
    const many = store.range({ key: b("a"), rangeEnd: all, revision, limit: 1 });
    expect(many).toMatchObject({ count: 4, more: true });
    expect(store.range({ key: b("a"), rangeEnd: all, revision, countOnly: true }).count).toBe(4);
    expect(store.range({ key: b("a"), rangeEnd: all, countOnly: true }).count).toBe(3);
  });

  it("fails with OutOfRange for a future revision and for a compacted one", () => {
    const store = seeded();
    const future = () => store.range({ key: b("a"), revision: 10 });
    expect(future).toThrow("mvcc: required revision is a future revision");
    store.compact(5);
    const compacted = () => store.range({ key: b("a"), revision: 4 });
    expect(compacted).toThrow("mvcc: required revision has been compacted");
    try {
      compacted();
    } catch (error) {
      expect((error as MvccError).grpcMessage).toBe("etcdserver: mvcc: required revision has been compacted");
      expect((error as MvccError).code).toBe(11);
    }
    expect(keysOf(store.range({ key: b("a"), rangeEnd: all, revision: 5 }).kvs)).toEqual(["a", "b", "c", "e"]);
  });
});

describe("range: sorting", () => {
  const cases: [string, SortTarget, SortOrder, string[]][] = [
    ["key descending", SortTarget.Key, SortOrder.Descend, ["e", "d", "c", "b", "a"]],
    ["key ascending", SortTarget.Key, SortOrder.Ascend, ["a", "b", "c", "d", "e"]],
    ["version ascending (ties in key order)", SortTarget.Version, SortOrder.Ascend, ["b", "c", "e", "d", "a"]],
    ["version descending", SortTarget.Version, SortOrder.Descend, ["a", "d", "b", "c", "e"]],
    ["create ascending", SortTarget.Create, SortOrder.Ascend, ["c", "a", "e", "b", "d"]],
    ["mod descending", SortTarget.Mod, SortOrder.Descend, ["d", "a", "b", "e", "c"]],
    ["value ascending", SortTarget.Value, SortOrder.Ascend, ["e", "c", "b", "a", "d"]],
    ["value descending", SortTarget.Value, SortOrder.Descend, ["d", "a", "b", "c", "e"]],
  ];
  for (const [name, sortTarget, sortOrder, expected] of cases) {
    it(`sorts by ${name}`, () => {
      expect(keysOf(seeded().range({ key: b("a"), rangeEnd: all, sortTarget, sortOrder }).kvs)).toEqual(expected);
    });
  }

  it("a non-key target with order NONE sorts ascending, as etcd", () => {
    expect(keysOf(seeded().range({ key: b("a"), rangeEnd: all, sortTarget: SortTarget.Mod }).kvs)).toEqual(["c", "e", "b", "a", "d"]);
  });

  it("with order NONE and a limit, sorts only the first limit + 1 keys, exactly as etcd", () => {
    // etcd passes the limit to the index unless an order or a filter is set; the default ascending
    // sort for a non-key target then applies to that prefix of the range only.
    const response = seeded().range({ key: b("a"), rangeEnd: all, sortTarget: SortTarget.Value, limit: 2 });
    expect(keysOf(response.kvs)).toEqual(["c", "b"]);
    expect(response).toMatchObject({ more: true, count: 5 });
  });

  it("applies the limit after sorting, so the top of the whole range comes back", () => {
    const response = seeded().range({ key: b("a"), rangeEnd: all, sortTarget: SortTarget.Create, sortOrder: SortOrder.Descend, limit: 2 });
    expect(keysOf(response.kvs)).toEqual(["d", "b"]);
    expect(response).toMatchObject({ more: true, count: 5 });
  });

  it("rejects an unknown sort option", () => {
    expect(() => seeded().range({ key: b("a"), sortOrder: 7 as SortOrder })).toThrow("etcdserver: invalid sort option");
  });
});

describe("range: revision filters", () => {
  it("min and max mod revision prune after the lookup; count stays the unfiltered total", () => {
    const response = seeded().range({ key: b("a"), rangeEnd: all, minModRevision: 4, maxModRevision: 6 });
    expect(keysOf(response.kvs)).toEqual(["b", "e"]);
    expect(response.count).toBe(5);
  });

  it("min and max create revision prune by creation", () => {
    const store = seeded();
    expect(keysOf(store.range({ key: b("a"), rangeEnd: all, minCreateRevision: 5 }).kvs)).toEqual(["b", "d"]);
    expect(keysOf(store.range({ key: b("a"), rangeEnd: all, maxCreateRevision: 3 }).kvs)).toEqual(["a", "c"]);
  });

  it("with a filter, limit applies to the filtered keys", () => {
    const response = seeded().range({ key: b("a"), rangeEnd: all, minCreateRevision: 3, limit: 2 });
    expect(keysOf(response.kvs)).toEqual(["a", "b"]);
    expect(response).toMatchObject({ more: true, count: 5 });
  });
});
