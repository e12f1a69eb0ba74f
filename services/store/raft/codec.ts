/**
 * Byte layouts of what the replication layer writes to disk and embeds in Raft entries. Numbers
 * are big-endian; 64-bit fields hold safe integers (< 2^53), like everywhere in Flotilla. A
 * reader that runs out of bytes or meets an out-of-range value throws CodecError, which the
 * durable log turns into a corruption error naming the record.
 */
import { assert } from "../../../libs/assert/index.ts";
import type { ConfState, Entry, EntryType, HardState, NodeId, SnapshotMetadata } from "../../../libs/raft/index.ts";

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CodecError";
  }
}

const twoTo32 = 0x1_0000_0000;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Appends fields to a growing buffer; `finish()` returns exactly the bytes written. */
export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialBytes = 64) {
    this.#bytes = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#bytes.buffer);
  }

  #reserve(extraBytes: number): void {
    const needed = this.#length + extraBytes;
    if (needed <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, "u8 in range", () => String(value));
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
    return this;
  }

  u32(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value < twoTo32, "u32 in range", () => String(value));
    this.#reserve(4);
    this.#view.setUint32(this.#length, value);
    this.#length += 4;
    return this;
  }

  u64(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, "u64 is a non-negative safe integer", () => String(value));
    this.#reserve(8);
    this.#view.setUint32(this.#length, Math.floor(value / twoTo32));
    this.#view.setUint32(this.#length + 4, value >>> 0);
    this.#length += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** A u32 length followed by the bytes. */
  lengthPrefixed(value: Uint8Array): this {
    return this.u32(value.length).bytes(value);
  }

  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }
}

/** Reads fields in order from a byte array, checking bounds on every read. */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(byteCount: number, what: string): void {
    if (this.#offset + byteCount > this.#bytes.length) {
      throw new CodecError(`truncated: ${what} needs ${byteCount} bytes at offset ${this.#offset} of ${this.#bytes.length}`);
    }
  }

  u8(what: string): number {
    this.#need(1, what);
    const value = this.#view.getUint8(this.#offset);
    this.#offset += 1;
    return value;
  }

  u32(what: string): number {
    this.#need(4, what);
    const value = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return value;
  }

  u64(what: string): number {
    this.#need(8, what);
    const high = this.#view.getUint32(this.#offset);
    const low = this.#view.getUint32(this.#offset + 4);
    this.#offset += 8;
    const value = high * twoTo32 + low;
    if (!Number.isSafeInteger(value)) throw new CodecError(`${what} ${high}:${low} is not a safe integer`);
    return value;
  }

  bytes(byteCount: number, what: string): Uint8Array {
    this.#need(byteCount, what);
    const value = this.#bytes.subarray(this.#offset, this.#offset + byteCount);
    this.#offset += byteCount;
    return value;
  }

  lengthPrefixed(what: string): Uint8Array {
    return this.bytes(this.u32(`${what} length`), what);
  }

  rest(): Uint8Array {
    const value = this.#bytes.subarray(this.#offset);
    this.#offset = this.#bytes.length;
    return value;
  }

  /** Fails when bytes are left over: a record of the wrong length is as corrupt as a short one. */
  end(what: string): void {
    if (this.#offset !== this.#bytes.length) {
      throw new CodecError(`${what} has ${this.#bytes.length - this.#offset} unexpected trailing bytes`);
    }
  }
}

export function encodeUtf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw new CodecError(`${what} is not valid UTF-8`);
  }
}

// ---- Raft records -------------------------------------------------------------------------

export function encodeHardState(hardState: HardState): Uint8Array {
  return new ByteWriter(24).u64(hardState.term).u64(hardState.vote).u64(hardState.commit).finish();
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const reader = new ByteReader(bytes);
  const hardState = { term: reader.u64("term"), vote: reader.u64("vote"), commit: reader.u64("commit") };
  reader.end("hard state");
  return hardState;
}

const entryTypeMax = 1;

export function encodeEntry(entry: Entry): Uint8Array {
  return new ByteWriter(17 + entry.data.length).u64(entry.term).u64(entry.index).u8(entry.type).bytes(entry.data).finish();
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const reader = new ByteReader(bytes);
  const term = reader.u64("term");
  const index = reader.u64("index");
  const type = reader.u8("type");
  if (type > entryTypeMax) throw new CodecError(`entry type ${type} is unknown`);
  // Copy the data out so that the entry does not pin the whole read buffer.
  return { term, index, type: type as EntryType, data: Uint8Array.from(reader.rest()) };
}

