import { constants, createDeflate, createInflate } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { flagFin, spdyDictionary } from "../../../libs/spdy/index.ts";
import { SpdyServerSession } from "./spdy.ts";

async function compress(deflate: ReturnType<typeof createDeflate>, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  deflate.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => {
    deflate.write(input);
    deflate.flush(constants.Z_SYNC_FLUSH, () => resolve());
  });
  deflate.removeAllListeners("data");
  return Buffer.concat(chunks);
}

function headerBlock(pairs: Array<[string, string]>): Buffer {
  const parts = [Buffer.alloc(4)];
  parts[0]?.writeUInt32BE(pairs.length);
  for (const [name, value] of pairs) {
    for (const text of [name, value]) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(text.length);
      parts.push(length, Buffer.from(text));
    }
  }
  return Buffer.concat(parts);
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.from([0x80, 3, 0, type, flags, 0, 0, 0]);
  header.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([header, payload]);
}

describe("SpdyServerSession", () => {
  it("answers a SYN_STREAM with a SYN_REPLY, reads its headers and data split across reads, and echoes a PING", async () => {
    const written: Buffer[] = [];
    const events: string[] = [];
    const session = new SpdyServerSession(
      { write: (bytes) => written.push(bytes), close: () => events.push("closed") },
      {
        onStream: (id, headers) => events.push(`stream ${id} ${headers.get("streamtype")} ${headers.get("port")}`),
        onData: (id, data) => events.push(`data ${id} ${data.toString()}`),
        onStreamEnd: (id, reset) => events.push(`end ${id} ${reset}`),
      },
    );
    const deflate = createDeflate({ dictionary: spdyDictionary() });
    const block = await compress(deflate, headerBlock([["streamType", "data"], ["port", "8080"], ["requestID", "0"]]));
    const syn = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), block]);
    const data = Buffer.concat([Buffer.from([0, 0, 0, 1, flagFin, 0, 0, 5]), Buffer.from("hello")]);
    const bytes = Buffer.concat([control(1, 0, syn), data, control(6, 0, Buffer.from([0, 0, 0, 7]))]);
    session.received(bytes.subarray(0, 13));
    session.received(bytes.subarray(13));
    await vi.waitFor(() => expect(events).toHaveLength(3), { timeout: 2_000 });
    expect(events).toEqual(["stream 1 data 8080", "data 1 hello", "end 1 false"]);
    const reply = written[0] ?? Buffer.alloc(0);
    expect([reply[0], reply[1], reply[3]]).toEqual([0x80, 3, 2]);
    expect(reply.readUInt32BE(8)).toBe(1);
    const inflate = createInflate({ dictionary: spdyDictionary() });
    expect((await compress(inflate as unknown as ReturnType<typeof createDeflate>, reply.subarray(12))).readUInt32BE(0)).toBe(0);
    expect(written[1]).toEqual(control(6, 0, Buffer.from([0, 0, 0, 7])));
    session.send(1, Buffer.from("back"), true);
    expect(written[2]).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 1, flagFin, 0, 0, 4]), Buffer.from("back")]));
    session.close();
    expect(events.at(-1)).toBe("closed");
  });
});
