/**
 * Applying a strategic merge patch (application/strategic-merge-patch+json), after upstream's
 * k8s.io/apimachinery/pkg/util/strategicpatch mergeMap. It is a JSON merge patch in which the
 * schema says, per field, whether a list is replaced (the default) or merged item by item on a
 * merge key, and in which directives steer the merge:
 *   `$patch: replace | delete` on a map or a merge-list item, `$patch: replace` as a list item,
 *   `$retainKeys: [...]` (clear every key not listed), `$setElementOrder/<list>: [...]` (the
 *   order of the merged list), `$deleteFromPrimitiveList/<list>: [...]` (scalars to drop).
 *
 * The same merge, with `mergeParallelList` off, combines two patches into one (kubectl's
 * three-way patch): then nulls and parallel lists are kept rather than acted upon.
 */
import { PatchFormatError } from "./errors.ts";
import { checkDepth, deepClone, deepEqual, hasOwn, isJsonObject, jsonTypeName, setMember, toJsonObject } from "./json.ts";
import type { JsonObject, JsonTypeName, JsonValue } from "./json.ts";
import { splitPatchStrategies } from "./schema.ts";
import type { PatchSchema } from "./schema.ts";
import {
  badArgTypeError,
  badPatchTypeError,
  deduplicateScalars,
  deleteDirective,
  deleteFromPrimitiveListPrefix,
  directiveMarker,
  errBadPatchFormatForPrimitiveList,
  errBadPatchFormatForRetainKeys,
  errBadPatchFormatForSetElementOrderList,
  extractDirectiveKey,
  extractToDeleteItems,
  indexByIdentity,
  isDirectiveKey,
  mergeDirective,
  noMergeKeyError,
  normalizeElementOrder,
  replaceDirective,
  retainKeysDirective,
  setElementOrderPrefix,
  sliceElementType,
} from "./strategic-common.ts";

export interface MergeOptions {
  /** Act on `$deleteFromPrimitiveList` and `$retainKeys` (applying) or carry them (combining patches). */
  readonly mergeParallelList: boolean;
  /** Drop nulls that match nothing (applying) or keep them as deletions (combining patches). */
  readonly ignoreUnmatchedNulls: boolean;
}

const applyOptions: MergeOptions = { mergeParallelList: true, ignoreUnmatchedNulls: true };

/**
 * Applies a strategic merge patch to an object and returns the result; neither argument is
 * modified. Throws PatchFormatError for malformed patches (bad directive, missing merge key, ...).
 */
export function applyStrategicMergePatch(original: JsonObject, patch: JsonValue, schema: PatchSchema): JsonObject {
  const typedPatch = toJsonObject(patch, "strategic merge patch");
  return mergeMap(deepClone(original), deepClone(typedPatch), schema, applyOptions, 0);
}

/**
 * Merges `patch` into `original` (both are consumed: the caller passes copies). Exported for
 * strategic-diff.ts, which combines the deletions and the changes of a three-way patch with it.
 */
export function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema, options: MergeOptions, depth: number): JsonObject {
  checkDepth(depth, "strategic merge patch");
  if (hasOwn(patch, directiveMarker)) return mapDirective(patch, options);
  applyRetainKeysDirective(original, patch, options);
  mergePatchIntoOriginal(original, patch, schema, options, depth);
  for (const key of Object.keys(patch)) mergeEntry(original, key, patch[key] as JsonValue, schema, options, depth);
  return original;
}

/** `$patch` on a map: replace it by the rest of the patch, or empty it. */
function mapDirective(patch: JsonObject, options: MergeOptions): JsonObject {
  const directive = patch[directiveMarker];
  if (directive === replaceDirective) {
    delete patch[directiveMarker];
    return options.mergeParallelList ? (cleanNewValue(patch, options) as JsonObject) : patch;
  }
  if (directive === deleteDirective) return {};
  throw badPatchTypeError(directive, patch);
}

