import { describe, expect, it } from "vitest";
import { FrameReader, GrpcMessageTooLargeError, grpcFrame } from "./grpc-routes.ts";

function readAll(reader: FrameReader, chunks: readonly Buffer[]): string[] {
  const messages: string[] = [];
  for (const chunk of chunks) reader.push(chunk, (message) => messages.push(message.toString()));
  return messages;
}

describe("FrameReader", () => {
  const stream = Buffer.concat([grpcFrame(Buffer.from("first")), grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.from("third message"))]);

  it("reads several messages from one chunk, an empty one included", () => {
    expect(readAll(new FrameReader(1024), [stream])).toEqual(["first", "", "third message"]);
  });

  it("reads the same messages whatever the chunk boundaries, holding back nothing at the end", () => {
    for (let size = 1; size <= stream.length; size++) {
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += size) chunks.push(stream.subarray(offset, offset + size));
      const reader = new FrameReader(1024);
      expect(readAll(reader, chunks), `chunks of ${size} bytes`).toEqual(["first", "", "third message"]);
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  it("holds back an unfinished message", () => {
    const reader = new FrameReader(1024);
    expect(readAll(reader, [stream.subarray(0, stream.length - 2)])).toEqual(["first", ""]);
    expect(reader.bufferedBytes).toBe(grpcFrame(Buffer.from("third message")).length - 2);
  });

  it("refuses a message over its limit as soon as the prefix announces it", () => {
    const reader = new FrameReader(4);
    expect(() => readAll(reader, [grpcFrame(Buffer.from("12345")).subarray(0, 5)])).toThrow(GrpcMessageTooLargeError);
  });

  it("refuses a compressed message", () => {
    const frame = grpcFrame(Buffer.from("x"));
    frame[0] = 1;
    expect(() => readAll(new FrameReader(1024), [frame])).toThrow(/compressed/);
  });
});
