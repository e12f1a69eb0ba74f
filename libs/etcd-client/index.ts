/**
 * A small etcd v3 client over @grpc/grpc-js: what Flotilla's API server, chaos tests and
 * benchmarks need, against Flotilla's store or a real etcd alike. Calls carry deadlines; errors
 * surface unchanged so callers can tell "failed" from "unknown outcome" (a deadline or a broken
 * connection after the request left). A failed connection moves later calls to the next endpoint.
 */
import { credentials as grpcCredentials, status as grpcStatus, type ChannelCredentials, type ServiceError, type ClientDuplexStream } from "@grpc/grpc-js";
import { loadEtcdProto } from "../etcdpb/index.ts";
import type {
  CompactionResponse__Output,
  DeleteRangeRequest,
  DeleteRangeResponse__Output,
  LeaseGrantResponse__Output,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse__Output,
  LeaseRevokeResponse__Output,
  LeaseTimeToLiveResponse__Output,
  MemberListResponse__Output,
  MoveLeaderResponse__Output,
  PutRequest,
  PutResponse__Output,
  RangeRequest,
  RangeResponse__Output,
  StatusResponse__Output,
  TxnRequest,
  TxnResponse__Output,
  WatchCreateRequest,
  WatchRequest,
  WatchResponse__Output,
} from "../etcdpb/index.ts";
import type { KVClient } from "../etcdpb/gen/etcdserverpb/KV.ts";
import type { WatchClient } from "../etcdpb/gen/etcdserverpb/Watch.ts";
import type { LeaseClient } from "../etcdpb/gen/etcdserverpb/Lease.ts";
import type { ClusterClient } from "../etcdpb/gen/etcdserverpb/Cluster.ts";
import type { MaintenanceClient } from "../etcdpb/gen/etcdserverpb/Maintenance.ts";

export interface EtcdClientOptions {
  /** host:port or http(s)://host:port, tried in order. */
  readonly endpoints: readonly string[];
  readonly requestTimeoutMs?: number;
  readonly credentials?: ChannelCredentials;
}

interface Channel {
  readonly endpoint: string;
  readonly kv: KVClient;
  readonly watch: WatchClient;
  readonly lease: LeaseClient;
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;
}

const defaultRequestTimeoutMs = 5000;
/** Bound on events buffered per watch before the consumer reads them; past it the watch fails. */
export const watchBufferResponsesMax = 10_000;

/** The smallest key greater than every key with this prefix, as etcd's `--prefix` computes it. */
export function prefixEnd(prefix: Uint8Array | string): Buffer {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if ((bytes[i] ?? 0) < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = (end[i] ?? 0) + 1;
      return end;
    }
  }
  return Buffer.from([0]); // every byte is 0xff: the range is "to the end of the key space".
}

export function isUnavailable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as ServiceError).code === grpcStatus.UNAVAILABLE;
}

/**
 * The largest response accepted: etcd's Go client allows math.MaxInt32 (a list of every pod in a
 * large cluster is one Range response); gRPC's 4 MiB default broke unpaged lists near 4 000 pods.
 */
export const receiveMessageBytesMax = 2_147_483_647;

