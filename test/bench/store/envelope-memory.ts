/**
 * What a leader's Raft log costs in memory per entry: N entries holding a put-sized envelope,
 * each in an ArrayBuffer of its own ("own", the code before the slabs) or from
 * services/store/raft/codec.ts's shared slabs ("slab"). Prints the RSS growth after a full GC.
 * Run each kind in its own process, alternating:
 *
 *   for k in own slab own slab; do node --expose-gc --import tsx test/bench/store/envelope-memory.ts $k 100000; done
 */
import { encodeEnvelope, requestIdBytes } from "../../../services/store/raft/codec.ts";

const putEnvelopePayloadBytes = 140;
const bytesPerMiB = 1024 * 1024;

function ownBuffer(requestId: bigint, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(requestIdBytes + payload.length);
  new DataView(bytes.buffer).setBigUint64(0, requestId);
  bytes.set(payload, requestIdBytes);
  return bytes;
}

function main(): void {
  const [kind, countText] = process.argv.slice(2);
  const count = Number(countText);
  const collect = (globalThis as { gc?: () => void }).gc;
  if ((kind !== "own" && kind !== "slab") || !Number.isInteger(count) || count <= 0 || collect === undefined) {
    throw new Error("usage: node --expose-gc --import tsx envelope-memory.ts own|slab COUNT");
  }
  const encode = kind === "slab" ? encodeEnvelope : ownBuffer;
  const payload = new Uint8Array(putEnvelopePayloadBytes).fill(1);
  collect();
  const beforeBytes = process.memoryUsage().rss;
  const log = Array.from({ length: count }, (_, index) => ({ term: 7, index, type: 0, data: encode(BigInt(index), payload) }));
  collect();
  const grownMiB = (process.memoryUsage().rss - beforeBytes) / bytesPerMiB;
  process.stdout.write(`${kind}: ${log.length} entries, RSS +${grownMiB.toFixed(1)} MiB\n`);
}

main();
