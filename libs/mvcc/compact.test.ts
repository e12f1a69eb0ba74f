import { describe, expect, it } from "vitest";
import { decodeRevisionKey } from "./codec.ts";
import { crc32c } from "../crc32c/index.ts";
import { b, keysOf, newStore, putText, text } from "./test-support.ts";
import type { MvccStore } from "./store.ts";
import type { PersistRecord } from "./types.ts";

const all = new Uint8Array([0]);

function deletedRevisions(records: readonly PersistRecord[]): string[] {
  return records
    .filter((record) => record.op === "del" && record.bucket === "key")
    .map((record) => {
      const revision = decodeRevisionKey(record.key);
      return `${revision.main}.${revision.sub}${revision.tombstone ? "t" : ""}`;
    });
}

describe("compact", () => {
  it("keeps the newest version of each key at or before the compact revision and drops older ones", () => {
    const store = newStore();
    putText(store, "a", "1"); // 2
    putText(store, "a", "2"); // 3
    putText(store, "b", "1"); // 4
    putText(store, "a", "3"); // 5
    const result = store.compact(4);
    expect(deletedRevisions(result.records)).toEqual(["2.0"]);
    expect(result.response.header.revision).toBe(5);
    expect(store.compactRevision).toBe(4);
    expect(text(store.range({ key: b("a"), revision: 4 }).kvs[0]?.value ?? new Uint8Array())).toBe("2");
    expect(text(store.range({ key: b("a") }).kvs[0]?.value ?? new Uint8Array())).toBe("3");
  });

  it("removes keys whose last life ended before the compact revision from the index", () => {
    const store = newStore();
    putText(store, "gone", "1"); // 2
    store.deleteRange({ key: b("gone") }); // 3
    putText(store, "stays", "1"); // 4
    expect(store.keySpace.indexedKeys).toBe(2);
    const result = store.compact(4);
    expect(deletedRevisions(result.records)).toEqual(["2.0", "3.0t"]);
    expect(store.keySpace.indexedKeys).toBe(1);
    expect(keysOf(store.range({ key: b("a"), rangeEnd: all, revision: 4 }).kvs)).toEqual(["stays"]);
  });

  it("keeps a tombstone exactly at the compact revision until the next compaction", () => {
    const store = newStore();
    putText(store, "k", "1"); // 2
    store.deleteRange({ key: b("k") }); // 3
    expect(deletedRevisions(store.compact(3).records)).toEqual(["2.0"]);
    expect(store.keySpace.history.map((record) => record.main)).toEqual([3]);
    putText(store, "x", "1"); // 4
    expect(deletedRevisions(store.compact(4).records)).toEqual(["3.0t"]);
  });

  it("rejects a revision at or below the last compaction and a future revision", () => {
    const store = newStore();
    putText(store, "a", "1");
    putText(store, "a", "2");
    store.compact(2);
    expect(() => store.compact(2)).toThrow("mvcc: required revision has been compacted");
    expect(() => store.compact(1)).toThrow("mvcc: required revision has been compacted");
    expect(() => store.compact(4)).toThrow("mvcc: required revision is a future revision");
    expect(store.compactRevision).toBe(2);
  });

  it("allows reads at the compact revision and rejects reads below it", () => {
    const store = newStore();
    for (let i = 0; i < 5; i++) putText(store, "a", `${i}`);
    store.compact(4);
    expect(text(store.range({ key: b("a"), revision: 4 }).kvs[0]?.value ?? new Uint8Array())).toBe("2");
    expect(() => store.range({ key: b("a"), revision: 3 })).toThrow("compacted");
  });

  it("persists the compact revision as a meta record", () => {
    const store = newStore();
    putText(store, "a", "1");
    const meta = store.compact(2).records.filter((record) => record.bucket === "meta");
    expect(meta).toHaveLength(1);
  });
});

describe("hashes", () => {
  it("implements CRC-32C (check value of '123456789' is 0xe3069283)", () => {
    expect(crc32c(b("123456789"))).toBe(0xe3069283);
    expect(crc32c(b("56789"), crc32c(b("1234")))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  function writeSome(store: MvccStore, last: string): void {
    putText(store, "a", "1");
    putText(store, "b", "2");
    store.deleteRange({ key: b("a") });
    putText(store, "c", last);
  }

  it("hashKv is equal on stores that applied the same writes and differs after different ones", () => {
    const first = newStore();
    const second = newStore();
    const third = newStore();
    writeSome(first, "3");
    writeSome(second, "3");
    writeSome(third, "other");
    expect(first.hashKv(0)).toEqual(second.hashKv(0));
    expect(first.hashKv(0).hash).not.toBe(third.hashKv(0).hash);
    expect(first.hashKv(4).hash).toBe(third.hashKv(4).hash);
  });

  it("hashKv at a revision ignores later writes and reports the revisions it covers", () => {
    const store = newStore();
    writeSome(store, "3");
    const before = store.hashKv(4);
    putText(store, "d", "4");
    expect(store.hashKv(4)).toEqual({ ...before, header: { revision: 6 } });
    expect(before).toMatchObject({ compactRevision: -1, hashRevision: 4 });
  });

  it("hashKv is equal on compacted stores at the same compaction and fails below it", () => {
    const first = newStore();
    const second = newStore();
    for (const store of [first, second]) {
      writeSome(store, "3");
      store.compact(4);
    }
    expect(first.hashKv(5)).toEqual(second.hashKv(5));
    expect(first.hashKv(5).compactRevision).toBe(4);
    expect(() => first.hashKv(3)).toThrow("mvcc: required revision has been compacted");
    expect(() => first.hashKv(6)).toThrow("mvcc: required revision is a future revision");
  });

  it("hash covers leases as well as keys", () => {
    const first = newStore();
    const second = newStore();
    writeSome(first, "3");
    writeSome(second, "3");
    expect(first.hash()).toEqual(second.hash());
    second.leaseGrant(1n, 10);
    expect(first.hash().hash).not.toBe(second.hash().hash);
  });
});
