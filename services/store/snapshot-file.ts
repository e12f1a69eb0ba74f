/**
 * The store's snapshot stream and file, laid out as etcd lays out its own: the state machine's
 * snapshot bytes, then the SHA-256 of those bytes as the final 32 bytes. Maintenance.Snapshot
 * sends the bytes in bounded chunks whose `remaining_bytes` counts what is still to come (not
 * the digest), then the digest alone with `remaining_bytes` 0, exactly as etcd's server does.
 * A client that writes every blob to a file therefore produces a file whose trailer `flotilla
 * snapshot restore` verifies.
 *
 * etcdctl 3.4's `snapshot save` accepts a stream only when its length modulo 512 is 32 (a bbolt
 * file is whole pages, then the digest): so the body is framed and padded to whole 512-byte
 * sectors. Body: "FLOSNAP1" | u64 applied index | u64 state length | state bytes | zero padding.
 */
import { createHash } from "node:crypto";
import { assert } from "../../libs/assert/index.ts";

/** etcd's snapshotSendBufferSize: big enough for several OS pages, small enough for any gRPC limit. */
export const snapshotChunkBytes = 32 * 1024;
export const snapshotDigestBytes = 32;
/** etcdctl's test for a digest: the file length is a whole number of these, plus the digest. */
export const snapshotSectorBytes = 512;
const bodyMagic = Buffer.from("FLOSNAP1");
const bodyHeaderBytes = bodyMagic.length + 8 + 8;

export interface SnapshotBody {
  /** The Raft index the state was taken at (for the operator; a restore starts a new log). */
  readonly appliedIndex: number;
  /** The state machine's snapshot bytes. */
  readonly state: Uint8Array;
}

export interface SnapshotChunk {
  /** Bytes of the snapshot body still to be sent after this chunk (0 on the digest chunk). */
  readonly remainingBytes: number;
  readonly blob: Uint8Array;
}

/** A snapshot file or stream failed its checks; nothing was written from it. */
export class SnapshotFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotFileError";
  }
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/**
 * The chunks of one snapshot stream: `body` in slices of at most `chunkBytes`, then its digest.
 * An empty body still yields one (empty) body chunk, so the first message always exists to
 * carry the response header.
 */
export function* snapshotChunks(body: Uint8Array, chunkBytes: number = snapshotChunkBytes): Generator<SnapshotChunk> {
  assert(Number.isSafeInteger(chunkBytes) && chunkBytes > 0, "snapshot chunks have a positive size");
  let sent = 0;
  do {
    const end = Math.min(sent + chunkBytes, body.length);
    const blob = body.subarray(sent, end);
    sent = end;
    yield { remainingBytes: body.length - sent, blob };
  } while (sent < body.length);
  yield { remainingBytes: 0, blob: sha256(body) };
}

/** The bytes of a snapshot file: body then digest. */
export function sealSnapshot(body: Uint8Array): Uint8Array {
  const sealed = new Uint8Array(body.length + snapshotDigestBytes);
  sealed.set(body, 0);
  sealed.set(sha256(body), body.length);
  return sealed;
}

/** Checks a snapshot file's trailer and returns its body; throws SnapshotFileError naming the problem. */
export function openSnapshot(file: Uint8Array, name = "snapshot file"): Uint8Array {
  if (file.length <= snapshotDigestBytes) {
    throw new SnapshotFileError(`${name} is corrupt: ${file.length} bytes is too short for a snapshot and its sha256 trailer`);
  }
  const body = file.subarray(0, file.length - snapshotDigestBytes);
  const stored = file.subarray(file.length - snapshotDigestBytes);
  const computed = sha256(body);
  if (!Buffer.from(stored).equals(Buffer.from(computed))) {
    throw new SnapshotFileError(
      `${name} is corrupt: sha256 mismatch (trailer ${Buffer.from(stored).toString("hex")}, computed ${Buffer.from(computed).toString("hex")})`,
    );
  }
  return body;
}

/** Frames a state machine snapshot as a stream body: header, state, zero padding to whole sectors. */
export function encodeSnapshotBody(body: SnapshotBody): Uint8Array {
  const unpadded = bodyHeaderBytes + body.state.length;
  const bytes = Buffer.alloc(Math.ceil(unpadded / snapshotSectorBytes) * snapshotSectorBytes);
  bodyMagic.copy(bytes, 0);
  bytes.writeBigUInt64BE(BigInt(body.appliedIndex), bodyMagic.length);
  bytes.writeBigUInt64BE(BigInt(body.state.length), bodyMagic.length + 8);
  bytes.set(body.state, bodyHeaderBytes);
  return bytes;
}

/** The framed state of a checked snapshot file's body; throws SnapshotFileError when it is not ours. */
export function decodeSnapshotBody(body: Uint8Array, name = "snapshot file"): SnapshotBody {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length < bodyHeaderBytes || !bytes.subarray(0, bodyMagic.length).equals(bodyMagic)) {
    throw new SnapshotFileError(`${name} is not a Flotilla store snapshot (no FLOSNAP1 header); an etcd snapshot restores with etcdctl`);
  }
  const appliedIndex = Number(bytes.readBigUInt64BE(bodyMagic.length));
  const stateBytes = Number(bytes.readBigUInt64BE(bodyMagic.length + 8));
  if (bodyHeaderBytes + stateBytes > bytes.length) {
    throw new SnapshotFileError(`${name} is truncated: its header announces ${stateBytes} bytes of state, ${bytes.length - bodyHeaderBytes} are there`);
  }
  return { appliedIndex, state: bytes.subarray(bodyHeaderBytes, bodyHeaderBytes + stateBytes) };
}