function mergeEntry(original: JsonObject, patchKey: string, patchValue: JsonValue, schema: PatchSchema, options: MergeOptions, depth: number): void {
  let key = patchKey;
  let isDeleteList = false;
  if (patchKey.startsWith(deleteFromPrimitiveListPrefix)) {
    if (!options.mergeParallelList) {
      setMember(original, patchKey, patchValue);
      return;
    }
    key = extractDirectiveKey(patchKey, deleteFromPrimitiveListPrefix);
    isDeleteList = true;
  }
  if (patchValue === null) {
    delete original[key];
    if (options.ignoreUnmatchedNulls) return;
  }
  const originalValue = hasOwn(original, key) ? (original[key] as JsonValue) : undefined;
  if (originalValue === undefined || jsonTypeName(originalValue) !== jsonTypeName(patchValue)) {
    // Not in the original document (or of another type): take the patch value, unless this is a
    // deletion list, which never adds anything.
    if (!isDeleteList) setNewValue(original, key, patchValue, options);
    return;
  }
  const field = schema.field(key);
  const { strategy } = splitPatchStrategies(field.meta);
  if (isJsonObject(originalValue) && isJsonObject(patchValue)) {
    const merged = strategy === replaceDirective ? replacement(patchValue, options) : mergeMap(originalValue, patchValue, field.schema, options, depth + 1);
    setMember(original, key, merged);
  } else if (Array.isArray(originalValue) && Array.isArray(patchValue)) {
    const merged = mergeSliceHandler(originalValue, patchValue, field.schema, strategy, field.meta.patchMergeKey, isDeleteList, options, depth);
    setMember(original, key, merged);
  } else {
    setNewValue(original, key, patchValue, options);
  }
}

/** A value taken from the patch as is: directives dropped and, when applying, stray nulls too. */
function setNewValue(original: JsonObject, key: string, patchValue: JsonValue, options: MergeOptions): void {
  const value = options.ignoreUnmatchedNulls ? cleanNewValue(patchValue, options) : removeDirectives(patchValue, false);
  if (value === undefined) delete original[key];
  else setMember(original, key, value);
}

function replacement<T extends JsonValue>(patchValue: T, options: MergeOptions): T {
  return options.mergeParallelList ? (cleanNewValue(patchValue, options) as T) : patchValue;
}

/** The patch value with nulls discarded and every directive removed (applying only). */
function cleanNewValue(value: JsonValue, options: MergeOptions): JsonValue | undefined {
  if (options.ignoreUnmatchedNulls) discardNullValues(value);
  return removeDirectives(value, options.mergeParallelList);
}

/**
 * Removes maps holding `$patch` (they are instructions, not values) from a value taken from the
 * patch; undefined means "drop the value altogether". With `allDirectives`, also drops parallel
 * lists and `$retainKeys`, which upstream leaves in (its typed decoding discards them later; our
 * objects are stored as JSON, so we clean them here).
 */
export function removeDirectives(value: JsonValue, allDirectives: boolean): JsonValue | undefined {
  if (Array.isArray(value)) {
    const kept: JsonValue[] = [];
    for (const item of value) {
      const cleaned = removeDirectives(item, allDirectives);
      if (cleaned !== undefined) kept.push(cleaned);
    }
    return kept;
  }
  if (!isJsonObject(value)) return value;
  if (hasOwn(value, directiveMarker)) return undefined;
  for (const key of Object.keys(value)) {
    const cleaned = allDirectives && isDirectiveKey(key) ? undefined : removeDirectives(value[key] as JsonValue, allDirectives);
    if (cleaned === undefined) delete value[key];
    else setMember(value, key, cleaned);
  }
  return value;
}

function discardNullValues(value: JsonValue): void {
  if (Array.isArray(value)) {
    for (const item of value) discardNullValues(item);
  } else if (isJsonObject(value)) {
    for (const key of Object.keys(value)) {
      const member = value[key] as JsonValue;
      if (member === null) delete value[key];
      else discardNullValues(member);
    }
  }
}

