/**
 * A minimal protobuf reader and writer for the store's hot messages (Put and Range on the client
 * API), which proto-loader would otherwise turn into objects with 64-bit fields as decimal
 * strings and back again. Only the wire types those messages use: varint, 64-bit fixed (skipped),
 * length-delimited and 32-bit fixed (skipped).
 */

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(`protobuf: ${message}`);
    this.name = "ProtoDecodeError";
  }
}

const maxSafeBigint = BigInt(Number.MAX_SAFE_INTEGER);
/** A varint is at most 10 bytes (64 bits, 7 per byte). */
const varintBytesMax = 10;

/** Reads fields in wire order; every read is bounds-checked. */
export class ProtoReader {
  readonly #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get done(): boolean {
    return this.#offset >= this.#bytes.length;
  }

  /** The next field's number and wire type. */
  tag(): { readonly field: number; readonly wireType: number } {
    const key = this.uint32();
    return { field: key >>> 3, wireType: key & 7 };
  }

  uint32(): number {
    // A running multiplier, not 2 ** shift: a variable exponent is a call to pow() in V8, which
    // showed in the members' perf profile (every tag and length is read here).
    let value = 0;
    let scale = 1;
    for (let index = 0; index < 5; index++, scale *= 0x80) {
      const byte = this.#byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value >>> 0;
    }
    throw new ProtoDecodeError("varint32 is too long");
  }

  /** A full 64-bit varint as an unsigned bigint (the caller decides the sign). */
  varint64(): bigint {
    let low = 0;
    let high = 0;
    for (let index = 0; index < varintBytesMax; index++) {
      const byte = this.#byte();
      const bits = byte & 0x7f;
      if (index < 4) low += bits * 2 ** (7 * index);
      else if (index === 4) {
        low += (bits & 0x0f) * 2 ** 28;
        high += bits >>> 4;
      } else high += bits * 2 ** (7 * index - 32);
      if (byte < 0x80) return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    }
    throw new ProtoDecodeError("varint64 is too long");
  }

  /** An int64 field as a number: exact for safe integers, which every revision and count is. */
  int64(): number {
    // Up to eight bytes (56 bits) summed as a double: exact below 2^53, which covers member ids
    // (53-bit, eight bytes on the wire); anything larger takes the bigint path for its rounding.
    let value = 0;
    let scale = 1;
    for (let index = 0; index < 8; index++, scale *= 0x80) {
      const byte = this.#peek(index);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        this.#offset += index + 1;
        return value;
      }
    }
    return Number(BigInt.asIntN(64, this.varint64()));
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** A length-delimited field as a view into the message (no copy). */
  bytes(): Uint8Array {
    const length = this.uint32();
    const end = this.#offset + length;
    if (end > this.#bytes.length) throw new ProtoDecodeError(`a field of ${length} bytes runs past the end of the message`);
    const value = this.#bytes.subarray(this.#offset, end);
    this.#offset = end;
    return value;
  }

  skip(wireType: number): void {
    if (wireType === WireType.varint) this.varint64();
    else if (wireType === WireType.lengthDelimited) this.bytes();
    else if (wireType === WireType.fixed64) this.#advance(8);
    else if (wireType === WireType.fixed32) this.#advance(4);
    else throw new ProtoDecodeError(`wire type ${wireType} is not supported`);
  }

  #advance(byteCount: number): void {
    if (this.#offset + byteCount > this.#bytes.length) throw new ProtoDecodeError("a fixed field runs past the end of the message");
    this.#offset += byteCount;
  }

  #byte(): number {
    const byte = this.#bytes[this.#offset];
    if (byte === undefined) throw new ProtoDecodeError("the message ends inside a varint");
    this.#offset += 1;
    return byte;
  }

  #peek(ahead: number): number {
    const byte = this.#bytes[this.#offset + ahead];
    if (byte === undefined) throw new ProtoDecodeError("the message ends inside a varint");
    return byte;
  }
}

/** Appends fields to a growing buffer; fields at their default value are left out, as proto3 does. */
export class ProtoWriter {
  #bytes: Buffer;
  #length = 0;

  constructor(initialBytes = 128) {
    this.#bytes = Buffer.allocUnsafe(initialBytes);
  }

  #reserve(extraBytes: number): void {
    const needed = this.#length + extraBytes;
    if (needed <= this.#bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#bytes.length * 2));
    this.#bytes.copy(grown, 0, 0, this.#length);
    this.#bytes = grown;
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  /** A non-negative safe integer as a varint. */
  #varint(value: number): void {
    this.#reserve(varintBytesMax);
    let rest = value;
    while (rest >= 0x80) {
      this.#bytes[this.#length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#bytes[this.#length++] = rest;
  }

  /** An int64/uint64 field from a safe integer (negative ones take ten bytes, two's complement). */
  int64(field: number, value: number): this {
    if (value === 0) return this;
    this.#tag(field, WireType.varint);
    if (value > 0) this.#varint(value);
    else this.#varint64(BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  /** An int64 field from a bigint (lease ids use all 63 bits). */
  bigint64(field: number, value: bigint): this {
    if (value === 0n) return this;
    this.#tag(field, WireType.varint);
    this.#varint64(BigInt.asUintN(64, value));
    return this;
  }

  #varint64(value: bigint): void {
    if (value <= maxSafeBigint) {
      this.#varint(Number(value));
      return;
    }
    this.#reserve(varintBytesMax);
    let rest = value;
    while (rest >= 0x80n) {
      this.#bytes[this.#length++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.#bytes[this.#length++] = Number(rest);
  }

  bool(field: number, value: boolean): this {
    if (!value) return this;
    this.#tag(field, WireType.varint);
    this.#varint(1);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    if (value.length === 0) return this;
    this.#tag(field, WireType.lengthDelimited);
    this.#varint(value.length);
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /**
   * An embedded message, written by `body` in place (always present, even when empty). One byte
   * is kept for its length; a longer length moves the body along.
   */
  message(field: number, body: (writer: ProtoWriter) => void): this {
    this.#tag(field, WireType.lengthDelimited);
    this.#reserve(1);
    const lengthAt = this.#length;
    this.#length += 1;
    body(this);
    const length = this.#length - lengthAt - 1;
    const lengthBytes = varintLength(length);
    if (lengthBytes > 1) {
      this.#reserve(lengthBytes - 1);
      this.#bytes.copyWithin(lengthAt + lengthBytes, lengthAt + 1, this.#length);
      this.#length += lengthBytes - 1;
    }
    let rest = length;
    let at = lengthAt;
    while (rest >= 0x80) {
      this.#bytes[at++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#bytes[at] = rest;
    return this;
  }

  finish(): Buffer {
    return this.#bytes.subarray(0, this.#length);
  }
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  return length;
}
