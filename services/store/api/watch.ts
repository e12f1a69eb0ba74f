/**
 * etcdserverpb.Watch: one bidirectional stream carries many watches. Watches are served from this
 * member's applied state (followers too; etcd does not make watches linearizable either): each
 * watch is a watcher in the state machine's WatchHub, and after every applied write the ready
 * watchers' events are taken from the hub and written to their streams.
 *
 * Backpressure: a stream whose gRPC write buffer is full (write() returned false) takes nothing
 * more from the hub and reads no more requests until 'drain'; meanwhile the hub bounds what it
 * holds for the stream's watchers (a watcher that falls too far behind reads history instead). A
 * client that reads nothing for streamStallMsMax while events wait for it has its watches
 * canceled with a cancel_reason saying so.
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { compareBytes, isMvccError, WatchFilterType, type WatchResponse } from "../../../libs/mvcc/index.ts";
import { loadEtcdProto } from "../../../libs/etcdpb/index.ts";
import type * as wire from "../../../libs/etcdpb/index.ts";
import type { StoreContext } from "../context.ts";
import { eventToWire, headerToWire, toNumber } from "../convert.ts";
import { planFragments, StreamWatchIds } from "./watch-parts.ts";

export const watchDefaults = {
  /** Events per response taken from the hub (whole revisions, so one revision may exceed it). */
  takeEventsMax: 256,
  /** Takes one stream makes per drain pass before it lets other streams and the event loop run. */
  drainTakesMax: 32,
  /** Watches one stream may hold (the hub bounds watchers per member as well). */
  watchesPerStreamMax: 10_000,
  /** A stream whose client reads nothing this long while events are pending loses its watches. */
  streamStallMsMax: 30_000,
  /** etcd's default progress notification interval (10 minutes). */
  progressNotifyIntervalMs: 10 * 60 * 1000,
} as const;

/** etcd's allowance for gRPC framing on top of --max-request-bytes (its watch fragments use it). */
const grpcOverheadBytes = 512 * 1024;

/** The id etcd uses for responses that belong to no single watch (stream-wide progress). */
const noWatchId = -1;

const reasons = {
  compacted: "etcdserver: mvcc: required revision has been compacted",
  duplicateId: "mvcc: duplicate watch ID provided on the WatchStream",
  emptyRange: "mvcc: watcher range is empty",
  tooManyWatches: "etcdserver: too many watches on one stream",
  tooSlow: (stallMs: number) => `etcdserver: watch stream too slow: the client read no responses for ${stallMs} ms while events were pending`,
} as const;

export interface WatchServiceOptions {
  readonly progressNotifyIntervalMs?: number;
  readonly streamStallMsMax?: number;
}

interface ResolvedOptions {
  readonly progressNotifyIntervalMs: number;
  readonly streamStallMsMax: number;
  readonly responseBytesMax: number;
}

interface StreamWatch {
  /** The id the client knows (chosen by it or assigned by the stream). */
  readonly id: number;
  readonly hubId: number;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  /** No events went out since the last progress tick (etcd elides a notification after events). */
  progressDue: boolean;
}

type Call = ServerDuplexStream<wire.WatchRequest__Output, wire.WatchResponse>;

/** Every watch stream of one member, fed by the state machine's applies. */
export class WatchStreams {
  readonly context: StoreContext;
  readonly options: ResolvedOptions;
  readonly #streamsByHubId = new Map<number, WatchStream>();
  readonly #streams = new Set<WatchStream>();
  readonly #unsubscribers: (() => void)[] = [];
  #drainScheduled = false;

  constructor(context: StoreContext, options: WatchServiceOptions = {}) {
    this.context = context;
    this.options = {
      progressNotifyIntervalMs: options.progressNotifyIntervalMs ?? watchDefaults.progressNotifyIntervalMs,
      streamStallMsMax: options.streamStallMsMax ?? watchDefaults.streamStallMsMax,
      responseBytesMax: context.config.maxRequestBytes + grpcOverheadBytes,
    };
  }

  start(): void {
    const { stateMachine } = this.context;
    this.#unsubscribers.push(
      stateMachine.onEvents(() => this.scheduleDrain()),
      stateMachine.onChange((change) => {
        if (change.kind === "restored") this.scheduleDrain();
      }),
    );
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribers.splice(0)) unsubscribe();
    for (const stream of [...this.#streams]) stream.close();
  }

  service(): UntypedServiceImplementation {
    return {
      Watch: (call: Call) => {
        const stream = new WatchStream(this, call);
        this.#streams.add(stream);
      },
    };
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  register(hubId: number, stream: WatchStream): void {
    this.#streamsByHubId.set(hubId, stream);
  }

  unregister(hubId: number): void {
    this.#streamsByHubId.delete(hubId);
  }

  closed(stream: WatchStream): void {
    this.#streams.delete(stream);
  }

  /** Drains ready watchers soon, once per turn of the event loop however many applies came. */
  scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => this.#drainReady());
  }

  #drainReady(): void {
    this.#drainScheduled = false;
    const ready = new Set<WatchStream>();
    for (const hubId of this.context.stateMachine.watchHub.ready()) {
      const stream = this.#streamsByHubId.get(hubId);
      if (stream !== undefined) ready.add(stream);
    }
    for (const stream of this.#streams) if (stream.awaitsProgress) ready.add(stream);
    let more = false;
    for (const stream of ready) more = stream.drain() || more;
    if (more) this.scheduleDrain();
  }
}

