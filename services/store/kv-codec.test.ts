import { describe, expect, it } from "vitest";
import { loadEtcdProto } from "../../libs/etcdpb/index.ts";
import type * as wire from "../../libs/etcdpb/index.ts";
import type * as mvcc from "../../libs/mvcc/types.ts";
import { SortOrder, SortTarget } from "../../libs/mvcc/types.ts";
import { putFromWire, putResponseToWire, rangeFromWire, rangeResponseToWire } from "./convert.ts";
import { decodePutRequest, decodeRangeRequest, encodePutResponse, encodeRangeResponse } from "./kv-codec.ts";
import { ProtoDecodeError, ProtoReader, ProtoWriter } from "./proto-bytes.ts";

// proto-loader's codecs are the reference: the hand-written ones must agree with them.
const kv = loadEtcdProto().etcdserverpb.KV.service;
const encodePut = (request: wire.PutRequest): Buffer => kv.Put.requestSerialize(request);
const encodeRange = (request: wire.RangeRequest): Buffer => kv.Range.requestSerialize(request);
const bytes = (text: string): Buffer => Buffer.from(text);
const ids = { clusterId: "9007199254740991", memberId: "4503599627370497", raftTerm: 7 };
const numeric = { clusterId: 9007199254740991, memberId: 4503599627370497, raftTerm: 7 };

describe("kv codecs", () => {
  it("decodes a PutRequest as proto-loader and putFromWire do, lease ids over the whole int64 range included", () => {
    const requests: wire.PutRequest[] = [
      { key: bytes("a"), value: bytes("1") },
      { key: bytes("/registry/pods/default/web"), value: Buffer.alloc(300, 7), lease: "4611686018427387905", prev_kv: true },
      { key: bytes("k"), lease: "-5", ignore_value: true, ignore_lease: true },
      { key: bytes("k"), lease: "9223372036854775807" },
      {},
    ];
    for (const request of requests) {
      const reference = putFromWire(kv.Put.requestDeserialize(encodePut(request)) as wire.PutRequest);
      const decoded = decodePutRequest(encodePut(request));
      expect({ ...decoded, key: Buffer.from(decoded.key), value: Buffer.from(decoded.value ?? []) }).toEqual({
        ...reference,
        key: Buffer.from(reference.key),
        value: Buffer.from(reference.value ?? []),
      });
    }
  });

  it("decodes a RangeRequest as rangeFromWire does, negative limits and unknown enum values included", () => {
    const requests: wire.RangeRequest[] = [
      { key: bytes("a") },
      { key: bytes("a"), range_end: bytes("b"), limit: 10, revision: 42, sort_order: "DESCEND", sort_target: "MOD", serializable: true },
      { key: bytes("\0"), range_end: bytes("\0"), limit: -3, keys_only: true, count_only: true },
      { key: bytes("x"), min_mod_revision: 1, max_mod_revision: 2 ** 40, min_create_revision: 3, max_create_revision: 4 },
    ];
    for (const request of requests) {
      const reference = rangeFromWire(kv.Range.requestDeserialize(encodeRange(request)) as wire.RangeRequest);
      const decoded = decodeRangeRequest(encodeRange(request));
      expect({ ...decoded, key: Buffer.from(decoded.key), ...(decoded.rangeEnd === undefined ? {} : { rangeEnd: Buffer.from(decoded.rangeEnd) }) }).toEqual({
        ...reference,
        key: Buffer.from(reference.key),
        ...(reference.rangeEnd === undefined ? {} : { rangeEnd: Buffer.from(reference.rangeEnd) }),
      });
    }
    // An enum value this version does not know falls back like rangeFromWire's.
    const unknownSort = new ProtoWriter().bytes(1, bytes("k")).int64(5, 9).int64(6, 9).finish();
    expect(decodeRangeRequest(unknownSort)).toMatchObject({ sortOrder: SortOrder.None, sortTarget: SortTarget.Key });
  });

  it("encodes Put and Range responses that proto-loader decodes to what the object path sends", () => {
    const kvs: mvcc.KeyValue[] = [
      { key: bytes("a"), createRevision: 2, modRevision: 5, version: 3, value: bytes("v"), lease: 0n },
      { key: bytes("b"), createRevision: 2 ** 50, modRevision: 2 ** 50 + 1, version: 1, value: Buffer.alloc(200, 1), lease: 9223372036854775807n },
    ];
    const decodePutResponse = (encoded: Buffer): unknown => kv.Put.responseDeserialize(encoded);
    const putResponses: mvcc.PutResponse[] = [{ header: { revision: 9 } }, { header: { revision: 10 }, prevKv: kvs[1] as mvcc.KeyValue }];
    for (const response of putResponses) {
      expect(decodePutResponse(encodePutResponse(response, numeric))).toEqual(decodePutResponse(kv.Put.responseSerialize(putResponseToWire(response, ids))));
    }
    const decodeRangeResponse = (encoded: Buffer): unknown => kv.Range.responseDeserialize(encoded);
    const rangeResponses: mvcc.RangeResponse[] = [
      { header: { revision: 11 }, kvs: [], more: false, count: 0 },
      { header: { revision: 12 }, kvs, more: true, count: 5 },
    ];
    for (const response of rangeResponses) {
      expect(decodeRangeResponse(encodeRangeResponse(response, numeric))).toEqual(decodeRangeResponse(kv.Range.responseSerialize(rangeResponseToWire(response, ids))));
    }
  });

  it("writes an embedded message longer than 127 bytes with a multi-byte length", () => {
    const value = Buffer.alloc(1000, 3);
    const encoded = new ProtoWriter(8).message(2, (inner) => inner.bytes(5, value)).int64(3, 1).finish();
    const outer = new ProtoReader(encoded);
    expect(outer.tag()).toEqual({ field: 2, wireType: 2 });
    const inner = new ProtoReader(outer.bytes());
    expect(inner.tag()).toEqual({ field: 5, wireType: 2 });
    expect(Buffer.from(inner.bytes()).equals(value)).toBe(true);
    expect(outer.tag()).toEqual({ field: 3, wireType: 0 });
    expect(outer.int64()).toBe(1);
    expect(outer.done).toBe(true);
  });

  it("refuses a truncated message and skips fields it does not know", () => {
    const put = encodePut({ key: bytes("key"), value: bytes("value") });
    expect(() => decodePutRequest(put.subarray(0, put.length - 2))).toThrow(ProtoDecodeError);
    const withUnknown = Buffer.concat([new ProtoWriter().int64(99, 5).bytes(98, bytes("?")).finish(), put]);
    expect(Buffer.from(decodePutRequest(withUnknown).key).toString()).toBe("key");
  });
});
