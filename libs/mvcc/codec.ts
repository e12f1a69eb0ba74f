/**
 * On-disk encodings, byte-compatible with etcd's backend so that hashKV means the same thing:
 * - a revision key is 8 bytes big-endian main, '_', 8 bytes big-endian sub, plus 't' for a
 *   tombstone (server/storage/mvcc/revision.go);
 * - a revision's value is a protobuf mvccpb.KeyValue (key=1, create_revision=2, mod_revision=3,
 *   version=4, value=5, lease=6), a tombstone storing only its key;
 * - a lease is keyed by its id as 8 bytes big-endian and stored as leasepb.Lease (ID=1, TTL=2,
 *   RemainingTTL=3).
 * Decoders reject malformed input with CorruptDataError rather than guessing.
 */
import { copyBytes, emptyBytes } from "./bytes.ts";
import { CorruptDataError } from "./errors.ts";
import type { KeyValue } from "./types.ts";

const revisionKeyBytes = 17;
const tombstoneMark = 0x74; // 't'
const separator = 0x5f; // '_'
const twoPow32 = 0x1_0000_0000;
const wireVarint = 0;
const wireFixed64 = 1;
const wireBytes = 2;
const wireFixed32 = 5;
/** A varint of a 64-bit integer never needs more than ten bytes. */
const varintBytesMax = 10;

export interface RevisionKey {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
}

function writeUint64BE(target: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / twoPow32);
  const low = value >>> 0;
  target[offset] = high >>> 24;
  target[offset + 1] = (high >>> 16) & 0xff;
  target[offset + 2] = (high >>> 8) & 0xff;
  target[offset + 3] = high & 0xff;
  target[offset + 4] = low >>> 24;
  target[offset + 5] = (low >>> 16) & 0xff;
  target[offset + 6] = (low >>> 8) & 0xff;
  target[offset + 7] = low & 0xff;
}

function readUint64BE(source: Uint8Array, offset: number): number {
  let high = 0;
  let low = 0;
  for (let i = 0; i < 4; i++) high = high * 256 + (source[offset + i] as number);
  for (let i = 4; i < 8; i++) low = low * 256 + (source[offset + i] as number);
  if (high >= 0x20_0000) throw new CorruptDataError("64-bit integer beyond 2^53");
  return high * twoPow32 + low;
}

export function encodeRevisionKey(main: number, sub: number, tombstone: boolean): Uint8Array {
  const bytes = new Uint8Array(tombstone ? revisionKeyBytes + 1 : revisionKeyBytes);
  writeUint64BE(bytes, 0, main);
  bytes[8] = separator;
  writeUint64BE(bytes, 9, sub);
  if (tombstone) bytes[revisionKeyBytes] = tombstoneMark;
  return bytes;
}

export function decodeRevisionKey(bytes: Uint8Array): RevisionKey {
  const marked = bytes.length === revisionKeyBytes + 1;
  if (bytes.length !== revisionKeyBytes && !marked) throw new CorruptDataError(`revision key of ${bytes.length} bytes`);
  if (bytes[8] !== separator) throw new CorruptDataError("revision key without '_' separator");
  if (marked && bytes[revisionKeyBytes] !== tombstoneMark) throw new CorruptDataError("revision key with an unknown mark");
  return { main: readUint64BE(bytes, 0), sub: readUint64BE(bytes, 9), tombstone: marked };
}

export function encodeUint64(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  writeUint64BE(bytes, 0, value);
  return bytes;
}

export function decodeUint64(bytes: Uint8Array): number {
  if (bytes.length !== 8) throw new CorruptDataError(`64-bit integer of ${bytes.length} bytes`);
  return readUint64BE(bytes, 0);
}

