import { describe, expect, it } from "vitest";
import { validateTxnRequest } from "./txn.ts";
import { CompareResult, CompareTarget, type Compare, type RequestOp, type TxnResponse } from "./types.ts";
import { b, describeEvent, keysOf, newStore, putText, text } from "./test-support.ts";
import type { MvccStore } from "./store.ts";

const all = new Uint8Array([0]);

function put(key: string, value: string): RequestOp {
  return { requestPut: { key: b(key), value: b(value) } };
}

function get(key: string, rangeEnd?: Uint8Array): RequestOp {
  return { requestRange: rangeEnd === undefined ? { key: b(key) } : { key: b(key), rangeEnd } };
}

function succeeds(store: MvccStore, compare: Compare): boolean {
  return store.txn({ compare: [compare] }).response.succeeded;
}

/** a: version 2, create 2, mod 4, value "2", lease 9; b: version 1, create 3, mod 3, value "x". */
function seeded(): MvccStore {
  const store = newStore();
  store.leaseGrant(9n, 30);
  putText(store, "a", "1");
  putText(store, "b", "x");
  putText(store, "a", "2", 9n);
  return store;
}

describe("txn compares", () => {
  const cases: [string, Compare, boolean][] = [
    ["version equal", { key: b("a"), target: CompareTarget.Version, result: CompareResult.Equal, version: 2 }, true],
    ["version greater", { key: b("a"), target: CompareTarget.Version, result: CompareResult.Greater, version: 2 }, false],
    ["version less", { key: b("a"), target: CompareTarget.Version, result: CompareResult.Less, version: 3 }, true],
    ["version not equal", { key: b("a"), target: CompareTarget.Version, result: CompareResult.NotEqual, version: 2 }, false],
    ["create equal", { key: b("a"), target: CompareTarget.Create, result: CompareResult.Equal, createRevision: 2 }, true],
    ["create greater", { key: b("a"), target: CompareTarget.Create, result: CompareResult.Greater, createRevision: 1 }, true],
    ["mod equal", { key: b("a"), target: CompareTarget.Mod, result: CompareResult.Equal, modRevision: 4 }, true],
    ["mod less", { key: b("a"), target: CompareTarget.Mod, result: CompareResult.Less, modRevision: 4 }, false],
    ["value equal", { key: b("a"), target: CompareTarget.Value, result: CompareResult.Equal, value: b("2") }, true],
    ["value greater (bytewise)", { key: b("a"), target: CompareTarget.Value, result: CompareResult.Greater, value: b("10") }, true],
    ["value not equal", { key: b("a"), target: CompareTarget.Value, result: CompareResult.NotEqual, value: b("2") }, false],
    ["lease equal", { key: b("a"), target: CompareTarget.Lease, result: CompareResult.Equal, lease: 9n }, true],
    ["lease of a key without lease is 0", { key: b("b"), target: CompareTarget.Lease, result: CompareResult.Equal, lease: 0n }, true],
    ["missing key: version equal 0", { key: b("zz"), target: CompareTarget.Version, result: CompareResult.Equal, version: 0 }, true],
    ["missing key: create equal 0", { key: b("zz"), target: CompareTarget.Create, result: CompareResult.Equal }, true],
    ["missing key: value compares always fail", { key: b("zz"), target: CompareTarget.Value, result: CompareResult.NotEqual, value: b("q") }, false],
    ["missing operand counts as zero", { key: b("a"), target: CompareTarget.Mod, result: CompareResult.Greater }, true],
  ];
  for (const [name, compare, expected] of cases) {
    it(`${name} -> ${expected}`, () => {
      expect(succeeds(seeded(), compare)).toBe(expected);
    });
  }

  it("a range compare holds only if every key in the range satisfies it", () => {
    const store = seeded();
    const allAtLeastOne = { key: b("a"), rangeEnd: all, target: CompareTarget.Version, result: CompareResult.Greater, version: 0 };
    expect(succeeds(store, allAtLeastOne)).toBe(true);
    expect(succeeds(store, { ...allAtLeastOne, version: 1 })).toBe(false);
    expect(succeeds(store, { key: b("a"), rangeEnd: b("b"), target: CompareTarget.Version, result: CompareResult.Equal, version: 2 })).toBe(true);
  });

  it("a range compare over an empty range compares against zero values", () => {
    const store = seeded();
    const compare = { key: b("m"), rangeEnd: b("n"), target: CompareTarget.Create, result: CompareResult.Equal, createRevision: 0 };
    expect(succeeds(store, compare)).toBe(true);
  });

  it("all compares must hold for success", () => {
    const store = seeded();
    const response = store.txn({
      compare: [
        { key: b("a"), target: CompareTarget.Version, result: CompareResult.Equal, version: 2 },
        { key: b("b"), target: CompareTarget.Version, result: CompareResult.Equal, version: 5 },
      ],
      success: [put("s", "1")],
      failure: [put("f", "1")],
    });
    expect(response.response.succeeded).toBe(false);
    expect(response.events.map(describeEvent)).toEqual(["PUT f=1@5"]);
  });
});

