/**
 * flotilla.store.LeaseForward (proto/store.proto) on the peer port: a follower asks the leader to
 * renew a lease or to tell its remaining TTL, because only the leader's clock decides expiry. The
 * peer server starts before the store context exists, so the keeper arrives later through a ref;
 * until then, and on a member that is not the leader, calls are refused with etcd's errors.
 */
import {
  loadPackageDefinition,
  status as grpcStatus,
  type ChannelCredentials,
  type Client,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  type ServiceDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoRoot } from "../../../libs/etcdpb/index.ts";
import { toBigint, toNumber } from "../convert.ts";
import { EtcdError, toServiceError } from "../errors.ts";
import type { LeaseKeeper, LeaseTimeToLiveAnswer } from "../lease-keeper.ts";

export interface LeaseRenewRequest {
  id: string;
}
export interface LeaseRenewResponse {
  ttl_seconds: string;
}
export interface LeaseTimeToLiveForwardRequest {
  id: string;
  keys: boolean;
}
export interface LeaseTimeToLiveForwardResponse {
  found: boolean;
  granted_ttl_seconds: string;
  remaining_ttl_seconds: string;
  keys: Buffer[];
}

type Callback<Response> = (error: ServiceError | null, response?: Response) => void;

/** The generated-looking client of LeaseForward, typed by hand (two calls). */
export interface LeaseForwardClient extends Client {
  Renew(request: LeaseRenewRequest, options: { deadline: Date }, callback: Callback<LeaseRenewResponse>): void;
  TimeToLive(request: LeaseTimeToLiveForwardRequest, options: { deadline: Date }, callback: Callback<LeaseTimeToLiveForwardResponse>): void;
}

let loaded: ServiceClientConstructor | undefined;

function leaseForwardConstructor(): ServiceClientConstructor {
  if (loaded === undefined) {
    const definition = loadSync("store.proto", { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot] });
    const root = loadPackageDefinition(definition) as unknown as { flotilla: { store: { LeaseForward: ServiceClientConstructor } } };
    loaded = root.flotilla.store.LeaseForward;
  }
  return loaded;
}

export function leaseForwardDefinition(): ServiceDefinition {
  return leaseForwardConstructor().service;
}

/** A client of the member at `peerUrl` (scheme://host:port). */
export function leaseForwardClient(peerUrl: string, credentials: ChannelCredentials): LeaseForwardClient {
  const Constructor = leaseForwardConstructor();
  return new Constructor(new URL(peerUrl).host, credentials) as unknown as LeaseForwardClient;
}

export function leaseForwardService(keeperRef: { readonly current?: LeaseKeeper }): UntypedServiceImplementation {
  const starting = new EtcdError(grpcStatus.UNAVAILABLE, "etcdserver: member is starting");
  const handle =
    <Request, Response>(answer: (keeper: LeaseKeeper, request: Request) => Promise<Response>) =>
    (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
      const keeper = keeperRef.current;
      if (keeper === undefined) {
        callback(toServiceError(starting), null);
        return;
      }
      answer(keeper, call.request).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error), null),
      );
    };
  return {
    Renew: handle(async (keeper, request: LeaseRenewRequest): Promise<LeaseRenewResponse> => {
      const ttlSeconds = await keeper.renewAsLeader(toBigint(request.id));
      return { ttl_seconds: String(ttlSeconds) };
    }),
    TimeToLive: handle(async (keeper, request: LeaseTimeToLiveForwardRequest): Promise<LeaseTimeToLiveForwardResponse> => {
      const answer = await keeper.timeToLiveAsLeader(toBigint(request.id), request.keys);
      return answer === undefined
        ? { found: false, granted_ttl_seconds: "0", remaining_ttl_seconds: "0", keys: [] }
        : {
            found: true,
            granted_ttl_seconds: String(answer.grantedTtlSeconds),
            remaining_ttl_seconds: String(answer.remainingTtlSeconds),
            keys: answer.keys.map((key) => Buffer.from(key)),
          };
    }),
  };
}

/** The leader's TimeToLive answer as the follower relays it. */
export function timeToLiveFromForward(response: LeaseTimeToLiveForwardResponse): LeaseTimeToLiveAnswer | undefined {
  if (!response.found) return undefined;
  return {
    grantedTtlSeconds: toNumber(response.granted_ttl_seconds),
    remainingTtlSeconds: toNumber(response.remaining_ttl_seconds),
    keys: response.keys,
  };
}
