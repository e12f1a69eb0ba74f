import { describe, expect, it } from "vitest";
import { leaseTtlSecondsMax, minLeaseTtlSeconds } from "./lessor.ts";
import { MvccError } from "./errors.ts";
import { b, describeEvent, keysOf, newStore, putText, text } from "./test-support.ts";

const all = new Uint8Array([0]);

describe("lease grant", () => {
  it("computes etcd's minimum TTL: 1.5 election timeouts rounded up to seconds", () => {
    expect(minLeaseTtlSeconds(10, 100)).toBe(2);
    expect(minLeaseTtlSeconds(10, 1000)).toBe(15);
    expect(minLeaseTtlSeconds(5, 100)).toBe(1);
  });

  it("raises a TTL below the minimum and keeps larger ones", () => {
    const store = newStore(5);
    expect(store.leaseGrant(1n, 1).response.ttlSeconds).toBe(5);
    expect(store.leaseGrant(2n, 60).response.ttlSeconds).toBe(60);
    expect(store.leases().map((lease) => [lease.id, lease.grantedTtlSeconds])).toEqual([
      [1n, 5],
      [2n, 60],
    ]);
  });

  it("fails for id 0, an existing id and a TTL above etcd's maximum, with etcd's texts", () => {
    const store = newStore();
    store.leaseGrant(1n, 10);
    const cases: [() => unknown, string, number][] = [
      [() => store.leaseGrant(0n, 10), "etcdserver: requested lease not found", 5],
      [() => store.leaseGrant(1n, 10), "etcdserver: lease already exists", 9],
      [() => store.leaseGrant(3n, leaseTtlSecondsMax + 1), "etcdserver: too large lease TTL", 11],
    ];
    for (const [attempt, grpcMessage, code] of cases) {
      try {
        attempt();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(MvccError);
        expect((error as MvccError).grpcMessage).toBe(grpcMessage);
        expect((error as MvccError).code).toBe(code);
      }
    }
  });

  it("does not advance the revision and persists a lease record", () => {
    const store = newStore();
    const result = store.leaseGrant(-42n, 10);
    expect(store.currentRevision).toBe(1);
    expect(result.records.map((record) => record.bucket)).toEqual(["lease"]);
  });
});

describe("lease attachment", () => {
  it("a put with a lease attaches the key; a put without one or a delete detaches it", () => {
    const store = newStore();
    store.leaseGrant(1n, 10);
    store.leaseGrant(2n, 10);
    putText(store, "a", "1", 1n);
    putText(store, "b", "1", 1n);
    putText(store, "c", "1", 1n);
    expect(store.leaseTimeToLive(1n, true)?.keys.map(text)).toEqual(["a", "b", "c"]);
    putText(store, "a", "2");
    putText(store, "b", "2", 2n);
    store.deleteRange({ key: b("c") });
    expect(store.leaseTimeToLive(1n, true)?.keyCount).toBe(0);
    expect(store.leaseTimeToLive(2n, true)?.keys.map(text)).toEqual(["b"]);
    expect(store.leaseOfKey(b("b"))).toBe(2n);
  });

  it("timeToLive reports granted and checkpointed TTLs, and nothing for an unknown lease", () => {
    const store = newStore();
    store.leaseGrant(1n, 30);
    putText(store, "a", "1", 1n);
    expect(store.leaseTimeToLive(1n, false)).toEqual({ id: 1n, grantedTtlSeconds: 30, remainingTtlSeconds: 0, keyCount: 1, keys: [] });
    store.leaseCheckpoint([{ id: 1n, remainingTtlSeconds: 17 }, { id: 99n, remainingTtlSeconds: 5 }]);
    expect(store.leaseTimeToLive(1n, false)?.remainingTtlSeconds).toBe(17);
    expect(store.leaseTimeToLive(99n, false)).toBeUndefined();
  });
});

describe("lease revoke", () => {
  it("deletes every attached key in one revision, in key order, and removes the lease", () => {
    const store = newStore();
    store.leaseGrant(1n, 10);
    for (const key of ["c", "a", "b"]) putText(store, key, "v", 1n);
    putText(store, "free", "v");
    const result = store.leaseRevoke(1n);
    expect(result.response.header.revision).toBe(6);
    expect(result.events.map(describeEvent)).toEqual(["DELETE a@6", "DELETE b@6", "DELETE c@6"]);
    expect(result.records.filter((record) => record.op === "del").map((record) => record.bucket)).toEqual(["lease"]);
    expect(keysOf(store.range({ key: b("a"), rangeEnd: all }).kvs)).toEqual(["free"]);
    expect(store.leases()).toEqual([]);
  });

  it("of a lease without keys removes it without advancing the revision", () => {
    const store = newStore();
    store.leaseGrant(1n, 10);
    const result = store.leaseRevoke(1n);
    expect(result.events).toEqual([]);
    expect(store.currentRevision).toBe(1);
  });

  it("of an unknown lease fails with NotFound and changes nothing", () => {
    const store = newStore();
    expect(() => store.leaseRevoke(5n)).toThrow("lease not found");
  });

  it("after a key moved to another lease does not delete it", () => {
    const store = newStore();
    store.leaseGrant(1n, 10);
    store.leaseGrant(2n, 10);
    putText(store, "k", "v", 1n);
    putText(store, "k", "v", 2n);
    expect(store.leaseRevoke(1n).events).toEqual([]);
    expect(keysOf(store.range({ key: b("k") }).kvs)).toEqual(["k"]);
  });
});