describe("txn execution", () => {
  it("runs the success branch when compares hold, the failure branch otherwise", () => {
    const store = newStore();
    const createIfMissing = {
      compare: [{ key: b("k"), target: CompareTarget.Create, result: CompareResult.Equal, createRevision: 0 }],
      success: [put("k", "first")],
      failure: [get("k")],
    };
    const first = store.txn(createIfMissing).response;
    expect(first.succeeded).toBe(true);
    const second = store.txn(createIfMissing).response;
    expect(second.succeeded).toBe(false);
    const range = second.responses[0];
    expect(range !== undefined && "responseRange" in range ? text(range.responseRange.kvs[0]?.value ?? new Uint8Array()) : "").toBe("first");
  });

  it("reads inside a txn see the txn's earlier writes, at the txn's revision", () => {
    const store = newStore();
    putText(store, "a", "old");
    const response = store.txn({ success: [get("a"), put("a", "new"), get("a"), { requestDeleteRange: { key: b("zzz") } }] }).response;
    const [before, written, after, deleted] = response.responses;
    expect(before !== undefined && "responseRange" in before && text(before.responseRange.kvs[0]?.value ?? new Uint8Array())).toBe("old");
    expect(before !== undefined && "responseRange" in before && before.responseRange.header.revision).toBe(2);
    expect(written !== undefined && "responsePut" in written && written.responsePut.header.revision).toBe(3);
    expect(after !== undefined && "responseRange" in after && text(after.responseRange.kvs[0]?.value ?? new Uint8Array())).toBe("new");
    expect(after !== undefined && "responseRange" in after && after.responseRange.header.revision).toBe(3);
    expect(deleted !== undefined && "responseDeleteRange" in deleted && deleted.responseDeleteRange.header.revision).toBe(3);
    expect(response.header.revision).toBe(3);
  });

  it("decides every nested txn's branch against the state before the txn, as etcd", () => {
    const store = newStore();
    putText(store, "flag", "off");
    const response = store.txn({
      success: [
        put("flag", "on"),
        {
          requestTxn: {
            compare: [{ key: b("flag"), target: CompareTarget.Value, result: CompareResult.Equal, value: b("on") }],
            success: [put("seen", "on")],
            failure: [put("seen", "off")],
          },
        },
      ],
    }).response;
    const nested = response.responses[1] as { responseTxn: TxnResponse };
    expect(nested.responseTxn.succeeded).toBe(false);
    expect(nested.responseTxn.header.revision).toBe(0);
    expect(text(store.range({ key: b("seen") }).kvs[0]?.value ?? new Uint8Array())).toBe("off");
    expect(response.header.revision).toBe(3);
  });

  it("fails as a whole before writing when a put names an unknown lease", () => {
    const store = newStore();
    const attempt = () => store.txn({ success: [put("a", "1"), { requestPut: { key: b("b"), value: b("2"), lease: 77n } }] });
    expect(attempt).toThrow("lease not found");
    expect(store.currentRevision).toBe(1);
    expect(keysOf(store.range({ key: b("a"), rangeEnd: all }).kvs)).toEqual([]);
  });

  it("fails before writing when a range asks for a future or compacted revision", () => {
    const store = newStore();
    putText(store, "a", "1");
    putText(store, "a", "2");
    store.compact(3);
    const future = () => store.txn({ success: [put("b", "1"), { requestRange: { key: b("a"), revision: 4 } }] });
    expect(future).toThrow("mvcc: required revision is a future revision");
    const compacted = () => store.txn({ success: [put("b", "1"), { requestRange: { key: b("a"), revision: 2 } }] });
    expect(compacted).toThrow("mvcc: required revision has been compacted");
    expect(store.currentRevision).toBe(3);
  });

  it("checks ignore_value against the state before the txn", () => {
    const store = newStore();
    expect(() => store.txn({ success: [{ requestPut: { key: b("a"), ignoreValue: true } }] })).toThrow("etcdserver: key not found");
  });
});

describe("txn validation", () => {
  const duplicate = "etcdserver: duplicate key given in txn request";

  it("rejects putting one key twice", () => {
    expect(() => newStore().txn({ success: [put("a", "1"), put("a", "2")] })).toThrow(duplicate);
  });

  it("rejects putting a key that a delete in the same txn covers", () => {
    expect(() => newStore().txn({ success: [{ requestDeleteRange: { key: b("a"), rangeEnd: b("c") } }, put("b", "1")] })).toThrow(duplicate);
    expect(() => newStore().txn({ success: [put("zz", "1"), { requestDeleteRange: { key: b("m"), rangeEnd: all } }] })).toThrow(duplicate);
  });

  it("allows overlapping deletes, and the same key in both branches of a nested txn", () => {
    const store = newStore();
    const nested: RequestOp = { requestTxn: { success: [put("k", "1")], failure: [put("k", "2")] } };
    expect(() => store.txn({ success: [{ requestDeleteRange: { key: b("a"), rangeEnd: b("c") } }, { requestDeleteRange: { key: b("b") } }, nested] })).not.toThrow();
    expect(() => store.txn({ success: [put("k", "0")], failure: [put("k", "1")] })).not.toThrow();
  });

  it("rejects a nested put that a sibling nested txn deletes, whichever comes first", () => {
    const putter: RequestOp = { requestTxn: { success: [put("b", "1")] } };
    const deleter: RequestOp = { requestTxn: { success: [{ requestDeleteRange: { key: b("a"), rangeEnd: b("c") } }] } };
    expect(() => validateTxnRequest({ success: [putter, deleter] })).toThrow(duplicate);
    expect(() => validateTxnRequest({ success: [deleter, putter] })).toThrow(duplicate);
    expect(() => validateTxnRequest({ success: [put("b", "0"), putter] })).toThrow(duplicate);
  });

  it("rejects too many operations and empty compare keys", () => {
    const ops = Array.from({ length: 129 }, (_, i) => put(`k${i}`, "v"));
    expect(() => newStore().txn({ success: ops })).toThrow("etcdserver: too many operations in txn request");
    expect(() => newStore().txn({ compare: [{ key: new Uint8Array(0), target: CompareTarget.Version, result: CompareResult.Equal }] })).toThrow(
      "etcdserver: key is not provided",
    );
  });
});