function applyRetainKeysDirective(original: JsonObject, patch: JsonObject, options: MergeOptions): void {
  if (!hasOwn(patch, retainKeysDirective)) return;
  const retainKeys = patch[retainKeysDirective] as JsonValue;
  delete patch[retainKeysDirective];
  if (!options.mergeParallelList) {
    // Combining two patches: both must carry the same list (they come from the same manifest).
    const existing = original[retainKeysDirective];
    if (existing !== undefined && !deepEqual(existing, retainKeys)) {
      throw new PatchFormatError(`${JSON.stringify(existing)} and ${JSON.stringify(retainKeys)} are not deep equal`);
    }
    setMember(original, retainKeysDirective, retainKeys);
    return;
  }
  if (!Array.isArray(retainKeys)) throw new PatchFormatError(errBadPatchFormatForRetainKeys);
  const retained = new Set<JsonValue>(retainKeys);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(deleteFromPrimitiveListPrefix) || key.startsWith(setElementOrderPrefix)) continue;
    // Every key the patch sets must be one it retains.
    if (!retained.has(key)) throw new PatchFormatError(errBadPatchFormatForRetainKeys);
  }
  for (const key of Object.keys(original)) {
    if (!retained.has(key)) delete original[key];
  }
}

/**
 * Handles every `$setElementOrder/<list>` of the patch together with `<list>`: merges the list,
 * then orders it by the directive (patch items), keeping server-only items near the live items
 * they followed. Both keys are removed from the patch so the main loop skips them.
 */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, schema: PatchSchema, options: MergeOptions, depth: number): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const order = patch[key] as JsonValue;
    if (!options.mergeParallelList) {
      const existing = original[key];
      if (existing !== undefined && !deepEqual(existing, order)) throw new PatchFormatError(errBadPatchFormatForSetElementOrderList);
      setMember(original, key, order);
    }
    delete patch[key];
    if (!Array.isArray(order)) throw badArgTypeError("[]interface {}", order);
    const listKey = extractDirectiveKey(key, setElementOrderPrefix);
    const originalList = listAt(original, listKey);
    const patchList = listAt(patch, listKey);
    const field = schema.field(listKey);
    const mergeKey = field.meta.patchMergeKey;
    validatePatchWithSetOrderList(patchList ?? [], order, mergeKey);
    let merged: JsonValue[];
    if (originalList !== undefined && patchList !== undefined) {
      const { strategy } = splitPatchStrategies(field.meta);
      merged = mergeSliceHandler(originalList, patchList, field.schema, strategy, mergeKey, false, options, depth);
    } else if (patchList !== undefined) {
      merged = (cleanNewValue(patchList, options) ?? []) as JsonValue[];
    } else if (originalList !== undefined) {
      merged = originalList;
    } else {
      continue;
    }
    const type = sliceElementType(originalList ?? [], patchList ?? []);
    let serverOrder = originalList ?? [];
    if (originalList !== undefined && patchList !== undefined && type === "object" && mergeKey !== "") {
      serverOrder = liveOrderAfterMerge(originalList, patchList, mergeKey);
    }
    const ordered = type === undefined ? merged : orderBySetElementOrder(merged, order, serverOrder, mergeKey, type);
    setMember(original, listKey, ordered);
    delete patch[listKey];
  }
}

/**
 * The live order upstream's `$setElementOrder` step compares server-only items against. Upstream
 * merges the list in place first: Go's deletes shift the live items left and the new items it
 * appends land in the freed slots of the same array, so the list it then reads as "live order" is
 * (live minus deleted items, then new items) cut to the live list's length. Reproducing that
 * keeps list order after `kubectl apply` identical to a real API server's.
 */
