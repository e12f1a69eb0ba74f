/**
 * ConfChange in the protobuf wire format of proto/raft.proto (field 1 varint type, 2 varint
 * node_id, 3 bytes context), so that committed conf-change entries are readable by any client
 * of raft.proto. Written by hand to keep the Raft core free of dependencies.
 */
import { ConfChangeType } from "./types.ts";
import type { ConfChange } from "./types.ts";
import { emptyBytes } from "./util.ts";

const wireVarint = 0;
const wireFixed64 = 1;
const wireLengthDelimited = 2;
const wireFixed32 = 5;
const fieldType = 1;
const fieldNodeId = 2;
const fieldContext = 3;
/** A varint of a 64-bit value takes at most 10 bytes. */
const varintBytesMax = 10;

export function encodeConfChange(change: ConfChange): Uint8Array {
  const bytes: number[] = [];
  // proto3 leaves fields at their default value off the wire.
  if (change.type !== ConfChangeType.AddNode) {
    writeVarint(bytes, (fieldType << 3) | wireVarint);
    writeVarint(bytes, change.type);
  }
  if (change.nodeId !== 0) {
    writeVarint(bytes, (fieldNodeId << 3) | wireVarint);
    writeVarint(bytes, change.nodeId);
  }
  if (change.context.length > 0) {
    writeVarint(bytes, (fieldContext << 3) | wireLengthDelimited);
    writeVarint(bytes, change.context.length);
    for (const byte of change.context) bytes.push(byte);
  }
  return Uint8Array.from(bytes);
}

/** Decodes a ConfChange; throws RangeError on malformed input. Unknown fields are skipped. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const reader = { data, position: 0 };
  let type: number = ConfChangeType.AddNode;
  let nodeId = 0;
  let context = emptyBytes;
  while (reader.position < data.length) {
    const key = readVarint(reader);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === fieldType && wireType === wireVarint) type = readVarint(reader);
    else if (field === fieldNodeId && wireType === wireVarint) nodeId = readVarint(reader);
    else if (field === fieldContext && wireType === wireLengthDelimited) context = readBytes(reader);
    else skipField(reader, wireType);
  }
  if (!(type in ConfChangeType) || typeof ConfChangeType[type] !== "string") {
    throw new RangeError(`ConfChange: unknown type ${type}`);
  }
  return { type: type as ConfChangeType, nodeId, context };
}

/** Unsigned varint of a safe integer; arithmetic instead of bit operators, which stop at 32 bits. */
function writeVarint(bytes: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`ConfChange: ${value} is not a uint64 safe integer`);
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) + 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
}

interface Reader {
  readonly data: Uint8Array;
  position: number;
}

function readVarint(reader: Reader): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < varintBytesMax; i++) {
    const byte = reader.data[reader.position];
    if (byte === undefined) throw new RangeError("ConfChange: truncated varint");
    reader.position++;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (!Number.isSafeInteger(value)) throw new RangeError("ConfChange: varint exceeds the safe integer range");
      return value;
    }
    scale *= 0x80;
  }
  throw new RangeError("ConfChange: varint longer than 10 bytes");
}

function readBytes(reader: Reader): Uint8Array {
  const length = readVarint(reader);
  const end = reader.position + length;
  if (end > reader.data.length) throw new RangeError("ConfChange: truncated bytes field");
  const bytes = reader.data.slice(reader.position, end);
  reader.position = end;
  return bytes;
}

function skipField(reader: Reader, wireType: number): void {
  if (wireType === wireVarint) readVarint(reader);
  else if (wireType === wireLengthDelimited) readBytes(reader);
  else if (wireType === wireFixed64) advance(reader, 8);
  else if (wireType === wireFixed32) advance(reader, 4);
  else throw new RangeError(`ConfChange: unsupported wire type ${wireType}`);
}

function advance(reader: Reader, count: number): void {
  if (reader.position + count > reader.data.length) throw new RangeError("ConfChange: truncated fixed field");
  reader.position += count;
}
