/**
 * Raft messages between store members over gRPC (flotilla.raft.Transport in proto/raft.proto).
 *
 * Sending: one Peer per remote member holds one long-lived client stream and a bounded queue.
 * Messages are written in batches without waiting for anything (pipelined); when the queue is
 * full the message is dropped and the peer reported unreachable, as etcd's rafthttp does: Raft
 * retransmits, and the report moves the peer to probing. A failed stream is reopened after a
 * bounded, doubling backoff. Snapshots travel on their own call, in chunks of
 * snapshotChunkBytes, and their outcome is reported back to Raft (reportSnapshot).
 *
 * Receiving: the server checks that each stream and each message is addressed to this member
 * (and this cluster), decodes and validates it, and hands it to the handler synchronously; the
 * handler (the Raft driver) queues it for its own loop.
 */
import { once } from "node:events";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import {
  ChannelCredentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type CallOptions,
  type Client,
  type ClientWritableStream,
  type ServerReadableStream,
  type StatusObject,
  type ServiceError,
  type sendUnaryData,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { assert } from "../../../libs/assert/index.ts";
import { MessageType, type Message, type NodeId, type SnapshotStatus } from "../../../libs/raft/index.ts";
import { crc32c } from "../../../libs/crc32c/index.ts";
import { decodeMessageBatch, encodeMessageBatch } from "./batch-codec.ts";
import { FrameReader, GrpcMessageTooLargeError, grpcFrame, grpcResponseHeaders, respondGrpcStatus, routeGrpcPaths, type GrpcRouteCounters } from "./grpc-routes.ts";

/** What a server handler answers a refused call with (grpc-js's ServerStatusResponse). */
type ServerStatusResponse = Partial<StatusObject>;
import {
  fromWireMessage,
  loadTransportService,
  messageSizeBytes,
  toWireMessage,
  WireError,
  wireInteger,
  type WireMessageBatch,
  type WireSnapshotChunk,
} from "./wire.ts";

export interface TransportHandler {
  /** A message addressed to this member. Must not block: queue it. */
  receive(message: Message): void;
  reportUnreachable(peerId: NodeId): void;
  reportSnapshot(peerId: NodeId, status: SnapshotStatus): void;
  /** Whether `peerId` was removed from the cluster: its streams are refused, telling it so. */
  isRemoved(peerId: NodeId): boolean;
  /** A peer refused this member's stream because this member was removed from the cluster. */
  reportRemoved(byPeerId: NodeId): void;
}

export interface TransportLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface TransportLimits {
  /** Messages waiting for one peer's stream; more are dropped and the peer reported unreachable. */
  readonly peerQueueMessagesMax: number;
  /** Bytes of snapshot data per chunk on the wire. */
  readonly snapshotChunkBytes: number;
  /** Messages and approximate bytes per written batch (at least one message per batch). */
  readonly batchMessagesMax: number;
  readonly batchBytesMax: number;
  readonly reconnectBackoffMsMin: number;
  readonly reconnectBackoffMsMax: number;
  /** A whole snapshot transfer must finish within this. */
  readonly snapshotSendTimeoutMs: number;
  /** Largest snapshot a receiver accepts (it is assembled in memory). */
  readonly snapshotBytesMax: number;
  /** Largest gRPC message the server accepts: a batch, or one large entry. */
  readonly receiveMessageBytesMax: number;
  /** Unreachable reports for one peer are spaced at least this far apart. */
  readonly unreachableReportIntervalMs: number;
}

export const defaultTransportLimits: TransportLimits = {
  peerQueueMessagesMax: 4096,
  snapshotChunkBytes: 1024 * 1024,
  batchMessagesMax: 512,
  batchBytesMax: 4 * 1024 * 1024,
  reconnectBackoffMsMin: 50,
  reconnectBackoffMsMax: 1000,
  snapshotSendTimeoutMs: 5 * 60 * 1000,
  snapshotBytesMax: 2 * 1024 * 1024 * 1024 - 1,
  receiveMessageBytesMax: 64 * 1024 * 1024,
  unreachableReportIntervalMs: 100,
};

export interface TransportOptions {
  readonly localId: NodeId;
  /** When non-zero, streams from another cluster are refused. */
  readonly clusterId?: number;
  /** host:port to listen on; port 0 picks a free one (see `port`). */
  readonly listenAddress: string;
  readonly serverCredentials?: ServerCredentials;
  readonly channelCredentials?: ChannelCredentials;
  readonly limits?: Partial<TransportLimits>;
  readonly handler: TransportHandler;
  readonly logger?: TransportLogger;
  /** More gRPC services served on the peer port (the store serves member discovery there). */
  readonly extraServices?: readonly PeerService[];
}

export interface PeerService {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

const headerFrom = "flotilla-raft-from";
const headerTo = "flotilla-raft-to";
const headerCluster = "flotilla-cluster-id";
/** Trailer on a refusal that means "you were removed from the cluster" (etcd: HTTP 410 Gone). */
const trailerMemberRemoved = "flotilla-raft-member-removed";
const emptyBytes = new Uint8Array(0);

interface TransportClient extends Client {
  SendSnapshot(metadata: Metadata, options: CallOptions, callback: (error: ServiceError | null) => void): ClientWritableStream<WireSnapshotChunk>;
}

/** What every Peer shares with its Transport. */
interface PeerContext {
  readonly localId: NodeId;
  readonly clusterId: number;
  readonly limits: TransportLimits;
  readonly handler: TransportHandler;
  readonly logger: TransportLogger | undefined;
  readonly channelCredentials: ChannelCredentials;
}

const silentLogger: TransportLogger = { debug: () => {}, info: () => {}, warn: () => {} };

export class Transport {
  readonly localId: NodeId;
  readonly port: number;
  readonly #server: Server;
  readonly #context: PeerContext;
  readonly #peers = new Map<NodeId, Peer>();
  readonly #routes: GrpcRouteCounters;
  #closed = false;

  private constructor(server: Server, port: number, context: PeerContext, routes: GrpcRouteCounters) {
    this.localId = context.localId;
    this.port = port;
    this.#server = server;
    this.#context = context;
    this.#routes = routes;
  }

  /** Incoming streams served from node:http2 (the message stream) and passed on to grpc-js. */
  get incomingStreams(): Readonly<GrpcRouteCounters> {
    return this.#routes;
  }

  /** Binds the server and starts serving; peers are added with addPeer()/setPeers(). */
  static async start(options: TransportOptions): Promise<Transport> {
    const limits = { ...defaultTransportLimits, ...options.limits };
    assert(limits.peerQueueMessagesMax > 0 && limits.snapshotChunkBytes > 0 && limits.batchMessagesMax > 0, "transport limits are positive");
    const chunkOverheadBytes = 1024;
    assert(limits.snapshotChunkBytes + chunkOverheadBytes <= limits.receiveMessageBytesMax, "a snapshot chunk fits in one received message", () =>
      `${limits.snapshotChunkBytes} + ${chunkOverheadBytes} > ${limits.receiveMessageBytesMax}`,
    );
    const context: PeerContext = {
      localId: options.localId,
      clusterId: options.clusterId ?? 0,
      limits,
      handler: options.handler,
      logger: options.logger,
      channelCredentials: options.channelCredentials ?? ChannelCredentials.createInsecure(),
    };
    // Channelz stays on for servers: grpc-js 1.14's forceShutdown() only closes the sessions that
    // channelz tracks, so without it a closed transport would keep serving its open streams.
    const server = new Server({ "grpc.max_receive_message_length": limits.receiveMessageBytesMax });
    const receiver = new Receiver(context);
    server.addService(loadTransportService().service, {
      Stream: (call: ServerReadableStream<WireMessageBatch, object>, callback: sendUnaryData<object>) => receiver.stream(call, callback),
      SendSnapshot: (call: ServerReadableStream<WireSnapshotChunk, object>, callback: sendUnaryData<object>) => receiver.snapshot(call, callback),
    });
    for (const service of options.extraServices ?? []) server.addService(service.definition, service.implementation);
    const credentials = options.serverCredentials ?? ServerCredentials.createInsecure();
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.listenAddress, credentials, (error, boundPort) => (error === null ? resolve(boundPort) : reject(error)));
    });
    // The message stream is the busiest path between members: served from node:http2 directly
    // (grpc-routes.ts), not through grpc-js's per-message machinery. Snapshots and the extra
    // services stay on grpc-js.
    const streamMethod = loadTransportService().service["Stream"];
    assert(streamMethod !== undefined, "the Transport service has a Stream method");
    const routes = routeGrpcPaths(server, new Map([[streamMethod.path, (stream, headers) => receiver.fastStream(stream, headers)]]));
    return new Transport(server, port, context, routes);
  }

  /** Adds a peer, or moves it to a new address. */
  addPeer(id: NodeId, address: string): void {
    if (this.#closed || id === this.localId) return;
    const existing = this.#peers.get(id);
    if (existing?.address === address) return;
    existing?.close();
    this.#peers.set(id, new Peer(id, address, this.#context));
  }

  removePeer(id: NodeId): void {
    this.#peers.get(id)?.close();
    this.#peers.delete(id);
  }

  /** Makes the peer set equal to `peers` (this member's own entry is ignored). */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    for (const id of [...this.#peers.keys()]) if (!peers.has(id)) this.removePeer(id);
    for (const [id, address] of peers) this.addPeer(id, address);
  }

  peerIds(): NodeId[] {
    return [...this.#peers.keys()];
  }

  /** Queues messages for their peers and starts writing; never blocks, never throws for a peer. */
  send(messages: readonly Message[]): void {
    if (this.#closed) return;
    const touched = new Set<Peer>();
    for (const message of messages) {
      const peer = this.#peers.get(message.to);
      if (peer === undefined) {
        (this.#context.logger ?? silentLogger).debug(`raft transport: no address for member ${message.to}; dropping ${MessageType[message.type]}`);
        this.#context.handler.reportUnreachable(message.to);
        continue;
      }
      peer.enqueue(message);
      touched.add(peer);
    }
    for (const peer of touched) peer.pump();
  }

  /** Cancels every stream and stops the server; in-flight messages are lost (Raft retransmits). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.#server.forceShutdown();
    return Promise.resolve();
  }
}

/** "http://host:port" (a peer URL, as in --initial-cluster) or "host:port" -> a gRPC target. */
export function peerTarget(address: string): string {
  if (!address.includes("://")) return address;
  const url = new URL(address);
  return url.host;
}

function peerMetadata(context: PeerContext, to: NodeId): Metadata {
  const metadata = new Metadata();
  metadata.set(headerFrom, String(context.localId));
  metadata.set(headerTo, String(to));
  if (context.clusterId !== 0) metadata.set(headerCluster, String(context.clusterId));
  return metadata;
}

/** The sending side for one remote member. */
class Peer {
  readonly id: NodeId;
  readonly address: string;
  readonly #context: PeerContext;
  readonly #client: TransportClient;
  readonly #queue: Message[] = [];
  #stream: ClientWritableStream<Buffer> | undefined;
  #awaitingDrain = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #snapshotInFlight = false;
  #lastUnreachableReportMs = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(id: NodeId, address: string, context: PeerContext) {
    this.id = id;
    this.address = address;
    this.#context = context;
    this.#backoffMs = context.limits.reconnectBackoffMsMin;
    const Client = loadTransportService();
    this.#client = new Client(peerTarget(address), context.channelCredentials, {
      "grpc.max_send_message_length": context.limits.receiveMessageBytesMax,
      "grpc.initial_reconnect_backoff_ms": context.limits.reconnectBackoffMsMin,
      "grpc.max_reconnect_backoff_ms": context.limits.reconnectBackoffMsMax,
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
      // Each peer gets its own connection state: a restarted member is dialled afresh.
      "grpc.use_local_subchannel_pool": 1,
      // Per-call statistics nobody reads here (the servers keep theirs: see Transport.start).
      "grpc.enable_channelz": 0,
    }) as unknown as TransportClient;
  }

  get #logger(): TransportLogger {
    return this.#context.logger ?? silentLogger;
  }

  enqueue(message: Message): void {
    if (this.#closed) return;
    if (message.type === MessageType.Snap) {
      this.#startSnapshot(message);
      return;
    }
    if (this.#queue.length >= this.#context.limits.peerQueueMessagesMax) {
      this.#reportUnreachable(`queue of ${this.#queue.length} messages is full`);
      return;
    }
    this.#queue.push(message);
  }

  /** Writes queued messages in batches until the queue is empty or the stream pushes back. */
  pump(): void {
    if (this.#closed || this.#queue.length === 0 || this.#awaitingDrain || this.#retryTimer !== undefined) return;
    const stream = this.#stream ?? this.#open();
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      const writable = stream.write(encodeMessageBatch(batch));
      if (!writable) {
        this.#awaitingDrain = true;
        stream.once("drain", () => {
          this.#awaitingDrain = false;
          this.pump();
        });
        return;
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#stream?.cancel();
    this.#stream = undefined;
    this.#client.close();
  }

  #takeBatch(): Message[] {
    const { batchMessagesMax, batchBytesMax } = this.#context.limits;
    let count = 0;
    let bytes = 0;
    for (const message of this.#queue) {
      const size = messageSizeBytes(message);
      if (count > 0 && (count >= batchMessagesMax || bytes + size > batchBytesMax)) break;
      count += 1;
      bytes += size;
    }
    return this.#queue.splice(0, count);
  }

  #open(): ClientWritableStream<Buffer> {
    // Batches are encoded by batch-codec.ts, so the call's serializer passes the bytes through.
    const stream = this.#client.makeClientStreamRequest<Buffer, unknown>(streamMethodPath(), passBytes, ignoreResponse, peerMetadata(this.#context, this.id), (error) =>
      this.#onStreamEnd(stream, error),
    );
    // The server sends headers once it has accepted the stream: the peer is reachable again.
    stream.on("metadata", () => {
      this.#backoffMs = this.#context.limits.reconnectBackoffMsMin;
    });
    this.#stream = stream;
    return stream;
  }

  #onStreamEnd(stream: ClientWritableStream<Buffer>, error: ServiceError | null): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#awaitingDrain = false;
    if (this.#closed) return;
    if (error === null) {
      this.pump();
      return;
    }
    if (error.metadata.get(trailerMemberRemoved).length > 0) {
      this.#logger.warn(`raft transport: member ${this.id} says this member (${this.#context.localId}) was removed from the cluster`);
      this.#context.handler.reportRemoved(this.id);
    }
    // What was queued is stale by the time a new stream is up; Raft resends what still matters.
    this.#queue.length = 0;
    this.#reportUnreachable(`stream failed: ${error.details || error.message}`);
    const delayMs = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#context.limits.reconnectBackoffMsMax);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.pump();
    }, delayMs);
  }

  #reportUnreachable(reason: string): void {
    const nowMs = Date.now();
    if (nowMs - this.#lastUnreachableReportMs < this.#context.limits.unreachableReportIntervalMs) return;
    this.#lastUnreachableReportMs = nowMs;
    this.#logger.debug(`raft transport: member ${this.id} at ${this.address} unreachable: ${reason}`);
    this.#context.handler.reportUnreachable(this.id);
  }

  #startSnapshot(message: Message): void {
    // Raft sends the next snapshot to a peer only after hearing how the last one went.
    if (this.#snapshotInFlight) {
      this.#logger.debug(`raft transport: a snapshot to member ${this.id} is already in flight; dropping another`);
      return;
    }
    this.#snapshotInFlight = true;
    void this.#sendSnapshot(message).finally(() => {
      this.#snapshotInFlight = false;
    });
  }

  async #sendSnapshot(message: Message): Promise<void> {
    try {
      await this.#streamSnapshot(message);
      this.#logger.info(`raft transport: sent snapshot at index ${message.snapshot?.metadata.index} to member ${this.id}`);
      this.#context.handler.reportSnapshot(this.id, "finish");
    } catch (error) {
      if (this.#closed) return;
      this.#logger.warn(`raft transport: snapshot to member ${this.id} failed: ${error instanceof Error ? error.message : String(error)}`);
      this.#reportUnreachable("snapshot failed");
      this.#context.handler.reportSnapshot(this.id, "failure");
    }
  }

  async #streamSnapshot(message: Message): Promise<void> {
    const snapshot = message.snapshot;
    assert(snapshot !== undefined, "a snapshot message carries a snapshot");
    const data = snapshot.data;
    const { snapshotChunkBytes, snapshotSendTimeoutMs } = this.#context.limits;
    let settle: (error: ServiceError | null) => void = () => {};
    const result = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === null ? resolve() : reject(error));
    });
    result.catch(() => {}); // observed below; this only keeps an early failure from going unhandled
    const options: CallOptions = { deadline: Date.now() + snapshotSendTimeoutMs };
    const call = this.#client.SendSnapshot(peerMetadata(this.#context, this.id), options, (error) => settle(error));
    const header = toWireMessage({ ...message, snapshot: { metadata: snapshot.metadata, data: emptyBytes } });
    let offset = 0;
    do {
      const piece = data.subarray(offset, offset + snapshotChunkBytes);
      const chunk: WireSnapshotChunk =
        offset === 0 ? { message: header, totalBytes: data.length, dataCrc32c: crc32c(data), data: piece } : { message: null, totalBytes: 0, dataCrc32c: 0, data: piece };
      offset += piece.length;
      if (!call.write(chunk)) await Promise.race([once(call, "drain"), result]);
      if (this.#closed) call.cancel();
    } while (offset < data.length);
    call.end();
    await result;
  }
}

