/**
 * A minimal protobuf wire reader for the few request bodies the subresources read from kubectl's
 * typed clients (TokenRequest): the `k8s\0` envelope (runtime.Unknown) and length-delimited and
 * varint fields by number. Field numbers are upstream's generated.proto.
 */
export const k8sProtobufMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Fields one message may hold before the reader gives up (a TokenRequest has a handful). */
export const messageFieldsMax = 4096;

export class WireError extends Error {}

export type WireValue = { readonly kind: "bytes"; readonly bytes: Buffer } | { readonly kind: "varint"; readonly value: bigint };

function readVarint(buffer: Buffer, start: number): { value: bigint; next: number } {
  let value = 0n;
  for (let index = 0; index < 10; index++) {
    const byte = buffer[start + index];
    if (byte === undefined) throw new WireError("truncated varint");
    value |= BigInt(byte & 0x7f) << BigInt(7 * index);
    if ((byte & 0x80) === 0) return { value, next: start + index + 1 };
  }
  throw new WireError("varint longer than 10 bytes");
}

/** The fields of one message: number → values in order. */
export function readFields(buffer: Buffer): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let offset = 0;
  for (let count = 0; offset < buffer.length; count++) {
    if (count >= messageFieldsMax) throw new WireError("too many fields");
    const tag = readVarint(buffer, offset);
    const number = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    let value: WireValue;
    if (wireType === 0) {
      const varint = readVarint(buffer, tag.next);
      value = { kind: "varint", value: varint.value };
      offset = varint.next;
    } else if (wireType === 2) {
      const length = readVarint(buffer, tag.next);
      const end = length.next + Number(length.value);
      if (end > buffer.length) throw new WireError("truncated field");
      value = { kind: "bytes", bytes: buffer.subarray(length.next, end) };
      offset = end;
    } else if (wireType === 1 || wireType === 5) {
      offset = tag.next + (wireType === 1 ? 8 : 4);
      continue;
    } else {
      throw new WireError(`unsupported wire type ${wireType}`);
    }
    fields.set(number, [...(fields.get(number) ?? []), value]);
  }
  return fields;
}

export function bytesField(fields: Map<number, WireValue[]>, number: number): Buffer | undefined {
  const value = fields.get(number)?.at(-1);
  return value?.kind === "bytes" ? value.bytes : undefined;
}

export function stringField(fields: Map<number, WireValue[]>, number: number): string | undefined {
  return bytesField(fields, number)?.toString("utf8");
}

export function stringsField(fields: Map<number, WireValue[]>, number: number): string[] {
  return (fields.get(number) ?? []).flatMap((value) => (value.kind === "bytes" ? [value.bytes.toString("utf8")] : []));
}

export function integerField(fields: Map<number, WireValue[]>, number: number): number | undefined {
  const value = fields.get(number)?.at(-1);
  return value?.kind === "varint" ? Number(BigInt.asIntN(64, value.value)) : undefined;
}

/** The object message inside the `k8s\0` envelope (runtime.Unknown field 2, raw). */
export function unwrapEnvelope(body: Buffer): Buffer {
  if (body.length < k8sProtobufMagic.length || !body.subarray(0, k8sProtobufMagic.length).equals(k8sProtobufMagic)) throw new WireError("missing the k8s protobuf magic");
  const raw = bytesField(readFields(body.subarray(k8sProtobufMagic.length)), 2);
  if (raw === undefined) throw new WireError("the envelope has no raw object");
  return raw;
}
