import { describe, expect, it } from "vitest";
import { decodeKeyValue, decodeLease, decodeRevisionKey, encodeKeyValue, encodeLease, encodeLeaseKey, encodeRevisionKey, encodeTombstone } from "./codec.ts";
import { CorruptDataError } from "./errors.ts";
import { b } from "./test-support.ts";

describe("codec", () => {
  it("writes revision keys in etcd's layout: main, '_', sub, optional 't'", () => {
    expect([...encodeRevisionKey(0x0102, 3, false)]).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 0x5f, 0, 0, 0, 0, 0, 0, 0, 3]);
    const tombstone = encodeRevisionKey(2 ** 40 + 5, 0, true);
    expect(tombstone).toHaveLength(18);
    expect(tombstone[17]).toBe(0x74);
    expect(decodeRevisionKey(tombstone)).toEqual({ main: 2 ** 40 + 5, sub: 0, tombstone: true });
  });

  it("rejects malformed revision keys", () => {
    expect(() => decodeRevisionKey(new Uint8Array(5))).toThrow(CorruptDataError);
    expect(() => decodeRevisionKey(new Uint8Array(17))).toThrow("separator");
  });

  it("encodes KeyValue as protobuf mvccpb.KeyValue (field tags 1..6, zero fields omitted)", () => {
    const kv = { key: b("k"), createRevision: 2, modRevision: 300, version: 1, value: b("v"), lease: 0n };
    expect([...encodeKeyValue(kv)]).toEqual([0x0a, 1, 0x6b, 0x10, 2, 0x18, 0xac, 0x02, 0x20, 1, 0x2a, 1, 0x76]);
    expect([...encodeTombstone(b("k"))]).toEqual([0x0a, 1, 0x6b]);
  });

  it("round-trips key-values with large revisions and negative leases", () => {
    const kv = { key: b("key"), createRevision: 2 ** 50, modRevision: 2 ** 50 + 1, version: 7, value: new Uint8Array(300).fill(9), lease: -5n };
    expect(decodeKeyValue(encodeKeyValue(kv))).toEqual(kv);
    const maxLease = { ...kv, lease: 2n ** 63n - 1n };
    expect(decodeKeyValue(encodeKeyValue(maxLease)).lease).toBe(2n ** 63n - 1n);
  });

  it("round-trips leases and keys them by 8-byte big-endian id", () => {
    const lease = { id: 0x0102030405060708n, ttlSeconds: 60, remainingTtlSeconds: 12 };
    expect(decodeLease(encodeLease(lease))).toEqual(lease);
    expect([...encodeLeaseKey(0x0102030405060708n)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...encodeLeaseKey(-1n)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
  });

  it("rejects truncated protobuf", () => {
    const bytes = encodeKeyValue({ key: b("key"), createRevision: 2, modRevision: 2, version: 1, value: b("value"), lease: 0n });
    expect(() => decodeKeyValue(bytes.subarray(0, bytes.length - 2))).toThrow(CorruptDataError);
  });
});