/** The serving side: checks, decodes and delivers. */
class Receiver {
  readonly #context: PeerContext;

  constructor(context: PeerContext) {
    this.#context = context;
  }

  stream(call: ServerReadableStream<WireMessageBatch, object>, callback: sendUnaryData<object>): void {
    const refusal = this.#checkCaller(call.metadata);
    if (refusal !== undefined) {
      callback(refusal);
      return;
    }
    const from = wireInteger(call.metadata.get(headerFrom)[0] as string, headerFrom);
    call.sendMetadata(new Metadata());
    let finished = false;
    call.on("data", (batch: WireMessageBatch) => {
      if (finished) return;
      try {
        for (const message of batch.messages.map(fromWireMessage)) this.#deliver(message, from);
      } catch (error) {
        finished = true;
        callback(refusalFrom(error));
      }
    });
    call.on("end", () => {
      if (finished) return;
      finished = true;
      callback(null, {});
    });
    call.on("error", () => {
      finished = true;
    });
  }

  /**
   * The same as stream() for a call served from node:http2 (routeGrpcPaths): the caller's
   * identity from the request headers, MessageBatch frames delivered as they arrive, the outcome
   * in trailers (a refusal naming the member removed, as the grpc-js path does).
   */
  fastStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const refusal = this.#checkIds(headerValue(headers[headerFrom]), headerValue(headers[headerTo]), headerValue(headers[headerCluster]));
    if (refusal !== undefined) {
      respondGrpcStatus(stream, refusal.code ?? status.INTERNAL, refusal.details ?? "", statusHeaders(refusal));
      return;
    }
    const from = wireInteger(headerValue(headers[headerFrom]) as string, headerFrom);
    let trailers: Record<string, string> = okTrailers;
    let finished = false;
    const finish = (response: ServerStatusResponse | null): void => {
      if (finished) return;
      finished = true;
      if (stream.destroyed || stream.closed) return;
      if (response === null) {
        stream.end(transportAckFrame());
        return;
      }
      trailers = { "grpc-status": String(response.code ?? status.INTERNAL), "grpc-message": encodeURI(response.details ?? ""), ...statusHeaders(response) };
      stream.end();
    };
    stream.respond(grpcResponseHeaders, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    const reader = new FrameReader(this.#context.limits.receiveMessageBytesMax);
    const decode = transportBatchDecoder();
    const onMessage = (bytes: Buffer): void => {
      if (finished) return;
      // A batch with a snapshot in it (never sent by this code) goes through proto-loader.
      const messages = decodeMessageBatch(bytes) ?? decode(bytes).messages.map(fromWireMessage);
      for (const message of messages) this.#deliver(message, from);
    };
    stream.on("data", (chunk: Buffer) => {
      if (finished) return;
      try {
        reader.push(chunk, onMessage);
      } catch (error) {
        finish(error instanceof GrpcMessageTooLargeError ? { code: status.RESOURCE_EXHAUSTED, details: error.message } : refusalFrom(error));
      }
    });
    stream.on("end", () => finish(null));
    stream.on("close", () => {
      finished = true;
    });
  }

  snapshot(call: ServerReadableStream<WireSnapshotChunk, object>, callback: sendUnaryData<object>): void {
    const refusal = this.#checkCaller(call.metadata);
    if (refusal !== undefined) {
      callback(refusal);
      return;
    }
    const from = wireInteger(call.metadata.get(headerFrom)[0] as string, headerFrom);
    const assembly = new SnapshotAssembly(this.#context.localId, from, this.#context.limits.snapshotBytesMax);
    let finished = false;
    const finish = (response: ServerStatusResponse | null): void => {
      if (finished) return;
      finished = true;
      if (response === null) callback(null, {});
      else callback(response);
    };
    call.on("data", (chunk: WireSnapshotChunk) => {
      if (finished) return;
      try {
        assembly.add(chunk);
      } catch (error) {
        finish(refusalFrom(error));
      }
    });
    call.on("end", () => {
      if (finished) return;
      try {
        this.#deliver(assembly.finish(), from);
        finish(null);
      } catch (error) {
        finish(refusalFrom(error));
      }
    });
    call.on("error", () => {
      finished = true;
    });
  }

  #deliver(message: Message, streamFrom: NodeId): void {
    if (message.to !== this.#context.localId) throw new WireError(`message addressed to member ${message.to}, but this is member ${this.#context.localId}`);
    if (message.from !== streamFrom) throw new WireError(`message from member ${message.from} on the stream of member ${streamFrom}`);
    if (this.#context.handler.isRemoved(message.from)) throw new MemberRemovedRefusal(message.from);
    this.#context.handler.receive(message);
  }

  #checkCaller(metadata: Metadata): ServerStatusResponse | undefined {
    const [from] = metadata.get(headerFrom);
    const [to] = metadata.get(headerTo);
    const [cluster] = metadata.get(headerCluster);
    return this.#checkIds(typeof from === "string" ? from : undefined, typeof to === "string" ? to : undefined, typeof cluster === "string" ? cluster : undefined);
  }

  #checkIds(from: string | undefined, to: string | undefined, cluster: string | undefined): ServerStatusResponse | undefined {
    if (from === undefined || to === undefined) return { code: status.INVALID_ARGUMENT, details: `missing ${headerFrom} or ${headerTo}` };
    if (to !== String(this.#context.localId)) {
      return { code: status.FAILED_PRECONDITION, details: `stream addressed to member ${to}, but this is member ${this.#context.localId}` };
    }
    if (this.#context.clusterId !== 0 && cluster !== undefined && cluster !== String(this.#context.clusterId)) {
      return { code: status.FAILED_PRECONDITION, details: `stream from cluster ${String(cluster)}, but this is cluster ${this.#context.clusterId}` };
    }
    let fromId: NodeId;
    try {
      fromId = wireInteger(from, headerFrom);
    } catch (error) {
      return refusalFrom(error);
    }
    if (fromId === 0) return { code: status.INVALID_ARGUMENT, details: `${headerFrom} must name a member` };
    if (this.#context.handler.isRemoved(fromId)) return refusalFrom(new MemberRemovedRefusal(fromId));
    return undefined;
  }
}

const okTrailers: Record<string, string> = { "grpc-status": "0" };

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A refusal's metadata (the member-removed trailer) as HTTP/2 headers. */
function statusHeaders(response: ServerStatusResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.metadata?.toHttp2Headers() ?? {})) {
    if (typeof value === "string") headers[key] = value;
    else if (Array.isArray(value)) headers[key] = value.join(", ");
  }
  return headers;
}

let ackFrame: Buffer | undefined;

/** The one TransportAck a client-streaming call answers with when it ends well. */
function transportAckFrame(): Buffer {
  const method = loadTransportService().service["Stream"];
  assert(method !== undefined, "the Transport service has a Stream method");
  ackFrame ??= grpcFrame(method.responseSerialize({}));
  return ackFrame;
}

function streamMethodPath(): string {
  const method = loadTransportService().service["Stream"];
  assert(method !== undefined, "the Transport service has a Stream method");
  return method.path;
}

const passBytes = (bytes: Buffer): Buffer => bytes;
/** The stream's one response (TransportAck) carries nothing the sender reads. */
const ignoreResponse = (): undefined => undefined;

function transportBatchDecoder(): (bytes: Buffer) => WireMessageBatch {
  const method = loadTransportService().service["Stream"];
  assert(method !== undefined, "the Transport service has a Stream method");
  return method.requestDeserialize as (bytes: Buffer) => WireMessageBatch;
}

class MemberRemovedRefusal extends Error {
  constructor(memberId: NodeId) {
    super(`member ${memberId} was removed from the cluster`);
    this.name = "MemberRemovedRefusal";
  }
}

function refusalFrom(error: unknown): ServerStatusResponse {
  const details = error instanceof Error ? error.message : String(error);
  if (error instanceof MemberRemovedRefusal) {
    const metadata = new Metadata();
    metadata.set(trailerMemberRemoved, "1");
    return { code: status.FAILED_PRECONDITION, details, metadata };
  }
  return { code: error instanceof WireError ? status.FAILED_PRECONDITION : status.INTERNAL, details };
}

/** Collects a snapshot's chunks into one buffer, checking length and checksum. */
class SnapshotAssembly {
  readonly #localId: NodeId;
  readonly #from: NodeId;
  readonly #bytesMax: number;
  #message: Message | undefined;
  #data: Uint8Array = emptyBytes;
  #dataCrc32c = 0;
  #receivedBytes = 0;

