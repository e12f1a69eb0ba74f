/**
 * JSON Merge Patch (RFC 7386), what `kubectl patch --type merge` sends as
 * application/merge-patch+json: objects merge member by member, null deletes a member, anything
 * else (arrays included) replaces. Also the two-way and three-way patch builders that kubectl uses
 * for kinds without a strategic schema (custom resources), after upstream's jsonmergepatch.
 */
import { PatchFormatError } from "./errors.ts";
import { checkDepth, deepClone, deepEqual, hasOwn, isJsonObject, setMember } from "./json.ts";
import type { JsonObject, JsonValue } from "./json.ts";

/** RFC 7386 section 2 MergePatch(Target, Patch), on copies: neither argument is modified. */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  return mergeInto(deepClone(target), patch, 0);
}

function mergeInto(target: JsonValue, patch: JsonValue, depth: number): JsonValue {
  checkDepth(depth, "merge patch");
  if (!isJsonObject(patch)) return deepClone(patch);
  const result: JsonObject = isJsonObject(target) ? target : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key] as JsonValue;
    if (value === null) {
      delete result[key];
    } else {
      const current = hasOwn(result, key) ? (result[key] as JsonValue) : null;
      setMember(result, key, mergeInto(current, value, depth + 1));
    }
  }
  return result;
}

/**
 * The merge patch that turns `original` into `modified`: removed members become null, changed
 * objects recurse, everything else (arrays included) is sent whole.
 */
export function createMergePatch(original: JsonValue, modified: JsonValue): JsonValue {
  if (!isJsonObject(original) || !isJsonObject(modified)) return deepClone(modified);
  return diffObjects(original, modified, 0);
}

function diffObjects(original: JsonObject, modified: JsonObject, depth: number): JsonObject {
  checkDepth(depth, "merge patch");
  const patch: JsonObject = {};
  for (const key of Object.keys(original)) {
    if (!hasOwn(modified, key)) setMember(patch, key, null);
  }
  for (const key of Object.keys(modified)) {
    const after = modified[key] as JsonValue;
    if (!hasOwn(original, key)) {
      setMember(patch, key, deepClone(after));
      continue;
    }
    const before = original[key] as JsonValue;
    if (isJsonObject(before) && isJsonObject(after)) {
      const nested = diffObjects(before, after, depth + 1);
      if (Object.keys(nested).length > 0) setMember(patch, key, nested);
    } else if (!deepEqual(before, after)) {
      setMember(patch, key, deepClone(after));
    }
  }
  return patch;
}

/**
 * kubectl apply's patch for kinds without strategic merge metadata (upstream
 * CreateThreeWayJSONMergePatch): additions and changes from `current` (live) to `modified` (the new
 * manifest), plus deletions of what `original` (the last applied manifest) had and `modified`
 * dropped. Fields set on the live object by others and never in a manifest stay untouched.
 */
export function createThreeWayJsonMergePatch(original: JsonObject, modified: JsonObject, current: JsonObject): JsonObject {
  const additionsAndChanges = keepValues(createMergePatch(current, modified), false);
  const deletions = keepValues(createMergePatch(original, modified), true);
  const merged = applyMergePatch(deletions, additionsAndChanges);
  if (!isJsonObject(merged)) throw new PatchFormatError("a three-way merge patch must be an object");
  return merged;
}

/** Keeps only the nulls of a merge patch (deletions), or only everything else (additions). */
function keepValues(patch: JsonValue, keepNulls: boolean): JsonObject {
  if (!isJsonObject(patch)) return {};
  const filtered: JsonObject = {};
  for (const key of Object.keys(patch)) {
    const value = patch[key] as JsonValue;
    if (value === null) {
      if (keepNulls) setMember(filtered, key, null);
    } else if (isJsonObject(value) && Object.keys(value).length > 0) {
      const nested = keepValues(value, keepNulls);
      if (Object.keys(nested).length > 0) setMember(filtered, key, nested);
    } else if (!keepNulls) {
      // An explicitly empty object is a value, not an empty patch (upstream keeps it as an addition).
      setMember(filtered, key, value);
    }
  }
  return filtered;
}
