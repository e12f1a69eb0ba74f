/**
 * Conversions between the etcd wire objects (as @grpc/proto-loader gives them: snake_case,
 * 64-bit integers as decimal strings, bytes as Buffers, enums by name) and libs/mvcc's types
 * (camelCase, revisions as numbers, lease ids as bigint). Kept in one place so the API handlers
 * and the state machine agree.
 */
import type * as mvcc from "../../libs/mvcc/types.ts";
import { CompareResult, CompareTarget, EventType, SortOrder, SortTarget } from "../../libs/mvcc/types.ts";
import type * as wire from "../../libs/etcdpb/index.ts";

type Long = string | number | undefined | null | { toString(): string };

/** A wire int64 as a safe integer; larger values (never valid revisions) saturate. */
export function toNumber(value: Long): number {
  if (value === undefined || value === null) return 0;
  const parsed = Number(typeof value === "number" ? value : value.toString());
  return Number.isFinite(parsed) ? parsed : 0;
}

export function toBigint(value: Long): bigint {
  if (value === undefined || value === null) return 0n;
  return BigInt(typeof value === "number" ? Math.trunc(value) : value.toString());
}

const bytes = (value: Buffer | Uint8Array | string | undefined | null): Uint8Array =>
  value === undefined || value === null ? new Uint8Array(0) : typeof value === "string" ? Buffer.from(value) : value;

const optionalBytes = (value: Buffer | Uint8Array | string | undefined | null): Uint8Array | undefined => {
  const converted = bytes(value);
  return converted.length === 0 ? undefined : converted;
};

const sortOrders: Record<string, SortOrder> = { NONE: SortOrder.None, ASCEND: SortOrder.Ascend, DESCEND: SortOrder.Descend };
const sortTargets: Record<string, SortTarget> = {
  KEY: SortTarget.Key,
  VERSION: SortTarget.Version,
  CREATE: SortTarget.Create,
  MOD: SortTarget.Mod,
  VALUE: SortTarget.Value,
};
const compareResults: Record<string, CompareResult> = {
  EQUAL: CompareResult.Equal,
  GREATER: CompareResult.Greater,
  LESS: CompareResult.Less,
  NOT_EQUAL: CompareResult.NotEqual,
};
const compareTargets: Record<string, CompareTarget> = {
  VERSION: CompareTarget.Version,
  CREATE: CompareTarget.Create,
  MOD: CompareTarget.Mod,
  VALUE: CompareTarget.Value,
  LEASE: CompareTarget.Lease,
};

const enumValue = <T>(table: Record<string, T>, value: unknown, fallback: T): T =>
  typeof value === "string" ? (table[value] ?? fallback) : typeof value === "number" ? ((Object.values(table)[value] as T | undefined) ?? fallback) : fallback;

export function rangeFromWire(request: wire.RangeRequest): mvcc.RangeRequest {
  const rangeEnd = optionalBytes(request.range_end);
  return {
    key: bytes(request.key),
    ...(rangeEnd === undefined ? {} : { rangeEnd }),
    limit: toNumber(request.limit),
    revision: toNumber(request.revision),
    sortOrder: enumValue(sortOrders, request.sort_order, SortOrder.None),
    sortTarget: enumValue(sortTargets, request.sort_target, SortTarget.Key),
    serializable: request.serializable ?? false,
    keysOnly: request.keys_only ?? false,
    countOnly: request.count_only ?? false,
    minModRevision: toNumber(request.min_mod_revision),
    maxModRevision: toNumber(request.max_mod_revision),
    minCreateRevision: toNumber(request.min_create_revision),
    maxCreateRevision: toNumber(request.max_create_revision),
  };
}

export function putFromWire(request: wire.PutRequest): mvcc.PutRequest {
  return {
    key: bytes(request.key),
    value: bytes(request.value),
    lease: toBigint(request.lease),
    prevKv: request.prev_kv ?? false,
    ignoreValue: request.ignore_value ?? false,
    ignoreLease: request.ignore_lease ?? false,
  };
}

export function deleteRangeFromWire(request: wire.DeleteRangeRequest): mvcc.DeleteRangeRequest {
  const rangeEnd = optionalBytes(request.range_end);
  return { key: bytes(request.key), ...(rangeEnd === undefined ? {} : { rangeEnd }), prevKv: request.prev_kv ?? false };
}

