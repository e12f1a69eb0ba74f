/**
 * Microbenchmark of the peer stream's MessageBatch codec: proto-loader (with the wire.ts
 * conversions it needs) against services/store/raft/batch-codec.ts, for the three batches a put
 * produces most: a 1-entry MsgApp, a MsgAppResp, and a 128-entry MsgApp (puts at 128 in flight).
 * Member ids are 53-bit, as the store's are. Prints microseconds per batch.
 *
 *   node --import tsx test/bench/store/peer-codec.ts
 */
import { performance } from "node:perf_hooks";
import { EntryType, MessageType, type Message } from "../../../libs/raft/index.ts";
import { decodeMessageBatch, encodeMessageBatch } from "../../../services/store/raft/batch-codec.ts";
import { fromWireMessage, loadTransportService, toWireMessage, type WireMessageBatch } from "../../../services/store/raft/wire.ts";

interface StreamCodec {
  readonly requestSerialize: (batch: WireMessageBatch) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => WireMessageBatch;
}

const valueBytes = 140;
const bigBatchEntries = 128;
const iterationsSmall = 100_000;
const iterationsBig = 3_000;
/** Iterations run before timing, as a share of the timed ones (JIT warm-up). */
const warmUpShare = 0.1;

const leaderId = 3882259006751168;
const followerId = 227184992257446;
const entryAt = (index: number) => ({ term: 7, index, type: EntryType.Normal, data: new Uint8Array(valueBytes).fill(7) });
const append: Message = { type: MessageType.App, to: followerId, from: leaderId, term: 7, logTerm: 7, index: 52311, entries: [entryAt(52312)], commit: 52310, reject: false, rejectHint: 0, context: new Uint8Array(0) };
const appendResponse: Message = { type: MessageType.AppResp, to: leaderId, from: followerId, term: 7, logTerm: 0, index: 52312, entries: [], commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0) };
const bigAppend: Message = { ...append, entries: Array.from({ length: bigBatchEntries }, (_, offset) => entryAt(52312 + offset)) };

function microsecondsPerCall(iterations: number, body: () => void): string {
  for (let warm = 0; warm < iterations * warmUpShare; warm++) body();
  const startMs = performance.now();
  for (let iteration = 0; iteration < iterations; iteration++) body();
  return (((performance.now() - startMs) * 1000) / iterations).toFixed(2);
}

function main(): void {
  const codec = loadTransportService().service["Stream"] as unknown as StreamCodec;
  const cases = [
    ["1-entry MsgApp", append, iterationsSmall],
    ["MsgAppResp", appendResponse, iterationsSmall],
    [`${bigBatchEntries}-entry MsgApp`, bigAppend, iterationsBig],
  ] as const;
  for (const [name, message, iterations] of cases) {
    const bytes = codec.requestSerialize({ messages: [toWireMessage(message)] });
    const loaderEncode = microsecondsPerCall(iterations, () => codec.requestSerialize({ messages: [toWireMessage(message)] }));
    const handEncode = microsecondsPerCall(iterations, () => encodeMessageBatch([message]));
    const loaderDecode = microsecondsPerCall(iterations, () => codec.requestDeserialize(bytes).messages.map(fromWireMessage));
    const handDecode = microsecondsPerCall(iterations, () => decodeMessageBatch(bytes));
    process.stdout.write(`${name}: encode ${loaderEncode} -> ${handEncode} us, decode ${loaderDecode} -> ${handDecode} us (proto-loader -> by hand)\n`);
  }
}

main();
