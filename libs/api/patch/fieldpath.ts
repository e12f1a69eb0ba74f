/**
 * Field paths and sets of them, as server-side apply records ownership (after
 * sigs.k8s.io/structured-merge-diff's fieldpath package). A path element is a struct field
 * (`f:spec`), the key of an item in an associative list (`k:{"name":"nginx"}`), a value in a set
 * (`v:"example.com/finalizer"`) or an index in a list (`i:0`). A FieldSet stores paths as a trie and
 * serialises to the `FieldsV1` JSON of managedFields entries, where `{}` marks a path in the set
 * and `".": {}` marks a node that is in the set and also has children in it.
 */
import { PatchFormatError } from "./errors.ts";
import { checkDepth, compareStrings, isJsonObject, jsonTypeName } from "./json.ts";
import type { JsonObject, JsonValue } from "./json.ts";

export type PathElement =
  | { readonly kind: "field"; readonly name: string }
  | { readonly kind: "key"; readonly fields: ReadonlyArray<readonly [name: string, value: JsonValue]> }
  | { readonly kind: "value"; readonly value: JsonValue }
  | { readonly kind: "index"; readonly index: number };

export type FieldPath = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { kind: "field", name };
}

/** A key element; the fields are sorted by name, as upstream compares and prints them. */
export function keyElement(fields: ReadonlyArray<readonly [string, JsonValue]>): PathElement {
  return { kind: "key", fields: [...fields].sort(([left], [right]) => compareStrings(left, right)) };
}

/** The `FieldsV1` text of a path element: `f:name`, `k:{"a":1}`, `v:"x"`, `i:0`. */
export function serializePathElement(element: PathElement): string {
  switch (element.kind) {
    case "field":
      return `f:${element.name}`;
    case "key":
      return `k:{${element.fields.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(",")}}`;
    case "value":
      return `v:${JSON.stringify(element.value)}`;
    case "index":
      return `i:${element.index}`;
  }
}

/** Parses `FieldsV1` text; undefined for an element type this version does not know (upstream drops those). */
export function parsePathElement(text: string): PathElement | undefined {
  if (text.length < 2 || text[1] !== ":") throw new PatchFormatError(`managed fields: ${JSON.stringify(text)} is not a path element`);
  const body = text.slice(2);
  switch (text[0]) {
    case "f":
      return fieldElement(body);
    case "v":
      return { kind: "value", value: parseJsonText(body, text) };
    case "k": {
      const fields = parseJsonText(body, text);
      if (!isJsonObject(fields)) throw new PatchFormatError(`managed fields: key ${JSON.stringify(text)} is not a JSON object`);
      return keyElement(Object.entries(fields));
    }
    case "i": {
      const index = Number(body);
      if (!Number.isSafeInteger(index) || index < 0) throw new PatchFormatError(`managed fields: ${JSON.stringify(text)} is not an index`);
      return { kind: "index", index };
    }
    default:
      return undefined;
  }
}

function parseJsonText(body: string, text: string): JsonValue {
  try {
    return JSON.parse(body) as JsonValue;
  } catch {
    throw new PatchFormatError(`managed fields: ${JSON.stringify(text)} does not hold valid JSON`);
  }
}

const valueTypeOrder = ["number", "string", "boolean", "array", "object", "null"] as const;

