/**
 * The agent's ControlPlane over the node API: mutual TLS with the node certificate, unary calls
 * that fail over between the replicas the join named, and two long-lived streams (Watch,
 * Streams) that reconnect with bounded exponential backoff, moving to the next replica each time.
 * After a reconnect the Watch delivers the whole state again; objects the agent knew that are no
 * longer in it are handed to the handlers as deletes, so the agent converges without a restart.
 */
import type { NodeUsageSample } from "../../apiserver/metrics/samples.ts";
import { sleepOrAbort } from "../../../libs/client/index.ts";
import { credentials as grpcCredentials, status as GrpcStatus, type Client, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import type { KubeObject, Node, PersistentVolume, Pod, PodStatus } from "../../../libs/api/index.ts";
import { createLogger, type Logger } from "../../../libs/log/index.ts";
import type { ControlPlane, NodeStreamHandlers, StreamSession } from "../control-plane.ts";
import { createCertificateRequest } from "../../../libs/pki/index.ts";
import { loadNodeApi, nodeApiMessageBytesMax, type CertificateRenewalResponse, type ObjectKindName, type StreamFrame, type WatchEvent } from "../../nodeapi/wire.ts";
import type { NodeCredentials } from "./credentials.ts";
import { ClientStreamSession } from "./session.ts";

export const backoffInitialMs = 200;
export const backoffMaxMs = 10_000;
export const callTimeoutMs = 15_000;
/** Tries of one unary call across replicas before its error is the caller's. */
export const callAttemptsMax = 6;
export const leaseDurationSeconds = 40;

type Unary = (request: unknown, options: { deadline: Date }, callback: (error: ServiceError | null, response: unknown) => void) => void;

const retryable = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED, GrpcStatus.UNKNOWN]);

function objectKeyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

export class NodeClient implements ControlPlane {
  #credentials: NodeCredentials;
  readonly #logger: Logger;
  readonly #clients = new Map<string, Client>();
  /** The open Watch and Streams calls: cancelled (and so reopened) when the certificate changes. */
  readonly #longCalls = new Set<{ cancel(): void }>();
  #replicaIndex = 0;

  constructor(credentials: NodeCredentials, logger: Logger = createLogger("nodeclient")) {
    if (credentials.replicas.length === 0) throw new Error("node credentials name no control-plane replica");
    this.#credentials = credentials;
    this.#logger = logger;
  }

  get currentReplica(): string {
    return this.#credentials.replicas[this.#replicaIndex % this.#credentials.replicas.length] ?? "";
  }

