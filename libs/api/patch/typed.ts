/**
 * Schema-aware walks over objects for server-side apply (after structured-merge-diff's typed
 * package): the set of fields a value sets, the fields that differ between two values, the
 * merge of an applied configuration into a live object, and pruning fields nobody owns any more.
 * Lists follow their `+listType`: atomic lists (the default) are one leaf, sets are keyed by
 * value, maps by their `+listMapKey` fields.
 */
import { PatchFormatError } from "./errors.ts";
import { checkDepth, deepClone, deepEqual, hasOwn, isJsonObject, jsonTypeName, setMember } from "./json.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import { FieldSet, fieldElement, formatFieldPath, keyElement, serializePathElement } from "./fieldpath.ts";
import type { FieldPath, PathElement } from "./fieldpath.ts";
import { emptyPatchMeta } from "./schema.ts";
import type { FieldPatchMeta, ListType, PatchSchema } from "./schema.ts";

/** Where a walk stands: the schema of the value and the metadata of the field holding it. */
interface Position {
  readonly schema: PatchSchema;
  readonly meta: FieldPatchMeta;
}

function listTypeOf(meta: FieldPatchMeta): ListType {
  return meta.listType ?? "atomic";
}

/** The path element of a list item: its key fields (map lists) or its value (sets). */
export function listItemElement(item: JsonValue, meta: FieldPatchMeta, path: FieldPath): PathElement {
  if (listTypeOf(meta) === "set") {
    if (item === null || typeof item === "object") {
      throw new PatchFormatError(`${formatFieldPath(path)}: a set may only hold scalars, got ${jsonTypeName(item)}`);
    }
    return { kind: "value", value: item };
  }
  if (!isJsonObject(item)) throw new PatchFormatError(`${formatFieldPath(path)}: associative list with keys may not have non-map elements`);
  const fields: Array<[string, JsonValue]> = [];
  for (const key of meta.listMapKeys) {
    if (hasOwn(item, key)) fields.push([key, item[key] as JsonValue]);
    else if (meta.listMapKeyDefaults[key] !== undefined) fields.push([key, meta.listMapKeyDefaults[key]]);
  }
  if (fields.length === 0) {
    throw new PatchFormatError(`${formatFieldPath(path)}: associative list with keys has an element that omits all key fields ${JSON.stringify(meta.listMapKeys)}`);
  }
  return keyElement(fields);
}

/** Fields a value sets, as server-side apply records them for the manager that applied it. */
export function toFieldSet(object: JsonObject, schema: PatchSchema): FieldSet {
  const set = new FieldSet();
  collectMap(object, { schema, meta: emptyPatchMeta }, [], set, 0);
  return set;
}

function collect(value: JsonValue, position: Position, path: FieldPath, set: FieldSet, depth: number): void {
  checkDepth(depth, "applied configuration");
  if (Array.isArray(value)) collectList(value, position, path, set, depth);
  else if (isJsonObject(value)) collectMap(value, position, path, set, depth);
  else set.insert(path);
}

function collectMap(object: JsonObject, position: Position, path: FieldPath, set: FieldSet, depth: number): void {
  if (position.schema.atomic) {
    set.insert(path);
    return;
  }
  for (const [key, value] of Object.entries(object)) {
    const field = position.schema.field(key);
    const childPath = [...path, fieldElement(key)];
    collect(value, field, childPath, set, depth + 1);
    // Empty objects and nulls have no leaves to stand for them; map keys (not struct fields) are owned whole.
    const empty = value === null || (isJsonObject(value) && Object.keys(value).length === 0);
    if (empty || !position.schema.namedFields) set.insert(childPath);
  }
}

