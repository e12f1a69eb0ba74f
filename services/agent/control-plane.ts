/**
 * The seam between the agent's two halves, written first so both can be built at once:
 * - the pod half (pod workers over CRI, probes, volumes, logs/exec) consumes a ControlPlane;
 * - the node-API half (join, node certificate, gRPC streams, fail-over between replicas)
 *   implements it over `proto/node.proto`.
 * Unit tests of the pod half use an in-memory ControlPlane.
 */
import type { NodeUsageSample } from "../apiserver/metrics/samples.ts";
import type { ConfigMap, KubeObject, Node, PersistentVolume, Pod, PodStatus, Secret, Service } from "../../libs/api/index.ts";

/** A change to one object the node needs, in the order the control plane saw it. */
export type NodeWatchEvent<T extends KubeObject> =
  | { type: "upsert"; object: T }
  | { type: "delete"; object: T };

/** Kinds of the node stream only some consumers use: the overlay (Nodes), proxy and DNS, ingress proxy. */
export type OptionalStreamKind = "NODE" | "ENDPOINT_SLICE" | "INGRESS" | "INGRESS_CLASS";

export interface NodeStreamHandlers {
  /**
   * The optional kinds these handlers use; the control plane need not send the others (a hollow
   * node without overlay, proxy or ingress would otherwise receive every Node of the cluster).
   * Undefined: all of them.
   */
  readonly optionalKinds?: readonly OptionalStreamKind[];
  /** Pods bound to this node (spec.nodeName), including ones being deleted. */
  onPod(event: NodeWatchEvent<Pod>): void;
  onConfigMap(event: NodeWatchEvent<ConfigMap>): void;
  onSecret(event: NodeWatchEvent<Secret>): void;
  onService(event: NodeWatchEvent<Service>): void;
  /** EndpointSlices, as discovery.k8s.io/v1 JSON (libs/api may not type them yet). */
  onEndpointSlice(event: NodeWatchEvent<KubeObject>): void;
  onNode(event: NodeWatchEvent<Node>): void;
  /** PersistentVolumes the node's pods' claims are bound to (spec.claimRef names the claim). */
  onPersistentVolume?(event: NodeWatchEvent<PersistentVolume>): void;
  /** Every Ingress (networking.k8s.io/v1 JSON), for the agent's ingress proxy. */
  onIngress?(event: NodeWatchEvent<KubeObject>): void;
  /** Every IngressClass (networking.k8s.io/v1 JSON). */
  onIngressClass?(event: NodeWatchEvent<KubeObject>): void;
  /** The first full state of every kind has been delivered (after every (re)connect). */
  onSynced(): void;
}

/** A streaming request the API server forwards to this node (kubectl logs/exec/port-forward). */
export interface StreamRequest {
  kind: "log" | "exec" | "attach" | "portforward";
  namespace: string;
  podName: string;
  container?: string;
  /** exec: the command; log: follow/tailLines/sinceSeconds/timestamps/previous; portforward: ports. */
  parameters: Record<string, string | string[]>;
}

/** Bytes in both directions for one streaming request; channels as in v5.channel.k8s.io. */
export interface StreamSession {
  readonly request: StreamRequest;
  /** Data from the client: channel 0 stdin, 4 resize (JSON {Width,Height}); portforward: data per port. */
  onInput(handler: (channel: number, data: Uint8Array) => void): void;
  onClose(handler: () => void): void;
  /** Data to the client: 1 stdout, 2 stderr, 3 error/status (a JSON Status with the exit code). */
  write(channel: number, data: Uint8Array): void;
  close(error?: Error): void;
}

export interface ControlPlane {
  /** Subscribes to everything this node needs; resolves when the stream is closed for good. */
  watchNode(handlers: NodeStreamHandlers, signal: AbortSignal): Promise<void>;
  /** Writes a pod's status (the control plane keeps it only if the pod is still bound here). */
  reportPodStatus(namespace: string, name: string, uid: string, status: PodStatus): Promise<void>;
  /** Removes a pod object once its containers are gone (the final step of graceful deletion). */
  confirmPodDeleted(namespace: string, name: string, uid: string): Promise<void>;
  /** Writes Node.status (conditions, capacity, addresses, nodeInfo) when it changes. */
  reportNodeStatus(status: Node["status"]): Promise<void>;
  /** Sets overlay annotations (overlay.flotilla.io/*) on this node's Node object. */
  annotateNode?(annotations: Record<string, string>): Promise<void>;
  /** Creates (remove: deletes) the mirror pod of a static pod this node runs from a manifest file. */
  syncMirrorPod?(mirror: Pod, remove: boolean): Promise<void>;
  /** Sends the node's and its pods' latest usage (metrics.k8s.io, `kubectl top`, the autoscaler). */
  reportUsage?(sample: NodeUsageSample): Promise<void>;
  /** Renews the node's coordination.k8s.io Lease (every 10 s). */
  renewLease(): Promise<void>;
  /** Records an Event about a pod (Pulled, Created, Started, Killing, BackOff, Unhealthy...). */
  recordEvent(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
  /** Serves logs/exec/port-forward requests the API server forwards to this node. */
  serveStreams(handler: (session: StreamSession) => void, signal: AbortSignal): void;
}
