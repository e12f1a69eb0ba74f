/**
 * Where a streaming request's node session is opened: on this process's hub when the node's
 * agent is connected here, otherwise through the replica whose record (session-registry.ts) says
 * it holds the connection (session-proxy.ts). Bounded: `openAttemptsMax` rounds, each trying the
 * local hub and then at most `replicasTriedMax` records newest first, `openRetryDelayMs` apart
 * (an agent that just reconnected may not be recorded yet). A node no replica holds is a 503
 * naming the node; replicas that hold it but fail to open the session make it a 502.
 */
import type { EtcdClient } from "../../libs/etcd-client/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { ClusterCa } from "../../libs/pki/index.ts";
import { dialRemoteSession, replicaClientProfile, type ReplicaTls } from "./session-proxy.ts";
import { SessionRegistry, etcdRecordStore, lookupRecords, type RecordStore } from "./session-registry.ts";
import { defaultNodeStreamHub, type NodeSession, type NodeStreamHub, type StreamOpenRequest } from "./stream-hub.ts";

export const openAttemptsMax = 3;
export const openRetryDelayMs = 300;
/** Records tried per round: more than one only while an old replica's record has not expired. */
export const replicasTriedMax = 3;

/** No replica could open the session: `httpCode` 503 (nobody holds the node) or 502 (holders failed). */
export class NodeSessionUnavailable extends Error {
  constructor(
    message: string,
    readonly httpCode: 502 | 503,
  ) {
    super(message);
    this.name = "NodeSessionUnavailable";
  }
}

export type RemoteDialer = (apiUrl: string, nodeName: string, request: StreamOpenRequest) => Promise<NodeSession>;

export interface SessionRouterOptions {
  readonly hub: NodeStreamHub;
  /** Without a store, only the local hub is tried (an API server with no replicas, unit tests). */
  readonly store?: RecordStore;
  /** This replica's API URL: its own records are never dialled. */
  readonly apiUrl?: string;
  readonly dial?: RemoteDialer;
  readonly delay?: (ms: number) => Promise<void>;
}

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SessionRouter {
  constructor(readonly options: SessionRouterOptions) {}

  async open(nodeName: string, request: StreamOpenRequest): Promise<NodeSession> {
    const { hub, store, dial } = this.options;
    let failure: string | undefined;
    for (let attempt = 0; attempt < openAttemptsMax; attempt++) {
      if (attempt > 0) await (this.options.delay ?? sleep)(openRetryDelayMs);
      const local = hub.open(nodeName, request);
      if (local !== undefined) return local;
      if (store === undefined || dial === undefined) break;
      let records;
      try {
        records = await lookupRecords(store, nodeName);
      } catch (error) {
        failure = `the store: ${messageOf(error)}`;
        continue;
      }
      for (const record of records.filter((item) => item.apiUrl !== this.options.apiUrl).slice(0, replicasTriedMax)) {
        try {
          return await dial(record.apiUrl, nodeName, request);
        } catch (error) {
          failure = `${record.apiUrl}: ${messageOf(error)}`;
        }
      }
    }
    if (failure !== undefined) throw new NodeSessionUnavailable(`node ${nodeName}: no API server replica could open a session to its agent (last error from ${failure})`, 502);
    throw new NodeSessionUnavailable(`node ${nodeName} has no stream connection to any API server replica`, 503);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let current = new SessionRouter({ hub: defaultNodeStreamHub });

/** The process's router: local-only until `startSessionRouting` runs. */
export function sessionRouter(): SessionRouter {
  return current;
}

export interface SessionRoutingOptions {
  readonly client: EtcdClient;
  /** https://host:port other replicas reach this API server at. */
  readonly apiUrl: string;
  readonly ca: ClusterCa;
  readonly logger: Logger;
  readonly nowMs: number;
  readonly hub?: NodeStreamHub;
}

/**
 * Records this process's node connections in the store and routes sessions across replicas;
 * stop() revokes the records and goes back to local-only routing.
 */
export async function startSessionRouting(options: SessionRoutingOptions): Promise<{ stop: () => Promise<void> }> {
  const hub = options.hub ?? defaultNodeStreamHub;
  const issued = await options.ca.issue(replicaClientProfile(options.apiUrl), options.nowMs);
  const tls: ReplicaTls = { caPem: options.ca.certificatePem, certificatePem: issued.chainPem, privateKeyPem: issued.privateKeyPem };
  const store = etcdRecordStore(options.client);
  const registry = new SessionRegistry(hub, store, options.apiUrl, options.logger);
  registry.start();
  const router = new SessionRouter({ hub, store, apiUrl: options.apiUrl, dial: async (apiUrl, nodeName, request) => dialRemoteSession(apiUrl, nodeName, request, tls) });
  current = router;
  return {
    stop: async () => {
      if (current === router) current = new SessionRouter({ hub });
      await registry.stop();
    },
  };
}
