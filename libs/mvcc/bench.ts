/**
 * Micro-benchmark of the key space: `node --import tsx libs/mvcc/bench.ts`.
 * Shapes mimic kube-apiserver traffic: keys like /registry/pods/<namespace>/<name>, values of a
 * few hundred bytes, paginated lists (limit 100 with a total count).
 */
import { createPrng } from "../prng/index.ts";
import { bytesOf, prefixRangeEnd } from "./bytes.ts";
import { MvccStore } from "./store.ts";
import { WatchHub } from "./watch.ts";

const putCount = 100_000;
const rangeCount = 10_000;
const pastRangeCount = 200;
const rangeLimit = 100;
const namespaces = 100;
const valueBytes = 256;

interface Clock {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Wall and CPU time: on a shared machine CPU time is the steadier measure. */
function now(): Clock {
  // eslint-disable-next-line no-restricted-properties -- a benchmark measures time; it is not part of the pure core
  const wallMs = performance.now();
  // eslint-disable-next-line no-restricted-globals -- as above
  const usage = process.cpuUsage();
  return { wallMs, cpuMs: (usage.user + usage.system) / 1000 };
}

function timed<T>(label: string, operations: number, body: () => T): T {
  const start = now();
  const result = body();
  const end = now();
  const cpuMs = end.cpuMs - start.cpuMs;
  const perSecond = operations > 0 ? ` ${Math.round((operations / cpuMs) * 1000).toLocaleString("en-US").padStart(9)} ops/cpu-s` : "";
  console.log(`${label.padEnd(46)} cpu ${cpuMs.toFixed(0).padStart(6)} ms  wall ${(end.wallMs - start.wallMs).toFixed(0).padStart(6)} ms${perSecond}`);
  return result;
}

function podKey(index: number): Uint8Array {
  return bytesOf(`/registry/pods/ns-${String(index % namespaces).padStart(3, "0")}/pod-${String(index).padStart(7, "0")}`);
}

function main(): void {
  const prng = createPrng(1);
  const store = new MvccStore({ minLeaseTtlSeconds: 2 });
  const hub = new WatchHub(store);
  const watchIds = Array.from({ length: 20 }, (_, i) => {
    const prefix = bytesOf(`/registry/pods/ns-${String(i).padStart(3, "0")}/`);
    return hub.watch({ key: prefix, rangeEnd: prefixRangeEnd(prefix) });
  });
  const value = new Uint8Array(valueBytes).fill(0x61);
  let recordBytes = 0;
  timed(`${putCount} puts (+ records, 20 prefix watchers)`, putCount, () => {
    for (let i = 0; i < putCount; i++) {
      const result = store.put({ key: podKey(prng.nextInt(putCount * 0.8)), value });
      for (const record of result.records) if (record.op === "put") recordBytes += record.value.length;
      hub.notify(result.events);
      if (i % 1000 === 999) for (const id of watchIds) while (hub.take(id, 1000) !== undefined);
    }
  });
  console.log(`  live keys ${store.range({ key: bytesOf("/"), rangeEnd: new Uint8Array([0]), countOnly: true }).count}, record bytes ${(recordBytes / 1e6).toFixed(1)} MB`);

  const prefix = bytesOf("/registry/pods/");
  const end = prefixRangeEnd(prefix);
  let returned = 0;
  timed(`${rangeCount} ranges, limit ${rangeLimit}, with count`, rangeCount, () => {
    for (let i = 0; i < rangeCount; i++) {
      const response = store.range({ key: podKey(prng.nextInt(putCount)), rangeEnd: end, limit: rangeLimit });
      returned += response.kvs.length;
    }
  });
  console.log(`  returned ${returned} key-values`);
  const namespacePrefix = bytesOf("/registry/pods/ns-042/");
  timed(`${rangeCount} namespace lists, limit ${rangeLimit}`, rangeCount, () => {
    for (let i = 0; i < rangeCount; i++) store.range({ key: namespacePrefix, rangeEnd: prefixRangeEnd(namespacePrefix), limit: rangeLimit });
  });
  const pastRevision = Math.floor(store.currentRevision / 2);
  timed(`${pastRangeCount} ranges, limit ${rangeLimit}, 50000 revisions ago`, pastRangeCount, () => {
    for (let i = 0; i < pastRangeCount; i++) store.range({ key: podKey(prng.nextInt(putCount)), rangeEnd: end, limit: rangeLimit, revision: pastRevision });
  });
  const recentRevision = store.currentRevision - 1000;
  timed(`${rangeCount} ranges, limit ${rangeLimit}, 1000 revisions ago`, rangeCount, () => {
    for (let i = 0; i < rangeCount; i++) store.range({ key: podKey(prng.nextInt(putCount)), rangeEnd: end, limit: rangeLimit, revision: recentRevision });
  });
    timed("hashKv at the current revision", 0, () => store.hashKv(0));
  const snapshot = timed("serializeSnapshot", 0, () => store.serializeSnapshot());
  console.log(`  snapshot ${(snapshot.length / 1e6).toFixed(1)} MB`);
  timed("restoreSnapshot into a new store", 0, () => new MvccStore({ minLeaseTtlSeconds: 2 }).restoreSnapshot(snapshot));
  timed(`compact at revision ${store.currentRevision - 1000}`, 0, () => store.compact(store.currentRevision - 1000));
}

main();