export function writeConfState(writer: ByteWriter, confState: ConfState): void {
  writer.u32(confState.voters.length);
  for (const id of confState.voters) writer.u64(id);
  writer.u32(confState.learners.length);
  for (const id of confState.learners) writer.u64(id);
}

/** Member lists are bounded by this on decode so a corrupt count cannot allocate wildly. */
const membersMax = 1024;

function readIds(reader: ByteReader, what: string): NodeId[] {
  const count = reader.u32(`${what} count`);
  if (count > membersMax) throw new CodecError(`${what} count ${count} exceeds ${membersMax}`);
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(reader.u64(what));
  return ids;
}

export function readConfState(reader: ByteReader): ConfState {
  const voters = readIds(reader, "voter");
  const learners = readIds(reader, "learner");
  return { voters, learners };
}

export function encodeConfState(confState: ConfState): Uint8Array {
  const writer = new ByteWriter();
  writeConfState(writer, confState);
  return writer.finish();
}

export function decodeConfState(bytes: Uint8Array): ConfState {
  const reader = new ByteReader(bytes);
  const confState = readConfState(reader);
  reader.end("conf state");
  return confState;
}

export function encodeApplied(appliedIndex: number): Uint8Array {
  return new ByteWriter(8).u64(appliedIndex).finish();
}

export function decodeApplied(bytes: Uint8Array): number {
  const reader = new ByteReader(bytes);
  const applied = reader.u64("applied index");
  reader.end("applied index");
  return applied;
}

/** Where a stored snapshot's data lives: in the record itself, or in a file beside the database. */
export type SnapshotDataLocation = { readonly kind: "inline"; readonly data: Uint8Array } | { readonly kind: "file"; readonly fileName: string };

export interface SnapshotRecord {
  readonly metadata: SnapshotMetadata;
  readonly dataBytes: number;
  /** CRC-32C of the data, checked again after it is read back from the record or the file. */
  readonly dataCrc32c: number;
  readonly location: SnapshotDataLocation;
}

const locationInline = 0;
const locationFile = 1;

export function encodeSnapshotRecord(record: SnapshotRecord): Uint8Array {
  const writer = new ByteWriter(64 + (record.location.kind === "inline" ? record.location.data.length : 0));
  writer.u64(record.metadata.index).u64(record.metadata.term);
  writeConfState(writer, record.metadata.confState);
  writer.u64(record.dataBytes).u32(record.dataCrc32c);
  if (record.location.kind === "inline") writer.u8(locationInline).bytes(record.location.data);
  else writer.u8(locationFile).bytes(encodeUtf8(record.location.fileName));
  return writer.finish();
}

export function decodeSnapshotRecord(bytes: Uint8Array): SnapshotRecord {
  const reader = new ByteReader(bytes);
  const index = reader.u64("snapshot index");
  const term = reader.u64("snapshot term");
  const confState = readConfState(reader);
  const dataBytes = reader.u64("snapshot data length");
  const dataCrc32c = reader.u32("snapshot data checksum");
  const locationKind = reader.u8("snapshot data location");
  let location: SnapshotDataLocation;
  if (locationKind === locationInline) location = { kind: "inline", data: Uint8Array.from(reader.rest()) };
  else if (locationKind === locationFile) location = { kind: "file", fileName: decodeUtf8(reader.rest(), "snapshot file name") };
  else throw new CodecError(`snapshot data location ${locationKind} is unknown`);
  return { metadata: { index, term, confState }, dataBytes, dataCrc32c, location };
}

// ---- member addresses --------------------------------------------------------------------

export function encodePeers(peers: ReadonlyMap<NodeId, string>): Uint8Array {
  const writer = new ByteWriter();
  writer.u32(peers.size);
  for (const [id, address] of [...peers].sort(([a], [b]) => a - b)) writer.u64(id).lengthPrefixed(encodeUtf8(address));
  return writer.finish();
}

function readPeers(reader: ByteReader): Map<NodeId, string> {
  const count = reader.u32("peer count");
  if (count > membersMax) throw new CodecError(`peer count ${count} exceeds ${membersMax}`);
  const peers = new Map<NodeId, string>();
  for (let i = 0; i < count; i++) {
    const id = reader.u64("peer id");
    peers.set(id, decodeUtf8(reader.lengthPrefixed("peer address"), "peer address"));
  }
  return peers;
}

export function decodePeers(bytes: Uint8Array): Map<NodeId, string> {
  const reader = new ByteReader(bytes);
  const peers = readPeers(reader);
  reader.end("peers");
  return peers;
}

