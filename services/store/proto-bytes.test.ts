import { describe, expect, it } from "vitest";
import { ProtoDecodeError, ProtoReader, ProtoWriter } from "./proto-bytes.ts";

describe("ProtoReader varints", () => {
  it("reads back every varint length the writer produces, exactly", () => {
    // One value per varint length from 1 to 8 bytes, plus the edges of each length.
    const values = [1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1, 2 ** 35 + 5, 2 ** 42 + 9, 2 ** 49 + 3, Number.MAX_SAFE_INTEGER];
    const writer = new ProtoWriter();
    for (const value of values) writer.int64(1, value);
    const reader = new ProtoReader(writer.finish());
    const read: number[] = [];
    while (!reader.done) {
      expect(reader.tag()).toEqual({ field: 1, wireType: 0 });
      read.push(reader.int64());
    }
    expect(read).toEqual(values);
  });

  it("reads 32-bit varints up to 2^32 - 1 and refuses one longer than five bytes", () => {
    const writer = new ProtoWriter();
    for (const value of [0x7f, 0x3fff, 2 ** 31, 2 ** 32 - 1]) writer.int64(1, value);
    const reader = new ProtoReader(writer.finish());
    const read: number[] = [];
    while (!reader.done) {
      reader.tag();
      read.push(reader.uint32());
    }
    expect(read).toEqual([0x7f, 0x3fff, 2 ** 31, 2 ** 32 - 1]);
    expect(() => new ProtoReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).uint32()).toThrow(ProtoDecodeError);
  });
});
