/**
 * Request checks and txn compares. The validation functions are etcd's gRPC-layer checks
 * (server/etcdserver/api/v3rpc/key.go): the store service runs them before proposing, and the apply
 * side runs them again so that a bad entry in the log can never half-apply.
 */
import { bytesToBinary, compareBytes, keySpan, spanContains, type KeySpan } from "./bytes.ts";
import { MvccError } from "./errors.ts";
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type DeleteRangeRequest,
  type KeyValue,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from "./types.ts";

/** etcd's default --max-txn-ops. */
export const txnOpsMaxDefault = 128;

export function validateRangeRequest(request: RangeRequest): void {
  if (request.key.length === 0) throw new MvccError("emptyKey");
  if (!(request.sortOrder === undefined || request.sortOrder in SortOrder)) throw new MvccError("invalidSortOption");
  if (!(request.sortTarget === undefined || request.sortTarget in SortTarget)) throw new MvccError("invalidSortOption");
}

export function validatePutRequest(request: PutRequest): void {
  if (request.key.length === 0) throw new MvccError("emptyKey");
  if (request.ignoreValue === true && (request.value?.length ?? 0) !== 0) throw new MvccError("valueProvided");
  if (request.ignoreLease === true && (request.lease ?? 0n) !== 0n) throw new MvccError("leaseProvided");
}

export function validateDeleteRangeRequest(request: DeleteRangeRequest): void {
  if (request.key.length === 0) throw new MvccError("emptyKey");
}

/** etcd's checkTxnRequest followed by the duplicate-key check. */
export function validateTxnRequest(request: TxnRequest, txnOpsMax: number = txnOpsMaxDefault): void {
  checkTxnShape(request, txnOpsMax);
  checkDuplicateKeys(request);
}

function checkTxnShape(request: TxnRequest, txnOpsMax: number): void {
  const compare = request.compare ?? [];
  const success = request.success ?? [];
  const failure = request.failure ?? [];
  const opCount = Math.max(compare.length, success.length, failure.length);
  if (opCount > txnOpsMax) throw new MvccError("tooManyOps");
  for (const comparison of compare) if (comparison.key.length === 0) throw new MvccError("emptyKey");
  for (const op of [...success, ...failure]) checkRequestOp(op, txnOpsMax - opCount);
}

function checkRequestOp(op: RequestOp, txnOpsMax: number): void {
  if ("requestRange" in op) validateRangeRequest(op.requestRange);
  else if ("requestPut" in op) validatePutRequest(op.requestPut);
  else if ("requestDeleteRange" in op) validateDeleteRangeRequest(op.requestDeleteRange);
  else if ("requestTxn" in op) checkTxnShape(op.requestTxn, txnOpsMax);
  // An empty op: etcd answers "key not found" for it.
  else throw new MvccError("keyNotFound");
}

interface Writes {
  readonly puts: Set<string>;
  readonly deletes: KeySpan[];
}

function touches(deletes: readonly KeySpan[], key: string): boolean {
  return deletes.some((span) => spanContains(span, key));
}

/**
 * etcd's rule that one txn may not put a key twice, nor put a key it also deletes. The two
 * branches of one nested txn are exclusive, so they may overlap. Two deliberate differences from
 * etcd's checkIntervals, both rejecting requests etcd accepts: a delete with range_end "\0" covers
 * every key from its start (etcd compares against the literal "\0" and misses the overlap, which
 * can crash an etcd member on a later ignore_value put), and nested txns are checked against each
 * other's deletes in both directions (etcd checks only earlier against later). Together they
 * guarantee each key changes at most once per revision.
 */
export function checkDuplicateKeys(request: TxnRequest): void {
  collectWrites(request.success ?? []);
  collectWrites(request.failure ?? []);
}

function collectWrites(ops: readonly RequestOp[]): Writes {
  const deletes: KeySpan[] = [];
  const nested: { then: Writes; otherwise: Writes }[] = [];
  for (const op of ops) {
    if ("requestDeleteRange" in op) deletes.push(keySpan(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
    else if ("requestTxn" in op) {
      nested.push({ then: collectWrites(op.requestTxn.success ?? []), otherwise: collectWrites(op.requestTxn.failure ?? []) });
    }
  }
  const puts = new Set<string>();
  nested.forEach((child, index) => {
    const others = nested.filter((_, otherIndex) => otherIndex !== index);
    const otherDeletes = others.flatMap((other) => [...other.then.deletes, ...other.otherwise.deletes]);
    for (const key of new Set([...child.then.puts, ...child.otherwise.puts])) {
      if (puts.has(key) || touches(deletes, key) || touches(otherDeletes, key)) throw new MvccError("duplicateKey");
    }
  });
  for (const child of nested) {
    for (const key of [...child.then.puts, ...child.otherwise.puts]) puts.add(key);
    deletes.push(...child.then.deletes, ...child.otherwise.deletes);
  }
  for (const op of ops) {
    if (!("requestPut" in op)) continue;
    const key = bytesToBinary(op.requestPut.key);
    if (puts.has(key) || touches(deletes, key)) throw new MvccError("duplicateKey");
    puts.add(key);
  }
  return { puts, deletes };
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** etcd's compareKV: one key-value against one compare; a missing operand counts as zero/empty. */
export function compareKeyValue(comparison: Compare, kv: KeyValue): boolean {
  let result = 0;
  switch (comparison.target) {
    case CompareTarget.Value:
      result = compareBytes(kv.value, comparison.value ?? new Uint8Array(0));
      break;
    case CompareTarget.Create:
      result = compareNumbers(kv.createRevision, comparison.createRevision ?? 0);
      break;
    case CompareTarget.Mod:
      result = compareNumbers(kv.modRevision, comparison.modRevision ?? 0);
      break;
    case CompareTarget.Version:
      result = compareNumbers(kv.version, comparison.version ?? 0);
      break;
    case CompareTarget.Lease:
      result = compareNumbers(kv.lease, comparison.lease ?? 0n);
      break;
  }
  switch (comparison.result) {
    case CompareResult.Equal:
      return result === 0;
    case CompareResult.NotEqual:
      return result !== 0;
    case CompareResult.Greater:
      return result > 0;
    case CompareResult.Less:
      return result < 0;
  }
  // etcd treats an unknown result as true.
  return true;
}
