/**
 * The node API's gRPC server, one per `flotilla server` replica, on --node-api-port (6444): TLS
 * with the replica's serving certificate; client certificates are requested but not required,
 * because Join is made without one (it carries a join token). Every other call needs a verified
 * client certificate for CN=system:node:<name>, O=system:nodes, and acts for that node only.
 */
import { Server, ServerCredentials, experimental, status as GrpcStatus, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import { EtcdClient } from "../../libs/etcd-client/index.ts";
import { createLogger, type Logger } from "../../libs/log/index.ts";
import type { ClusterCa } from "../../libs/pki/index.ts";
import { Storages } from "../apiserver/storages.ts";
import type { StoredObject } from "../apiserver/storage/index.ts";
import { NodeApiError, unauthenticated } from "./errors.ts";
import { join } from "./join.ts";
import { runNodeWatch } from "./node-watch.ts";
import { ReplicaDirectory } from "./replicas.ts";
import { defaultNodeStreamHub, type NodeStreamHub } from "./stream-hub.ts";
import { nodeApiMessageBytesMax, nodeApiService, nodesGroup, type CertificateRenewal, type CertificateRenewalResponse, type EventReport, type JoinRequest, type JoinResponse, type LeaseRenewal, type MirrorPodRequest, type NodeAnnotations, type NodeStatusReport, type PodDeletion, type PodStatusReport, type StreamFrame, type UsageReport, type WatchEvent, type WatchRequest, objectJsonBytes, requestedOptionalKinds } from "./wire.ts";
import { etcdUsageStore, type UsageStore } from "../apiserver/metrics/samples.ts";
import { reportUsage } from "./usage.ts";
import { syncMirrorPod } from "./mirror-pods.ts";
import { renewNodeCertificate } from "./renew.ts";
import { annotateNode, confirmPodDeleted, recordEvent, renewLease, reportNodeStatus, reportPodStatus, type WriteDeps } from "./writes.ts";

const nodeUserPrefix = "system:node:";
/** Bytes a Watch call may hold unsent before the server waits for the agent to read. */
const watchBufferedBytesMax = 8 * 1024 * 1024;

export interface NodeApiOptions {
  readonly storeEndpoints: readonly string[];
  readonly ca: ClusterCa;
  readonly servingCertificateChainPem: string;
  readonly servingPrivateKeyPem: string;
  readonly listenAddress: string;
  readonly port: number;
  /** host:port agents reach this replica's node API at. */
  readonly advertiseAddress: string;
  /** This replica's name (its entry in the replica directory). */
  readonly replicaName: string;
  readonly hub?: NodeStreamHub;
  /** Lifetime of node certificates issued by Join and RenewCertificate (default a year; tests shorten it). */
  readonly nodeCertificateValidityMs?: number | undefined;
}

export interface NodeApiServer {
  readonly port: number;
  /** Serves a renewed certificate to new connections (the API server renewed its own). */
  setServingCertificate(chainPem: string, privateKeyPem: string): void;
  stop(): Promise<void>;
}

/** The node a call is made by, from its verified client certificate. */
export function nodeNameOf(call: { getAuthContext(): { sslPeerCertificate?: { subject?: unknown } } | null }): string {
  const subject = call.getAuthContext()?.sslPeerCertificate?.subject as Record<string, string | string[] | undefined> | undefined;
  const commonName = subject?.["CN"];
  const name = Array.isArray(commonName) ? commonName[0] : commonName;
  const organizations = subject?.["O"];
  const groups = organizations === undefined ? [] : Array.isArray(organizations) ? organizations : [organizations];
  if (typeof name !== "string" || !name.startsWith(nodeUserPrefix) || !groups.includes(nodesGroup)) {
    throw unauthenticated("this call needs a node client certificate (CN=system:node:<name>, O=system:nodes) from the cluster CA");
  }
  return name.slice(nodeUserPrefix.length);
}

function grpcError(error: unknown): { code: GrpcStatus; details: string } {
  if (error instanceof NodeApiError) return { code: error.code, details: error.message };
  const reason = (error as { reason?: string } | undefined)?.reason;
  const message = error instanceof Error ? error.message : String(error);
  if (reason === "Conflict") return { code: GrpcStatus.ABORTED, details: message };
  if (reason === "NotFound") return { code: GrpcStatus.NOT_FOUND, details: message };
  if (reason === "ServiceUnavailable" || reason === "Timeout") return { code: GrpcStatus.UNAVAILABLE, details: message };
  return { code: GrpcStatus.INTERNAL, details: message };
}

function unary<Request, Response>(logger: Logger, work: (call: ServerUnaryCall<Request, Response>) => Promise<Response>) {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    work(call).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const mapped = grpcError(error);
        if (mapped.code === GrpcStatus.INTERNAL) logger.warn({ err: error }, "node API call failed");
        callback(mapped);
      },
    );
  };
}