/** One client's Watch call. */
class WatchStream {
  readonly #owner: WatchStreams;
  readonly #call: Call;
  readonly #ids = new StreamWatchIds();
  readonly #watches = new Map<number, StreamWatch>();
  #blocked = false;
  #closed = false;
  #deferredProgress = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;

  constructor(owner: WatchStreams, call: Call) {
    this.#owner = owner;
    this.#call = call;
    call.on("data", (request: wire.WatchRequest__Output) => this.#onRequest(request));
    // As etcd: when the client closes its side, the stream ends.
    call.on("end", () => this.close());
    call.on("cancelled", () => this.close());
    call.on("close", () => this.close());
    call.on("error", () => this.close());
    call.on("drain", () => this.#unblock());
  }

  /** A progress request waits until every watch of the stream is in sync. */
  get awaitsProgress(): boolean {
    return this.#deferredProgress;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    clearInterval(this.#progressTimer);
    for (const watch of this.#watches.values()) this.#forget(watch);
    this.#owner.closed(this);
    if (!this.#call.destroyed && !this.#call.writableEnded) this.#call.end();
  }

  #onRequest(request: wire.WatchRequest__Output): void {
    if (this.#closed) return;
    if (request.create_request) this.#create(request.create_request);
    else if (request.cancel_request) this.#cancel(toNumber(request.cancel_request.watch_id));
    else if (request.progress_request) this.#requestProgress();
    // Anything else is ignored, as etcd ignores an unknown request rather than ending the stream.
  }

  #create(create: wire.WatchCreateRequest__Output): void {
    const { watchHub } = this.#owner.context.stateMachine;
    const key = create.key.length === 0 ? Buffer.from([0]) : create.key;
    const fromKey = create.range_end.length === 1 && create.range_end[0] === 0;
    const startRevision = toNumber(create.start_revision);
    if (startRevision < 0) return this.#refuseCreate(reasons.compacted);
    if (create.range_end.length > 0 && !fromKey && compareBytes(key, create.range_end) >= 0) return this.#refuseCreate(reasons.emptyRange);
    if (this.#watches.size >= watchDefaults.watchesPerStreamMax) return this.#refuseCreate(reasons.tooManyWatches);
    const id = this.#ids.allocate(toNumber(create.watch_id));
    if (id === undefined) return this.#refuseCreate(reasons.duplicateId);
    let hubId: number;
    try {
      hubId = watchHub.watch({
        key,
        ...(create.range_end.length > 0 ? { rangeEnd: create.range_end } : {}),
        startRevision,
        filters: create.filters.map((filter) => (filter === "NOPUT" ? WatchFilterType.NoPut : WatchFilterType.NoDelete)),
        prevKv: create.prev_kv,
      });
    } catch (error) {
      this.#ids.release(id);
      if (!isMvccError(error)) throw error;
      return this.#refuseCreate(error.grpcMessage);
    }
    const watch: StreamWatch = { id, hubId, progressNotify: create.progress_notify, fragment: create.fragment, progressDue: true };
    this.#watches.set(id, watch);
    this.#owner.register(hubId, this);
    if (watch.progressNotify) this.#startProgressTimer();
    this.#write({ header: this.#header(), watch_id: id, created: true });
    // A watch from a past revision has history to send right away.
    if (watchHub.isReady(hubId)) this.#owner.scheduleDrain();
  }

  /** etcd answers a create it cannot honour with a created-and-canceled response for watch -1. */
  #refuseCreate(reason: string): void {
    this.#write({ header: this.#header(), watch_id: noWatchId, created: true, canceled: true, cancel_reason: reason });
  }

  #cancel(id: number): void {
    const watch = this.#watches.get(id);
    // etcd sends nothing for an unknown id.
    if (watch === undefined) return;
    this.#forget(watch);
    this.#write({ header: this.#header(), watch_id: id, canceled: true });
  }

  #forget(watch: StreamWatch): void {
    this.#owner.context.stateMachine.watchHub.cancel(watch.hubId);
    this.#owner.unregister(watch.hubId);
    this.#watches.delete(watch.id);
    this.#ids.release(watch.id);
  }

  #requestProgress(): void {
    this.#deferredProgress = true;
    this.#sendDeferredProgress();
  }

