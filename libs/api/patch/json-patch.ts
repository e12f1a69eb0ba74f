/**
 * JSON Patch (RFC 6902), what `kubectl patch --type json` sends as application/json-patch+json:
 * a list of add / remove / replace / move / copy / test operations applied in order. The patch is
 * atomic: either every operation applies or the caller's document is left as it was (we work on
 * a copy) and a JsonPatchError names the failing operation.
 */
import { JsonPatchError, PatchFormatError } from "./errors.ts";
import { deepClone, deepEqual, hasOwn, isJsonObject, jsonTypeName, setMember } from "./json.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import { arrayIndexOf, parseJsonPointer } from "./json-pointer.ts";

/** Upstream's API server refuses JSON patches with more operations than this. */
export const jsonPatchOperationsMax = 10_000;

export type JsonPatchOperation =
  | { readonly op: "add"; readonly path: string; readonly value: JsonValue }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "replace"; readonly path: string; readonly value: JsonValue }
  | { readonly op: "move"; readonly from: string; readonly path: string }
  | { readonly op: "copy"; readonly from: string; readonly path: string }
  | { readonly op: "test"; readonly path: string; readonly value: JsonValue };

/**
 * Checks the shape of a decoded patch document and returns its operations. Members the RFC does
 * not define are ignored (section 4); a missing `value` (for add, replace, test) or `from` (for
 * move, copy) is an error naming the operation.
 */
export function parseJsonPatch(patch: JsonValue): JsonPatchOperation[] {
  if (!Array.isArray(patch)) throw new PatchFormatError(`a JSON patch must be an array, got ${jsonTypeName(patch)}`);
  if (patch.length > jsonPatchOperationsMax) {
    throw new PatchFormatError(
      `The allowed maximum operations in a JSON patch is ${jsonPatchOperationsMax}, got ${patch.length}`,
    );
  }
  return patch.map((operation, index) => parseOperation(operation, index));
}

function parseOperation(operation: JsonValue, index: number): JsonPatchOperation {
  if (!isJsonObject(operation)) {
    throw new JsonPatchError(index, "?", "", `an operation must be an object, got ${jsonTypeName(operation)}`);
  }
  const op = operation["op"];
  const path = operation["path"];
  if (typeof op !== "string") throw new JsonPatchError(index, "?", "", `"op" must be a string`);
  if (typeof path !== "string") throw new JsonPatchError(index, op, "", `"path" must be a string`);
  switch (op) {
    case "add":
    case "replace":
    case "test": {
      if (!hasOwn(operation, "value")) throw new JsonPatchError(index, op, path, `"value" is missing`);
      return { op, path, value: operation["value"] as JsonValue };
    }
    case "remove":
      return { op, path };
    case "move":
    case "copy": {
      const from = operation["from"];
      if (typeof from !== "string") throw new JsonPatchError(index, op, path, `"from" must be a string`);
      return { op, from, path };
    }
    default:
      throw new JsonPatchError(index, op, path, `unknown operation ${JSON.stringify(op)}`);
  }
}

/** Applies a JSON patch to a copy of `document` and returns the result. */
export function applyJsonPatch(document: JsonValue, patch: JsonValue): JsonValue {
  const operations = parseJsonPatch(patch);
  let result = deepClone(document);
  operations.forEach((operation, index) => {
    try {
      result = applyOperation(result, operation);
    } catch (error) {
      if (error instanceof OperationFailure) throw new JsonPatchError(index, operation.op, operation.path, error.message);
      if (error instanceof PatchFormatError) throw new JsonPatchError(index, operation.op, operation.path, error.message);
      throw error;
    }
  });
  return result;
}

/** Why one operation failed; applyJsonPatch adds the operation's index and path. */
class OperationFailure extends Error {}