export class EtcdClient {
  readonly #channels: Channel[];
  readonly #requestTimeoutMs: number;
  #current = 0;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error("EtcdClient: endpoints must not be empty");
    const proto = loadEtcdProto().etcdserverpb;
    const credentials = options.credentials ?? grpcCredentials.createInsecure();
    this.#requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.#channels = options.endpoints.map((endpoint) => {
      const address = endpoint.replace(/^[a-z]+:\/\//, "").replace(/\/$/, "");
      const channelOptions = { "grpc.max_receive_message_length": receiveMessageBytesMax };
      return {
        endpoint,
        kv: new proto.KV(address, credentials, channelOptions),
        watch: new proto.Watch(address, credentials, channelOptions),
        lease: new proto.Lease(address, credentials, channelOptions),
        cluster: new proto.Cluster(address, credentials, channelOptions),
        maintenance: new proto.Maintenance(address, credentials, channelOptions),
      };
    });
  }

  get endpoints(): string[] {
    return this.#channels.map((channel) => channel.endpoint);
  }

  close(): void {
    for (const channel of this.#channels) {
      for (const client of [channel.kv, channel.watch, channel.lease, channel.cluster, channel.maintenance]) client.close();
    }
  }

  #channel(endpoint?: string): Channel {
    if (endpoint !== undefined) {
      const found = this.#channels.find((channel) => channel.endpoint === endpoint);
      if (found === undefined) throw new Error(`EtcdClient: unknown endpoint ${endpoint}`);
      return found;
    }
    return this.#channels[this.#current % this.#channels.length] as Channel;
  }

  /** One unary call with a deadline; an UNAVAILABLE failure rotates later calls to the next endpoint. */
  async #unary<Response>(
    call: (channel: Channel, deadline: Date, done: (error: ServiceError | null, response?: Response) => void) => void,
    endpoint?: string,
    timeoutMs = this.#requestTimeoutMs,
  ): Promise<Response> {
    const channel = this.#channel(endpoint);
    return new Promise((resolve, reject) => {
      call(channel, new Date(Date.now() + timeoutMs), (error, response) => {
        if (error !== null) {
          if (error.code === grpcStatus.UNAVAILABLE && endpoint === undefined) this.#current++;
          reject(error);
          return;
        }
        resolve(response as Response);
      });
    });
  }

  /** `timeoutMs` overrides the client's deadline for this call (a large list may need longer). */
  async range(request: RangeRequest, endpoint?: string, timeoutMs?: number): Promise<RangeResponse__Output> {
    return this.#unary<RangeResponse__Output>((c, deadline, done) => c.kv.Range(request, { deadline }, done), endpoint, timeoutMs);
  }

  async get(key: string | Uint8Array, options: { serializable?: boolean } = {}): Promise<Buffer | undefined> {
    const response = await this.range({ key: Buffer.from(key), serializable: options.serializable ?? false });
    return response.kvs[0]?.value;
  }

  async put(request: PutRequest): Promise<PutResponse__Output> {
    return this.#unary<PutResponse__Output>((c, deadline, done) => c.kv.Put(request, { deadline }, done));
  }

  async deleteRange(request: DeleteRangeRequest): Promise<DeleteRangeResponse__Output> {
    return this.#unary<DeleteRangeResponse__Output>((c, deadline, done) => c.kv.DeleteRange(request, { deadline }, done));
  }

  async txn(request: TxnRequest): Promise<TxnResponse__Output> {
    return this.#unary<TxnResponse__Output>((c, deadline, done) => c.kv.Txn(request, { deadline }, done));
  }

  async compact(revision: number, physical = false): Promise<CompactionResponse__Output> {
    return this.#unary<CompactionResponse__Output>((c, deadline, done) => c.kv.Compact({ revision, physical }, { deadline }, done));
  }

  async leaseGrant(ttlSeconds: number, id = "0"): Promise<LeaseGrantResponse__Output> {
    return this.#unary<LeaseGrantResponse__Output>((c, deadline, done) => c.lease.LeaseGrant({ TTL: ttlSeconds, ID: id }, { deadline }, done));
  }

  async leaseRevoke(id: string): Promise<LeaseRevokeResponse__Output> {
    return this.#unary<LeaseRevokeResponse__Output>((c, deadline, done) => c.lease.LeaseRevoke({ ID: id }, { deadline }, done));
  }

  async leaseTimeToLive(id: string, keys = false): Promise<LeaseTimeToLiveResponse__Output> {
    return this.#unary<LeaseTimeToLiveResponse__Output>((c, deadline, done) => c.lease.LeaseTimeToLive({ ID: id, keys }, { deadline }, done));
  }

  /** Renews a lease once over a short-lived keep-alive stream. */
  async leaseKeepAliveOnce(id: string): Promise<LeaseKeepAliveResponse__Output> {
    const stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse__Output> = this.#channel().lease.LeaseKeepAlive({
      deadline: new Date(Date.now() + this.#requestTimeoutMs),
    });
    return new Promise((resolve, reject) => {
      stream.once("data", (response: LeaseKeepAliveResponse__Output) => {
        stream.end();
        resolve(response);
      });
      stream.once("error", reject);
      stream.write({ ID: id });
    });
  }

  async memberList(endpoint?: string): Promise<MemberListResponse__Output> {
    return this.#unary<MemberListResponse__Output>((c, deadline, done) => c.cluster.MemberList({}, { deadline }, done), endpoint);
  }

  async status(endpoint?: string): Promise<StatusResponse__Output> {
    return this.#unary<StatusResponse__Output>((c, deadline, done) => c.maintenance.Status({}, { deadline }, done), endpoint);
  }

  async moveLeader(targetId: string, endpoint?: string): Promise<MoveLeaderResponse__Output> {
    return this.#unary<MoveLeaderResponse__Output>((c, deadline, done) => c.maintenance.MoveLeader({ targetID: targetId }, { deadline }, done), endpoint);
  }

  /** Opens a watch on its own stream; events arrive through the returned Watch. */
  watch(create: WatchCreateRequest, endpoint?: string): Watch {
    return new Watch(this.#channel(endpoint).watch.Watch(), create);
  }
}

/** One watch: an async iterator over its responses, with a bounded buffer. */
export class Watch implements AsyncIterable<WatchResponse__Output> {
  readonly #stream: ClientDuplexStream<WatchRequest, WatchResponse__Output>;
  readonly #buffer: WatchResponse__Output[] = [];
  #waiter: (() => void) | undefined;
  #error: Error | undefined;
  #ended = false;
  watchId: string | undefined;

  constructor(stream: ClientDuplexStream<WatchRequest, WatchResponse__Output>, create: WatchCreateRequest) {
    this.#stream = stream;
    stream.on("data", (response: WatchResponse__Output) => this.#push(response));
    stream.on("error", (error: Error) => this.#finish(error));
    stream.on("end", () => this.#finish(undefined));
    stream.write({ create_request: create });
  }

  #push(response: WatchResponse__Output): void {
    if (response.created) this.watchId = response.watch_id;
    if (this.#buffer.length >= watchBufferResponsesMax) {
      this.#finish(new Error(`watch: consumer fell more than ${watchBufferResponsesMax} responses behind`));
      this.#stream.cancel();
      return;
    }
    this.#buffer.push(response);
    this.#wake();
  }

  #finish(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  requestProgress(): void {
    this.#stream.write({ progress_request: {} });
  }

  cancel(): void {
    this.#finish(undefined);
    this.#stream.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse__Output> {
    while (true) {
      const next = this.#buffer.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined && !isCancelled(this.#error)) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }
}

function isCancelled(error: Error): boolean {
  return (error as ServiceError).code === grpcStatus.CANCELLED;
}
