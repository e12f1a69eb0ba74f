/**
 * For unit tests only: an in-memory fake of the etcd surface the storage layer uses (KvClient),
 * built on libs/mvcc's MvccStore and WatchHub so that revisions, compaction, txn compares and
 * watch history behave as the real store's do. Answers arrive as @grpc/proto-loader shapes
 * (decimal strings, Buffers) and errors as gRPC errors with etcd's texts. Hooks let a test add a
 * concurrent write before a txn, break watch streams and send progress notifications.
 */
import type * as wire from "../../../libs/etcdpb/index.ts";
import {
  CompareResult,
  CompareTarget,
  EventType,
  isMvccError,
  MvccStore,
  WatchHub,
  type Compare,
  type Event,
  type KeyValue,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "../../../libs/mvcc/index.ts";
import type { KvClient, KvWatch } from "./kv.ts";

/** Responses one fake watch takes from the hub per delivery (the hub bounds each take). */
const deliverTakesMax = 1000;
const takeEventsMax = 256;

type Bytes = Buffer | Uint8Array | string | null | undefined;
type Int = number | string | { toString(): string } | null | undefined;

const bytes = (value: Bytes): Uint8Array => (value === null || value === undefined ? new Uint8Array(0) : typeof value === "string" ? Buffer.from(value) : value);
const optionalBytes = (value: Bytes): Uint8Array | undefined => (bytes(value).length === 0 ? undefined : bytes(value));
const int = (value: Int): number => (value === null || value === undefined ? 0 : Number(typeof value === "number" ? value : value.toString()));

export function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details });
}

function rangeFromWire(request: wire.RangeRequest): RangeRequest {
  const rangeEnd = optionalBytes(request.range_end);
  return {
    key: bytes(request.key),
    ...(rangeEnd === undefined ? {} : { rangeEnd }),
    limit: int(request.limit),
    revision: int(request.revision),
    countOnly: request.count_only === true,
    keysOnly: request.keys_only === true,
  };
}

const compareTargets: Record<string, CompareTarget> = { VERSION: CompareTarget.Version, CREATE: CompareTarget.Create, MOD: CompareTarget.Mod, VALUE: CompareTarget.Value };
const compareResults: Record<string, CompareResult> = { EQUAL: CompareResult.Equal, GREATER: CompareResult.Greater, LESS: CompareResult.Less, NOT_EQUAL: CompareResult.NotEqual };

function compareFromWire(compare: wire.Compare): Compare {
  return {
    key: bytes(compare.key),
    target: compareTargets[String(compare.target)] ?? CompareTarget.Version,
    result: compareResults[String(compare.result)] ?? CompareResult.Equal,
    version: int(compare.version),
    createRevision: int(compare.create_revision),
    modRevision: int(compare.mod_revision),
    value: bytes(compare.value),
  };
}

function opFromWire(op: wire.RequestOp): RequestOp {
  if (op.request_put) return { requestPut: { key: bytes(op.request_put.key), value: bytes(op.request_put.value) } };
  if (op.request_delete_range) {
    const rangeEnd = optionalBytes(op.request_delete_range.range_end);
    return { requestDeleteRange: { key: bytes(op.request_delete_range.key), ...(rangeEnd === undefined ? {} : { rangeEnd }) } };
  }
  if (op.request_range) return { requestRange: rangeFromWire(op.request_range) };
  throw new Error("fake etcd: nested txns are not supported");
}

function txnFromWire(request: wire.TxnRequest): TxnRequest {
  return { compare: (request.compare ?? []).map(compareFromWire), success: (request.success ?? []).map(opFromWire), failure: (request.failure ?? []).map(opFromWire) };
}

const header = (revision: number): wire.ResponseHeader__Output => ({ cluster_id: "1", member_id: "1", revision: String(revision), raft_term: "1" });

function kvToWire(kv: KeyValue): wire.KeyValue__Output {
  return {
    key: Buffer.from(kv.key),
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    value: Buffer.from(kv.value),
    lease: kv.lease.toString(),
  };
}

function rangeToWire(response: RangeResponse): wire.RangeResponse__Output {
  return { header: header(response.header.revision), kvs: response.kvs.map(kvToWire), more: response.more, count: String(response.count) };
}

function responseOpToWire(op: ResponseOp): wire.ResponseOp__Output {
  if ("responseRange" in op) return { response_range: rangeToWire(op.responseRange), response: "response_range" };
  if ("responsePut" in op) return { response_put: { header: header(op.responsePut.header.revision), prev_kv: null }, response: "response_put" };
  if ("responseDeleteRange" in op) {
    const deleted = op.responseDeleteRange;
    return { response_delete_range: { header: header(deleted.header.revision), deleted: String(deleted.deleted), prev_kvs: [] }, response: "response_delete_range" };
  }
  throw new Error("fake etcd: nested txns are not supported");
}

function txnToWire(response: TxnResponse): wire.TxnResponse__Output {
  return { header: header(response.header.revision), succeeded: response.succeeded, responses: response.responses.map(responseOpToWire) };
}

function eventToWire(event: Event): wire.Event__Output {
  return { type: event.type === EventType.Put ? "PUT" : "DELETE", kv: kvToWire(event.kv), prev_kv: null };
}

