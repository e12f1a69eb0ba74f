/**
 * The cluster-administration calls the chaos harness needs that libs/etcd-client does not carry
 * (MemberAdd, MemberRemove, HashKV), straight over the generated etcd v3 gRPC clients, one
 * channel per member endpoint, each call with a deadline.
 */
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { loadEtcdProto } from "../../libs/etcdpb/index.ts";
import type { MemberAddResponse__Output, MemberListResponse__Output, MemberRemoveResponse__Output, StatusResponse__Output } from "../../libs/etcdpb/index.ts";
import type { ClusterClient } from "../../libs/etcdpb/gen/etcdserverpb/Cluster.ts";
import type { MaintenanceClient } from "../../libs/etcdpb/gen/etcdserverpb/Maintenance.ts";
import type { HashKVResponse__Output } from "../../libs/etcdpb/gen/etcdserverpb/HashKVResponse.ts";

interface AdminChannel {
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;
}

type Callback<Response> = (error: ServiceError | null, response?: Response) => void;

export class AdminClient {
  readonly #channels = new Map<string, AdminChannel>();
  readonly #requestTimeoutMs: number;

  constructor(requestTimeoutMs: number) {
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  #channel(clientUrl: string): AdminChannel {
    let channel = this.#channels.get(clientUrl);
    if (channel === undefined) {
      const proto = loadEtcdProto().etcdserverpb;
      const address = clientUrl.replace(/^[a-z]+:\/\//, "").replace(/\/$/, "");
      const insecure = credentials.createInsecure();
      channel = { cluster: new proto.Cluster(address, insecure), maintenance: new proto.Maintenance(address, insecure) };
      this.#channels.set(clientUrl, channel);
    }
    return channel;
  }

  async #call<Response>(invoke: (deadline: Date, done: Callback<Response>) => void): Promise<Response> {
    return new Promise((resolve, reject) => {
      invoke(new Date(Date.now() + this.#requestTimeoutMs), (error, response) => {
        if (error !== null) reject(error);
        else resolve(response as Response);
      });
    });
  }

  async memberList(clientUrl: string): Promise<MemberListResponse__Output> {
    return this.#call((deadline, done) => this.#channel(clientUrl).cluster.MemberList({}, { deadline }, done));
  }

  async memberAdd(clientUrl: string, peerUrls: readonly string[]): Promise<MemberAddResponse__Output> {
    return this.#call((deadline, done) => this.#channel(clientUrl).cluster.MemberAdd({ peerURLs: [...peerUrls], isLearner: false }, { deadline }, done));
  }

  async memberRemove(clientUrl: string, memberId: string): Promise<MemberRemoveResponse__Output> {
    return this.#call((deadline, done) => this.#channel(clientUrl).cluster.MemberRemove({ ID: memberId }, { deadline }, done));
  }

  async status(clientUrl: string): Promise<StatusResponse__Output> {
    return this.#call((deadline, done) => this.#channel(clientUrl).maintenance.Status({}, { deadline }, done));
  }

  /** The hash of the key space (with its history) up to `revision`, as that member holds it. */
  async hashKv(clientUrl: string, revision: number): Promise<HashKVResponse__Output> {
    return this.#call((deadline, done) => this.#channel(clientUrl).maintenance.HashKV({ revision }, { deadline }, done));
  }

  /** Closes the member's channels; the next call opens fresh ones (no inherited reconnect backoff). */
  forget(clientUrl: string): void {
    const channel = this.#channels.get(clientUrl);
    channel?.cluster.close();
    channel?.maintenance.close();
    this.#channels.delete(clientUrl);
  }

  close(): void {
    for (const channel of this.#channels.values()) {
      channel.cluster.close();
      channel.maintenance.close();
    }
    this.#channels.clear();
  }
}

/** The text of a gRPC error (its details), or of any other thrown value. */
export function errorText(error: unknown): string {
  if (typeof error === "object" && error !== null && typeof (error as ServiceError).details === "string") {
    return (error as ServiceError).details;
  }
  return error instanceof Error ? error.message : String(error);
}