/** A lease id as etcd keys it: the int64 in 8 bytes big-endian (two's complement). */
export function encodeLeaseKey(id: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  let value = BigInt.asUintN(64, id);
  for (let i = 7; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function bigVarintLength(value: bigint): number {
  let unsigned = BigInt.asUintN(64, value);
  let length = 1;
  while (unsigned >= 128n) {
    unsigned >>= 7n;
    length++;
  }
  return length;
}

class Writer {
  readonly bytes: Uint8Array;
  offset = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }

  varint(value: number): void {
    while (value >= 128) {
      this.bytes[this.offset++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.bytes[this.offset++] = value;
  }

  bigVarint(value: bigint): void {
    let unsigned = BigInt.asUintN(64, value);
    while (unsigned >= 128n) {
      this.bytes[this.offset++] = Number(unsigned & 0x7fn) | 0x80;
      unsigned >>= 7n;
    }
    this.bytes[this.offset++] = Number(unsigned);
  }

  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }
}

function numberFieldLength(value: number): number {
  return value === 0 ? 0 : 1 + varintLength(value);
}

function bytesFieldLength(bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : 1 + varintLength(bytes.length) + bytes.length;
}

/** Proto3 encoding of mvccpb.KeyValue: zero fields are omitted, fields in number order. */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const length =
    bytesFieldLength(kv.key) +
    numberFieldLength(kv.createRevision) +
    numberFieldLength(kv.modRevision) +
    numberFieldLength(kv.version) +
    bytesFieldLength(kv.value) +
    (kv.lease === 0n ? 0 : 1 + bigVarintLength(kv.lease));
  const writer = new Writer(length);
  writeBytesField(writer, 1, kv.key);
  writeNumberField(writer, 2, kv.createRevision);
  writeNumberField(writer, 3, kv.modRevision);
  writeNumberField(writer, 4, kv.version);
  writeBytesField(writer, 5, kv.value);
  if (kv.lease !== 0n) {
    writer.varint((6 << 3) | wireVarint);
    writer.bigVarint(kv.lease);
  }
  return writer.bytes;
}

function writeNumberField(writer: Writer, field: number, value: number): void {
  if (value === 0) return;
  writer.varint((field << 3) | wireVarint);
  writer.varint(value);
}

function writeBytesField(writer: Writer, field: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  writer.varint((field << 3) | wireBytes);
  writer.varint(bytes.length);
  writer.raw(bytes);
}

/** The stored form of a tombstone: a KeyValue with only its key, exactly as etcd writes it. */
export function encodeTombstone(key: Uint8Array): Uint8Array {
  const writer = new Writer(bytesFieldLength(key));
  writeBytesField(writer, 1, key);
  return writer.bytes;
}

class Reader {
  offset = 0;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  bigVarint(): bigint {
    let result = 0n;
    for (let i = 0; i < varintBytesMax; i++) {
      if (this.offset >= this.bytes.length) throw new CorruptDataError("truncated varint");
      const byte = this.bytes[this.offset++] as number;
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return BigInt.asIntN(64, BigInt.asUintN(64, result));
    }
    throw new CorruptDataError("varint longer than ten bytes");
  }

  /** A non-negative int64 that must fit a safe integer (revisions, versions, lengths, TTLs). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < varintBytesMax; i++) {
      if (this.offset >= this.bytes.length) throw new CorruptDataError("truncated varint");
      const byte = this.bytes[this.offset++] as number;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new CorruptDataError("integer beyond 2^53");
        return result;
      }
      scale *= 128;
    }
    throw new CorruptDataError("varint longer than ten bytes");
  }

  /** A copy, so that decoded values never pin the (possibly huge) input buffer. */
  lengthDelimited(): Uint8Array {
    return copyBytes(this.lengthDelimitedView());
  }

  lengthDelimitedView(): Uint8Array {
    const length = this.varint();
    if (this.offset + length > this.bytes.length) throw new CorruptDataError("truncated bytes field");
    const view = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }

  skip(wireType: number): void {
    if (wireType === wireVarint) this.bigVarint();
    else if (wireType === wireBytes) this.lengthDelimited();
    else if (wireType === wireFixed64) this.advance(8);
    else if (wireType === wireFixed32) this.advance(4);
    else throw new CorruptDataError(`unsupported protobuf wire type ${wireType}`);
  }

  advance(length: number): void {
    if (this.offset + length > this.bytes.length) throw new CorruptDataError("truncated fixed field");
    this.offset += length;
  }
}

interface MutableKeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: bigint;
}

