/**
 * etcd's executeRange after the index lookup (server/etcdserver/txn/range.go): revision filters,
 * sorting, limit and `more`, keys-only. With a non-default order or any revision filter the index
 * returns every key of the range, and limit applies after filtering and sorting; `count` is always
 * the index's total before filters and limit.
 */
import { compareBytes, emptyBytes } from "./bytes.ts";
import { SortOrder, SortTarget, type KeyValue, type RangeRequest, type RangeResponse } from "./types.ts";

export function isDefaultOrdering(sortTarget: SortTarget, sortOrder: SortOrder): boolean {
  return sortOrder === SortOrder.None || (sortTarget === SortTarget.Key && sortOrder === SortOrder.Ascend);
}

export function hasRevisionFilters(request: RangeRequest): boolean {
  return (
    (request.minModRevision ?? 0) !== 0 ||
    (request.maxModRevision ?? 0) !== 0 ||
    (request.minCreateRevision ?? 0) !== 0 ||
    (request.maxCreateRevision ?? 0) !== 0
  );
}

/** How many keys to ask the index for: limit + 1 (to learn `more`), or all of them. */
export function indexLimit(request: RangeRequest): number {
  const limit = request.limit ?? 0;
  if (!isDefaultOrdering(request.sortTarget ?? SortTarget.Key, request.sortOrder ?? SortOrder.None) || hasRevisionFilters(request)) return 0;
  return limit > 0 ? limit + 1 : limit;
}

export function filterKvs(kvs: KeyValue[], request: RangeRequest): KeyValue[] {
  const maxMod = request.maxModRevision ?? 0;
  const minMod = request.minModRevision ?? 0;
  const maxCreate = request.maxCreateRevision ?? 0;
  const minCreate = request.minCreateRevision ?? 0;
  if (maxMod === 0 && minMod === 0 && maxCreate === 0 && minCreate === 0) return kvs;
  return kvs.filter(
    (kv) =>
      (maxMod === 0 || kv.modRevision <= maxMod) &&
      (minMod === 0 || kv.modRevision >= minMod) &&
      (maxCreate === 0 || kv.createRevision <= maxCreate) &&
      (minCreate === 0 || kv.createRevision >= minCreate),
  );
}

function comparatorFor(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.Key:
      return (a, b) => compareBytes(a.key, b.key);
    case SortTarget.Version:
      return (a, b) => a.version - b.version;
    case SortTarget.Create:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.Mod:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.Value:
      return (a, b) => compareBytes(a.value, b.value);
  }
}

/**
 * Sorts as etcd does: a non-key target with order NONE sorts ascending. etcd's sort is not stable;
 * ours is (ties stay in key order, for both directions), which is one of the orders etcd may give
 * and keeps every member's answer identical.
 */
export function sortKvs(kvs: KeyValue[], request: RangeRequest): KeyValue[] {
  const target = request.sortTarget ?? SortTarget.Key;
  let order = request.sortOrder ?? SortOrder.None;
  if (target !== SortTarget.Key && order === SortOrder.None) order = SortOrder.Ascend;
  if (isDefaultOrdering(target, order)) return kvs;
  const compare = comparatorFor(target);
  const sorted = kvs.slice();
  if (order === SortOrder.Descend) sorted.sort((a, b) => compare(b, a));
  else sorted.sort(compare);
  return sorted;
}

/**
 * Limit, `more` and keys-only. Like etcd's FastKeysOnly path, keys-only without a value sort
 * returns key, create/mod revision and version only (no lease); with a value sort the lease stays.
 */
export function assembleRange(kvs: KeyValue[], count: number, revision: number, request: RangeRequest): RangeResponse {
  const limit = request.limit ?? 0;
  let more = false;
  let result = kvs;
  if (limit > 0 && result.length > limit) {
    result = result.slice(0, limit);
    more = true;
  }
  if (request.keysOnly === true) {
    const keepLease = request.sortTarget === SortTarget.Value;
    result = result.map((kv) => ({ ...kv, value: emptyBytes, lease: keepLease ? kv.lease : 0n }));
  }
  return { header: { revision }, kvs: result, more, count };
}