  constructor(localId: NodeId, from: NodeId, bytesMax: number) {
    this.#localId = localId;
    this.#from = from;
    this.#bytesMax = bytesMax;
  }

  add(chunk: WireSnapshotChunk): void {
    if (this.#message === undefined) this.#start(chunk);
    else if (chunk.message !== null) throw new WireError("a later snapshot chunk carries a message");
    if (this.#receivedBytes + chunk.data.length > this.#data.length) {
      throw new WireError(`snapshot data exceeds its announced ${this.#data.length} bytes`);
    }
    this.#data.set(chunk.data, this.#receivedBytes);
    this.#receivedBytes += chunk.data.length;
  }

  #start(chunk: WireSnapshotChunk): void {
    if (chunk.message === null) throw new WireError("the first snapshot chunk carries no message");
    const message = fromWireMessage(chunk.message);
    if (message.type !== MessageType.Snap || message.snapshot === undefined) throw new WireError("the first snapshot chunk is not a snapshot message");
    if (message.to !== this.#localId || message.from !== this.#from) throw new WireError(`snapshot from ${message.from} to ${message.to} on the wrong stream`);
    const totalBytes = wireInteger(chunk.totalBytes, "snapshot total bytes");
    if (totalBytes > this.#bytesMax) throw new WireError(`snapshot of ${totalBytes} bytes exceeds the limit of ${this.#bytesMax}`);
    this.#message = message;
    this.#data = new Uint8Array(totalBytes);
    this.#dataCrc32c = chunk.dataCrc32c;
  }

  finish(): Message {
    const message = this.#message;
    if (message === undefined || message.snapshot === undefined) throw new WireError("snapshot stream ended before its first chunk");
    if (this.#receivedBytes !== this.#data.length) throw new WireError(`snapshot stream ended after ${this.#receivedBytes} of ${this.#data.length} bytes`);
    const computed = crc32c(this.#data);
    if (computed !== this.#dataCrc32c) throw new WireError(`snapshot data checksum mismatch (sent 0x${this.#dataCrc32c.toString(16)}, received 0x${computed.toString(16)})`);
    return { ...message, snapshot: { metadata: message.snapshot.metadata, data: this.#data } };
  }
}