function liveOrderAfterMerge(live: readonly JsonValue[], patchList: readonly JsonValue[], mergeKey: string): JsonValue[] {
  const keyOf = (item: JsonValue): JsonValue | undefined => (isJsonObject(item) ? item[mergeKey] : undefined);
  const deleted = patchList.filter((item) => isJsonObject(item) && item[directiveMarker] === deleteDirective).map(keyOf);
  const remaining = live.filter((item) => !deleted.includes(keyOf(item)));
  const replaced = patchList.some((item) => isJsonObject(item) && item[directiveMarker] === replaceDirective);
  const appended: JsonValue[] = [];
  if (!replaced) {
    for (const item of patchList) {
      if (isJsonObject(item) && hasOwn(item, directiveMarker)) continue;
      const key = keyOf(item);
      const known = (candidate: JsonValue): boolean => keyOf(candidate) === key;
      if (!remaining.some(known) && !appended.some(known)) appended.push(item);
    }
  }
  return [...remaining, ...appended].slice(0, live.length);
}

function listAt(object: JsonObject, key: string): JsonValue[] | undefined {
  if (!hasOwn(object, key)) return undefined;
  const value = object[key] as JsonValue;
  if (!Array.isArray(value)) throw badArgTypeError("[]interface {}", value);
  return value;
}

function orderBySetElementOrder(merged: readonly JsonValue[], order: readonly JsonValue[], serverOrder: readonly JsonValue[], mergeKey: string, type: JsonTypeName): JsonValue[] {
  const [patchItems, serverOnly] = partitionByPresence(merged, order, mergeKey, type);
  return normalizeElementOrder(patchItems, serverOnly, order, serverOrder, mergeKey, type);
}