/** structured-merge-diff's total order on values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(left: JsonValue, right: JsonValue): number {
  const leftType = jsonTypeName(left);
  const rightType = jsonTypeName(right);
  if (leftType !== rightType) return valueTypeOrder.indexOf(leftType) - valueTypeOrder.indexOf(rightType);
  if (typeof left === "number" && typeof right === "number") return left === right ? 0 : left < right ? -1 : 1;
  if (typeof left === "string" && typeof right === "string") return compareStrings(left, right);
  if (typeof left === "boolean" && typeof right === "boolean") return Number(left) - Number(right);
  if (Array.isArray(left) && Array.isArray(right)) {
    for (let index = 0; index < Math.min(left.length, right.length); index++) {
      const order = compareValues(left[index] as JsonValue, right[index] as JsonValue);
      if (order !== 0) return order;
    }
    return left.length - right.length;
  }
  if (isJsonObject(left) && isJsonObject(right)) return compareStrings(JSON.stringify(sortedEntries(left)), JSON.stringify(sortedEntries(right)));
  return 0;
}

function sortedEntries(object: JsonObject): Array<[string, JsonValue]> {
  return Object.entries(object).sort(([left], [right]) => compareStrings(left, right));
}

const elementKindOrder = ["field", "key", "value", "index"] as const;

/** The order of path elements in a set: fields, then keys, then values, then indexes. */
export function comparePathElements(left: PathElement, right: PathElement): number {
  if (left.kind !== right.kind) return elementKindOrder.indexOf(left.kind) - elementKindOrder.indexOf(right.kind);
  if (left.kind === "field" && right.kind === "field") return compareStrings(left.name, right.name);
  if (left.kind === "value" && right.kind === "value") return compareValues(left.value, right.value);
  if (left.kind === "index" && right.kind === "index") return left.index - right.index;
  if (left.kind === "key" && right.kind === "key") {
    for (let index = 0; index < Math.min(left.fields.length, right.fields.length); index++) {
      const [leftName, leftValue] = left.fields[index] as readonly [string, JsonValue];
      const [rightName, rightValue] = right.fields[index] as readonly [string, JsonValue];
      const order = compareStrings(leftName, rightName) || compareValues(leftValue, rightValue);
      if (order !== 0) return order;
    }
    return left.fields.length - right.fields.length;
  }
  return 0;
}