export function decodeKeyValue(bytes: Uint8Array): KeyValue {
  const kv: MutableKeyValue = { key: emptyBytes, createRevision: 0, modRevision: 0, version: 0, value: emptyBytes, lease: 0n };
  const reader = new Reader(bytes);
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === wireBytes) kv.key = reader.lengthDelimited();
    else if (field === 2 && wireType === wireVarint) kv.createRevision = reader.varint();
    else if (field === 3 && wireType === wireVarint) kv.modRevision = reader.varint();
    else if (field === 4 && wireType === wireVarint) kv.version = reader.varint();
    else if (field === 5 && wireType === wireBytes) kv.value = reader.lengthDelimited();
    else if (field === 6 && wireType === wireVarint) kv.lease = reader.bigVarint();
    else reader.skip(wireType);
  }
  return kv;
}

export interface LeaseRecord {
  readonly id: bigint;
  readonly ttlSeconds: number;
  readonly remainingTtlSeconds: number;
}

export function encodeLease(lease: LeaseRecord): Uint8Array {
  const length =
    (lease.id === 0n ? 0 : 1 + bigVarintLength(lease.id)) +
    numberFieldLength(lease.ttlSeconds) +
    numberFieldLength(lease.remainingTtlSeconds);
  const writer = new Writer(length);
  if (lease.id !== 0n) {
    writer.varint((1 << 3) | wireVarint);
    writer.bigVarint(lease.id);
  }
  writeNumberField(writer, 2, lease.ttlSeconds);
  writeNumberField(writer, 3, lease.remainingTtlSeconds);
  return writer.bytes;
}

export function decodeLease(bytes: Uint8Array): LeaseRecord {
  let id = 0n;
  let ttlSeconds = 0;
  let remainingTtlSeconds = 0;
  const reader = new Reader(bytes);
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === wireVarint) id = reader.bigVarint();
    else if (field === 2 && wireType === wireVarint) ttlSeconds = reader.varint();
    else if (field === 3 && wireType === wireVarint) remainingTtlSeconds = reader.varint();
    else reader.skip(wireType);
  }
  if (id === 0n) throw new CorruptDataError("lease record without an id");
  return { id, ttlSeconds, remainingTtlSeconds };
}

/** Length-prefixed framing for snapshots, written into one buffer sized in advance. */
export class FrameWriter {
  readonly #writer: Writer;

  constructor(lengthBytes: number) {
    this.#writer = new Writer(lengthBytes);
  }

  static frameLength(bytes: Uint8Array): number {
    return varintLength(bytes.length) + bytes.length;
  }

  static varintLength(value: number): number {
    return varintLength(value);
  }

  varint(value: number): void {
    this.#writer.varint(value);
  }

  frame(bytes: Uint8Array): void {
    this.#writer.varint(bytes.length);
    this.#writer.raw(bytes);
  }

  raw(bytes: Uint8Array): void {
    this.#writer.raw(bytes);
  }

  byte(value: number): void {
    this.#writer.bytes[this.#writer.offset++] = value;
  }

  get offset(): number {
    return this.#writer.offset;
  }

  get bytes(): Uint8Array {
    return this.#writer.bytes;
  }
}

export class FrameReader {
  readonly #reader: Reader;

  constructor(bytes: Uint8Array) {
    this.#reader = new Reader(bytes);
  }

  get offset(): number {
    return this.#reader.offset;
  }

  get done(): boolean {
    return this.#reader.done;
  }

  varint(): number {
    return this.#reader.varint();
  }

  frameByte(): number {
    const byte = this.#reader.bytes[this.#reader.offset];
    if (byte === undefined) throw new CorruptDataError("truncated record");
    this.#reader.offset++;
    return byte;
  }

  /** A view into the input: callers decode and copy what they keep. */
  frame(): Uint8Array {
    return this.#reader.lengthDelimitedView();
  }
}
