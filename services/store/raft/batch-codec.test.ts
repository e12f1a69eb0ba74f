import { describe, expect, it } from "vitest";
import { EntryType, MessageType, type Message } from "../../../libs/raft/index.ts";
import { ProtoWriter } from "../proto-bytes.ts";
import { decodeMessageBatch, encodeMessageBatch } from "./batch-codec.ts";
import { fromWireMessage, loadTransportService, toWireMessage, WireError, type WireMessageBatch } from "./wire.ts";

function streamMethod(): { requestSerialize: (value: WireMessageBatch) => Buffer; requestDeserialize: (bytes: Buffer) => WireMessageBatch } {
  const method = loadTransportService().service["Stream"];
  if (method === undefined) throw new Error("no Stream method");
  return method as unknown as { requestSerialize: (value: WireMessageBatch) => Buffer; requestDeserialize: (bytes: Buffer) => WireMessageBatch };
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

const messages: Message[] = [
  {
    type: MessageType.App,
    to: 2,
    from: 1,
    term: 7,
    logTerm: 6,
    index: 41,
    entries: [
      { term: 6, index: 42, type: EntryType.Normal, data: bytes(1, 2, 3) },
      { term: 7, index: 43, type: EntryType.ConfChange, data: new Uint8Array(300).fill(9) },
      { term: 7, index: 44, type: EntryType.Normal, data: new Uint8Array(0) },
    ],
    commit: 40,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
  },
  // Member ids are 53-bit: their varints take eight bytes.
  { type: MessageType.AppResp, to: 2 ** 52 + 3, from: Number.MAX_SAFE_INTEGER, term: 7, logTerm: 0, index: 0, entries: [], commit: 0, reject: true, rejectHint: 12, context: bytes(5) },
  { type: MessageType.PreVoteResp, to: 1, from: 3, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0) },
];

/** Plain values for comparison (views and Buffers compared by content). */
function plain(list: readonly Message[]): unknown {
  return list.map((message) => ({ ...message, context: [...message.context], entries: message.entries.map((entry) => ({ ...entry, data: [...entry.data] })) }));
}

describe("the hand-written MessageBatch codec", () => {
  it("decodes its own encoding to the same messages", () => {
    expect(plain(decodeMessageBatch(encodeMessageBatch(messages)) ?? [])).toEqual(plain(messages));
  });

  it("writes bytes proto-loader reads as the same messages, and reads what proto-loader writes", () => {
    const method = streamMethod();
    const byHand = encodeMessageBatch(messages);
    expect(plain(method.requestDeserialize(byHand).messages.map(fromWireMessage))).toEqual(plain(messages));
    const byLoader = method.requestSerialize({ messages: messages.map(toWireMessage) });
    expect(plain(decodeMessageBatch(byLoader) ?? [])).toEqual(plain(messages));
  });

  it("decodes an empty batch to no messages", () => {
    expect(decodeMessageBatch(new Uint8Array(0))).toEqual([]);
  });

  it("answers undefined for a batch with a snapshot, so the caller uses proto-loader", () => {
    const method = streamMethod();
    const snapshot = { data: bytes(1), metadata: { confState: { voters: [1, 2, 3], learners: [] }, index: 10, term: 2 } };
    const withSnapshot = method.requestSerialize({ messages: [toWireMessage({ ...messages[2], snapshot } as Message)] });
    expect(decodeMessageBatch(withSnapshot)).toBeUndefined();
  });

  it("refuses to encode a snapshot", () => {
    const snapshot = { data: bytes(1), metadata: { confState: { voters: [1], learners: [] }, index: 10, term: 2 } };
    expect(() => encodeMessageBatch([{ ...messages[2], snapshot } as Message])).toThrow(WireError);
  });

  it("refuses an unknown message type, an unknown entry type, an id past 2^53 and a truncated batch", () => {
    const unknownType = new ProtoWriter().message(1, (body) => body.int64(1, 99)).finish();
    expect(() => decodeMessageBatch(unknownType)).toThrow(/message type 99 is unknown/);
    const unknownEntry = new ProtoWriter().message(1, (body) => body.int64(1, MessageType.App).message(7, (entry) => entry.int64(3, 5))).finish();
    expect(() => decodeMessageBatch(unknownEntry)).toThrow(/entry type 5 is unknown/);
    const hugeId = new ProtoWriter().message(1, (body) => body.bigint64(2, 2n ** 53n + 1n)).finish();
    expect(() => decodeMessageBatch(hugeId)).toThrow(WireError);
    const whole = encodeMessageBatch(messages);
    expect(() => decodeMessageBatch(whole.subarray(0, whole.length - 1))).toThrow(WireError);
  });
});