/**
 * The serving certificate pair (replaced in place by setIdentity when it is renewed) and one CA,
 * handed to grpc-js as a provider so that client certificates
 * are requested but optional (createSsl can only require them or not ask). The updates are
 * delivered on the next turn: grpc-js registers the server as a watcher only after adding the
 * listener, and an update delivered during the call would reach no one.
 */
function servingProvider(ca: string, certificate: string, key: string): experimental.CertificateProvider & { setIdentity(certificate: string, key: string): void } {
  let identity = { certificate: Buffer.from(certificate), privateKey: Buffer.from(key) };
  const identityListeners = new Set<(update: typeof identity) => void>();
  return {
    addCaCertificateListener: (listener) => setImmediate(() => listener({ caCertificate: Buffer.from(ca) })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => {
      identityListeners.add(listener);
      setImmediate(() => listener(identity));
    },
    removeIdentityCertificateListener: (listener) => void identityListeners.delete(listener),
    // grpc-js gives the listening server a new secure context; open connections keep theirs.
    setIdentity: (nextCertificate, nextKey) => {
      identity = { certificate: Buffer.from(nextCertificate), privateKey: Buffer.from(nextKey) };
      for (const listener of identityListeners) listener(identity);
    },
  };
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new NodeApiError(GrpcStatus.INVALID_ARGUMENT, `${what} is not JSON`);
  }
}

/** Ends a streaming call with a status: grpc-js sends the status of an emitted error (destroy() does not). */
function failCall(call: { emit(event: "error", error: Error): boolean }, status: { code: GrpcStatus; details: string }): void {
  call.emit("error", Object.assign(new Error(status.details), status));
}

async function writeWithBackpressure(call: ServerWritableStream<WatchRequest, WatchEvent>, event: WatchEvent): Promise<void> {
  if (call.write(event) || call.writableLength < watchBufferedBytesMax) return;
  await new Promise<void>((resolve) => {
    call.once("drain", resolve);
    call.once("close", resolve);
  });
}

function watchHandler(storages: Storages, logger: Logger) {
  return (call: ServerWritableStream<WatchRequest, WatchEvent>): void => {
    const stop = new AbortController();
    call.on("cancelled", () => stop.abort());
    call.on("close", () => stop.abort());
    let nodeName: string;
    try {
      nodeName = nodeNameOf(call);
    } catch (error) {
      failCall(call, grpcError(error));
      return;
    }
    const emit = async (type: WatchEvent["type"], kind: WatchEvent["kind"] | undefined, object: StoredObject | undefined): Promise<void> => {
      await writeWithBackpressure(call, { type, kind: kind ?? "OBJECT_KIND_UNSPECIFIED", object_json: object === undefined ? Buffer.alloc(0) : objectJsonBytes(object) });
    };
    const optionalKinds = requestedOptionalKinds(call.request);
    runNodeWatch({ storages, nodeName, emit, signal: stop.signal, optionalKinds }).then(
      () => call.end(),
      (error: unknown) => {
        logger.info({ node: nodeName, err: error }, "node watch ended");
        const mapped = grpcError(error);
        failCall(call, { code: mapped.code === GrpcStatus.INTERNAL ? GrpcStatus.UNAVAILABLE : mapped.code, details: mapped.details });
      },
    );
  };
}

function streamsHandler(hub: NodeStreamHub, logger: Logger) {
  return (call: ServerDuplexStream<StreamFrame, StreamFrame>): void => {
    let nodeName: string;
    try {
      nodeName = nodeNameOf(call);
    } catch (error) {
      failCall(call, grpcError(error));
      return;
    }
    const attached = hub.attach(nodeName, { write: (frame) => void call.write(frame) });
    logger.info({ node: nodeName }, "agent stream connected");
    call.on("data", (frame: StreamFrame) => attached.received(frame));
    const detach = (): void => attached.detach("the node's stream connection closed");
    call.on("end", () => {
      detach();
      call.end();
    });
    call.on("error", detach);
    call.on("close", detach);
  };
}

