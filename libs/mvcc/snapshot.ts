/**
 * Raft snapshot encoding of the stored records:
 *   "FMVC" | version (1 byte) | varint record count | per record: bucket byte, varint-framed key,
 *   varint-framed value | CRC-32C of everything before it (4 bytes, big-endian).
 * The checksum is verified before anything is decoded; every decode error names what was wrong.
 */
import { assert } from "../assert/index.ts";
import { FrameReader, FrameWriter } from "./codec.ts";
import { crc32c } from "../crc32c/index.ts";
import { CorruptDataError } from "./errors.ts";
import type { Bucket, StoredRecord } from "./types.ts";

const magic = new Uint8Array([0x46, 0x4d, 0x56, 0x43]); // "FMVC"
export const snapshotFormatVersion = 1;
const checksumBytes = 4;
const headerBytes = magic.length + 1;
const buckets: readonly Bucket[] = ["key", "lease", "meta"];

export function writeSnapshot(records: readonly StoredRecord[]): Uint8Array {
  let bodyBytes = headerBytes + FrameWriter.varintLength(records.length);
  for (const record of records) bodyBytes += 1 + FrameWriter.frameLength(record.key) + FrameWriter.frameLength(record.value);
  const writer = new FrameWriter(bodyBytes + checksumBytes);
  writer.raw(magic);
  writer.byte(snapshotFormatVersion);
  writer.varint(records.length);
  for (const record of records) {
    writer.byte(buckets.indexOf(record.bucket));
    writer.frame(record.key);
    writer.frame(record.value);
  }
  assert(writer.offset === bodyBytes, "snapshot size computed exactly");
  const bytes = writer.bytes;
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(bodyBytes, crc32c(bytes.subarray(0, bodyBytes)));
  return bytes;
}

function checkEnvelope(bytes: Uint8Array): Uint8Array {
  if (bytes.length < headerBytes + checksumBytes) throw new CorruptDataError(`snapshot of ${bytes.length} bytes is too short`);
  if (!magic.every((byte, i) => bytes[i] === byte)) throw new CorruptDataError("snapshot does not start with FMVC");
  const version = bytes[magic.length] as number;
  if (version !== snapshotFormatVersion) throw new CorruptDataError(`snapshot format version ${version}, expected ${snapshotFormatVersion}`);
  const bodyLength = bytes.length - checksumBytes;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bodyLength);
  const computed = crc32c(bytes.subarray(0, bodyLength));
  if (stored !== computed) throw new CorruptDataError(`snapshot checksum ${stored.toString(16)} does not match ${computed.toString(16)}`);
  return bytes.subarray(headerBytes, bodyLength);
}

export function parseSnapshot(bytes: Uint8Array): StoredRecord[] {
  const body = checkEnvelope(bytes);
  const reader = new FrameReader(body);
  const count = reader.varint();
  // Each record takes at least three bytes, so a larger count is corrupt, not a reason to allocate.
  if (count * 3 > body.length) throw new CorruptDataError(`snapshot claims ${count} records in ${body.length} bytes`);
  const records: StoredRecord[] = [];
  for (let i = 0; i < count; i++) {
    const bucket = buckets[reader.frameByte()];
    if (bucket === undefined) throw new CorruptDataError(`snapshot record ${i} has an unknown bucket`);
    records.push({ bucket, key: reader.frame(), value: reader.frame() });
  }
  if (!reader.done) throw new CorruptDataError(`snapshot has ${body.length - reader.offset} bytes after its records`);
  return records;
}
