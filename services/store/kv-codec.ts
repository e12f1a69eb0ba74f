/**
 * Protobuf codecs for the client API's hot path, written straight between wire bytes and
 * libs/mvcc's types: PutRequest (decoded on the serving member and again at every apply),
 * PutResponse, RangeRequest and RangeResponse. proto-loader's path builds objects with 64-bit
 * fields as decimal strings, converts them, and re-encodes a Put to propose it; these skip that.
 * Field numbers are etcd's (proto/etcd/rpc.proto, kv.proto). Every other message keeps
 * proto-loader's codec.
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import type * as mvcc from "../../libs/mvcc/types.ts";
import { SortOrder, SortTarget } from "../../libs/mvcc/types.ts";
import type { HeaderIds } from "./convert.ts";
import { ProtoReader, ProtoWriter, WireType } from "./proto-bytes.ts";

/** A PutRequest as the KV handler gets it: the mvcc request and the bytes the client sent. */
export interface DecodedPut {
  readonly request: mvcc.PutRequest;
  /** The message as received; it is what gets proposed, so nothing is re-encoded. */
  readonly raw: Uint8Array;
}

const emptyBytes: Uint8Array = new Uint8Array(0);

/** etcdserverpb.PutRequest: key 1, value 2, lease 3, prev_kv 4, ignore_value 5, ignore_lease 6. */
export function decodePutRequest(bytes: Uint8Array): mvcc.PutRequest {
  const reader = new ProtoReader(bytes);
  let key = emptyBytes;
  let value = emptyBytes;
  let lease = 0n;
  let prevKv = false;
  let ignoreValue = false;
  let ignoreLease = false;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WireType.lengthDelimited) key = reader.bytes();
    else if (field === 2 && wireType === WireType.lengthDelimited) value = reader.bytes();
    else if (field === 3 && wireType === WireType.varint) lease = BigInt.asIntN(64, reader.varint64());
    else if (field === 4 && wireType === WireType.varint) prevKv = reader.bool();
    else if (field === 5 && wireType === WireType.varint) ignoreValue = reader.bool();
    else if (field === 6 && wireType === WireType.varint) ignoreLease = reader.bool();
    else reader.skip(wireType);
  }
  return { key, value, lease, prevKv, ignoreValue, ignoreLease };
}

function enumFrom<T extends number>(value: number, highest: T, fallback: T): T {
  return Number.isInteger(value) && value >= 0 && value <= highest ? (value as T) : fallback;
}

/** etcdserverpb.RangeRequest (fields 1-13), as convert.ts's rangeFromWire would give it. */
export function decodeRangeRequest(bytes: Uint8Array): mvcc.RangeRequest {
  const reader = new ProtoReader(bytes);
  let key = emptyBytes;
  let rangeEnd = emptyBytes;
  const numbers = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const flags = [false, false, false, false, false, false, false, false, false, false];
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WireType.lengthDelimited) key = reader.bytes();
    else if (field === 2 && wireType === WireType.lengthDelimited) rangeEnd = reader.bytes();
    else if (field >= 7 && field <= 9 && wireType === WireType.varint) flags[field] = reader.bool();
    else if (field >= 3 && field <= 13 && wireType === WireType.varint) numbers[field] = reader.int64();
    else reader.skip(wireType);
  }
  return {
    key,
    ...(rangeEnd.length === 0 ? {} : { rangeEnd }),
    limit: numbers[3] as number,
    revision: numbers[4] as number,
    sortOrder: enumFrom(numbers[5] as number, SortOrder.Descend, SortOrder.None),
    sortTarget: enumFrom(numbers[6] as number, SortTarget.Value, SortTarget.Key),
    serializable: flags[7] as boolean,
    keysOnly: flags[8] as boolean,
    countOnly: flags[9] as boolean,
    minModRevision: numbers[10] as number,
    maxModRevision: numbers[11] as number,
    minCreateRevision: numbers[12] as number,
    maxCreateRevision: numbers[13] as number,
  };
}

/** etcdserverpb.ResponseHeader: cluster_id 1, member_id 2, revision 3, raft_term 4. */
function writeHeader(writer: ProtoWriter, revision: number, ids: NumericHeaderIds): void {
  writer.message(1, (header) => header.int64(1, ids.clusterId).int64(2, ids.memberId).int64(3, revision).int64(4, ids.raftTerm));
}

/** mvccpb.KeyValue: key 1, create_revision 2, mod_revision 3, version 4, value 5, lease 6. */
function writeKeyValue(writer: ProtoWriter, field: number, kv: mvcc.KeyValue): void {
  writer.message(field, (inner) =>
    inner.bytes(1, kv.key).int64(2, kv.createRevision).int64(3, kv.modRevision).int64(4, kv.version).bytes(5, kv.value).bigint64(6, kv.lease),
  );
}

/** Header ids as numbers (member and cluster ids are 53-bit, so safe). */
export interface NumericHeaderIds {
  readonly clusterId: number;
  readonly memberId: number;
  readonly raftTerm: number;
}

export function numericIds(ids: HeaderIds): NumericHeaderIds {
  return { clusterId: Number(ids.clusterId), memberId: Number(ids.memberId), raftTerm: ids.raftTerm };
}

/** etcdserverpb.PutResponse: header 1, prev_kv 2. */
export function encodePutResponse(response: mvcc.PutResponse, ids: NumericHeaderIds): Buffer {
  const writer = new ProtoWriter(64);
  writeHeader(writer, response.header.revision, ids);
  if (response.prevKv !== undefined) writeKeyValue(writer, 2, response.prevKv);
  return writer.finish();
}

/** etcdserverpb.RangeResponse: header 1, kvs 2, more 3, count 4. */
export function encodeRangeResponse(response: mvcc.RangeResponse, ids: NumericHeaderIds): Buffer {
  let valueBytes = 0;
  for (const kv of response.kvs) valueBytes += kv.key.length + kv.value.length + 48;
  const writer = new ProtoWriter(64 + valueBytes);
  writeHeader(writer, response.header.revision, ids);
  for (const kv of response.kvs) writeKeyValue(writer, 2, kv);
  writer.bool(3, response.more).int64(4, response.count);
  return writer.finish();
}

/**
 * The KV service definition with these codecs on Put and Range: their handlers get DecodedPut
 * and mvcc.RangeRequest, and answer with bytes already encoded (an error never reaches the
 * serializer). The other methods keep proto-loader's definition.
 */
export function withFastKvCodecs(definition: ServiceDefinition): ServiceDefinition {
  const put = definition["Put"];
  const range = definition["Range"];
  if (put === undefined || range === undefined) throw new Error("kv codecs: the KV service has no Put or Range method");
  const passThrough = (value: unknown): Buffer => {
    if (!Buffer.isBuffer(value)) throw new TypeError("kv codecs: a handler answered with something other than encoded bytes");
    return value;
  };
  return {
    ...definition,
    Put: { ...put, requestDeserialize: (bytes: Buffer): DecodedPut => ({ request: decodePutRequest(bytes), raw: bytes }), responseSerialize: passThrough },
    Range: { ...range, requestDeserialize: (bytes: Buffer) => decodeRangeRequest(bytes), responseSerialize: passThrough },
  };
}
