import { describe, expect, it } from "vitest";
import { ReadOnly, maxPendingReadRequests } from "./read-only.ts";
import { MessageType } from "./types.ts";
import { message } from "./util.ts";

const read = (context: string) => message({ type: MessageType.ReadIndex, from: 1, context: new TextEncoder().encode(context) });
const bytes = (context: string) => new TextEncoder().encode(context);

describe("ReadOnly", () => {
  it("an acknowledgement of a later read's heartbeat also releases the reads queued before it", () => {
    const readOnly = new ReadOnly();
    readOnly.addRequest(5, read("a"));
    readOnly.addRequest(6, read("b"));
    readOnly.addRequest(7, read("c"));
    const released = readOnly.advance(bytes("b"));
    expect(released.map((r) => [new TextDecoder().decode(r.request.context), r.index])).toEqual([["a", 5], ["b", 6]]);
    expect(readOnly.size).toBe(1);
    expect(readOnly.lastPendingRequestContext()).toEqual(bytes("c"));
  });

  it("acknowledgements are counted per request context", () => {
    const readOnly = new ReadOnly();
    readOnly.addRequest(5, read("a"));
    readOnly.recvAck(1, bytes("a"));
    expect([...readOnly.recvAck(2, bytes("a"))]).toEqual([1, 2]);
    expect(readOnly.recvAck(3, bytes("unknown")).size).toBe(0);
  });

  it("a repeated context is refused while the first is pending", () => {
    const readOnly = new ReadOnly();
    expect(readOnly.addRequest(5, read("a"))).toBe(true);
    expect(readOnly.addRequest(6, read("a"))).toBe(false);
  });

  it("the queue is bounded", () => {
    const readOnly = new ReadOnly();
    for (let i = 0; i < maxPendingReadRequests; i++) expect(readOnly.addRequest(1, read(`r${i}`))).toBe(true);
    expect(readOnly.addRequest(1, read("one-too-many"))).toBe(false);
  });
});
