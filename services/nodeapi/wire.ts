/**
 * proto/node.proto loaded once, and the shapes its messages have in JavaScript (keepCase, bytes
 * as Buffer, enums as their names, oneofs named), shared by the server and the agent's client.
 */
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

const protoRoot = fileURLToPath(new URL("../../proto", import.meta.url));

export const nodeProtoLoaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

/** The node API's default port (the REST API is 6443). */
export const nodeApiPortDefault = 6444;
/** gRPC's own message limit is 4 MiB; an object is at most 1.5 MiB, a stream frame far less. */
export const nodeApiMessageBytesMax = 4 * 1024 * 1024;

export type ObjectKindName = "POD" | "CONFIG_MAP" | "SECRET" | "SERVICE" | "ENDPOINT_SLICE" | "NODE" | "PERSISTENT_VOLUME" | "INGRESS" | "INGRESS_CLASS";

export interface JoinRequest {
  token: string;
  node_name: string;
  certificate_request_pem: string;
  labels: Record<string, string>;
  taints_json: Buffer;
}

export interface JoinResponse {
  certificate_pem: string;
  ca_certificate_pem: string;
  replicas: string[];
}

export interface WatchRequest {
  filter_optional_kinds: boolean;
  optional_kinds: ObjectKindName[];
}

/** The optional kinds a Watch request asks for (see node.proto); undefined: all of them. */
export function requestedOptionalKinds(request: Partial<WatchRequest> | undefined): ReadonlySet<ObjectKindName> | undefined {
  if (request?.filter_optional_kinds !== true) return undefined;
  return new Set(request.optional_kinds ?? []);
}

/** JSON bytes of frozen objects (the watch caches' shared copies), keyed by identity. */
const encodedObjects = new WeakMap<object, Buffer>();

/**
 * An object's JSON bytes. A frozen object (from a watch cache, shared by every watcher) is
 * encoded once however many node streams carry it: a Node change goes to every node's stream.
 */
export function objectJsonBytes(object: object): Buffer {
  const cached = encodedObjects.get(object);
  if (cached !== undefined) return cached;
  const bytes = Buffer.from(JSON.stringify(object));
  if (Object.isFrozen(object)) encodedObjects.set(object, bytes);
  return bytes;
}

export interface WatchEvent {
  type: "UPSERT" | "DELETE" | "SYNCED";
  kind: ObjectKindName | "OBJECT_KIND_UNSPECIFIED";
  object_json: Buffer;
}

export interface PodStatusReport {
  namespace: string;
  name: string;
  uid: string;
  status_json: Buffer;
}

export interface PodDeletion {
  namespace: string;
  name: string;
  uid: string;
}

export interface NodeStatusReport {
  status_json: Buffer;
}

export interface NodeAnnotations {
  annotations: Record<string, string>;
}

export interface LeaseRenewal {
  lease_duration_seconds: number;
}

export interface EventReport {
  pod_json: Buffer;
  type: string;
  reason: string;
  message: string;
}

export interface MirrorPodRequest {
  pod_json: Buffer;
  remove: boolean;
}

export interface CertificateRenewal {
  certificate_request_pem: string;
}

export interface CertificateRenewalResponse {
  certificate_pem: string;
  ca_certificate_pem: string;
}

export interface UsageReport {
  usage_json: Buffer;
}

export interface StreamParameter {
  name: string;
  values: string[];
}

export interface StreamOpen {
  kind: string;
  namespace: string;
  pod_name: string;
  container: string;
  parameters: StreamParameter[];
}

/** As decoded: `frame` names the oneof member that is set. */
export interface StreamFrame {
  session_id: string;
  frame?: "open" | "data" | "close";
  open?: StreamOpen | null;
  data?: { channel: number; data: Buffer } | null;
  close?: { error: string } | null;
}

let loaded: ServiceClientConstructor | undefined;

/** The NodeApi client constructor; its `service` is the definition a server adds. */
export function loadNodeApi(): ServiceClientConstructor {
  if (loaded === undefined) {
    const root = loadPackageDefinition(loadSync("node.proto", nodeProtoLoaderOptions)) as unknown as {
      flotilla: { node: { v1: { NodeApi: ServiceClientConstructor } } };
    };
    loaded = root.flotilla.node.v1.NodeApi;
  }
  return loaded;
}

export function nodeApiService(): ServiceDefinition {
  return loadNodeApi().service;
}

/** The user name a node's certificate carries, as upstream's node authorizer expects. */
export function nodeUserName(nodeName: string): string {
  return `system:node:${nodeName}`;
}

export const nodesGroup = "system:nodes";