  #sendDeferredProgress(): void {
    if (!this.#deferredProgress || this.#blocked) return;
    const hubIds = [...this.#watches.values()].map((watch) => watch.hubId);
    const revision = this.#owner.context.stateMachine.watchHub.progressAll(hubIds);
    if (revision === undefined) return;
    this.#deferredProgress = false;
    this.#write({ header: this.#header(revision), watch_id: noWatchId });
  }

  /**
   * Takes what the hub holds for this stream's watches and writes it, up to drainTakesMax takes.
   * Returns true when more is ready and the stream can take it (the caller drains again soon).
   */
  drain(): boolean {
    if (this.#closed || this.#blocked) return false;
    const { watchHub } = this.#owner.context.stateMachine;
    let takes = 0;
    for (const watch of [...this.#watches.values()]) {
      while (watchHub.isReady(watch.hubId)) {
        if (takes >= watchDefaults.drainTakesMax) return true;
        takes++;
        const response = watchHub.take(watch.hubId, watchDefaults.takeEventsMax);
        if (response !== undefined) this.#send(watch, response);
        if (this.#blocked || this.#closed) return false;
      }
    }
    this.#sendDeferredProgress();
    return false;
  }

  #send(watch: StreamWatch, taken: WatchResponse): void {
    const header = this.#header(taken.revision);
    if (taken.canceled) {
      // The hub already dropped the watcher: its next revision was compacted away.
      this.#owner.unregister(watch.hubId);
      this.#watches.delete(watch.id);
      this.#ids.release(watch.id);
      this.#write({ header, watch_id: watch.id, canceled: true, compact_revision: taken.compactRevision, cancel_reason: taken.cancelReason });
      return;
    }
    watch.progressDue = false;
    const events = taken.events.map((event) => eventToWire(event, true));
    if (!watch.fragment) {
      this.#write({ header, watch_id: watch.id, events });
      return;
    }
    const serialize = loadEtcdProto().etcdserverpb.Watch.service.Watch.responseSerialize;
    const baseBytes = serialize({ header, watch_id: watch.id, fragment: true }).length;
    const plan = planFragments(baseBytes, events.map((event) => serialize({ events: [event] }).length), this.#owner.options.responseBytesMax);
    let index = 0;
    for (const count of plan) {
      const last = index + count === events.length;
      this.#write({ header, watch_id: watch.id, events: events.slice(index, index + count), fragment: !last });
      index += count;
    }
  }

  #write(response: wire.WatchResponse): void {
    if (this.#closed) return;
    if (!this.#call.write(response)) this.#block();
  }

  #header(revision?: number): wire.ResponseHeader {
    const { stateMachine } = this.#owner.context;
    return headerToWire({ revision: revision ?? stateMachine.mvcc.currentRevision }, stateMachine.headerIds());
  }

  /** The client stopped reading: take nothing more, read nothing more, and watch the clock. */
  #block(): void {
    if (this.#blocked) return;
    this.#blocked = true;
    this.#call.pause();
    this.#armStallTimer(this.#owner.options.streamStallMsMax);
  }

  #unblock(): void {
    if (!this.#blocked || this.#closed) return;
    this.#blocked = false;
    clearTimeout(this.#stallTimer);
    this.#call.resume();
    this.#owner.scheduleDrain();
  }

  #armStallTimer(delayMs: number): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = setTimeout(() => this.#onStall(), delayMs);
    this.#stallTimer.unref();
  }

  /** Still blocked: with events pending the watches go; with none, look again in a while. */
  #onStall(): void {
    if (!this.#blocked || this.#closed) return;
    const { watchHub } = this.#owner.context.stateMachine;
    const pending = [...this.#watches.values()].some((watch) => watchHub.isReady(watch.hubId));
    if (!pending) {
      this.#armStallTimer(Math.max(1, Math.floor(this.#owner.options.streamStallMsMax / 4)));
      return;
    }
    const reason = reasons.tooSlow(this.#owner.options.streamStallMsMax);
    this.#owner.context.logger.warn({ watches: this.#watches.size }, "canceling the watches of a stream whose client stopped reading");
    for (const watch of [...this.#watches.values()]) {
      this.#forget(watch);
      this.#call.write({ header: this.#header(), watch_id: watch.id, canceled: true, cancel_reason: reason });
    }
    this.#deferredProgress = false;
  }

  #startProgressTimer(): void {
    if (this.#progressTimer !== undefined) return;
    this.#progressTimer = setInterval(() => this.#progressTick(), this.#owner.options.progressNotifyIntervalMs);
    this.#progressTimer.unref();
  }

  /** etcd's progress ticker: a watch that sent no events since the last tick and is in sync gets a notification. */
  #progressTick(): void {
    if (this.#closed || this.#blocked) return;
    const { watchHub } = this.#owner.context.stateMachine;
    for (const watch of this.#watches.values()) {
      if (!watch.progressNotify) continue;
      const revision = watch.progressDue ? watchHub.progress(watch.hubId) : undefined;
      watch.progressDue = true;
      if (revision !== undefined) this.#write({ header: this.#header(revision), watch_id: watch.id });
    }
  }
}
