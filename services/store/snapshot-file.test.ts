import { describe, expect, it } from "vitest";
import { createPrng } from "../../libs/prng/index.ts";
import { SnapshotFileError, openSnapshot, sealSnapshot, sha256, snapshotChunks, snapshotDigestBytes } from "./snapshot-file.ts";

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
    const body = randomBytes(70_000, 3);
    const file = Buffer.concat([...snapshotChunks(body)].map((chunk) => chunk.blob));
    expect(Buffer.from(file)).toEqual(Buffer.from(sealSnapshot(body)));
    expect(Buffer.from(openSnapshot(file))).toEqual(Buffer.from(body));
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
