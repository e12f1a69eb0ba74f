/**
 * Computing strategic merge patches, what kubectl does client-side (upstream's diffMaps,
 * CreateTwoWayMergePatch and CreateThreeWayMergePatch). `kubectl apply` sends the three-way patch:
 * additions and changes from the live object to the new manifest, deletions of what the last
 * applied manifest had and the new one dropped, and `$setElementOrder` lists that keep the
 * manifest's list order. Fields nobody put in a manifest (replicas set by `kubectl scale`,
 * defaults, status) are left alone.
 */
import { PatchFormatError, PreconditionFailedError } from "./errors.ts";
import { checkDepth, compareStrings, deepClone, deepEqual, goValueString, hasOwn, isJsonObject, jsonTypeName, setMember } from "./json.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import { splitPatchStrategies } from "./schema.ts";
import type { PatchSchema } from "./schema.ts";
import {
  deduplicateScalars,
  deleteDirective,
  deleteFromPrimitiveListPrefix,
  directiveMarker,
  mergeDirective,
  noMergeKeyError,
  normalizeSliceOrder,
  replaceDirective,
  retainKeysDirective,
  setElementOrderPrefix,
  sliceElementType,
  sortScalars,
} from "./strategic-common.ts";
import { mergeMap } from "./strategic-merge.ts";

interface DiffOptions {
  /** Emit `$setElementOrder/<list>` for merge lists whose content or order changed. */
  readonly setElementOrder: boolean;
  readonly ignoreChangesAndAdditions: boolean;
  readonly ignoreDeletions: boolean;
  /** Emit `$retainKeys` for the map being diffed (its field has the retainKeys strategy). */
  readonly buildRetainKeysDirective: boolean;
}

/** A check on a computed patch; returning false fails the computation (PreconditionFailedError). */
export type PatchPrecondition = (patch: JsonObject) => boolean;

/** Fails when the patch changes a top-level key (kubectl apply: "apiVersion", "kind"). */
export function requireKeyUnchanged(key: string): PatchPrecondition {
  return (patch) => !hasOwn(patch, key);
}

/** Fails when the patch changes a metadata key (kubectl apply: "name"). */
export function requireMetadataKeyUnchanged(key: string): PatchPrecondition {
  return (patch) => {
    const metadata = patch["metadata"];
    return !isJsonObject(metadata) || !hasOwn(metadata, key);
  };
}

/** The preconditions kubectl apply checks on every patch it computes. */
export const kubectlApplyPreconditions: readonly PatchPrecondition[] = [
  requireKeyUnchanged("apiVersion"),
  requireKeyUnchanged("kind"),
  requireMetadataKeyUnchanged("name"),
];

function checkPreconditions(patch: JsonObject, preconditions: readonly PatchPrecondition[]): void {
  for (const precondition of preconditions) {
    if (!precondition(patch)) throw new PreconditionFailedError(JSON.stringify(patch));
  }
}

/** The strategic merge patch that turns `original` into `modified` (with `$setElementOrder`). */
export function createTwoWayMergePatch(
  original: JsonObject,
  modified: JsonObject,
  schema: PatchSchema,
  preconditions: readonly PatchPrecondition[] = [],
): JsonObject {
  const options: DiffOptions = { setElementOrder: true, ignoreChangesAndAdditions: false, ignoreDeletions: false, buildRetainKeysDirective: false };
  const patch = diffMaps(deepClone(original), deepClone(modified), schema, options, 0);
  checkPreconditions(patch, preconditions);
  return patch;
}

/**
 * kubectl apply's patch. `original` is the last applied manifest (the
 * kubectl.kubernetes.io/last-applied-configuration annotation; {} on first apply), `modified` the
 * new manifest, `current` the live object. Like kubectl, this always overwrites: a field changed
 * both in the manifest and on the server takes the manifest's value.
 */
export function createThreeWayMergePatch(
  original: JsonObject,
  modified: JsonObject,
  current: JsonObject,
  schema: PatchSchema,
  preconditions: readonly PatchPrecondition[] = [],
): JsonObject {
  const deltaOptions: DiffOptions = { setElementOrder: true, ignoreChangesAndAdditions: false, ignoreDeletions: true, buildRetainKeysDirective: false };
  const delta = diffMaps(deepClone(current), deepClone(modified), schema, deltaOptions, 0);
  const deletionOptions: DiffOptions = { setElementOrder: true, ignoreChangesAndAdditions: true, ignoreDeletions: false, buildRetainKeysDirective: false };
  const deletions = diffMaps(deepClone(original), deepClone(modified), schema, deletionOptions, 0);
  // Apply the changes to the deletions as a patch of a patch: nulls and parallel lists survive.
  const patch = mergeMap(deletions, delta, schema, { mergeParallelList: false, ignoreUnmatchedNulls: false }, 0);
  checkPreconditions(patch, preconditions);
  return patch;
}

