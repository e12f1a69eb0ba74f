import { describe, expect, it } from "vitest";
import { crc32c } from "./index.ts";

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The bitwise definition, one bit at a time: slow, obviously right, used as the oracle. */
function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe("crc32c", () => {
  it("matches the published check value for '123456789'", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
  });

  it("matches the RFC 3720 vectors for 32 zero bytes and 32 0xff bytes", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  it("is zero for empty input", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("agrees with the bitwise definition at every length around the 4-byte stride", () => {
    const data = new Uint8Array(67);
    for (let i = 0; i < data.length; i++) data[i] = (i * 151 + 7) & 0xff;
    for (let length = 0; length <= data.length; length++) {
      const slice = data.subarray(0, length);
      expect(crc32c(slice), `length ${length}`).toBe(crc32cBitwise(slice));
    }
  });

  it("continues a checksum across pieces", () => {
    const whole = ascii("the quick brown fox jumps over the lazy dog");
    for (const cut of [0, 1, 5, 20, whole.length]) {
      expect(crc32c(whole.subarray(cut), crc32c(whole.subarray(0, cut)))).toBe(crc32c(whole));
    }
  });

  it("changes when a single bit flips", () => {
    const data = ascii("raft entry 42");
    const flipped = Uint8Array.from(data);
    flipped[3] = (flipped[3] as number) ^ 0x10;
    expect(crc32c(flipped)).not.toBe(crc32c(data));
  });
});
