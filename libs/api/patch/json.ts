/**
 * Plain JSON values and the few operations every patch flavour needs: type names, deep equality,
 * deep copies and validation of values that arrive as `unknown`. Pure: no node: imports.
 */
import { PatchFormatError } from "./errors.ts";

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * The deepest nesting any patched document or patch may have. Real Kubernetes objects stay under
 * 30 levels; the bound keeps every recursive walk in this library finite on hostile input.
 */
export const documentDepthMax = 512;

/** The JSON type of a value, the way the patch algorithms compare "same kind of value". */
export type JsonTypeName = "null" | "boolean" | "number" | "string" | "array" | "object";

export function jsonTypeName(value: JsonValue): JsonTypeName {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    case "string":
      return "string";
    default:
      return "object";
  }
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Structural equality: objects ignore key order, arrays do not, numbers compare numerically. */
export function deepEqual(left: JsonValue, right: JsonValue): boolean {
  if (left === right) return true;
  if (Array.isArray(left)) {
    if (!Array.isArray(right) || left.length !== right.length) return false;
    for (let index = 0; index < left.length; index++) {
      if (!deepEqual(left[index] as JsonValue, right[index] as JsonValue)) return false;
    }
    return true;
  }
  if (!isJsonObject(left) || !isJsonObject(right)) return false;
  const leftKeys = Object.keys(left);
  if (leftKeys.length !== Object.keys(right).length) return false;
  for (const key of leftKeys) {
    if (!hasOwn(right, key) || !deepEqual(left[key] as JsonValue, right[key] as JsonValue)) return false;
  }
  return true;
}

/** A deep copy, so that patch functions never alias (or mutate) their callers' values. */
export function deepClone<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => deepClone(item)) as T;
  if (isJsonObject(value)) {
    const copy: JsonObject = {};
    for (const key of Object.keys(value)) setMember(copy, key, deepClone(value[key] as JsonValue));
    return copy as T;
  }
  return value;
}

/**
 * Sets a member without tripping over `__proto__`: patched documents come from users, and a plain
 * assignment of that key would change the object's prototype instead of adding a member.
 */
export function setMember(object: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
  } else {
    object[key] = value;
  }
}

/**
 * Checks that `value` is plain JSON (what JSON.parse produces) no deeper than documentDepthMax and
 * returns it typed. `what` names the document in the error ("patch", "live object").
 */
export function toJsonValue(value: unknown, what: string): JsonValue {
  checkJson(value, what, 0);
  return value as JsonValue;
}

/** Like toJsonValue, for documents that must be JSON objects (Kubernetes objects, patches). */
export function toJsonObject(value: unknown, what: string): JsonObject {
  const json = toJsonValue(value, what);
  if (!isJsonObject(json)) throw new PatchFormatError(`${what} must be a JSON object, got ${jsonTypeName(json)}`);
  return json;
}

function checkJson(value: unknown, what: string, depth: number): void {
  if (depth > documentDepthMax) throw new PatchFormatError(`${what} is nested deeper than ${documentDepthMax} levels`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new PatchFormatError(`${what} holds a number JSON cannot carry: ${value}`);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) checkJson(item, what, depth + 1);
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) checkJson(item, what, depth + 1);
    return;
  }
  throw new PatchFormatError(`${what} holds a value that is not JSON (${typeof value})`);
}

/** Fails with PatchFormatError when a recursive walk goes deeper than documentDepthMax. */
export function checkDepth(depth: number, what: string): void {
  if (depth > documentDepthMax) throw new PatchFormatError(`${what} is nested deeper than ${documentDepthMax} levels`);
}

/**
 * A scalar rendered the way Go's fmt "%v" renders a decoded JSON value; the strategic merge patch
 * sorts and matches list items by this text, so ordering follows upstream's.
 */
export function goValueString(value: JsonValue | undefined): string {
  if (value === undefined) return "<nil>";
  if (value === null) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Byte-wise string order (Go's sort.Strings), not locale order. */
export function compareStrings(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
