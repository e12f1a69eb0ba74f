/**
 * An in-memory ControlPlane for tests of the pod half: it records what the agent writes (pod
 * statuses, deletions, events, node status, lease renewals) and lets the test push stream events
 * the way the node API would.
 */
import type { ConfigMap, KubeObject, Node, Pod, PodStatus, Secret, Service } from "../../libs/api/index.ts";
import type { ControlPlane, NodeStreamHandlers, StreamRequest, StreamSession } from "./control-plane.ts";

/** Bound on recorded events and statuses kept per pod. */
export const recordedItemsMax = 10_000;

export interface RecordedEvent {
  readonly pod: string;
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class MemoryControlPlane implements ControlPlane {
  #handlers: NodeStreamHandlers | undefined;
  #streamHandler: ((session: StreamSession) => void) | undefined;
  /** Every status written, in order, per `namespace/name`. */
  readonly statuses = new Map<string, PodStatus[]>();
  readonly deleted: string[] = [];
  readonly events: RecordedEvent[] = [];
  readonly nodeStatuses: NonNullable<Node["status"]>[] = [];
  leaseRenewals = 0;

  watchNode(handlers: NodeStreamHandlers, signal: AbortSignal): Promise<void> {
    this.#handlers = handlers;
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }

  #require(): NodeStreamHandlers {
    if (this.#handlers === undefined) throw new Error("MemoryControlPlane: nobody is watching yet");
    return this.#handlers;
  }

  /** Pushes objects as the node API's first full state, then onSynced. */
  sync(objects: { pods?: Pod[]; configMaps?: ConfigMap[]; secrets?: Secret[]; services?: Service[] } = {}): void {
    const handlers = this.#require();
    for (const configMap of objects.configMaps ?? []) handlers.onConfigMap({ type: "upsert", object: configMap });
    for (const secret of objects.secrets ?? []) handlers.onSecret({ type: "upsert", object: secret });
    for (const service of objects.services ?? []) handlers.onService({ type: "upsert", object: service });
    for (const pod of objects.pods ?? []) handlers.onPod({ type: "upsert", object: pod });
    handlers.onSynced();
  }

  upsertPod(pod: Pod): void {
    this.#require().onPod({ type: "upsert", object: pod });
  }

  deletePod(pod: Pod): void {
    this.#require().onPod({ type: "delete", object: pod });
  }

  upsertConfigMap(configMap: ConfigMap): void {
    this.#require().onConfigMap({ type: "upsert", object: configMap });
  }

  upsertSecret(secret: Secret): void {
    this.#require().onSecret({ type: "upsert", object: secret });
  }

  upsertEndpointSlice(slice: KubeObject): void {
    this.#require().onEndpointSlice({ type: "upsert", object: slice });
  }

  /** The last status written for the pod. */
  status(namespace: string, name: string): PodStatus | undefined {
    return this.statuses.get(podKey(namespace, name))?.at(-1);
  }

  reportPodStatus(namespace: string, name: string, _uid: string, status: PodStatus): Promise<void> {
    const list = this.statuses.get(podKey(namespace, name)) ?? [];
    if (list.length >= recordedItemsMax) list.shift();
    list.push(structuredClone(status));
    this.statuses.set(podKey(namespace, name), list);
    return Promise.resolve();
  }

  confirmPodDeleted(namespace: string, name: string): Promise<void> {
    this.deleted.push(podKey(namespace, name));
    return Promise.resolve();
  }

  reportNodeStatus(status: Node["status"]): Promise<void> {
    if (status !== undefined) this.nodeStatuses.push(structuredClone(status));
    return Promise.resolve();
  }

  renewLease(): Promise<void> {
    this.leaseRenewals += 1;
    return Promise.resolve();
  }

  recordEvent(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    if (this.events.length >= recordedItemsMax) this.events.shift();
    this.events.push({ pod: podKey(pod.metadata?.namespace ?? "default", pod.metadata?.name ?? ""), type, reason, message });
    return Promise.resolve();
  }

  serveStreams(handler: (session: StreamSession) => void, signal: AbortSignal): void {
    this.#streamHandler = handler;
    signal.addEventListener("abort", () => (this.#streamHandler = undefined), { once: true });
  }

  /** Hands a session to the agent as the API server would forward kubectl logs/exec/port-forward. */
  openStream(session: StreamSession): void {
    if (this.#streamHandler === undefined) throw new Error("MemoryControlPlane: the agent serves no streams");
    this.#streamHandler(session);
  }
}

/** A StreamSession that records what the agent writes, for tests; input is pushed with send(). */
export class RecordingSession implements StreamSession {
  readonly request: StreamRequest;
  readonly writes: { channel: number; data: Uint8Array }[] = [];
  closeError: Error | undefined;
  readonly #inputHandlers: ((channel: number, data: Uint8Array) => void)[] = [];
  readonly #closeHandlers: (() => void)[] = [];
  /** Input sent before the agent listened, as a real session buffers it. */
  readonly #pendingInput: { channel: number; data: Uint8Array }[] = [];
  #closed = false;
  readonly closed: Promise<void>;
  #resolveClosed: () => void = () => {};

  constructor(request: StreamRequest) {
    this.request = request;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  onInput(handler: (channel: number, data: Uint8Array) => void): void {
    this.#inputHandlers.push(handler);
    for (const pending of this.#pendingInput.splice(0)) handler(pending.channel, pending.data);
  }

  onClose(handler: () => void): void {
    this.#closeHandlers.push(handler);
  }

  write(channel: number, data: Uint8Array): void {
    if (this.writes.length < recordedItemsMax) this.writes.push({ channel, data: Uint8Array.from(data) });
  }

  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeError = error;
    for (const handler of this.#closeHandlers) handler();
    this.#resolveClosed();
  }

  /** Data from the "client" (channel 0 stdin). */
  send(channel: number, data: Uint8Array): void {
    if (this.#inputHandlers.length === 0 && this.#pendingInput.length < recordedItemsMax) this.#pendingInput.push({ channel, data });
    for (const handler of this.#inputHandlers) handler(channel, data);
  }

  /** Everything written on one channel, as text. */
  text(channel: number): string {
    return Buffer.concat(this.writes.filter((write) => write.channel === channel).map((write) => write.data)).toString("utf8");
  }
}
