import { describe, expect, it, vi } from "vitest";
import { clientFrameBytesMax, controlFrame, dataFrame, SpdyClientSession, streamIdAt, typeGoAway, typePing, typeRstStream, typeSynStream } from "./index.ts";

function recorder(): { written: Buffer[]; events: string[]; session: SpdyClientSession } {
  const written: Buffer[] = [];
  const events: string[] = [];
  const session = new SpdyClientSession((bytes) => written.push(bytes), {
    onData: (id, data) => events.push(`data ${id} ${data.toString()}`),
    onStreamEnd: (id, reset) => events.push(`end ${id} ${reset}`),
    onClose: (failed) => events.push(`closed ${failed}`),
  });
  return { written, events, session };
}

describe("SpdyClientSession", () => {
  it("opens odd stream ids and sends a stream's data only after its SYN_STREAM", async () => {
    const { written, session } = recorder();
    const first = session.open(new Map([["streamtype", "error"]]));
    const second = session.open(new Map([["streamtype", "data"]]));
    session.send(second, Buffer.from("ping"), true);
    expect([first, second]).toEqual([1, 3]);
    await vi.waitFor(() => expect(written).toHaveLength(3), { timeout: 2_000 });
    expect(written.slice(0, 2).map((frame) => [frame.readUInt16BE(2), streamIdAt(frame, 8)])).toEqual([
      [typeSynStream, 1],
      [typeSynStream, 3],
    ]);
    expect(written[2]).toEqual(dataFrame(3, Buffer.from("ping"), true));
    session.close();
  });

  it("reports data, FIN and RST_STREAM, echoes a PING and closes gracefully on GOAWAY", async () => {
    const { written, events, session } = recorder();
    const rst = Buffer.alloc(8);
    rst.writeUInt32BE(5, 0);
    session.received(Buffer.concat([dataFrame(1, Buffer.from("hi"), true), controlFrame(typeRstStream, 0, rst), controlFrame(typePing, 0, Buffer.from([0, 0, 0, 2]))]));
    await vi.waitFor(() => expect(written).toHaveLength(1), { timeout: 2_000 });
    expect(written[0]).toEqual(controlFrame(typePing, 0, Buffer.from([0, 0, 0, 2])));
    session.received(controlFrame(typeGoAway, 0, Buffer.alloc(8)));
    expect(events).toEqual(["data 1 hi", "end 1 false", "end 5 true", "closed false"]);
  });

  it("closes as failed on a frame over its bound and sends nothing after", async () => {
    const { written, events, session } = recorder();
    const header = Buffer.alloc(8);
    header.writeUInt32BE(clientFrameBytesMax + 1, 4);
    session.received(header);
    expect(events).toEqual(["closed true"]);
    session.send(1, Buffer.from("late"));
    await Promise.resolve();
    expect(written).toHaveLength(0);
  });
});