function diffMaps(original: JsonObject, modified: JsonObject, schema: PatchSchema, options: DiffOptions, depth: number): JsonObject {
  checkDepth(depth, "strategic merge patch");
  const patch: JsonObject = {};
  const retainKeys: JsonValue[] = [];
  for (const key of Object.keys(modified)) {
    const modifiedValue = modified[key] as JsonValue;
    if (options.buildRetainKeysDirective && modifiedValue !== null) retainKeys.push(key);
    if (!hasOwn(original, key)) {
      if (!options.ignoreChangesAndAdditions) setMember(patch, key, modifiedValue);
      continue;
    }
    const originalValue = original[key] as JsonValue;
    if (key === directiveMarker) {
      if (typeof originalValue !== "string" || typeof modifiedValue !== "string") {
        throw new PatchFormatError(`invalid value for special key: ${directiveMarker}`);
      }
      if (originalValue !== modifiedValue) setMember(patch, key, modifiedValue);
      continue;
    }
    if (jsonTypeName(originalValue) !== jsonTypeName(modifiedValue)) {
      if (!options.ignoreChangesAndAdditions) setMember(patch, key, modifiedValue);
    } else if (isJsonObject(originalValue) && isJsonObject(modifiedValue)) {
      diffMapField(key, originalValue, modifiedValue, patch, schema, options, depth);
    } else if (Array.isArray(originalValue) && Array.isArray(modifiedValue)) {
      diffListField(key, originalValue, modifiedValue, patch, schema, options, depth);
    } else {
      replaceIfNotEqual(key, originalValue, modifiedValue, patch, options);
    }
  }
  if (!options.ignoreDeletions) {
    for (const key of Object.keys(original)) {
      if (!hasOwn(modified, key)) setMember(patch, key, null);
    }
  }
  // Send $retainKeys when there is a change, or when the original has keys the new map dropped.
  const dropsKeys = Object.keys(original).some((key) => original[key] !== null && !hasOwn(modified, key));
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || dropsKeys)) setMember(patch, retainKeysDirective, sortScalars(retainKeys));
  return patch;
}

function replaceIfNotEqual(key: string, original: JsonValue, modified: JsonValue, patch: JsonObject, options: DiffOptions): void {
  if (options.ignoreChangesAndAdditions || deepEqual(original, modified)) return;
  setMember(patch, key, modified);
}

function diffMapField(key: string, original: JsonObject, modified: JsonObject, patch: JsonObject, schema: PatchSchema, options: DiffOptions, depth: number): void {
  const field = schema.field(key);
  const { retainKeys, strategy } = splitPatchStrategies(field.meta);
  if (strategy === replaceDirective) {
    // The whole map is replaced, so send it whole when anything changed.
    if (!options.ignoreChangesAndAdditions) setMember(patch, key, modified);
    return;
  }
  const nested = diffMaps(original, modified, field.schema, { ...options, buildRetainKeysDirective: retainKeys }, depth + 1);
  if (Object.keys(nested).length > 0) setMember(patch, key, nested);
}

function diffListField(key: string, original: JsonValue[], modified: JsonValue[], patch: JsonObject, schema: PatchSchema, options: DiffOptions, depth: number): void {
  const field = schema.field(key);
  const { retainKeys, strategy } = splitPatchStrategies(field.meta);
  if (strategy !== mergeDirective) {
    replaceIfNotEqual(key, original, modified, patch, options);
    return;
  }
  const itemOptions = { ...options, buildRetainKeysDirective: retainKeys };
  const { patchList, deleteList, setOrderList } = diffLists(original, modified, field.schema, field.meta.patchMergeKey, itemOptions, depth);
  if (patchList.length > 0) setMember(patch, key, patchList);
  if (deleteList.length > 0) setMember(patch, `${deleteFromPrimitiveListPrefix}/${key}`, deleteList);
  if (setOrderList.length > 0) setMember(patch, `${setElementOrderPrefix}/${key}`, setOrderList);
}

interface ListDiff {
  /** Added and changed items (maps: partial items holding the merge key; deletions last). */
  readonly patchList: JsonValue[];
  /** Scalars to remove from a merge list of primitives. */
  readonly deleteList: JsonValue[];
  /** The new order (maps: `{mergeKey: value}` items), when content or order changed. */
  readonly setOrderList: JsonValue[];
}