function watchResponse(watchId: number, revision: number, fields: Partial<wire.WatchResponse__Output>): wire.WatchResponse__Output {
  return { header: header(revision), watch_id: String(watchId), created: false, canceled: false, compact_revision: "0", cancel_reason: "", fragment: false, events: [], ...fields };
}

/** Translates an MvccError into the gRPC error a client would see. */
function toGrpc(error: unknown): unknown {
  return isMvccError(error) ? grpcError(error.code, error.grpcMessage) : error;
}

export class FakeWatch implements KvWatch {
  readonly hubId: number;
  readonly #fake: FakeEtcd;
  readonly #buffer: wire.WatchResponse__Output[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  constructor(fake: FakeEtcd, create: wire.WatchCreateRequest) {
    this.#fake = fake;
    const rangeEnd = optionalBytes(create.range_end);
    this.hubId = fake.hub.watch({ key: bytes(create.key), ...(rangeEnd === undefined ? {} : { rangeEnd }), startRevision: int(create.start_revision) });
    this.push(watchResponse(this.hubId, fake.store.currentRevision, { created: true }));
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(response: wire.WatchResponse__Output): void {
    if (this.#ended) return;
    this.#buffer.push(response);
    this.#wake();
  }

  /** Moves whatever the hub holds for this watch into the stream. */
  deliver(): void {
    const hub = this.#fake.hub;
    for (let take = 0; take < deliverTakesMax && !this.#ended && hub.isReady(this.hubId); take++) {
      const response = hub.take(this.hubId, takeEventsMax);
      if (response === undefined) continue;
      this.push(
        watchResponse(this.hubId, response.revision, {
          canceled: response.canceled,
          compact_revision: String(response.compactRevision),
          events: response.events.map(eventToWire),
        }),
      );
    }
  }

  /** Ends the stream as a broken connection would (the reader's loop throws). */
  fail(error: Error): void {
    this.#finish(error);
  }

  cancel(): void {
    this.#finish(undefined);
  }

  #finish(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#fake.hub.cancel(this.hubId);
    this.#fake.watches.delete(this);
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<wire.WatchResponse__Output> {
    while (true) {
      const next = this.#buffer.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }
}

export class FakeEtcd implements KvClient {
  readonly store = new MvccStore({ minLeaseTtlSeconds: 1 });
  readonly hub = new WatchHub(this.store);
  readonly watches = new Set<FakeWatch>();
  watchesOpened = 0;
  rangeRequests: wire.RangeRequest[] = [];
  /** The deadline each range call asked for (undefined: the client's default). */
  rangeTimeoutsMs: (number | undefined)[] = [];
  /** Runs (once) before the next txn is applied: a concurrent writer. */
  beforeNextTxn: (() => void) | undefined;
  /** The next call (range or txn) fails with this error instead. */
  failNextCall: Error | undefined;

  async range(request: wire.RangeRequest, _endpoint?: string, timeoutMs?: number): Promise<wire.RangeResponse__Output> {
    this.rangeRequests.push(request);
    this.rangeTimeoutsMs.push(timeoutMs);
    this.#injectedFailure();
    try {
      return rangeToWire(this.store.range(rangeFromWire(request)));
    } catch (error) {
      throw toGrpc(error);
    }
  }

  async txn(request: wire.TxnRequest): Promise<wire.TxnResponse__Output> {
    this.#injectedFailure();
    const before = this.beforeNextTxn;
    this.beforeNextTxn = undefined;
    before?.();
    try {
      const result = this.store.txn(txnFromWire(request));
      this.#notify(result.events);
      return txnToWire(result.response);
    } catch (error) {
      throw toGrpc(error);
    }
  }

  watch(create: wire.WatchCreateRequest): FakeWatch {
    const watch = new FakeWatch(this, create);
    this.watches.add(watch);
    this.watchesOpened++;
    watch.deliver();
    return watch;
  }

  /** A direct write, as another API server would make it; returns its revision. */
  put(key: string, value: string): number {
    const result = this.store.put({ key: Buffer.from(key), value: Buffer.from(value) });
    this.#notify(result.events);
    return result.response.header.revision;
  }

  deleteKey(key: string): number {
    const result = this.store.deleteRange({ key: Buffer.from(key) });
    this.#notify(result.events);
    return result.response.header.revision;
  }

  compact(revision: number): void {
    this.store.compact(revision);
    // A compaction may overtake an unsynced watcher: let it see its cancel.
    for (const watch of [...this.watches]) watch.deliver();
  }

  /** Sends a progress notification on every watch that is caught up (etcd's progress_notify). */
  sendProgress(): void {
    for (const watch of this.watches) {
      const revision = this.hub.progress(watch.hubId);
      if (revision !== undefined) watch.push(watchResponse(watch.hubId, revision, {}));
    }
  }

  /** Breaks every watch stream, as a lost connection does. */
  breakWatches(): void {
    for (const watch of [...this.watches]) watch.fail(grpcError(14, "connection reset"));
  }

  get currentRevision(): number {
    return this.store.currentRevision;
  }

  #notify(events: readonly Event[]): void {
    this.hub.notify(events);
    for (const watch of [...this.watches]) watch.deliver();
  }

  #injectedFailure(): void {
    const failure = this.failNextCall;
    this.failNextCall = undefined;
    if (failure !== undefined) throw failure;
  }
}
