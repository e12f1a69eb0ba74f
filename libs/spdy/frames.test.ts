import { createDeflate, createInflate } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  controlFrame,
  dataFrame,
  decodeHeaders,
  encodeHeaders,
  flagFin,
  isControlFrame,
  SpdyFrameReader,
  spdyDictionary,
  streamIdAt,
  synStreamFrame,
  syncFlushed,
  typePing,
  typeSynStream,
} from "./index.ts";

describe("SPDY/3.1 frame layer", () => {
  it("builds SPDY/3's 1423-byte header dictionary", () => {
    const dictionary = spdyDictionary();
    expect(dictionary.length).toBe(1423);
    expect(dictionary.subarray(0, 11).toString("latin1")).toBe("\u0000\u0000\u0000\u0007options");
    expect(dictionary.subarray(-8).toString("latin1")).toBe("*,enq=0.");
  });

  it("encodes a header block with a pair count and 4-byte lengths, and decodes it with names lowercased", () => {
    const block = encodeHeaders([["streamType", "data"], ["port", "8080"]]);
    expect(block.readUInt32BE(0)).toBe(2);
    expect(block.readUInt32BE(4)).toBe("streamType".length);
    expect(block.subarray(8, 18).toString()).toBe("streamType");
    expect([...decodeHeaders(block, 8)]).toEqual([["streamtype", "data"], ["port", "8080"]]);
  });

  it("decodeHeaders() refuses a block with more pairs than its bound", () => {
    const block = encodeHeaders([["a", "1"], ["b", "2"], ["c", "3"]]);
    expect(() => decodeHeaders(block, 2)).toThrow(/3 pairs/);
  });

  it("carries header blocks through one deflate and one inflate stream, block after block", async () => {
    const deflate = createDeflate({ dictionary: spdyDictionary() });
    const inflate = createInflate({ dictionary: spdyDictionary() });
    for (const port of ["80", "443"]) {
      const compressed = await syncFlushed(deflate, encodeHeaders(new Map([["port", port]])));
      expect(decodeHeaders(await syncFlushed(inflate, compressed), 8).get("port")).toBe(port);
    }
    deflate.close();
    inflate.close();
  });

  it("builds control, SYN_STREAM and data frames with SPDY/3's 8-byte headers", () => {
    const ping = controlFrame(typePing, 0, Buffer.from([0, 0, 0, 7]));
    expect([...ping]).toEqual([0x80, 3, 0, typePing, 0, 0, 0, 4, 0, 0, 0, 7]);
    expect(isControlFrame(ping)).toBe(true);
    const syn = synStreamFrame(5, Buffer.from("zz"));
    expect(syn.readUInt16BE(2)).toBe(typeSynStream);
    expect(syn.readUInt32BE(4)).toBe(12);
    expect(streamIdAt(syn, 8)).toBe(5);
    const data = dataFrame(0x80000003, Buffer.from("hi"), true);
    expect([...data]).toEqual([0, 0, 0, 3, flagFin, 0, 0, 2, 0x68, 0x69]);
    expect(isControlFrame(data)).toBe(false);
  });

  it("SpdyFrameReader hands over whole frames split across reads, in order", () => {
    const reader = new SpdyFrameReader(1024);
    const bytes = Buffer.concat([dataFrame(1, Buffer.from("hello"), false), controlFrame(typePing, 0, Buffer.from([0, 0, 0, 1]))]);
    const frames: Buffer[] = [];
    expect(reader.read(bytes.subarray(0, 6), (frame) => frames.push(frame))).toBe(true);
    expect(frames).toHaveLength(0);
    expect(reader.read(bytes.subarray(6, 15), (frame) => frames.push(frame))).toBe(true);
    expect(frames).toHaveLength(1);
    expect(reader.read(bytes.subarray(15), (frame) => frames.push(frame))).toBe(true);
    expect(frames).toEqual([dataFrame(1, Buffer.from("hello"), false), controlFrame(typePing, 0, Buffer.from([0, 0, 0, 1]))]);
  });

  it("SpdyFrameReader refuses a frame longer than its bound", () => {
    const reader = new SpdyFrameReader(4);
    const frames: Buffer[] = [];
    expect(reader.read(dataFrame(1, Buffer.from("12345"), false), (frame) => frames.push(frame))).toBe(false);
    expect(frames).toHaveLength(0);
  });
});