/** Items of `list` whose identity appears in `presentIn`, and the others ("server-only"). */
function partitionByPresence(list: readonly JsonValue[], presentIn: readonly JsonValue[], mergeKey: string, type: JsonTypeName): [present: JsonValue[], absent: JsonValue[]] {
  const present: JsonValue[] = [];
  const absent: JsonValue[] = [];
  const itemType: JsonTypeName = mergeKey === "" ? type : "object";
  if (mergeKey !== "") {
    for (const candidate of presentIn) {
      if (!isJsonObject(candidate)) throw new PatchFormatError(`value for key ${mergeKey} is not a map`);
    }
  }
  for (const item of list) {
    if (mergeKey !== "") {
      if (!isJsonObject(item)) throw badArgTypeError("map[string]interface {}", item);
      if (!hasOwn(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
    }
    if (indexByIdentity(presentIn, item, mergeKey, itemType) >= 0) present.push(item);
    else absent.push(item);
  }
  return [present, absent];
}

/**
 * Checks that the patch list's items appear in the `$setElementOrder` list in the same relative
 * order (deletions and other directive items aside).
 */
function validatePatchWithSetOrderList(patchList: readonly JsonValue[], order: readonly JsonValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const candidates = mergeKey === "" ? patchList : extractToDeleteItems(patchList)[0];
  let patchIndex = 0;
  let orderIndex = 0;
  while (patchIndex < candidates.length && orderIndex < order.length) {
    const item = candidates[patchIndex] as JsonValue;
    if (isJsonObject(item) && hasOwn(item, directiveMarker)) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[orderIndex] as JsonValue, mergeKey)) patchIndex++;
    orderIndex++;
  }
  if (patchIndex < candidates.length) {
    throw new PatchFormatError(
      `The order in patch list:\n${JSON.stringify(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${JSON.stringify(order)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (mergeKey === "") return left === right;
  if (!isJsonObject(left)) throw badArgTypeError("map[string]interface {}", left);
  if (!isJsonObject(right)) throw badArgTypeError("map[string]interface {}", right);
  if (!hasOwn(left, mergeKey)) throw noMergeKeyError(left, mergeKey);
  if (!hasOwn(right, mergeKey)) throw noMergeKeyError(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeSliceHandler(
  original: JsonValue[],
  patch: JsonValue[],
  schema: PatchSchema,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
  options: MergeOptions,
  depth: number,
): JsonValue[] {
  // Deletion lists act the same whatever the field's strategy.
  if (strategy === mergeDirective || isDeleteList) return mergeSlice(original, patch, schema, mergeKey, isDeleteList, options, depth);
  return replacement(patch, options);
}

function mergeSlice(
  original: JsonValue[],
  patch: JsonValue[],
  schema: PatchSchema,
  mergeKey: string,
  isDeleteList: boolean,
  options: MergeOptions,
  depth: number,
): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const type = sliceElementType(original, patch) ?? "null";
  let merged: JsonValue[];
  let base = original;
  let patchItems = patch;
  if (type !== "object") {
    if (isDeleteList && options.mergeParallelList) return original.filter((item) => !patch.includes(item));
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (isDeleteList) throw new PatchFormatError(errBadPatchFormatForPrimitiveList);
    if (mergeKey === "") throw new PatchFormatError(`cannot merge lists without merge key for ${schema.name}`);
    [base, patchItems] = mergeSliceWithSpecialElements(original, patch, mergeKey, options);
    merged = mergeSliceWithoutSpecialElements(base, patchItems, mergeKey, schema, options, depth);
  }
  const [inPatch, serverOnly] = partitionByPresence(merged, patchItems, mergeKey, type);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, base, mergeKey, type);
}

/**
 * Acts on directive items of a merge list: `{key: v, $patch: delete}` removes the matching items,
 * `{$patch: replace}` makes the rest of the patch list the whole list. Returns the (possibly
 * reduced) original and the patch items left to merge.
 */
function mergeSliceWithSpecialElements(original: JsonValue[], patch: readonly JsonValue[], mergeKey: string, options: MergeOptions): [JsonValue[], JsonValue[]] {
  const plainItems: JsonValue[] = [];
  let remaining = original;
  let replace = false;
  for (const item of patch) {
    const map = item as JsonObject;
    if (!hasOwn(map, directiveMarker)) {
      plainItems.push(item);
      continue;
    }
    const directive = map[directiveMarker];
    if (directive === deleteDirective) {
      if (!hasOwn(map, mergeKey)) throw noMergeKeyError(map, mergeKey);
      const doomed = map[mergeKey];
      remaining = remaining.filter((candidate) => !(isJsonObject(candidate) && hasOwn(candidate, mergeKey) && candidate[mergeKey] === doomed));
    } else if (directive === replaceDirective) {
      replace = true; // keep scanning: the other directive items must still be dropped
    } else if (directive === mergeDirective) {
      throw new PatchFormatError("merging lists cannot yet be specified in the patch");
    } else {
      throw badPatchTypeError(directive, map);
    }
  }
  if (replace) return [plainItems.map((item) => replacement(item, options)), []];
  return [remaining, plainItems];
}

function mergeSliceWithoutSpecialElements(original: JsonValue[], patch: readonly JsonValue[], mergeKey: string, schema: PatchSchema, options: MergeOptions, depth: number): JsonValue[] {
  const result = [...original];
  for (const item of patch) {
    const map = item as JsonObject;
    if (!hasOwn(map, mergeKey)) throw noMergeKeyError(map, mergeKey);
    const index = result.findIndex((candidate) => {
      if (!isJsonObject(candidate)) throw new PatchFormatError(`value for key ${mergeKey} is not a map`);
      return hasOwn(candidate, mergeKey) && candidate[mergeKey] === map[mergeKey];
    });
    const existing = result[index];
    if (existing !== undefined && isJsonObject(existing)) {
      result[index] = mergeMap(existing, map, schema, options, depth + 1);
    } else {
      const added = options.mergeParallelList ? cleanNewValue(map, options) : map;
      if (added !== undefined) result.push(added);
    }
  }
  return result;
}