/** A value as structured-merge-diff prints it in paths: strings quoted, the rest bare. */
function valueText(value: JsonValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(valueText).join(",")}]`;
  if (isJsonObject(value)) return Object.entries(value).map(([key, item]) => `${key}=${valueText(item)}`).join("");
  return String(value);
}

/** A path as upstream prints it in conflicts: `.spec.template.spec.containers[name="nginx"].image`. */
export function formatFieldPath(path: FieldPath): string {
  return path
    .map((element) => {
      switch (element.kind) {
        case "field":
          return `.${element.name}`;
        case "key":
          return `[${element.fields.map(([name, value]) => `${name}=${valueText(value)}`).join(",")}]`;
        case "value":
          return `[=${valueText(element.value)}]`;
        case "index":
          return `[${element.index}]`;
      }
    })
    .join("");
}

interface ChildNode {
  readonly element: PathElement;
  readonly set: FieldSet;
}

/** A set of field paths, stored as a trie keyed by serialized path elements. */
export class FieldSet {
  readonly #members = new Map<string, PathElement>();
  readonly #children = new Map<string, ChildNode>();

  static fromPaths(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: FieldPath): void {
    const [first, ...rest] = path;
    if (first === undefined) return;
    const key = serializePathElement(first);
    if (rest.length === 0) {
      this.#members.set(key, first);
      return;
    }
    let child = this.#children.get(key);
    if (child === undefined) {
      child = { element: first, set: new FieldSet() };
      this.#children.set(key, child);
    }
    child.set.insert(rest);
  }

  has(path: FieldPath): boolean {
    const [first, ...rest] = path;
    if (first === undefined) return false;
    const key = serializePathElement(first);
    if (rest.length === 0) return this.#members.has(key);
    return this.#children.get(key)?.set.has(rest) ?? false;
  }

  hasMember(element: PathElement): boolean {
    return this.#members.has(serializePathElement(element));
  }

  /** The paths under `element` (without it), or undefined when there are none. */
  child(element: PathElement): FieldSet | undefined {
    return this.#children.get(serializePathElement(element))?.set;
  }

  /** True when the set holds `element` itself or any path under it. */
  touches(element: PathElement): boolean {
    return this.hasMember(element) || this.child(element) !== undefined;
  }

  isEmpty(): boolean {
    return this.#members.size === 0 && this.#children.size === 0;
  }

  union(other: FieldSet): FieldSet {
    const result = this.#copy();
    for (const [key, element] of other.#members) result.#members.set(key, element);
    for (const [key, node] of other.#children) {
      const mine = result.#children.get(key);
      result.#children.set(key, { element: node.element, set: mine === undefined ? node.set.#copy() : mine.set.union(node.set) });
    }
    return result;
  }

  difference(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const [key, element] of this.#members) if (!other.#members.has(key)) result.#members.set(key, element);
    for (const [key, node] of this.#children) {
      const theirs = other.#children.get(key);
      const rest = theirs === undefined ? node.set.#copy() : node.set.difference(theirs.set);
      if (!rest.isEmpty()) result.#children.set(key, { element: node.element, set: rest });
    }
    return result;
  }

  intersection(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const [key, element] of this.#members) if (other.#members.has(key)) result.#members.set(key, element);
    for (const [key, node] of this.#children) {
      const theirs = other.#children.get(key);
      if (theirs === undefined) continue;
      const both = node.set.intersection(theirs.set);
      if (!both.isEmpty()) result.#children.set(key, { element: node.element, set: both });
    }
    return result;
  }

  equals(other: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(other.toFieldsV1());
  }

  /** Every path in the set, in set order. */
  paths(): FieldPath[] {
    const result: FieldPath[] = [];
    for (const { element, isMember, child } of this.#sortedEntries()) {
      if (isMember) result.push([element]);
      if (child !== undefined) for (const rest of child.paths()) result.push([element, ...rest]);
    }
    return result;
  }

  /** The set as managedFields' `fieldsV1` JSON. */
  toFieldsV1(): JsonObject {
    return this.#emit(false);
  }

  /** Parses managedFields' `fieldsV1` JSON. */
  static fromFieldsV1(fields: JsonValue): FieldSet {
    const set = new FieldSet();
    readFieldsV1(fields, set, 0);
    return set;
  }

  #emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    if (includeSelf) out["."] = {};
    for (const { element, isMember, child } of this.#sortedEntries()) {
      out[serializePathElement(element)] = child === undefined ? {} : child.#emit(isMember);
    }
    return out;
  }

  #sortedEntries(): Array<{ element: PathElement; isMember: boolean; child: FieldSet | undefined }> {
    const entries = new Map<string, { element: PathElement; isMember: boolean; child: FieldSet | undefined }>();
    for (const [key, element] of this.#members) entries.set(key, { element, isMember: true, child: undefined });
    for (const [key, node] of this.#children) {
      entries.set(key, { element: node.element, isMember: this.#members.has(key), child: node.set });
    }
    return [...entries.values()].sort((left, right) => comparePathElements(left.element, right.element));
  }

  #copy(): FieldSet {
    const copy = new FieldSet();
    for (const [key, element] of this.#members) copy.#members.set(key, element);
    for (const [key, node] of this.#children) copy.#children.set(key, { element: node.element, set: node.set.#copy() });
    return copy;
  }
}

/**
 * Reads one level of FieldsV1 into `set` and returns whether the level marks its own node as a
 * member: it says `".": {}`, or it is an empty object (a leaf).
 */
function readFieldsV1(fields: JsonValue, set: FieldSet, depth: number): boolean {
  checkDepth(depth, "managed fields");
  if (!isJsonObject(fields)) throw new PatchFormatError(`managed fields: expected an object, got ${jsonTypeName(fields)}`);
  let isMember = false;
  let hasChildren = false;
  for (const [key, value] of Object.entries(fields)) {
    if (key === ".") {
      isMember = true;
      continue;
    }
    const element = parsePathElement(key);
    if (element === undefined) continue;
    const childSet = new FieldSet();
    const childIsMember = readFieldsV1(value, childSet, depth + 1);
    if (childIsMember) set.insert([element]);
    for (const path of childSet.paths()) set.insert([element, ...path]);
    if (childIsMember || !childSet.isEmpty()) hasChildren = true;
  }
  return isMember || !hasChildren;
}
