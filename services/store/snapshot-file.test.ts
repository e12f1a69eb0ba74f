import { describe, expect, it } from "vitest";
import { createPrng } from "../../libs/prng/index.ts";
import {
  SnapshotFileError,
  decodeSnapshotBody,
  encodeSnapshotBody,
  openSnapshot,
  sealSnapshot,
  sha256,
  snapshotChunks,
  snapshotDigestBytes,
  snapshotSectorBytes,
} from "./snapshot-file.ts";

function randomBytes(length: number, seed: number): Uint8Array {
  const prng = createPrng(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = prng.nextInt(256);
  return bytes;
}

describe("snapshot chunks", () => {
  it("snapshotChunks() sends the body in bounded slices, counting down the bytes still to come, then the sha256", () => {
    const body = randomBytes(2500, 1);
    const chunks = [...snapshotChunks(body, 1000)];
    expect(chunks.map((chunk) => chunk.blob.length)).toEqual([1000, 1000, 500, snapshotDigestBytes]);
    expect(chunks.map((chunk) => chunk.remainingBytes)).toEqual([1500, 500, 0, 0]);
    expect(Buffer.from(chunks.at(-1)?.blob ?? [])).toEqual(Buffer.from(sha256(body)));
  });

  it("snapshotChunks() of an exact multiple of the chunk size sends no empty slice before the digest", () => {
    const chunks = [...snapshotChunks(randomBytes(2000, 2), 1000)];
    expect(chunks.map((chunk) => chunk.blob.length)).toEqual([1000, 1000, snapshotDigestBytes]);
  });

  it("snapshotChunks() of an empty body still sends one body message for the header", () => {
    const chunks = [...snapshotChunks(new Uint8Array(0), 1000)];
    expect(chunks.map((chunk) => chunk.blob.length)).toEqual([0, snapshotDigestBytes]);
  });

  it("the concatenated stream is a file that openSnapshot() accepts and returns the body of", () => {
    const body = randomBytes(40_000, 3);
    const file = Buffer.concat([...snapshotChunks(body)].map((chunk) => chunk.blob));
    // Buffer.equals: vitest's deep equality walks 40 KB byte by byte.
    expect(file.equals(sealSnapshot(body))).toBe(true);
    expect(Buffer.from(openSnapshot(file)).equals(body)).toBe(true);
  });
});

describe("snapshot files", () => {
  it("openSnapshot() refuses a file with one flipped byte, naming the sha256 mismatch", () => {
    const file = sealSnapshot(randomBytes(5000, 4));
    file[1234] = (file[1234] ?? 0) ^ 0x01;
    expect(() => openSnapshot(file)).toThrow(SnapshotFileError);
    expect(() => openSnapshot(file)).toThrow(/sha256 mismatch/);
  });

  it("openSnapshot() refuses a truncated file", () => {
    const file = sealSnapshot(randomBytes(5000, 5));
    expect(() => openSnapshot(file.subarray(0, file.length - 1))).toThrow(/sha256 mismatch/);
    expect(() => openSnapshot(file.subarray(0, 10))).toThrow(/too short/);
  });
});

describe("snapshot bodies", () => {
  it("encodeSnapshotBody() pads to whole sectors, so the streamed file passes etcdctl's size test (length % 512 == 32)", () => {
    for (const stateBytes of [0, 1, 512 - 24, 512 - 23, 5000]) {
      const body = encodeSnapshotBody({ appliedIndex: 42, state: randomBytes(stateBytes, stateBytes) });
      const file = Buffer.concat([...snapshotChunks(body)].map((chunk) => chunk.blob));
      expect(file.length % snapshotSectorBytes).toBe(snapshotDigestBytes);
    }
  });

  it("decodeSnapshotBody() returns the framed state and index, ignoring the padding", () => {
    const state = randomBytes(777, 6);
    const decoded = decodeSnapshotBody(openSnapshot(sealSnapshot(encodeSnapshotBody({ appliedIndex: 9, state }))));
    expect(decoded.appliedIndex).toBe(9);
    expect(Buffer.from(decoded.state)).toEqual(Buffer.from(state));
  });

  it("decodeSnapshotBody() refuses a body without the header, and one shorter than its header says", () => {
    expect(() => decodeSnapshotBody(randomBytes(600, 7))).toThrow(/not a Flotilla store snapshot/);
    const body = encodeSnapshotBody({ appliedIndex: 1, state: randomBytes(700, 8) });
    expect(() => decodeSnapshotBody(body.subarray(0, 512))).toThrow(/truncated/);
  });
});
