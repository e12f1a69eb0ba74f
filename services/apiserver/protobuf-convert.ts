/**
 * Generic conversion between Kubernetes' protobuf messages (as protobufjs reflects them from
 * proto/k8s) and upstream's JSON form. One walk over the message's fields, driven by the field
 * table and three field options of our .proto copies: `(pointer)` (a zero value on the wire is
 * kept), `(inline)` (an embedded Go struct whose fields sit in the parent's JSON) and `(json)`
 * (a JSON name that differs). The wrapper types of apimachinery (Time, MicroTime, IntOrString,
 * Quantity, RawExtension, FieldsV1) have their JSON forms here.
 */
import protobuf from "protobufjs";

type JsonObject = Record<string, unknown>;

export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(`protobuf: ${message}`);
    this.name = "ProtobufDecodeError";
  }
}

/** protobufjs' toObject: int64 as numbers, bytes as base64, only the fields on the wire. */
export const toObjectOptions: protobuf.IConversionOptions = { longs: Number, bytes: String, defaults: false, arrays: false, objects: false };

const optionOf = (field: protobuf.Field, name: string): unknown => field.options?.[`(${name})`];
const isPointer = (field: protobuf.Field): boolean => optionOf(field, "pointer") === true;
const isInline = (field: protobuf.Field): boolean => optionOf(field, "inline") === true;
const jsonName = (field: protobuf.Field): string => {
  const name = optionOf(field, "json");
  return typeof name === "string" ? name : field.name;
};

/** One apimachinery wrapper type: wire object <-> JSON value. `undefined` from toJson means unset. */
interface WrapperCodec {
  toJson(wire: JsonObject, pointer: boolean): unknown;
  fromJson(value: unknown): JsonObject;
}

const numberOf = (value: unknown): number => (typeof value === "number" ? value : 0);
const stringOf = (value: unknown): string => (typeof value === "string" ? value : "");

/** time.Time{}.Unix(): 0001-01-01T00:00:00Z. */
const goZeroTimeSeconds = -62_135_596_800;

function formatTime(wire: JsonObject, fractionDigits: number): string | undefined {
  const seconds = numberOf(wire["seconds"]);
  const nanos = numberOf(wire["nanos"]);
  // Go marshals a zero time as an empty message; the zero Time's own seconds (year 1) mean unset too.
  if ((seconds === 0 && nanos === 0) || seconds <= goZeroTimeSeconds) return undefined;
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (fractionDigits === 0) return `${whole}Z`;
  const fraction = String(Math.floor(nanos / 10 ** (9 - fractionDigits))).padStart(fractionDigits, "0");
  return `${whole}.${fraction}Z`;
}

function parseTime(value: unknown): JsonObject {
  if (typeof value !== "string") return {};
  const milliseconds = Date.parse(value);
  if (Number.isNaN(milliseconds)) throw new ProtobufDecodeError(`invalid time ${JSON.stringify(value)}`);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? "";
  const nanos = fraction === "" ? 0 : Number(fraction.padEnd(9, "0").slice(0, 9));
  return { seconds: Math.floor(milliseconds / 1000), nanos };
}

function rawJsonToValue(base64: unknown): unknown {
  const bytes = Buffer.from(stringOf(base64), "base64");
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    throw new ProtobufDecodeError("an embedded object (RawExtension) is not JSON");
  }
}

const rawJsonFromValue = (value: unknown): Buffer => Buffer.from(value === undefined ? "" : JSON.stringify(value));

