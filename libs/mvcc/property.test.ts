/**
 * Randomized comparison against a naive model: a plain array of every revision ever written.
 * The model answers reads by replaying that array; the store must agree on every response,
 * every error, and every watch event, across compactions, txns, slow watchers and a restart.
 */
import { describe, expect, it } from "vitest";
import { createPrng, type Prng } from "../prng/index.ts";
import { bytesToBinary, compareBytes, emptyBytes, keySpan, spanContains, type KeySpan } from "./bytes.ts";
import { isMvccError } from "./errors.ts";
import { validateTxnRequest } from "./txn.ts";
import { MvccStore } from "./store.ts";
import { CompareResult, CompareTarget, EventType, SortOrder, SortTarget, type Event, type KeyValue, type RangeRequest, type RequestOp } from "./types.ts";
import { WatchHub, type WatchResponse } from "./watch.ts";
import { b, FakeDatabase } from "./test-support.ts";

const letters = "abcdefgh";
const stepsPerSeed = 400;
const seeds = [1, 2, 3, 4];

interface ModelRecord {
  readonly main: number;
  readonly key: string;
  readonly kv: KeyValue;
  readonly tombstone: boolean;
}

class Model {
  readonly log: ModelRecord[] = [];
  current = 1;
  compacted = -1;

  stateAt(revision: number): Map<string, KeyValue> {
    const state = new Map<string, KeyValue>();
    for (const record of this.log) {
      if (record.main > revision) break;
      if (record.tombstone) state.delete(record.key);
      else state.set(record.key, record.kv);
    }
    return state;
  }

  /** Applies a list of writes as one revision (no revision when nothing changed). */
  write(ops: readonly ModelOp[]): void {
    const revision = this.current + 1;
    const live = this.stateAt(this.current);
    let changed = false;
    for (const op of ops) {
      if ("put" in op) {
        const [key, value] = op.put;
        const previous = live.get(key);
        const kv: KeyValue = {
          key: b(key),
          createRevision: previous?.createRevision ?? revision,
          modRevision: revision,
          version: (previous?.version ?? 0) + 1,
          value: b(value),
          lease: 0n,
        };
        live.set(key, kv);
        this.log.push({ main: revision, key, kv, tombstone: false });
        changed = true;
      } else {
        for (const key of [...live.keys()].sort()) {
          if (!spanContains(op.del, key)) continue;
          live.delete(key);
          const kv = { key: b(key), createRevision: 0, modRevision: revision, version: 0, value: emptyBytes, lease: 0n };
          this.log.push({ main: revision, key, kv, tombstone: true });
          changed = true;
        }
      }
    }
    if (changed) this.current = revision;
  }
}

function pick<T>(prng: Prng, items: readonly T[]): T {
  return items[prng.nextInt(items.length)] as T;
}

function randomSpan(prng: Prng): { key: Uint8Array; rangeEnd?: Uint8Array } {
  const start = pick(prng, [...letters]);
  const shape = prng.nextInt(4);
  if (shape === 0) return { key: b(start) };
  if (shape === 1) return { key: b(start), rangeEnd: new Uint8Array([0]) };
  return { key: b(start), rangeEnd: b(pick(prng, [...letters, "z"])) };
}

function expectedRange(model: Model, request: RangeRequest): { kvs: KeyValue[]; count: number; more: boolean } {
  const revision = request.revision === undefined || request.revision === 0 ? model.current : request.revision;
  const span = keySpan(request.key, request.rangeEnd);
  const inRange = [...model.stateAt(revision).entries()].filter(([key]) => spanContains(span, key)).sort(([x], [y]) => (x < y ? -1 : 1));
  let kvs = inRange.map(([, kv]) => kv);
  const count = kvs.length;
  if (request.countOnly === true) return { kvs: [], count, more: false };
  const target = request.sortTarget ?? SortTarget.Key;
  const order = request.sortOrder ?? SortOrder.None;
  const limit = request.limit ?? 0;
  // etcd fetches only limit + 1 keys (in key order) when the order is NONE and nothing filters,
  // even for a non-key sort target, and sorts just those.
  const filtered = (request.minModRevision ?? 0) !== 0 || (request.maxCreateRevision ?? 0) !== 0;
  if (order === SortOrder.None && !filtered && limit > 0) kvs = kvs.slice(0, limit + 1);
  kvs = kvs.filter((kv) => (request.minModRevision ?? 0) === 0 || kv.modRevision >= (request.minModRevision ?? 0));
  kvs = kvs.filter((kv) => (request.maxCreateRevision ?? 0) === 0 || kv.createRevision <= (request.maxCreateRevision ?? 0));
  const field = (kv: KeyValue): number | Uint8Array =>
    [kv.key, kv.version, kv.createRevision, kv.modRevision, kv.value][target] as number | Uint8Array;
  const compare = (x: KeyValue, y: KeyValue): number => {
    const [fx, fy] = [field(x), field(y)];
    return typeof fx === "number" ? fx - (fy as number) : compareBytes(fx, fy as Uint8Array);
  };
  if (order === SortOrder.Descend) kvs = kvs.slice().sort((x, y) => compare(y, x));
  else if (order === SortOrder.Ascend || target !== SortTarget.Key) kvs = kvs.slice().sort(compare);
  const more = limit > 0 && kvs.length > limit;
  if (more) kvs = kvs.slice(0, limit);
  if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: emptyBytes, lease: 0n }));
  return { kvs, count, more };
}

