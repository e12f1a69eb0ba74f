/**
 * Pieces shared by applying (strategic-merge.ts) and computing (strategic-diff.ts) strategic merge
 * patches: the directive names, upstream's error texts, and the list ordering rules of
 * upstream's "preserve order in strategic merge patch" design (patch order first, then the live
 * object's order for items only the server has).
 */
import { PatchFormatError } from "./errors.ts";
import { compareStrings, goValueString, hasOwn, isJsonObject, jsonTypeName } from "./json.ts";
import type { JsonObject, JsonTypeName, JsonValue } from "./json.ts";

export const directiveMarker = "$patch";
export const deleteDirective = "delete";
export const replaceDirective = "replace";
export const mergeDirective = "merge";
export const retainKeysDirective = "$retainKeys";
export const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
export const setElementOrderPrefix = "$setElementOrder";

/** True for the parallel-list and retainKeys keys that are instructions, never data. */
export function isDirectiveKey(key: string): boolean {
  return (
    key === directiveMarker ||
    key === retainKeysDirective ||
    key.startsWith(deleteFromPrimitiveListPrefix) ||
    key.startsWith(setElementOrderPrefix)
  );
}

// Upstream's messages (k8s.io/apimachinery/pkg/util/mergepatch/errors.go), so clients see the same text.
export const errNoListOfLists = "lists of lists are not supported";
export const errBadPatchFormatForPrimitiveList = "invalid patch format of primitive list";
export const errBadPatchFormatForRetainKeys = "invalid patch format of retainKeys";
export const errBadPatchFormatForSetElementOrderList = "invalid patch format of setElementOrder list";

export function noMergeKeyError(item: JsonValue, mergeKey: string): PatchFormatError {
  return new PatchFormatError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
}

export function badPatchTypeError(directive: JsonValue | undefined, map: JsonObject): PatchFormatError {
  return new PatchFormatError(`unknown patch type: ${goValueString(directive)} in map: ${JSON.stringify(map)}`);
}

export function badArgTypeError(expected: string, actual: JsonValue | undefined): PatchFormatError {
  return new PatchFormatError(`expected a ${expected}, but received a ${actual === undefined ? "nil" : jsonTypeName(actual)}`);
}

/**
 * The one element type of the given lists ("object", "string", ...), or undefined when they are
 * all empty. Lists of lists and mixed lists are errors, as upstream.
 */
export function sliceElementType(...lists: ReadonlyArray<readonly JsonValue[]>): JsonTypeName | undefined {
  let type: JsonTypeName | undefined;
  for (const list of lists) {
    for (const item of list) {
      const itemType = jsonTypeName(item);
      if (itemType === "array") throw new PatchFormatError(errNoListOfLists);
      if (type !== undefined && type !== itemType) {
        throw new PatchFormatError(`list element types are not identical: ${JSON.stringify(lists)}`);
      }
      type = itemType;
    }
  }
  return type;
}

/** The merge key's value of a list item (maps), or the item itself (scalars). */
function identityOf(item: JsonValue, mergeKey: string, type: JsonTypeName): JsonValue | undefined {
  if (type !== "object") return item;
  return isJsonObject(item) ? item[mergeKey] : undefined;
}

/** Index of the item with the same identity as `item` in `list`, or -1. */
export function indexByIdentity(list: readonly JsonValue[], item: JsonValue, mergeKey: string, type: JsonTypeName): number {
  const identity = identityOf(item, mergeKey, type);
  return list.findIndex((candidate) => identityOf(candidate, mergeKey, type) === identity);
}

/** Every item of every list is an object holding `mergeKey`. */
export function validateMergeKeyInLists(mergeKey: string, ...lists: ReadonlyArray<readonly JsonValue[]>): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonObject(item)) throw badArgTypeError("map[string]interface {}", item);
      if (!hasOwn(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
    }
  }
}