function compareFromWire(compare: wire.Compare): mvcc.Compare {
  const rangeEnd = optionalBytes(compare.range_end);
  return {
    result: enumValue(compareResults, compare.result, CompareResult.Equal),
    target: enumValue(compareTargets, compare.target, CompareTarget.Version),
    key: bytes(compare.key),
    ...(rangeEnd === undefined ? {} : { rangeEnd }),
    version: toNumber(compare.version),
    createRevision: toNumber(compare.create_revision),
    modRevision: toNumber(compare.mod_revision),
    value: bytes(compare.value),
    lease: toBigint(compare.lease),
  };
}

function requestOpFromWire(op: wire.RequestOp): mvcc.RequestOp {
  if (op.request_range) return { requestRange: rangeFromWire(op.request_range) };
  if (op.request_put) return { requestPut: putFromWire(op.request_put) };
  if (op.request_delete_range) return { requestDeleteRange: deleteRangeFromWire(op.request_delete_range) };
  if (op.request_txn) return { requestTxn: txnFromWire(op.request_txn) };
  // An empty RequestOp: etcd treats it as a range of the empty key, which fails validation.
  return { requestRange: { key: new Uint8Array(0) } };
}

export function txnFromWire(request: wire.TxnRequest): mvcc.TxnRequest {
  return {
    compare: (request.compare ?? []).map(compareFromWire),
    success: (request.success ?? []).map(requestOpFromWire),
    failure: (request.failure ?? []).map(requestOpFromWire),
  };
}

export interface HeaderIds {
  readonly clusterId: string;
  readonly memberId: string;
  readonly raftTerm: number;
}

export function headerToWire(header: mvcc.ResponseHeader, ids: HeaderIds): wire.ResponseHeader {
  return { cluster_id: ids.clusterId, member_id: ids.memberId, revision: header.revision, raft_term: ids.raftTerm };
}

export function keyValueToWire(kv: mvcc.KeyValue): wire.KeyValue {
  return {
    key: Buffer.from(kv.key),
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: Buffer.from(kv.value),
    lease: kv.lease.toString(),
  };
}

export function rangeResponseToWire(response: mvcc.RangeResponse, ids: HeaderIds): wire.RangeResponse {
  return { header: headerToWire(response.header, ids), kvs: response.kvs.map(keyValueToWire), more: response.more, count: response.count };
}

export function putResponseToWire(response: mvcc.PutResponse, ids: HeaderIds): wire.PutResponse {
  return { header: headerToWire(response.header, ids), ...(response.prevKv === undefined ? {} : { prev_kv: keyValueToWire(response.prevKv) }) };
}

export function deleteRangeResponseToWire(response: mvcc.DeleteRangeResponse, ids: HeaderIds): wire.DeleteRangeResponse {
  return { header: headerToWire(response.header, ids), deleted: response.deleted, prev_kvs: response.prevKvs.map(keyValueToWire) };
}

function responseOpToWire(op: mvcc.ResponseOp, ids: HeaderIds): wire.ResponseOp {
  if ("responseRange" in op) return { response_range: rangeResponseToWire(op.responseRange, ids) };
  if ("responsePut" in op) return { response_put: putResponseToWire(op.responsePut, ids) };
  if ("responseDeleteRange" in op) return { response_delete_range: deleteRangeResponseToWire(op.responseDeleteRange, ids) };
  return { response_txn: txnResponseToWire(op.responseTxn, ids) };
}

export function txnResponseToWire(response: mvcc.TxnResponse, ids: HeaderIds): wire.TxnResponse {
  return {
    header: headerToWire(response.header, ids),
    succeeded: response.succeeded,
    responses: response.responses.map((op) => responseOpToWire(op, ids)),
  };
}

export function eventToWire(event: mvcc.Event, withPrevKv: boolean): wire.Event {
  return {
    type: event.type === EventType.Put ? "PUT" : "DELETE",
    kv: keyValueToWire(event.kv),
    ...(withPrevKv && event.prevKv !== undefined ? { prev_kv: keyValueToWire(event.prevKv) } : {}),
  };
}