function randomRange(prng: Prng, model: Model): RangeRequest {
  const revision = prng.nextInt(3) === 0 ? 0 : Math.max(0, model.compacted - 1) + prng.nextInt(model.current - Math.max(0, model.compacted - 1) + 2);
  return {
    ...randomSpan(prng),
    revision,
    limit: prng.nextInt(4),
    sortOrder: pick(prng, [SortOrder.None, SortOrder.Ascend, SortOrder.Descend]),
    sortTarget: pick(prng, [SortTarget.Key, SortTarget.Version, SortTarget.Create, SortTarget.Mod, SortTarget.Value]),
    countOnly: prng.nextInt(8) === 0,
    keysOnly: prng.nextInt(8) === 0,
    minModRevision: prng.nextInt(4) === 0 ? prng.nextInt(model.current + 1) : 0,
    maxCreateRevision: prng.nextInt(4) === 0 ? prng.nextInt(model.current + 1) : 0,
  };
}

function checkRange(store: MvccStore, model: Model, request: RangeRequest): void {
  const revision = request.revision ?? 0;
  if (revision > model.current) {
    expect(() => store.range(request)).toThrow("future revision");
  } else if (revision > 0 && revision < model.compacted) {
    expect(() => store.range(request)).toThrow("compacted");
  } else {
    const response = store.range(request);
    expect({ kvs: response.kvs, count: response.count, more: response.more }).toEqual(expectedRange(model, request));
    expect(response.header.revision).toBe(model.current);
  }
}

function randomWriteOps(prng: Prng): RequestOp[] {
  const ops: RequestOp[] = [];
  const count = 1 + prng.nextInt(3);
  for (let i = 0; i < count; i++) {
    if (prng.nextInt(4) === 0) ops.push({ requestDeleteRange: randomSpan(prng) });
    else ops.push({ requestPut: { key: b(pick(prng, [...letters])), value: b(`v${prng.nextInt(1000)}`) } });
  }
  return ops;
}

type ModelOp = { put: [string, string] } | { del: KeySpan };

function modelOps(ops: readonly RequestOp[]): ModelOp[] {
  return ops.flatMap((op): ModelOp[] => {
    if ("requestPut" in op) return [{ put: [bytesToBinary(op.requestPut.key), new TextDecoder().decode(op.requestPut.value)] as [string, string] }];
    if ("requestDeleteRange" in op) return [{ del: keySpan(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd) }];
    return [];
  });
}

interface TrackedWatcher {
  readonly id: number;
  readonly span: KeySpan;
  readonly startRevision: number;
  readonly delivered: Event[];
  canceled: boolean;
}

function expectedEvents(model: Model, watcher: TrackedWatcher): string[] {
  return model.log
    .filter((record) => record.main >= watcher.startRevision && spanContains(watcher.span, record.key))
    .map((record) => `${record.tombstone ? "D" : "P"} ${record.key}@${record.main}`);
}

function describe2(event: Event): string {
  return `${event.type === EventType.Delete ? "D" : "P"} ${bytesToBinary(event.kv.key)}@${event.kv.modRevision}`;
}

/** Takes from some watchers (all of them, to completion, when `everything`). */
function drainSome(prng: Prng, hub: WatchHub, watchers: TrackedWatcher[], model: Model, everything = false): void {
  const roundsMax = everything ? 100_000 : 20;
  for (const watcher of watchers) {
    if (watcher.canceled || (!everything && prng.nextInt(3) !== 0)) continue;
    for (let round = 0; round < roundsMax && hub.isReady(watcher.id); round++) {
      const response: WatchResponse | undefined = hub.take(watcher.id, 1 + prng.nextInt(4));
      if (response === undefined) continue;
      if (response.canceled) {
        watcher.canceled = true;
        expect(response.compactRevision).toBe(model.compacted);
        break;
      }
      for (const event of response.events) {
        const previous = model.stateAt(event.kv.modRevision - 1).get(bytesToBinary(event.kv.key));
        if (event.prevKv !== undefined) expect(event.prevKv).toEqual(previous);
      }
      watcher.delivered.push(...response.events);
    }
  }
}