/** Splits a list of maps into items to keep and `$patch: delete` items. */
export function extractToDeleteItems(list: readonly JsonValue[]): [keep: JsonValue[], toDelete: JsonValue[]] {
  const keep: JsonValue[] = [];
  const toDelete: JsonValue[] = [];
  for (const item of list) {
    if (!isJsonObject(item)) throw badArgTypeError("map[string]interface {}", item);
    if (item[directiveMarker] === deleteDirective) toDelete.push(item);
    else keep.push(item);
  }
  return [keep, toDelete];
}

/**
 * Sorts `toSort` by the positions of its items in `order` (stable; items `order` lacks keep their
 * relative order after the others); `$patch: delete` items go last.
 */
export function normalizeSliceOrder(
  toSort: readonly JsonValue[],
  order: readonly JsonValue[],
  mergeKey: string,
  type: JsonTypeName,
): JsonValue[] {
  let items: JsonValue[] = [...toSort];
  let toDelete: JsonValue[] = [];
  if (type === "object") {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [items, toDelete] = extractToDeleteItems(toSort);
  }
  const positioned = items.map((item, position) => ({ item, position, rank: indexByIdentity(order, item, mergeKey, type) }));
  positioned.sort((left, right) => {
    const leftRank = left.rank < 0 ? Number.MAX_SAFE_INTEGER : left.rank;
    const rightRank = right.rank < 0 ? Number.MAX_SAFE_INTEGER : right.rank;
    return leftRank - rightRank || left.position - right.position;
  });
  return [...positioned.map((entry) => entry.item), ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`), each already in its own
 * order: a server-only item goes before a patch item when the live list (`serverOrder`) had it
 * first; otherwise patch items lead. Both lists keep their relative order.
 */
export function mergeSortedSlice(
  left: readonly JsonValue[],
  right: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  mergeKey: string,
  type: JsonTypeName,
): JsonValue[] {
  const result: JsonValue[] = [];
  let leftIndex = 0;
  let rightIndex = 0;
  while (leftIndex < left.length || rightIndex < right.length) {
    const leftItem = left[leftIndex];
    const rightItem = right[rightIndex];
    if (leftItem === undefined) {
      result.push(rightItem as JsonValue);
      rightIndex++;
    } else if (rightItem === undefined) {
      result.push(leftItem);
      leftIndex++;
    } else {
      const leftRank = indexByIdentity(serverOrder, leftItem, mergeKey, type);
      const rightRank = indexByIdentity(serverOrder, rightItem, mergeKey, type);
      if (leftRank >= 0 && rightRank >= 0 && leftRank < rightRank) {
        result.push(leftItem);
        leftIndex++;
      } else {
        result.push(rightItem);
        rightIndex++;
      }
    }
  }
  return result;
}

/** Orders patch items by `patchOrder`, server-only items by `serverOrder`, then interleaves them. */
export function normalizeElementOrder(
  patchItems: readonly JsonValue[],
  serverOnly: readonly JsonValue[],
  patchOrder: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  mergeKey: string,
  type: JsonTypeName,
): JsonValue[] {
  const sortedPatch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, type);
  const sortedServerOnly = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, type);
  return mergeSortedSlice(sortedServerOnly, sortedPatch, serverOrder, mergeKey, type);
}

/** Scalars sorted by their Go "%v" text (stable), as upstream orders primitive lists and retainKeys. */
export function sortScalars(list: readonly JsonValue[]): JsonValue[] {
  return [...list].sort((left, right) => compareStrings(goValueString(left), goValueString(right)));
}

/** Drops repeated scalars, keeping the first of each. */
export function deduplicateScalars(list: readonly JsonValue[]): JsonValue[] {
  const result: JsonValue[] = [];
  for (const item of list) {
    if (!result.includes(item)) result.push(item);
  }
  return result;
}

/** The key of the list a parallel directive (`$setElementOrder/containers`) applies to. */
export function extractDirectiveKey(key: string, prefix: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    if (prefix === deleteFromPrimitiveListPrefix) throw new PatchFormatError(errBadPatchFormatForPrimitiveList);
    throw new PatchFormatError(errBadPatchFormatForSetElementOrderList);
  }
  return key.slice(slash + 1);
}