const wrappers: Readonly<Record<string, WrapperCodec>> = {
  "k8s.meta.Time": { toJson: (wire) => formatTime(wire, 0), fromJson: parseTime },
  "k8s.meta.MicroTime": { toJson: (wire) => formatTime(wire, 6), fromJson: parseTime },
  "k8s.meta.IntOrString": {
    toJson: (wire, pointer) => {
      const value = numberOf(wire["type"]) === 1 ? stringOf(wire["strVal"]) : numberOf(wire["intVal"]);
      return !pointer && (value === 0 || value === "") ? undefined : value;
    },
    fromJson: (value) => (typeof value === "string" ? { type: 1, strVal: value } : { type: 0, intVal: numberOf(value) }),
  },
  "k8s.meta.Quantity": {
    toJson: (wire) => (stringOf(wire["string"]) === "" ? undefined : stringOf(wire["string"])),
    fromJson: (value) => ({ string: typeof value === "number" ? String(value) : stringOf(value) }),
  },
  "k8s.meta.RawExtension": { toJson: (wire) => rawJsonToValue(wire["raw"]), fromJson: (value) => ({ raw: rawJsonFromValue(value) }) },
  "k8s.meta.FieldsV1": { toJson: (wire) => rawJsonToValue(wire["Raw"]), fromJson: (value) => ({ Raw: rawJsonFromValue(value) }) },
};

const fullName = (type: protobuf.Type): string => type.fullName.replace(/^\./, "");

function messageTypeOf(field: protobuf.Field): protobuf.Type | undefined {
  field.resolve();
  return field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
}

function isZeroScalar(value: unknown): boolean {
  return value === "" || value === 0 || value === false;
}

/** A field's value (already toObject'ed) as JSON; undefined when JSON would omit it. */
function valueToJson(field: protobuf.Field, value: unknown): unknown {
  const messageType = messageTypeOf(field);
  const one = (item: unknown, keepZero: boolean): unknown => {
    if (messageType === undefined) return !keepZero && isZeroScalar(item) ? undefined : item;
    const wrapper = wrappers[fullName(messageType)];
    const wire = (item ?? {}) as JsonObject;
    return wrapper === undefined ? messageToJson(messageType, wire) : wrapper.toJson(wire, keepZero);
  };
  if (field.map) {
    const entries = Object.entries((value ?? {}) as JsonObject).map(([key, item]) => [key, one(item, true) ?? null]);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  if (field.repeated) {
    const items = (value as unknown[]).map((item) => one(item, true) ?? null);
    return items.length === 0 ? undefined : items;
  }
  return one(value, isPointer(field));
}

/** A decoded message (protobufjs toObject with toObjectOptions) as upstream's JSON object. */
export function messageToJson(type: protobuf.Type, wire: JsonObject): JsonObject {
  const json: JsonObject = {};
  for (const field of type.fieldsArray) {
    if (!(field.name in wire)) continue;
    const value = valueToJson(field, wire[field.name]);
    if (value === undefined) continue;
    if (isInline(field) && typeof value === "object" && value !== null) Object.assign(json, value);
    else json[jsonName(field)] = value;
  }
  return json;
}

/** Upstream's JSON object as the plain object protobufjs' fromObject takes for `type`. */
export function jsonToMessage(type: protobuf.Type, json: JsonObject): JsonObject {
  const wire: JsonObject = {};
  for (const field of type.fieldsArray) {
    const messageType = messageTypeOf(field);
    if (isInline(field) && messageType !== undefined) {
      const inner = jsonToMessage(messageType, json);
      if (Object.keys(inner).length > 0) wire[field.name] = inner;
      continue;
    }
    const value = json[jsonName(field)];
    if (value === undefined || value === null) continue;
    const one = (item: unknown): unknown => {
      if (messageType === undefined) return item;
      const wrapper = wrappers[fullName(messageType)];
      if (wrapper !== undefined) return wrapper.fromJson(item);
      return jsonToMessage(messageType, (item ?? {}) as JsonObject);
    };
    if (field.map) wire[field.name] = Object.fromEntries(Object.entries(value as JsonObject).map(([key, item]) => [key, one(item)]));
    else if (field.repeated) wire[field.name] = (value as unknown[]).map(one);
    else wire[field.name] = one(value);
  }
  return wire;
}