/** Ids removed from the cluster: their messages are refused so they learn they were removed. */
export function encodeMemberIds(ids: ReadonlySet<NodeId>): Uint8Array {
  const writer = new ByteWriter();
  const sorted = [...ids].sort((a, b) => a - b);
  writer.u32(sorted.length);
  for (const id of sorted) writer.u64(id);
  return writer.finish();
}

export function decodeMemberIds(bytes: Uint8Array): Set<NodeId> {
  const reader = new ByteReader(bytes);
  const ids = new Set(readIds(reader, "member id"));
  reader.end("member ids");
  return ids;
}

// ---- proposal envelopes ------------------------------------------------------------------

/** Bytes of the request id that prefixes every proposal this layer makes. */
export const requestIdBytes = 8;

export interface Envelope {
  readonly requestId: bigint;
  readonly payload: Uint8Array;
}

/**
 * Envelopes up to this size are carved from shared slabs of envelopeSlabBytes: an ArrayBuffer of
 * its own costs about 500 bytes beyond its contents (the buffer object, its backing store and
 * malloc's overhead), which for a 150-byte put more than triples what the Raft log holds in
 * memory until the next snapshot (up to --snapshot-count entries on the leader). Entries leave the
 * log in index order, so a slab is freed soon after the last of its entries is compacted.
 */
const envelopeSlabBytes = 64 * 1024;
const envelopeSlabbedBytesMax = 4 * 1024;

class EnvelopeSlab {
  #buffer = new ArrayBuffer(envelopeSlabBytes);
  #used = 0;

  /** `byteCount` fresh bytes (at most envelopeSlabbedBytesMax) from the current slab or a new one. */
  take(byteCount: number): Uint8Array {
    assert(byteCount <= envelopeSlabbedBytesMax, "only small envelopes share a slab");
    if (this.#used + byteCount > envelopeSlabBytes) {
      this.#buffer = new ArrayBuffer(envelopeSlabBytes);
      this.#used = 0;
    }
    const bytes = new Uint8Array(this.#buffer, this.#used, byteCount);
    // 8-byte alignment keeps the next envelope's request id on a word boundary.
    this.#used += Math.ceil(byteCount / 8) * 8;
    return bytes;
  }
}

const envelopeSlab = new EnvelopeSlab();

/** A proposal's entry data: an 8-byte request id (matched at apply time) followed by the payload. */
export function encodeEnvelope(requestId: bigint, payload: Uint8Array): Uint8Array {
  const byteCount = requestIdBytes + payload.length;
  const bytes = byteCount <= envelopeSlabbedBytesMax ? envelopeSlab.take(byteCount) : new Uint8Array(byteCount);
  new DataView(bytes.buffer, bytes.byteOffset, byteCount).setBigUint64(0, requestId);
  bytes.set(payload, requestIdBytes);
  return bytes;
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length < requestIdBytes) throw new CodecError(`envelope of ${bytes.length} bytes is shorter than its request id`);
  const requestId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0);
  return { requestId, payload: bytes.subarray(requestIdBytes) };
}

// ---- node snapshots ----------------------------------------------------------------------

/** Version of the node snapshot layout below; bumped on any change to it. */
const nodeSnapshotFormat = 1;

export interface NodeSnapshot {
  /** Peer addresses at the snapshot's index, so a member restored from it can reach everyone. */
  readonly peers: ReadonlyMap<NodeId, string>;
  /** Members removed by then. */
  readonly removed: ReadonlySet<NodeId>;
  readonly stateMachine: Uint8Array;
}

/** A Raft snapshot's data as this layer writes it: the membership, then the state machine's bytes. */
export function encodeNodeSnapshot(snapshot: NodeSnapshot): Uint8Array {
  const peers = encodePeers(snapshot.peers);
  const removed = encodeMemberIds(snapshot.removed);
  return new ByteWriter(12 + peers.length + removed.length + snapshot.stateMachine.length)
    .u32(nodeSnapshotFormat)
    .lengthPrefixed(peers)
    .lengthPrefixed(removed)
    .bytes(snapshot.stateMachine)
    .finish();
}

export function decodeNodeSnapshot(bytes: Uint8Array): NodeSnapshot {
  const reader = new ByteReader(bytes);
  const format = reader.u32("node snapshot format");
  if (format !== nodeSnapshotFormat) throw new CodecError(`node snapshot format ${format} is unknown (want ${nodeSnapshotFormat})`);
  const peers = decodePeers(reader.lengthPrefixed("node snapshot peers"));
  const removed = decodeMemberIds(reader.lengthPrefixed("node snapshot removed members"));
  return { peers, removed, stateMachine: reader.rest() };
}