function collectList(list: JsonValue[], position: Position, path: FieldPath, set: FieldSet, depth: number): void {
  if (listTypeOf(position.meta) === "atomic") {
    set.insert(path);
    return;
  }
  const { unique, duplicates } = indexItems(list, position.meta, path);
  for (const element of duplicates.values()) set.insert([...path, element]);
  for (const { element, item } of unique.values()) {
    const itemPath = [...path, element];
    collect(item, { schema: position.schema, meta: emptyPatchMeta }, itemPath, set, depth + 1);
    set.insert(itemPath);
  }
}

interface IndexedItem {
  readonly element: PathElement;
  readonly item: JsonValue;
}

/** A list's items by path element, in list order; items whose element repeats are set apart. */
function indexItems(list: readonly JsonValue[], meta: FieldPatchMeta, path: FieldPath): { unique: Map<string, IndexedItem>; duplicates: Map<string, PathElement> } {
  const unique = new Map<string, IndexedItem>();
  const duplicates = new Map<string, PathElement>();
  for (const item of list) {
    const element = listItemElement(item, meta, path);
    const key = serializePathElement(element);
    if (unique.has(key) || duplicates.has(key)) {
      unique.delete(key);
      duplicates.set(key, element);
    } else {
      unique.set(key, { element, item });
    }
  }
  return { unique, duplicates };
}

/** What changed from one value to another, path by path (structured-merge-diff's Comparison). */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/**
 * Compares two objects field by field. Leaves (scalars, atomic lists and maps, empty ones) are
 * added, removed or modified; a list item or map entry that appears or disappears is recorded
 * itself too. Deviation: struct fields that appear or disappear are recorded only through their
 * leaves (upstream also records pointer and map fields that were nil, which JSON cannot tell).
 */
export function compareObjects(before: JsonObject, after: JsonObject, schema: PatchSchema): Comparison {
  const comparison: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareMaps(before, after, { schema, meta: emptyPatchMeta }, [], comparison, 0);
  return comparison;
}

function compareValues(before: JsonValue | undefined, after: JsonValue | undefined, position: Position, path: FieldPath, recordSelf: boolean, comparison: Comparison, depth: number): void {
  checkDepth(depth, "object");
  const granularList = (Array.isArray(before) || before === undefined) && (Array.isArray(after) || after === undefined) && listTypeOf(position.meta) !== "atomic";
  const granularMap = (isJsonObject(before) || before === undefined) && (isJsonObject(after) || after === undefined) && !position.schema.atomic;
  const bothEmpty = isEmptyContainer(before) && isEmptyContainer(after);
  if (granularList && !bothEmpty) {
    compareLists((before ?? []) as JsonValue[], (after ?? []) as JsonValue[], position, path, comparison, depth);
  } else if (granularMap && !bothEmpty) {
    compareMaps((before ?? {}) as JsonObject, (after ?? {}) as JsonObject, position, path, comparison, depth);
  } else {
    if (before === undefined) comparison.added.insert(path);
    else if (after === undefined) comparison.removed.insert(path);
    else if (!deepEqual(before, after)) comparison.modified.insert(path);
    return;
  }
  if (recordSelf && before === undefined) comparison.added.insert(path);
  if (recordSelf && after === undefined) comparison.removed.insert(path);
}

function isEmptyContainer(value: JsonValue | undefined): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isJsonObject(value) && Object.keys(value).length === 0;
}

function compareMaps(before: JsonObject, after: JsonObject, position: Position, path: FieldPath, comparison: Comparison, depth: number): void {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const field = position.schema.field(key);
    const beforeValue = hasOwn(before, key) ? before[key] : undefined;
    const afterValue = hasOwn(after, key) ? after[key] : undefined;
    compareValues(beforeValue, afterValue, field, [...path, fieldElement(key)], !position.schema.namedFields, comparison, depth + 1);
  }
}

