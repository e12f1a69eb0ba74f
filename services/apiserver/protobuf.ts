/**
 * Just enough of Kubernetes' protobuf encoding to read what kubectl's typed clients send
 * (`Content-Type: application/vnd.kubernetes.protobuf`, e.g. `kubectl create namespace`): the
 * `k8s\0` envelope (runtime.Unknown), ObjectMeta's common fields and the kinds below. Other kinds
 * are refused with 415 by the caller. Field numbers are upstream's generated.proto ones.
 */

/** The 4 bytes every Kubernetes protobuf object starts with. */
export const protobufMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
type Field = { readonly number: number; readonly wireType: number; readonly varint?: bigint; readonly bytes?: Buffer };

export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(`protobuf: ${message}`);
    this.name = "ProtobufDecodeError";
  }
}

function readVarint(buffer: Buffer, offset: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let position = offset; position < buffer.length && shift < 70n; position++) {
    const byte = buffer[position] ?? 0;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, position + 1];
    shift += 7n;
  }
  throw new ProtobufDecodeError("truncated varint");
}

/** The fields of one message, in order. */
export function readFields(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [tag, afterTag] = readVarint(buffer, offset);
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (wireType === 0) {
      const [varint, next] = readVarint(buffer, afterTag);
      fields.push({ number, wireType, varint });
      offset = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(buffer, afterTag);
      const end = start + Number(length);
      if (end > buffer.length) throw new ProtobufDecodeError("truncated field");
      fields.push({ number, wireType, bytes: buffer.subarray(start, end) });
      offset = end;
    } else if (wireType === 1 || wireType === 5) {
      offset = afterTag + (wireType === 1 ? 8 : 4);
    } else {
      throw new ProtobufDecodeError(`unsupported wire type ${wireType}`);
    }
  }
  return fields;
}

const text = (field: Field): string => field.bytes?.toString("utf8") ?? "";

function stringMapEntry(bytes: Buffer): [string, string] {
  let key = "";
  let value = "";
  for (const field of readFields(bytes)) {
    if (field.number === 1) key = text(field);
    if (field.number === 2) value = text(field);
  }
  return [key, value];
}

/** ObjectMeta's fields that clients set: names, labels, annotations, finalizers. */
function objectMeta(bytes: Buffer): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  const stringFields: Readonly<Record<number, string>> = { 1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion" };
  for (const field of readFields(bytes)) {
    const name = stringFields[field.number];
    if (name !== undefined && text(field) !== "") meta[name] = text(field);
    else if (field.number === 11 && field.bytes !== undefined) labels[stringMapEntry(field.bytes)[0]] = stringMapEntry(field.bytes)[1];
    else if (field.number === 12 && field.bytes !== undefined) annotations[stringMapEntry(field.bytes)[0]] = stringMapEntry(field.bytes)[1];
    else if (field.number === 14) finalizers.push(text(field));
  }
  if (Object.keys(labels).length > 0) meta["labels"] = labels;
  if (Object.keys(annotations).length > 0) meta["annotations"] = annotations;
  if (finalizers.length > 0) meta["finalizers"] = finalizers;
  return meta;
}

function namespaceBody(fields: readonly Field[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.number === 1 && field.bytes !== undefined) object["metadata"] = objectMeta(field.bytes);
    if (field.number === 2 && field.bytes !== undefined) {
      const finalizers = readFields(field.bytes).filter((inner) => inner.number === 1).map(text);
      object["spec"] = finalizers.length > 0 ? { finalizers } : {};
    }
  }
  return object;
}

function mapField(fields: readonly Field[], number: number, encoding: "utf8" | "base64"): Record<string, string> | undefined {
  const entries = fields.filter((field) => field.number === number && field.bytes !== undefined);
  if (entries.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const entry of entries) {
    let key = "";
    let value = "";
    for (const inner of readFields(entry.bytes ?? Buffer.alloc(0))) {
      if (inner.number === 1) key = text(inner);
      if (inner.number === 2) value = inner.bytes?.toString(encoding) ?? "";
    }
    map[key] = value;
  }
  return map;
}

function withMetadata(fields: readonly Field[], object: Record<string, unknown>): Record<string, unknown> {
  const metadata = fields.find((field) => field.number === 1)?.bytes;
  const out: Record<string, unknown> = { metadata: metadata === undefined ? {} : objectMeta(metadata) };
  for (const [key, value] of Object.entries(object)) if (value !== undefined) out[key] = value;
  return out;
}

const boolField = (fields: readonly Field[], number: number): boolean | undefined => {
  const field = fields.find((candidate) => candidate.number === number);
  return field?.varint === undefined ? undefined : field.varint !== 0n;
};

// ConfigMap: metadata 1, data 2, binaryData 3, immutable 4.
const configMapBody = (fields: readonly Field[]) =>
  withMetadata(fields, { data: mapField(fields, 2, "utf8"), binaryData: mapField(fields, 3, "base64"), immutable: boolField(fields, 4) });

// Secret: metadata 1, data 2 (bytes), type 3, stringData 4, immutable 5.
const secretBody = (fields: readonly Field[]) => {
  const type = fields.find((field) => field.number === 3);
  return withMetadata(fields, { data: mapField(fields, 2, "base64"), type: type === undefined ? undefined : text(type), stringData: mapField(fields, 4, "utf8"), immutable: boolField(fields, 5) });
};

/** Kinds decoded beyond their metadata. */
const decoders: Readonly<Record<string, (fields: readonly Field[]) => Record<string, unknown>>> = {
  "v1/Namespace": namespaceBody,
  "v1/ConfigMap": configMapBody,
  "v1/Secret": secretBody,
};

/**
 * Decodes a `k8s\0` protobuf object to its JSON form, or returns undefined when the kind is not
 * one this decoder knows (the caller answers 415 then). Throws ProtobufDecodeError on bad bytes.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length < protobufMagic.length || !body.subarray(0, protobufMagic.length).equals(protobufMagic)) {
    throw new ProtobufDecodeError("missing the k8s\\0 prefix");
  }
  let apiVersion = "";
  let kind = "";
  let raw: Buffer | undefined;
  for (const field of readFields(body.subarray(protobufMagic.length))) {
    if (field.number === 1 && field.bytes !== undefined) {
      for (const typeField of readFields(field.bytes)) {
        if (typeField.number === 1) apiVersion = text(typeField);
        if (typeField.number === 2) kind = text(typeField);
      }
    }
    if (field.number === 2) raw = field.bytes;
  }
  const decoder = decoders[`${apiVersion}/${kind}`];
  if (decoder === undefined || raw === undefined) return undefined;
  return { apiVersion, kind, ...decoder(readFields(raw)) };
}