function diffLists(original: JsonValue[], modified: JsonValue[], schema: PatchSchema, mergeKey: string, options: DiffOptions, depth: number): ListDiff {
  if (original.length === 0) {
    // Nothing to merge with: the new list goes whole.
    const patchList = modified.length === 0 || options.ignoreChangesAndAdditions ? [] : modified;
    return { patchList, deleteList: [], setOrderList: [] };
  }
  const type = sliceElementType(original, modified);
  if (type === "object") return diffListsOfMaps(original, modified, schema, mergeKey, options, depth);
  const { additions, deletions } = diffListsOfScalars(original, modified, options);
  const patchList = normalizeSliceOrder(additions, modified, mergeKey, type ?? "null");
  const changed = (!options.ignoreDeletions && deletions.length > 0) || (!options.ignoreChangesAndAdditions && !deepEqual(original, modified));
  return { patchList, deleteList: deletions, setOrderList: options.setElementOrder && changed ? modified : [] };
}

function diffListsOfMaps(original: JsonValue[], modified: JsonValue[], schema: PatchSchema, mergeKey: string, options: DiffOptions, depth: number): ListDiff {
  const { changes, deletions } = diffMapItems(original, modified, schema, mergeKey, options, depth);
  const patchList = [...normalizeSliceOrder(changes, modified, mergeKey, "object"), ...deletions];
  const orderSame = original.length === modified.length && modified.every((item, index) => mergeKeyValue(original[index] as JsonValue, mergeKey) === mergeKeyValue(item, mergeKey));
  const changedOrReordered = !options.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame);
  const deleted = !options.ignoreDeletions && patchList.length > 0;
  const setOrderList = options.setElementOrder && (changedOrReordered || deleted) ? modified.map((item) => ({ [mergeKey]: mergeKeyValue(item, mergeKey) })) : [];
  return { patchList, deleteList: [], setOrderList };
}

function mergeKeyValue(item: JsonValue, mergeKey: string): JsonValue {
  if (!isJsonObject(item) || !hasOwn(item, mergeKey)) throw noMergeKeyError(item, mergeKey);
  return item[mergeKey] as JsonValue;
}

/**
 * Walks both lists sorted by merge key (as text, like upstream): matching items are diffed
 * recursively, new items go whole, vanished items become `{key: v, $patch: delete}`.
 */
function diffMapItems(original: JsonValue[], modified: JsonValue[], schema: PatchSchema, mergeKey: string, options: DiffOptions, depth: number): { changes: JsonValue[]; deletions: JsonValue[] } {
  const byKeyText = (items: JsonValue[]): Array<{ item: JsonObject; key: JsonValue; text: string }> =>
    items
      .map((item) => ({ item: item as JsonObject, key: mergeKeyValue(item, mergeKey), text: "" }))
      .map((entry) => ({ ...entry, text: goValueString(entry.key) }))
      .sort((left, right) => compareStrings(left.text, right.text));
  const originalSorted = byKeyText(original);
  const modifiedSorted = byKeyText(modified);
  const changes: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  let originalIndex = 0;
  let modifiedIndex = 0;
  while (originalIndex < originalSorted.length || modifiedIndex < modifiedSorted.length) {
    const before = originalSorted[originalIndex];
    const after = modifiedSorted[modifiedIndex];
    if (before !== undefined && after !== undefined && before.text === after.text) {
      const nested = diffMaps(before.item, after.item, schema, options, depth + 1);
      if (Object.keys(nested).length > 0) changes.push({ [mergeKey]: after.key, ...nested });
      originalIndex++;
      modifiedIndex++;
    } else if (after !== undefined && (before === undefined || before.text > after.text)) {
      if (!options.ignoreChangesAndAdditions) changes.push(after.item);
      modifiedIndex++;
    } else if (before !== undefined) {
      if (!options.ignoreDeletions) deletions.push({ [mergeKey]: before.key, [directiveMarker]: deleteDirective });
      originalIndex++;
    }
  }
  return { changes, deletions };
}

/** Scalars added to and removed from a list, compared as text after sorting (like upstream). */
function diffListsOfScalars(original: JsonValue[], modified: JsonValue[], options: DiffOptions): { additions: JsonValue[]; deletions: JsonValue[] } {
  const originalSorted = sortScalars(original);
  const modifiedSorted = sortScalars(modified);
  const additions: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  let originalIndex = 0;
  let modifiedIndex = 0;
  while (originalIndex < originalSorted.length || modifiedIndex < modifiedSorted.length) {
    const before = originalSorted[originalIndex];
    const after = modifiedSorted[modifiedIndex];
    const beforeText = before === undefined ? undefined : goValueString(before);
    const afterText = after === undefined ? undefined : goValueString(after);
    if (beforeText !== undefined && beforeText === afterText) {
      originalIndex++;
      modifiedIndex++;
    } else if (after !== undefined && (beforeText === undefined || (afterText !== undefined && beforeText > afterText))) {
      if (!options.ignoreChangesAndAdditions) additions.push(after);
      modifiedIndex++;
    } else {
      if (!options.ignoreDeletions) deletions.push(before as JsonValue);
      originalIndex++;
    }
  }
  return { additions, deletions: deduplicateScalars(deletions) };
}