function compareLists(before: JsonValue[], after: JsonValue[], position: Position, path: FieldPath, comparison: Comparison, depth: number): void {
  const beforeItems = indexItems(before, position.meta, path);
  const afterItems = indexItems(after, position.meta, path);
  const itemPosition = { schema: position.schema, meta: emptyPatchMeta };
  const keys = new Set([...beforeItems.unique.keys(), ...beforeItems.duplicates.keys(), ...afterItems.unique.keys(), ...afterItems.duplicates.keys()]);
  for (const key of keys) {
    const element = beforeItems.unique.get(key)?.element ?? afterItems.unique.get(key)?.element ?? beforeItems.duplicates.get(key) ?? afterItems.duplicates.get(key);
    if (element === undefined) continue;
    const itemPath = [...path, element];
    if (beforeItems.duplicates.has(key) || afterItems.duplicates.has(key)) {
      // Duplicated items cannot be told apart: the item as a whole changed unless the lists are equal.
      if (!deepEqual(before, after)) comparison.modified.insert(itemPath);
      continue;
    }
    compareValues(beforeItems.unique.get(key)?.item, afterItems.unique.get(key)?.item, itemPosition, itemPath, true, comparison, depth + 1);
  }
}

/**
 * Merges an applied configuration into a live object: maps merge key by key, granular lists merge
 * item by item (in the configuration's order, live-only items kept near their neighbours), and
 * everything else takes the configuration's value. A null in the configuration removes the field.
 */
export function mergeObjects(live: JsonObject, applied: JsonObject, schema: PatchSchema): JsonObject {
  return mergeMaps(deepClone(live), applied, { schema, meta: emptyPatchMeta }, [], 0);
}

function mergeValue(live: JsonValue | undefined, applied: JsonValue, position: Position, path: FieldPath, depth: number): JsonValue | undefined {
  checkDepth(depth, "applied configuration");
  if (applied === null) return undefined;
  if (live === undefined) return withoutNulls(deepClone(applied));
  if (Array.isArray(live) && Array.isArray(applied) && listTypeOf(position.meta) !== "atomic" && live.length + applied.length > 0) {
    return mergeLists(live, applied, position, path, depth);
  }
  if (isJsonObject(live) && isJsonObject(applied) && !position.schema.atomic) return mergeMaps(live, applied, position, path, depth);
  return withoutNulls(deepClone(applied));
}

function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isJsonObject(value)) return value;
  for (const key of Object.keys(value)) {
    const member = value[key] as JsonValue;
    if (member === null) delete value[key];
    else setMember(value, key, withoutNulls(member));
  }
  return value;
}

function mergeMaps(live: JsonObject, applied: JsonObject, position: Position, path: FieldPath, depth: number): JsonObject {
  for (const [key, value] of Object.entries(applied)) {
    const merged = mergeValue(hasOwn(live, key) ? live[key] : undefined, value, position.schema.field(key), [...path, fieldElement(key)], depth + 1);
    if (merged === undefined) delete live[key];
    else setMember(live, key, merged);
  }
  return live;
}

/**
 * Merges two granular lists the way structured-merge-diff does: the items both lists hold come in
 * the applied list's order, and each live-only item stays where it was relative to the shared
 * items around it. New items from the applied list come at their place in the applied order.
 */