function runSeed(seed: number): void {
  const prng = createPrng(seed);
  const store = new MvccStore({ minLeaseTtlSeconds: 1 });
  const hub = new WatchHub(store, { watchQueueEventsMax: 3, catchUpRecordsMax: 5 });
  const database = new FakeDatabase();
  const model = new Model();
  const watchers: TrackedWatcher[] = [];
  for (let step = 0; step < stepsPerSeed; step++) {
    const action = prng.nextInt(40);
    if (action < 14) {
      const ops = randomWriteOps(prng).slice(0, 1);
      const op = ops[0] as RequestOp;
      const result = "requestPut" in op ? store.put(op.requestPut) : store.deleteRange((op as { requestDeleteRange: { key: Uint8Array } }).requestDeleteRange);
      model.write(modelOps(ops));
      hub.notify(result.events);
      database.apply(result.records);
    } else if (action < 20) {
      runTxn(prng, store, hub, database, model);
    } else if (action < 21 && model.current > model.compacted + 8) {
      const revision = model.compacted + 1 + prng.nextInt(model.current - model.compacted - 6);
      database.apply(store.compact(Math.max(revision, 0)).records);
      model.compacted = Math.max(revision, 0);
    } else if (action < 24 && watchers.filter((watcher) => !watcher.canceled).length < 8) {
      const span = randomSpan(prng);
      const lowest = Math.max(1, model.compacted);
      const startRevision = prng.nextInt(3) === 0 ? 0 : lowest + prng.nextInt(model.current - lowest + 3);
      const id = hub.watch({ ...span, startRevision, prevKv: prng.nextInt(2) === 0 });
      watchers.push({ id, span: keySpan(span.key, span.rangeEnd), startRevision: startRevision === 0 ? model.current + 1 : startRevision, delivered: [], canceled: false });
    } else if (action < 33) {
      checkRange(store, model, randomRange(prng, model));
    } else {
      drainSome(prng, hub, watchers, model);
    }
  }
  finish(store, hub, database, model, watchers);
}

function runTxn(prng: Prng, store: MvccStore, hub: WatchHub, database: FakeDatabase, model: Model): void {
  const key = pick(prng, [...letters]);
  const version = model.stateAt(model.current).get(key)?.version ?? 0;
  const expectVersion = prng.nextInt(2) === 0 ? version : version + 1;
  const request = {
    compare: [{ key: b(key), target: CompareTarget.Version, result: CompareResult.Equal, version: expectVersion }],
    success: randomWriteOps(prng),
    failure: randomWriteOps(prng),
  };
  try {
    validateTxnRequest(request);
  } catch (error) {
    expect(isMvccError(error, "duplicateKey")).toBe(true);
    expect(() => store.txn(request)).toThrow("duplicate key");
    return;
  }
  const result = store.txn(request);
  expect(result.response.succeeded).toBe(expectVersion === version);
  model.write(modelOps(expectVersion === version ? request.success : request.failure));
  expect(result.response.header.revision).toBe(model.current);
  hub.notify(result.events);
  database.apply(result.records);
}

function finish(store: MvccStore, hub: WatchHub, database: FakeDatabase, model: Model, watchers: TrackedWatcher[]): void {
  drainSome(createPrng(0), hub, watchers, model, true);
  for (const watcher of watchers) {
    const expected = expectedEvents(model, watcher);
    const delivered = watcher.delivered.map(describe2);
    if (watcher.canceled) expect(expected.slice(0, delivered.length)).toEqual(delivered);
    else expect(delivered).toEqual(expected);
  }
  const canceled = watchers.filter((watcher) => watcher.canceled).length;
  // The run must have exercised the interesting paths, or it proves little.
  expect(hub.stats.slowDemotions).toBeGreaterThan(0);
  expect(canceled).toBeGreaterThan(0);
  expect(watchers.length - canceled).toBeGreaterThan(0);
  expect(watchers.reduce((sum, watcher) => sum + watcher.delivered.length, 0)).toBeGreaterThan(100);
  const restarted = new MvccStore({ minLeaseTtlSeconds: 1 });
  restarted.restore(database.records());
  expect(restarted.hashKv(0)).toEqual(store.hashKv(0));
  expect(restarted.range({ key: b("a"), rangeEnd: new Uint8Array([0]) })).toEqual(store.range({ key: b("a"), rangeEnd: new Uint8Array([0]) }));
  const fromSnapshot = new MvccStore({ minLeaseTtlSeconds: 1 });
  fromSnapshot.restoreSnapshot(store.serializeSnapshot());
  expect(fromSnapshot.hash()).toEqual(store.hash());
}

describe("randomized comparison with a naive model", () => {
  for (const seed of seeds) {
    it(`agrees on ranges, txns, compaction and watch events (seed ${seed})`, () => {
      runSeed(seed);
    });
  }
});
