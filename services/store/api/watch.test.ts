import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { credentials, Server, ServerCredentials, type ServerDuplexStream } from "@grpc/grpc-js";
import { loadEtcdProto } from "../../../libs/etcdpb/index.ts";
import type * as wire from "../../../libs/etcdpb/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { EntryType } from "../../../libs/raft/index.ts";
import type { StoreContext } from "../context.ts";
import { encodeClientRequest, PayloadTag } from "../payload.ts";
import { StoreStateMachine } from "../state-machine.ts";
import { WatchStreams, type WatchServiceOptions } from "./watch.ts";

const watchMethod = loadEtcdProto().etcdserverpb.Watch.service.Watch;

/**
 * A stand-in for grpc-js's server duplex stream. Requests and responses go through the real
 * protobuf encoding, so the server sees what grpc-js delivers and the test sees what a client
 * reads; the test decides when the write buffer is full.
 */
class FakeCall extends EventEmitter {
  readonly written: wire.WatchResponse__Output[] = [];
  bufferFull = false;
  paused = false;
  destroyed = false;
  writableEnded = false;

  write(response: wire.WatchResponse): boolean {
    this.written.push(watchMethod.responseDeserialize(watchMethod.responseSerialize(response)));
    return !this.bufferFull;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
  request(request: wire.WatchRequest): void {
    this.emit("data", watchMethod.requestDeserialize(watchMethod.requestSerialize(request)));
  }
  /** The client read everything: the buffer empties and the stream says so. */
  drainBuffer(): void {
    this.bufferFull = false;
    this.emit("drain");
  }
}

const eventKeys = (responses: readonly wire.WatchResponse__Output[]) => responses.flatMap((response) => response.events.map((event) => event.kv?.key.toString()));
const header = (revision: number) => ({ cluster_id: "2", member_id: "1", revision: String(revision), raft_term: "3" });

describe("WatchStreams", () => {
  let stateMachine: StoreStateMachine;
  let index = 0;

  const apply = (tag: PayloadTag.Put | PayloadTag.Txn, request: unknown) => {
    index++;
    stateMachine.apply({ term: 1, index, type: EntryType.Normal, data: encodeClientRequest(tag, request) });
  };
  const put = (key: string, value = "v") => apply(PayloadTag.Put, { key: Buffer.from(key), value: Buffer.from(value) });

  function open(options: WatchServiceOptions = {}, maxRequestBytes = 1024): { streams: WatchStreams; call: FakeCall } {
    const context = {
      config: { maxRequestBytes },
      stateMachine,
      logger: createLogger("test", { level: "silent" }),
    } as unknown as StoreContext;
    const streams = new WatchStreams(context, options);
    streams.start();
    const call = new FakeCall();
    (streams.service()["Watch"] as (call: ServerDuplexStream<unknown, unknown>) => void)(call as unknown as ServerDuplexStream<unknown, unknown>);
    return { streams, call };
  }

  beforeEach(() => {
    vi.useFakeTimers();
    index = 0;
    stateMachine = new StoreStateMachine({ memberId: 1, clusterId: 2, minLeaseTtlSeconds: 1, raftTerm: () => 3 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers a create with the assigned id and the current revision, then streams events", () => {
    put("a");
    const { call } = open();
    call.request({ create_request: { key: Buffer.from("a") } });
    expect(call.written).toMatchObject([{ header: header(2), watch_id: "0", created: true, canceled: false, events: [] }]);
    put("a", "x");
    vi.runOnlyPendingTimers();
    expect(call.written[1]).toMatchObject({ header: header(3), watch_id: "0", created: false });
    expect(eventKeys(call.written)).toEqual(["a"]);
  });

  it("takes nothing from the hub while the client's buffer is full, and resumes on drain", () => {
    const { call } = open();
    call.request({ create_request: { key: Buffer.from("k/"), range_end: Buffer.from("k0") } });
    call.bufferFull = true;
    put("k/1");
    vi.advanceTimersByTime(1);
    expect(eventKeys(call.written)).toEqual(["k/1"]);
    expect(call.paused).toBe(true);
    put("k/2");
    put("k/3");
    vi.advanceTimersByTime(1);
    expect(eventKeys(call.written)).toEqual(["k/1"]);
    expect(stateMachine.watchHub.ready()).toEqual([0]);
    call.drainBuffer();
    expect(call.paused).toBe(false);
    vi.advanceTimersByTime(1);
    expect(eventKeys(call.written)).toEqual(["k/1", "k/2", "k/3"]);
  });

  it("cancels the watches of a stream that reads nothing for the stall bound while events wait", () => {
    const { call } = open({ streamStallMsMax: 1000 });
    call.request({ create_request: { key: Buffer.from("s") } });
    call.request({ create_request: { key: Buffer.from("t") } });
    call.bufferFull = true;
    put("s");
    vi.advanceTimersByTime(10);
    put("s", "again");
    vi.advanceTimersByTime(989);
    expect(call.written.some((response) => response.canceled)).toBe(false);
    vi.advanceTimersByTime(1);
    const canceled = call.written.filter((response) => response.canceled);
    expect(canceled.map((response) => response.watch_id)).toEqual(["0", "1"]);
    expect(canceled[0]?.cancel_reason).toContain("too slow");
    expect(stateMachine.watchHub.stats.watchers).toBe(0);
  });

  it("keeps the watches of a blocked stream while nothing is pending for it", () => {
    const { call } = open({ streamStallMsMax: 1000 });
    call.request({ create_request: { key: Buffer.from("s") } });
    call.bufferFull = true;
    put("s");
    vi.advanceTimersByTime(5000);
    expect(call.written.some((response) => response.canceled)).toBe(false);
    expect(stateMachine.watchHub.stats.watchers).toBe(1);
    // Events arrive for the blocked stream: it is canceled within a quarter of the bound.
    put("s", "late");
    vi.advanceTimersByTime(250);
    expect(call.written.filter((response) => response.canceled).map((response) => response.watch_id)).toEqual(["0"]);
  });

  it("sends progress notifications to an idle progress_notify watch each interval, not after events", () => {
    const { call } = open({ progressNotifyIntervalMs: 100 });
    call.request({ create_request: { key: Buffer.from("p"), progress_notify: true } });
    call.request({ create_request: { key: Buffer.from("q") } });
    vi.advanceTimersByTime(100);
    const progress = () => call.written.filter((response) => !response.created && response.events.length === 0);
    expect(progress().map((response) => [response.watch_id, response.header?.revision])).toEqual([["0", "1"]]);
    put("p");
    vi.advanceTimersByTime(100);
    expect(progress()).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(progress().map((response) => [response.watch_id, response.header?.revision])).toEqual([
      ["0", "1"],
      ["0", "2"],
    ]);
  });

  it("defers a progress request until every watch of the stream has caught up", () => {
    for (let i = 0; i < 40; i++) put(`h${i % 3}`);
    const { call } = open();
    call.request({ create_request: { key: Buffer.from("h0"), start_revision: 2 } });
    call.request({ progress_request: {} });
    expect(call.written.filter((response) => response.watch_id === "-1")).toEqual([]);
    vi.runAllTimers();
    const progress = call.written.filter((response) => response.watch_id === "-1");
    expect(progress).toHaveLength(1);
    expect(progress[0]?.header?.revision).toBe("41");
    // Every event of the catch-up went out before the notification.
    expect(call.written.indexOf(progress[0] as wire.WatchResponse__Output)).toBe(call.written.length - 1);
    expect(eventKeys(call.written)).toHaveLength(14);
  });

  it("splits a response larger than the limit into fragments only for watches that asked", () => {
    const { call } = open({}, 1);
    call.request({ create_request: { key: Buffer.from("f/"), range_end: Buffer.from("f0"), fragment: true } });
    call.request({ create_request: { key: Buffer.from("f/"), range_end: Buffer.from("f0") } });
    const value = Buffer.alloc(200 * 1024, 7);
    apply(PayloadTag.Txn, { success: [0, 1, 2, 3, 4].map((i) => ({ request_put: { key: Buffer.from(`f/${i}`), value } })) });
    vi.runOnlyPendingTimers();
    const fragmented = call.written.filter((response) => response.watch_id === "0" && !response.created);
    const whole = call.written.filter((response) => response.watch_id === "1" && !response.created);
    expect(whole).toHaveLength(1);
    expect(whole[0]?.events).toHaveLength(5);
    expect(fragmented.length).toBeGreaterThan(1);
    expect(fragmented.map((response) => response.fragment)).toEqual([...fragmented.slice(1).map(() => true), false]);
    expect(eventKeys(fragmented)).toEqual(["f/0", "f/1", "f/2", "f/3", "f/4"]);
    // Each fragment stays below 512 KiB + 1 byte (etcd's limit) unless it holds a single event.
    for (const response of fragmented) {
      const bytes = watchMethod.responseSerialize(response).length;
      expect(response.events.length === 1 || bytes < 512 * 1024 + 1).toBe(true);
    }
  });

  it("forgets every watch of a stream when the client closes it", () => {
    const { streams, call } = open();
    call.request({ create_request: { key: Buffer.from("a") } });
    call.request({ create_request: { key: Buffer.from("b") } });
    expect(stateMachine.watchHub.stats.watchers).toBe(2);
    call.emit("end");
    expect(stateMachine.watchHub.stats.watchers).toBe(0);
    expect(streams.streamCount).toBe(0);
    expect(call.writableEnded).toBe(true);
  });

  it("refuses a watch whose range is empty, as etcd does", () => {
    const { call } = open();
    call.request({ create_request: { key: Buffer.from("b"), range_end: Buffer.from("a") } });
    expect(call.written[0]).toMatchObject({ watch_id: "-1", created: true, canceled: true, cancel_reason: "mvcc: watcher range is empty" });
  });
});

describe("WatchStreams over real gRPC", () => {
  it("a client that stops reading gets its watches canceled, and the server buffered only a bounded part of the events", async () => {
    const stateMachine = new StoreStateMachine({ memberId: 1, clusterId: 2, minLeaseTtlSeconds: 1, raftTerm: () => 1 });
    const context = { config: { maxRequestBytes: 1 << 20 }, stateMachine, logger: createLogger("test", { level: "silent" }) } as unknown as StoreContext;
    const streams = new WatchStreams(context, { streamStallMsMax: 500 });
    streams.start();
    const server = new Server();
    server.addService(loadEtcdProto().etcdserverpb.Watch.service, streams.service());
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
    );
    const client = new (loadEtcdProto().etcdserverpb.Watch)(`127.0.0.1:${port}`, credentials.createInsecure());
    const call = client.Watch();
    const received: wire.WatchResponse__Output[] = [];
    call.on("data", (response: wire.WatchResponse__Output) => {
      received.push(response);
      if (response.created) call.pause();
    });
    call.on("error", () => undefined);
    try {
      call.write({ create_request: { key: Buffer.from("k") } });
      await vi.waitFor(() => expect(received).toHaveLength(1));
      const value = Buffer.alloc(64 * 1024, 1);
      const eventsWritten = 400;
      for (let index = 1; index <= eventsWritten; index++) {
        stateMachine.apply({ term: 1, index, type: EntryType.Normal, data: encodeClientRequest(PayloadTag.Put, { key: Buffer.from("k"), value }) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      await vi.waitFor(() => expect(stateMachine.watchHub.stats.watchers).toBe(0), { timeout: 5000 });
      call.resume();
      await vi.waitFor(() => expect(received.some((response) => response.canceled)).toBe(true), { timeout: 5000 });
      const canceled = received.find((response) => response.canceled);
      expect(canceled?.cancel_reason).toContain("too slow");
      const delivered = received.reduce((count, response) => count + response.events.length, 0);
      expect(delivered).toBeGreaterThan(0);
      expect(delivered).toBeLessThan(eventsWritten / 4);
    } finally {
      call.cancel();
      client.close();
      server.forceShutdown();
      streams.stop();
    }
  });
});