function mergeLists(live: JsonValue[], applied: JsonValue[], position: Position, path: FieldPath, depth: number): JsonValue[] {
  const liveItems = live.map((item) => ({ item, key: serializePathElement(listItemElement(item, position.meta, path)) }));
  const appliedItems = applied.map((item) => ({ item, key: serializePathElement(listItemElement(item, position.meta, path)) }));
  const appliedByKey = new Map<string, JsonValue>();
  for (const { item, key } of appliedItems) {
    if (appliedByKey.has(key)) throw new PatchFormatError(`${formatFieldPath(path)}: duplicate entries for key ${key}`);
    appliedByKey.set(key, item);
  }
  // A live item whose key repeats cannot be merged with anything: the applied item replaces it.
  const liveByKey = new Map<string, JsonValue | undefined>();
  for (const { item, key } of liveItems) liveByKey.set(key, liveByKey.has(key) ? undefined : item);
  const shared = appliedItems.filter(({ key }) => liveByKey.has(key)).map(({ key }) => key);
  let nextShared = 0;
  const merged = new Set<string>();
  const out: JsonValue[] = [];
  const takeApplied = (key: string, item: JsonValue): void => {
    merged.add(key);
    const result = mergeValue(liveByKey.get(key), item, { schema: position.schema, meta: emptyPatchMeta }, path, depth + 1);
    if (result !== undefined) out.push(result);
  };
  let liveIndex = 0;
  let appliedIndex = 0;
  while (liveIndex < liveItems.length || appliedIndex < appliedItems.length) {
    const liveEntry = liveItems[liveIndex];
    const appliedEntry = appliedItems[appliedIndex];
    if (liveEntry !== undefined && appliedEntry !== undefined) {
      if (liveEntry.key === appliedEntry.key) {
        takeApplied(appliedEntry.key, appliedEntry.item);
        liveIndex++;
        appliedIndex++;
        nextShared++;
        continue;
      }
      const wanted = shared[nextShared];
      if (appliedByKey.has(liveEntry.key) && wanted !== undefined && wanted !== liveEntry.key) {
        liveIndex++; // shared, but not the one this round waits for: the applied order places it
        continue;
      }
    }
    if (liveEntry !== undefined) {
      if (!appliedByKey.has(liveEntry.key)) {
        out.push(liveEntry.item); // live-only: keep it where it was
        liveIndex++;
        continue;
      }
      if (merged.has(liveEntry.key)) liveIndex++;
    }
    if (appliedEntry !== undefined) {
      takeApplied(appliedEntry.key, appliedEntry.item);
      appliedIndex++;
      if (shared[nextShared] === appliedEntry.key) nextShared++;
    }
  }
  return out;
}

/**
 * Removes from `object` what its applier owned last time (`last`) and nobody owns now (`keep`:
 * the applier's new set and every other manager's). A field or item goes whole when `keep` holds
 * nothing at or under it; otherwise the walk descends to remove the abandoned leaves only.
 */
export function pruneObject(object: JsonObject, last: FieldSet, keep: FieldSet, schema: PatchSchema): JsonObject {
  pruneMap(object, last, keep, { schema, meta: emptyPatchMeta }, [], 0);
  return object;
}

function pruneValue(value: JsonValue, last: FieldSet, keep: FieldSet, position: Position, path: FieldPath, depth: number): void {
  checkDepth(depth, "object");
  if (Array.isArray(value) && listTypeOf(position.meta) !== "atomic") pruneList(value, last, keep, position, path, depth);
  else if (isJsonObject(value) && !position.schema.atomic) pruneMap(value, last, keep, position, path, depth);
}

function pruneMap(object: JsonObject, last: FieldSet, keep: FieldSet, position: Position, path: FieldPath, depth: number): void {
  for (const key of Object.keys(object)) {
    const element = fieldElement(key);
    if (!last.touches(element)) continue;
    if (!keep.touches(element)) {
      delete object[key];
      continue;
    }
    const lastChild = last.child(element);
    if (lastChild !== undefined) {
      pruneValue(object[key] as JsonValue, lastChild, keep.child(element) ?? new FieldSet(), position.schema.field(key), [...path, element], depth + 1);
    }
  }
}

function pruneList(list: JsonValue[], last: FieldSet, keep: FieldSet, position: Position, path: FieldPath, depth: number): void {
  const itemPosition = { schema: position.schema, meta: emptyPatchMeta };
  for (let index = list.length - 1; index >= 0; index--) {
    const item = list[index] as JsonValue;
    const element = listItemElement(item, position.meta, path);
    if (!last.touches(element)) continue;
    if (!keep.touches(element)) {
      list.splice(index, 1);
      continue;
    }
    const lastChild = last.child(element);
    if (lastChild !== undefined) pruneValue(item, lastChild, keep.child(element) ?? new FieldSet(), itemPosition, [...path, element], depth + 1);
  }
}