function handlers(options: NodeApiOptions, storages: Storages, directory: ReplicaDirectory, logger: Logger, usage: UsageStore) {
  const deps: WriteDeps = { storages, nowMs: () => Date.now() };
  const joinDeps = { storages, ca: options.ca, nowMs: () => Date.now(), replicas: async () => directory.addresses(options.advertiseAddress), validityMs: options.nodeCertificateValidityMs };
  const ack = {};
  return {
    Join: unary<JoinRequest, JoinResponse>(logger, async (call) => join(joinDeps, call.request)),
    Watch: watchHandler(storages, logger),
    ReportPodStatus: unary<PodStatusReport, object>(logger, async (call) => {
      const { namespace, name, uid, status_json } = call.request;
      await reportPodStatus(deps, nodeNameOf(call), namespace, name, uid, parseJson(status_json, "pod status"));
      return ack;
    }),
    ConfirmPodDeleted: unary<PodDeletion, object>(logger, async (call) => {
      await confirmPodDeleted(deps, nodeNameOf(call), call.request.namespace, call.request.name, call.request.uid);
      return ack;
    }),
    ReportNodeStatus: unary<NodeStatusReport, object>(logger, async (call) => {
      await reportNodeStatus(deps, nodeNameOf(call), parseJson(call.request.status_json, "node status"));
      return ack;
    }),
    AnnotateNode: unary<NodeAnnotations, object>(logger, async (call) => {
      await annotateNode(deps, nodeNameOf(call), call.request.annotations);
      return ack;
    }),
    RenewLease: unary<LeaseRenewal, object>(logger, async (call) => {
      await renewLease(deps, nodeNameOf(call), call.request.lease_duration_seconds);
      return ack;
    }),
    RecordEvent: unary<EventReport, object>(logger, async (call) => {
      const { pod_json, type, reason, message } = call.request;
      await recordEvent(deps, nodeNameOf(call), { pod: parseJson(pod_json, "pod") as StoredObject, type, reason, message });
      return ack;
    }),
    Streams: streamsHandler(options.hub ?? defaultNodeStreamHub, logger),
    ReportUsage: unary<UsageReport, object>(logger, async (call) => {
      await reportUsage(usage, nodeNameOf(call), parseJson(call.request.usage_json, "usage sample"));
      return ack;
    }),
    SyncMirrorPod: unary<MirrorPodRequest, object>(logger, async (call) => {
      await syncMirrorPod(deps, nodeNameOf(call), parseJson(call.request.pod_json, "mirror pod"), call.request.remove);
      return ack;
    }),
    RenewCertificate: unary<CertificateRenewal, CertificateRenewalResponse>(logger, async (call) => {
      const caller = (call.getAuthContext()?.sslPeerCertificate as { raw?: Buffer } | undefined)?.raw;
      return renewNodeCertificate({ ca: options.ca, nowMs: () => Date.now(), validityMs: options.nodeCertificateValidityMs }, nodeNameOf(call), caller, call.request);
    }),
  };
}

export async function startNodeApi(options: NodeApiOptions, logger: Logger = createLogger("nodeapi")): Promise<NodeApiServer> {
  const client = new EtcdClient({ endpoints: [...options.storeEndpoints] });
  const storages = new Storages(client, logger);
  const directory = new ReplicaDirectory(storages, options.replicaName, options.advertiseAddress, () => Date.now(), logger);
  const server = new Server({ "grpc.max_receive_message_length": nodeApiMessageBytesMax, "grpc.max_send_message_length": nodeApiMessageBytesMax });
  server.addService(nodeApiService(), handlers(options, storages, directory, logger, etcdUsageStore(client)));
  const provider = servingProvider(options.ca.certificatePem, options.servingCertificateChainPem, options.servingPrivateKeyPem);
  const credentials: ServerCredentials = experimental.createCertificateProviderServerCredentials(provider, provider, false);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.listenAddress}:${options.port}`, credentials, (error, boundPort) => (error === null ? resolve(boundPort) : reject(error)));
  }).catch((cause: unknown) => {
    throw new Error(`listen on ${options.listenAddress}:${options.port}`, { cause });
  });
  directory.start();
  logger.info({ port, advertise: options.advertiseAddress }, "node API ready");
  return {
    port,
    setServingCertificate: (chainPem, privateKeyPem) => provider.setIdentity(chainPem, privateKeyPem),
    stop: async () => {
      directory.stop();
      server.forceShutdown();
      await storages.stop();
      client.close();
    },
  };
}
