import { credentials, Metadata, status, type Client, type ClientWritableStream, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { MessageType, type Message, type NodeId, type SnapshotStatus } from "../../../libs/raft/index.ts";
import { testEntries, testMessage, waitUntil } from "./test-helpers.ts";
import { peerTarget, Transport, type TransportLimits } from "./transport.ts";
import { loadTransportService, toWireMessage, type WireMessageBatch } from "./wire.ts";

/** Records everything a Transport hands to its Raft driver. */
class RecordingHandler {
  readonly received: Message[] = [];
  readonly unreachable: NodeId[] = [];
  readonly snapshots: Array<[NodeId, SnapshotStatus]> = [];
  receive(message: Message): void {
    this.received.push(message);
  }
  reportUnreachable(peerId: NodeId): void {
    this.unreachable.push(peerId);
  }
  reportSnapshot(peerId: NodeId, snapshotStatus: SnapshotStatus): void {
    this.snapshots.push([peerId, snapshotStatus]);
  }
  readonly removedPeers = new Set<NodeId>();
  readonly removedReports: NodeId[] = [];
  isRemoved(peerId: NodeId): boolean {
    return this.removedPeers.has(peerId);
  }
  reportRemoved(byPeerId: NodeId): void {
    this.removedReports.push(byPeerId);
  }
}

const waitMs = 10_000;

describe("Transport", () => {
  const started: Transport[] = [];

  async function start(localId: NodeId, limits: Partial<TransportLimits> = {}, port = 0): Promise<{ transport: Transport; handler: RecordingHandler }> {
    const handler = new RecordingHandler();
    const transport = await Transport.start({ localId, listenAddress: `127.0.0.1:${port}`, handler, limits });
    started.push(transport);
    return { transport, handler };
  }

  afterEach(async () => {
    for (const transport of started.splice(0)) await transport.close();
  });

  it("delivers messages in order, with their entries, on one stream", async () => {
    const one = await start(1);
    const two = await start(2);
    one.transport.addPeer(2, `http://127.0.0.1:${two.transport.port}`);
    const sent: Message[] = [];
    for (let i = 0; i < 300; i++) sent.push(testMessage({ from: 1, to: 2, index: i, commit: i, entries: testEntries(i + 1, 3, 2), context: Uint8Array.of(i & 0xff) }));
    for (let start = 0; start < sent.length; start += 50) one.transport.send(sent.slice(start, start + 50));
    await waitUntil(() => two.handler.received.length === sent.length, { timeoutMs: waitMs, description: "all messages delivered" });
    expect(two.handler.received.map((message) => message.index)).toEqual(sent.map((message) => message.index));
    const last = two.handler.received.at(-1) as Message;
    expect(last.entries.map((entry) => [entry.index, entry.term, new TextDecoder().decode(entry.data)])).toEqual([
      [300, 2, "entry 300"],
      [301, 2, "entry 301"],
      [302, 2, "entry 302"],
    ]);
    expect(Array.from(last.context)).toEqual([299 & 0xff]);
    expect(one.handler.unreachable).toEqual([]);
    // The message stream is served from node:http2, not passed on to grpc-js.
    expect(two.transport.incomingStreams).toEqual({ routed: 1, passedOn: 0 });
  });

  it("refuses a stream addressed to another member id, and the sender reports the peer unreachable", async () => {
    const one = await start(1);
    const two = await start(2);
    // Member 1 believes member 3 lives at member 2's address.
    one.transport.addPeer(3, `127.0.0.1:${two.transport.port}`);
    one.transport.send([testMessage({ from: 1, to: 3, type: MessageType.Heartbeat })]);
    await waitUntil(() => one.handler.unreachable.includes(3), { timeoutMs: waitMs, description: "member 3 reported unreachable" });
    expect(two.handler.received).toEqual([]);
  });

  it("refuses a message whose `to` names another member, even on a correctly addressed stream", async () => {
    const two = await start(2);
    const Client = loadTransportService();
    const client = new Client(`127.0.0.1:${two.transport.port}`, credentials.createInsecure()) as unknown as Client & {
      Stream(metadata: Metadata, callback: (error: ServiceError | null) => void): ClientWritableStream<WireMessageBatch>;
    };
    const metadata = new Metadata();
    metadata.set("flotilla-raft-from", "1");
    metadata.set("flotilla-raft-to", "2");
    try {
      const outcome = new Promise<ServiceError | null>((resolve) => {
        const stream = client.Stream(metadata, resolve);
        stream.write({ messages: [toWireMessage(testMessage({ from: 1, to: 7 }))] });
        stream.end();
      });
      const error = await outcome;
      expect(error?.code).toBe(status.FAILED_PRECONDITION);
      expect(error?.details).toMatch(/addressed to member 7, but this is member 2/);
      expect(two.handler.received).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("tells a member removed from the cluster so when it opens a stream, and delivers nothing from it", async () => {
    const one = await start(1);
    const two = await start(2);
    two.handler.removedPeers.add(1);
    one.transport.addPeer(2, `127.0.0.1:${two.transport.port}`);
    one.transport.send([testMessage({ from: 1, to: 2, type: MessageType.PreVote })]);
    await waitUntil(() => one.handler.removedReports.length > 0, { timeoutMs: waitMs, description: "the removal to be reported" });
    expect(one.handler.removedReports).toEqual([2]);
    expect(two.handler.received).toEqual([]);
  });

  it("streams a snapshot larger than one gRPC message in chunks and reports it finished", async () => {
    const limits = { snapshotChunkBytes: 16 * 1024, receiveMessageBytesMax: 64 * 1024 };
    const one = await start(1, limits);
    const two = await start(2, limits);
    one.transport.addPeer(2, `127.0.0.1:${two.transport.port}`);
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const metadata = { index: 500, term: 4, confState: { voters: [1, 2, 3], learners: [4] } };
    one.transport.send([testMessage({ from: 1, to: 2, type: MessageType.Snap, term: 4, snapshot: { data, metadata } })]);
    await waitUntil(() => one.handler.snapshots.length > 0, { timeoutMs: waitMs, description: "snapshot outcome" });
    expect(one.handler.snapshots).toEqual([[2, "finish"]]);
    const received = two.handler.received[0];
    expect(received?.type).toBe(MessageType.Snap);
    expect(received?.snapshot?.metadata).toEqual(metadata);
    expect(Buffer.from(received?.snapshot?.data ?? []).equals(Buffer.from(data))).toBe(true);
  });

  it("reports a snapshot as failed when the peer cannot be reached", async () => {
    const one = await start(1);
    const gone = await start(2);
    const port = gone.transport.port;
    await gone.transport.close();
    one.transport.addPeer(2, `127.0.0.1:${port}`);
    const snapshot = { data: new Uint8Array(10), metadata: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } } };
    one.transport.send([testMessage({ from: 1, to: 2, type: MessageType.Snap, snapshot })]);
    await waitUntil(() => one.handler.snapshots.length > 0, { timeoutMs: waitMs, description: "snapshot outcome" });
    expect(one.handler.snapshots).toEqual([[2, "failure"]]);
    expect(one.handler.unreachable).toContain(2);
  });

  it("drops messages past the peer queue bound and reports the peer unreachable for each", async () => {
    const one = await start(1, { peerQueueMessagesMax: 10, reconnectBackoffMsMin: 60_000, reconnectBackoffMsMax: 60_000, unreachableReportIntervalMs: 0 });
    const gone = await start(2);
    const port = gone.transport.port;
    await gone.transport.close();
    one.transport.addPeer(2, `127.0.0.1:${port}`);
    one.transport.send([testMessage({ from: 1, to: 2 })]);
    // The stream fails; the peer now waits out its (long) backoff with an empty queue.
    await waitUntil(() => one.handler.unreachable.length === 1, { timeoutMs: waitMs, description: "stream failure reported" });
    const messages = Array.from({ length: 25 }, (_, i) => testMessage({ from: 1, to: 2, index: i }));
    one.transport.send(messages);
    expect(one.handler.unreachable).toHaveLength(1 + 15);
  });

  it("reconnects to a member that comes back on the same address", async () => {
    const one = await start(1, { reconnectBackoffMsMin: 20, reconnectBackoffMsMax: 100 });
    const first = await start(2);
    const port = first.transport.port;
    one.transport.addPeer(2, `127.0.0.1:${port}`);
    one.transport.send([testMessage({ from: 1, to: 2, index: 1 })]);
    await waitUntil(() => first.handler.received.length === 1, { timeoutMs: waitMs, description: "first delivery" });
    await first.transport.close();
    const second = await start(2, {}, port);
    let index = 2;
    await waitUntil(
      () => {
        one.transport.send([testMessage({ from: 1, to: 2, index: index++ })]);
        return second.handler.received.length > 0;
      },
      { timeoutMs: waitMs, intervalMs: 20, description: "delivery after the restart" },
    );
    expect(second.handler.received[0]?.from).toBe(1);
  });
});

describe("peerTarget", () => {
  it("turns a peer URL into a gRPC target and leaves host:port alone", () => {
    expect(peerTarget("http://10.0.0.1:2380")).toBe("10.0.0.1:2380");
    expect(peerTarget("https://[::1]:2380")).toBe("[::1]:2380");
    expect(peerTarget("node-a:2380")).toBe("node-a:2380");
  });
});