function applyOperation(document: JsonValue, operation: JsonPatchOperation): JsonValue {
  switch (operation.op) {
    case "add":
      return addValue(document, parseJsonPointer(operation.path), deepClone(operation.value));
    case "remove":
      return removeValue(document, parseJsonPointer(operation.path)).document;
    case "replace": {
      const tokens = parseJsonPointer(operation.path);
      const { document: without } = removeValue(document, tokens);
      return addValue(without, tokens, deepClone(operation.value));
    }
    case "move": {
      const from = parseJsonPointer(operation.from);
      const to = parseJsonPointer(operation.path);
      if (isProperPrefix(from, to)) throw new OperationFailure(`cannot move ${JSON.stringify(operation.from)} into itself`);
      const { document: without, removed } = removeValue(document, from);
      return addValue(without, to, removed);
    }
    case "copy": {
      const value = valueAt(document, parseJsonPointer(operation.from), "from");
      return addValue(document, parseJsonPointer(operation.path), deepClone(value));
    }
    case "test": {
      const value = valueAt(document, parseJsonPointer(operation.path), "path");
      if (!deepEqual(value, operation.value)) {
        throw new OperationFailure(`test failed: the value is ${JSON.stringify(value)}, not ${JSON.stringify(operation.value)}`);
      }
      return document;
    }
  }
}

function isProperPrefix(prefix: readonly string[], tokens: readonly string[]): boolean {
  return prefix.length < tokens.length && prefix.every((token, index) => tokens[index] === token);
}

/** The value a pointer names; `which` says whether it was the "path" or the "from" pointer. */
function valueAt(document: JsonValue, tokens: readonly string[], which: string): JsonValue {
  let current = document;
  for (const token of tokens) {
    const next = childOf(current, token);
    if (next === undefined) throw new OperationFailure(`the ${which} location does not exist`);
    current = next;
  }
  return current;
}

function childOf(container: JsonValue, token: string): JsonValue | undefined {
  if (Array.isArray(container)) {
    const index = arrayIndexOf(token);
    return index === undefined ? undefined : container[index];
  }
  if (isJsonObject(container)) return hasOwn(container, token) ? container[token] : undefined;
  return undefined;
}

/** The container a pointer's last token lives in; the parent must exist (RFC 6902 section 4.1). */
function parentOf(document: JsonValue, tokens: readonly string[]): JsonValue {
  const parent = tokens.slice(0, -1);
  let current = document;
  for (const token of parent) {
    const next = childOf(current, token);
    if (next === undefined) throw new OperationFailure(`the parent location does not exist`);
    current = next;
  }
  return current;
}

function addValue(document: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  const last = tokens[tokens.length - 1];
  if (last === undefined) return value; // "" replaces the whole document
  const parent = parentOf(document, tokens);
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : arrayIndexOf(last);
    if (index === undefined || index > parent.length) {
      throw new OperationFailure(`${JSON.stringify(last)} is not an index in an array of ${parent.length}`);
    }
    parent.splice(index, 0, value);
  } else if (isJsonObject(parent)) {
    setMember(parent, last, value);
  } else {
    throw new OperationFailure(`the parent location is a ${jsonTypeName(parent)}, not an object or array`);
  }
  return document;
}

function removeValue(document: JsonValue, tokens: readonly string[]): { document: JsonValue; removed: JsonValue } {
  const last = tokens[tokens.length - 1];
  if (last === undefined) return { document: null, removed: document };
  const parent = parentOf(document, tokens);
  if (Array.isArray(parent)) {
    const index = arrayIndexOf(last);
    if (index === undefined || index >= parent.length) throw new OperationFailure(`the target location does not exist`);
    const [removed] = parent.splice(index, 1);
    return { document, removed: removed as JsonValue };
  }
  if (isJsonObject(parent) && hasOwn(parent, last)) {
    const removed = parent[last] as JsonValue;
    delete (parent as JsonObject)[last];
    return { document, removed };
  }
  throw new OperationFailure(`the target location does not exist`);
}