  #client(): Client {
    const address = this.currentReplica;
    let client = this.#clients.get(address);
    if (client === undefined) {
      const NodeApi = loadNodeApi();
      const { caCertificatePem, privateKeyPem, certificatePem } = this.#credentials;
      const channelCredentials = grpcCredentials.createSsl(Buffer.from(caCertificatePem), Buffer.from(privateKeyPem), Buffer.from(certificatePem));
      client = new NodeApi(address, channelCredentials, { "grpc.max_receive_message_length": nodeApiMessageBytesMax, "grpc.max_send_message_length": nodeApiMessageBytesMax });
      this.#clients.set(address, client);
    }
    return client;
  }

  #failOver(): void {
    this.#replicaIndex = (this.#replicaIndex + 1) % this.#credentials.replicas.length;
  }

  async #call(method: string, request: unknown): Promise<unknown> {
    let lastError: ServiceError | undefined;
    for (let attempt = 0; attempt < callAttemptsMax; attempt++) {
      const client = this.#client() as unknown as Record<string, Unary>;
      const call = client[method];
      if (call === undefined) throw new Error(`the node API has no method ${method}`);
      try {
        return await new Promise<unknown>((resolve, reject) =>
          call.call(client, request, { deadline: new Date(Date.now() + callTimeoutMs) }, (error, response) => (error === null ? resolve(response) : reject(error))),
        );
      } catch (error) {
        lastError = error as ServiceError;
        if (!retryable.has(lastError.code)) throw new Error(`${method}: ${lastError.details}`, { cause: error });
        this.#failOver();
      }
    }
    throw new Error(`${method}: no control-plane replica answered: ${lastError?.details ?? ""}`, { cause: lastError });
  }

  async reportPodStatus(namespace: string, name: string, uid: string, status: PodStatus): Promise<void> {
    await this.#call("ReportPodStatus", { namespace, name, uid, status_json: Buffer.from(JSON.stringify(status)) });
  }

  async confirmPodDeleted(namespace: string, name: string, uid: string): Promise<void> {
    await this.#call("ConfirmPodDeleted", { namespace, name, uid });
  }

  async reportNodeStatus(status: Node["status"]): Promise<void> {
    await this.#call("ReportNodeStatus", { status_json: Buffer.from(JSON.stringify(status ?? {})) });
  }

  async annotateNode(annotations: Record<string, string>): Promise<void> {
    await this.#call("AnnotateNode", { annotations });
  }

  async syncMirrorPod(mirror: Pod, remove: boolean): Promise<void> {
    await this.#call("SyncMirrorPod", { pod_json: Buffer.from(JSON.stringify(mirror)), remove });
  }

  async reportUsage(sample: NodeUsageSample): Promise<void> {
    await this.#call("ReportUsage", { usage_json: Buffer.from(JSON.stringify(sample)) });
  }

  async renewLease(): Promise<void> {
    await this.#call("RenewLease", { lease_duration_seconds: leaseDurationSeconds });
  }

  async recordEvent(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const podRef = { apiVersion: "v1", kind: "Pod", metadata: pod.metadata };
    await this.#call("RecordEvent", { pod_json: Buffer.from(JSON.stringify(podRef)), type, reason, message });
  }

  /** The node's credentials in use now. */
  get credentials(): NodeCredentials {
    return this.#credentials;
  }

  /**
   * Asks the control plane for a new node certificate for the same name and key (RenewCertificate,
   * authenticated by the current certificate). Does not use it: see useCredentials.
   */
  async renewCertificate(): Promise<NodeCredentials> {
    const { nodeName, privateKeyPem } = this.#credentials;
    const request = { certificate_request_pem: await createCertificateRequest(privateKeyPem, `system:node:${nodeName}`) };
    const response = (await this.#call("RenewCertificate", request)) as CertificateRenewalResponse;
    return { ...this.#credentials, certificatePem: response.certificate_pem, caCertificatePem: response.ca_certificate_pem };
  }

  /**
   * Switches to new credentials of the same node: every channel is closed and the long-lived
   * calls are cancelled, so they reconnect (as after a replica failure) with the new certificate.
   */
  useCredentials(credentials: NodeCredentials): void {
    if (credentials.nodeName !== this.#credentials.nodeName) throw new Error(`credentials of node "${credentials.nodeName}" given to node "${this.#credentials.nodeName}"`);
    this.#credentials = credentials;
    this.close();
    for (const call of [...this.#longCalls]) call.cancel();
  }

  /** Runs `connect` until the signal aborts, reconnecting (next replica, backoff) when it ends. */
  async #reconnecting(what: string, signal: AbortSignal, connect: (healthy: () => void) => Promise<void>): Promise<void> {
    let backoffMs = backoffInitialMs;
    while (!signal.aborted) {
      try {
        await connect(() => (backoffMs = backoffInitialMs));
      } catch (error) {
        if (signal.aborted) break;
        this.#logger.info({ reason: error instanceof Error ? error.message : String(error), replica: this.currentReplica, backoffMs }, `${what} ended; reconnecting`);
        this.#failOver();
      }
      await sleepOrAbort(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, backoffMaxMs);
    }
  }

  async watchNode(handlers: NodeStreamHandlers, signal: AbortSignal): Promise<void> {
    const known = new Map<ObjectKindName, Map<string, KubeObject>>();
    await this.#reconnecting("node watch", signal, async (healthy) => this.#watchOnce(handlers, known, signal, healthy));
  }

  async #watchOnce(handlers: NodeStreamHandlers, known: Map<ObjectKindName, Map<string, KubeObject>>, signal: AbortSignal, healthy: () => void): Promise<void> {
    const client = this.#client() as unknown as { Watch: (request: object) => ClientReadableStream<WatchEvent> };
    const call = client.Watch(handlers.optionalKinds === undefined ? {} : { filter_optional_kinds: true, optional_kinds: [...handlers.optionalKinds] });
    this.#longCalls.add(call);
    const onAbort = (): void => call.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    const seen = new Map<ObjectKindName, Set<string>>();
    let synced = false;
    try {
      await new Promise<void>((_resolve, reject) => {
        call.on("data", (event: WatchEvent) => {
          if (event.type === "SYNCED") {
            synced = true;
            healthy();
            deleteUnseen(handlers, known, seen);
            handlers.onSynced();
            return;
          }
          if (event.kind === "OBJECT_KIND_UNSPECIFIED") return;
          const object = JSON.parse(event.object_json.toString("utf8")) as KubeObject;
          const objects = known.get(event.kind) ?? new Map<string, KubeObject>();
          known.set(event.kind, objects);
          if (event.type === "DELETE") objects.delete(objectKeyOf(object));
          else objects.set(objectKeyOf(object), object);
          if (!synced) seen.set(event.kind, (seen.get(event.kind) ?? new Set()).add(objectKeyOf(object)));
          dispatch(handlers, event.kind, event.type === "DELETE" ? "delete" : "upsert", object);
        });
        call.on("error", reject);
        call.on("end", () => reject(new Error("the node watch ended")));
      });
    } finally {
      this.#longCalls.delete(call);
      signal.removeEventListener("abort", onAbort);
    }
  }

  serveStreams(handler: (session: StreamSession) => void, signal: AbortSignal): void {
    this.#reconnecting("stream connection", signal, async (healthy) => this.#streamsOnce(handler, signal, healthy)).catch((error: unknown) =>
      this.#logger.error({ err: error }, "stream connection loop failed"),
    );
  }

  async #streamsOnce(handler: (session: StreamSession) => void, signal: AbortSignal, healthy: () => void): Promise<void> {
    const client = this.#client() as unknown as { Streams: () => ClientDuplexStream<StreamFrame, StreamFrame> };
    const call = client.Streams();
    this.#longCalls.add(call);
    const sessions = new Map<string, ClientStreamSession>();
    const onAbort = (): void => call.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    // A first frame makes the server see the call (and its node) before any session opens.
    call.write({ session_id: "0", data: { channel: 0, data: Buffer.alloc(0) } });
    try {
      await new Promise<void>((_resolve, reject) => {
        call.on("metadata", () => healthy());
        call.on("data", (frame: StreamFrame) => onFrame(frame, sessions, call, handler));
        call.on("error", reject);
        call.on("end", () => reject(new Error("the stream connection ended")));
      });
    } finally {
      this.#longCalls.delete(call);
      signal.removeEventListener("abort", onAbort);
      for (const session of sessions.values()) session.ended();
    }
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}

function onFrame(frame: StreamFrame, sessions: Map<string, ClientStreamSession>, call: ClientDuplexStream<StreamFrame, StreamFrame>, handler: (session: StreamSession) => void): void {
  if (frame.open !== undefined && frame.open !== null) {
    const session = new ClientStreamSession(frame.session_id, frame.open, (out) => call.write(out), () => sessions.delete(frame.session_id));
    sessions.set(frame.session_id, session);
    handler(session);
    return;
  }
  const session = sessions.get(frame.session_id);
  if (session === undefined) return;
  if (frame.data !== undefined && frame.data !== null) session.received(frame.data.channel, frame.data.data);
  if (frame.close !== undefined && frame.close !== null) session.ended();
}

function deleteUnseen(handlers: NodeStreamHandlers, known: Map<ObjectKindName, Map<string, KubeObject>>, seen: Map<ObjectKindName, Set<string>>): void {
  for (const [kind, objects] of known) {
    const seenKeys = seen.get(kind) ?? new Set<string>();
    for (const [key, object] of [...objects]) {
      if (seenKeys.has(key)) continue;
      objects.delete(key);
      dispatch(handlers, kind, "delete", object);
    }
  }
}

function dispatch(handlers: NodeStreamHandlers, kind: ObjectKindName, type: "upsert" | "delete", object: KubeObject): void {
  switch (kind) {
    case "POD":
      return handlers.onPod({ type, object: object as Pod });
    case "CONFIG_MAP":
      return handlers.onConfigMap({ type, object: object as Parameters<NodeStreamHandlers["onConfigMap"]>[0]["object"] });
    case "SECRET":
      return handlers.onSecret({ type, object: object as Parameters<NodeStreamHandlers["onSecret"]>[0]["object"] });
    case "SERVICE":
      return handlers.onService({ type, object: object as Parameters<NodeStreamHandlers["onService"]>[0]["object"] });
    case "ENDPOINT_SLICE":
      return handlers.onEndpointSlice({ type, object });
    case "NODE":
      return handlers.onNode({ type, object: object as Node });
    case "PERSISTENT_VOLUME":
      return handlers.onPersistentVolume?.({ type, object: object as PersistentVolume });
    case "INGRESS":
      return handlers.onIngress?.({ type, object });
    case "INGRESS_CLASS":
      return handlers.onIngressClass?.({ type, object });
  }
}
