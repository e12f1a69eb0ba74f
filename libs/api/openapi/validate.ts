/**
 * Field validation of a written object against its kind's definition, as upstream's strict JSON
 * decoding does it: fields the schema does not declare are reported by path
 * (`spec.template.spec.containers[0].foo`) and left out of the result; a value of the wrong JSON
 * type is an error worded like Go's encoding/json (`json: cannot unmarshal string into Go struct
 * field DeploymentSpec.spec.replicas of type int32`), and a quantity that does not parse is an
 * error in the quantity parser's words, as upstream's decoder returns it. Map keys are data, RawExtension values are
 * kept as written, and null is accepted everywhere (Go decodes it as the zero value).
 */
import type { JsonObject, JsonValue } from "../patch/json.ts";
import { parseQuantityParts, QuantityParseError } from "../quantity-parse.ts";
import { definition } from "./definitions.ts";
import { goTypeName, goTypeOf, shortName, type Definition, type TypeSpec } from "./dsl.ts";

export interface FieldCheck {
  /** Paths of undeclared fields, in document order. */
  readonly unknownFields: readonly string[];
  /** The first value of the wrong type, in upstream's words; undefined when there is none. */
  readonly typeError: string | undefined;
  /** A copy of the object without the undeclared fields. */
  readonly pruned: JsonObject;
}

/** Unknown fields reported at most; the rest are still pruned. */
export const unknownFieldsReportedMax = 100;
/** Nesting checked at most; deeper values are kept unchecked (JSON bodies are 3 MiB at most). */
const nestingDepthMax = 100;

interface Walk {
  readonly unknownFields: string[];
  typeError: string | undefined;
}

interface Position {
  /** The path as errors print it, with list indexes. */
  readonly path: string;
  /** The path as Go prints it in type errors: field names only. */
  readonly goPath: string;
  /** The innermost struct, as Go names it in type errors. */
  readonly struct: string;
  readonly depth: number;
}

const int32Min = -2147483648;
const int32Max = 2147483647;
const int64Bound = 2 ** 63;

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function jsonKindOf(value: JsonValue): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

function typeError(walk: Walk, at: Position, value: JsonValue, goType: string, detail?: string): void {
  const what = detail ?? jsonKindOf(value);
  walk.typeError ??= at.struct === "" ? `json: cannot unmarshal ${what} into Go value of type ${goType}` : `json: cannot unmarshal ${what} into Go struct field ${at.struct}.${at.goPath} of type ${goType}`;
}

function isObject(value: JsonValue): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkInteger(walk: Walk, at: Position, value: JsonValue, format: "int32" | "int64"): void {
  if (typeof value !== "number") return typeError(walk, at, value, format);
  const inRange = format === "int32" ? value >= int32Min && value <= int32Max : Math.abs(value) < int64Bound;
  if (!Number.isInteger(value) || !inRange) typeError(walk, at, value, format, `number ${String(value)}`);
}

// Go's Quantity.UnmarshalJSON parses the text and returns the parser's own error (no "json:").
function checkQuantityText(walk: Walk, value: string | number): void {
  try {
    parseQuantityParts(typeof value === "number" ? String(value) : value.trim());
  } catch (error) {
    if (!(error instanceof QuantityParseError)) throw error;
    walk.typeError ??= error.message;
  }
}

function checkScalarDefinition(walk: Walk, at: Position, value: JsonValue, target: Definition): void {
  const ok =
    target.scalar === "int-or-string"
      ? typeof value === "string" || (typeof value === "number" && Number.isInteger(value))
      : target.scalar === "quantity"
        ? typeof value === "string" || typeof value === "number"
        : typeof value === "string";
  if (!ok) typeError(walk, at, value, goTypeName(target.name));
  else if (target.scalar === "quantity") checkQuantityText(walk, value as string | number);
}

function checkValue(walk: Walk, spec: TypeSpec, value: JsonValue, at: Position): JsonValue {
  if (value === null || at.depth > nestingDepthMax) return value;
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") typeError(walk, at, value, goTypeOf(spec));
      return value;
    case "integer":
      checkInteger(walk, at, value, spec.format);
      return value;
    case "number":
      if (typeof value !== "number") typeError(walk, at, value, "float64");
      return value;
    case "boolean":
      if (typeof value !== "boolean") typeError(walk, at, value, "bool");
      return value;
    case "raw":
      return value;
    case "ref":
      return checkRef(walk, spec.name, value, at);
    case "array":
      return checkArray(walk, spec, value, at);
    case "map":
      return checkMap(walk, spec, value, at);
  }
}

function checkRef(walk: Walk, name: string, value: JsonValue, at: Position): JsonValue {
  const target = definition(name);
  if (target.scalar !== undefined) {
    checkScalarDefinition(walk, at, value, target);
    return value;
  }
  if (!isObject(value)) {
    typeError(walk, at, value, goTypeName(name));
    return value;
  }
  return checkStruct(walk, target, value, { ...at, struct: shortName(name) });
}

function checkArray(walk: Walk, spec: Extract<TypeSpec, { type: "array" }>, value: JsonValue, at: Position): JsonValue {
  if (!Array.isArray(value)) {
    // Go decodes a base64 string into []byte; other lists need a JSON array.
    typeError(walk, at, value, goTypeOf(spec));
    return value;
  }
  return value.map((item, index) => checkValue(walk, spec.items, item, { ...at, path: `${at.path}[${index}]`, depth: at.depth + 1 }));
}

function checkMap(walk: Walk, spec: Extract<TypeSpec, { type: "map" }>, value: JsonValue, at: Position): JsonValue {
  if (!isObject(value)) {
    typeError(walk, at, value, goTypeOf(spec));
    return value;
  }
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = checkValue(walk, spec.values, item, { ...at, path: join(at.path, key), goPath: join(at.goPath, key), depth: at.depth + 1 });
  }
  return out;
}

function checkStruct(walk: Walk, target: Definition, value: JsonObject, at: Position): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const path = join(at.path, key);
    const field = target.fields.get(key);
    if (field === undefined) {
      if (walk.unknownFields.length < unknownFieldsReportedMax) walk.unknownFields.push(path);
      continue;
    }
    out[key] = checkValue(walk, field.spec, item, { ...at, path, goPath: join(at.goPath, key), depth: at.depth + 1 });
  }
  return out;
}

/** Checks `value` against the definition `definitionName` (a kind's, e.g. io.k8s.api.apps.v1.Deployment). */
export function checkFields(value: JsonObject, definitionName: string): FieldCheck {
  const walk: Walk = { unknownFields: [], typeError: undefined };
  const target = definition(definitionName);
  const pruned = checkStruct(walk, target, value, { path: "", goPath: "", struct: shortName(definitionName), depth: 0 });
  return { unknownFields: walk.unknownFields, typeError: walk.typeError, pruned };
}
