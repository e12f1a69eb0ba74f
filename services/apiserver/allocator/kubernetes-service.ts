/**
 * The `kubernetes` Service in `default` (ClusterIP: the service range's first address, port 443)
 * and its Endpoints, which list every API server replica: each replica adds its own address and
 * port at start (upstream's endpoint reconciler; removal of a replica that is gone is not done yet).
 * The EndpointSlice `kubernetes` is written from the Endpoints each time, as upstream's
 * EndpointsAdapter does (the Endpoints carry skip-mirror, so no mirroring controller touches them).
 */
import { findResource } from "../../../libs/api/registry.ts";
import { createIfAbsent } from "../authz/ensure.ts";
import type { Storages } from "../storages.ts";
import { NotFoundError, objectKey, type StoredObject } from "../storage/index.ts";
import { AlreadyAllocatedError } from "./store.ts";
import type { ServiceAllocators } from "./services.ts";

export interface ApiEndpoint {
  readonly ip: string;
  readonly port: number;
}

type Subset = { addresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] };

function hasEndpoint(subsets: readonly Subset[], endpoint: ApiEndpoint): boolean {
  return subsets.some((subset) => (subset.ports ?? []).some((port) => port.port === endpoint.port) && (subset.addresses ?? []).some((address) => address.ip === endpoint.ip));
}

/** Subsets with `endpoint` added: to the subset of its port, or as a new subset. */
export function withEndpoint(subsets: readonly Subset[], endpoint: ApiEndpoint): Subset[] {
  if (hasEndpoint(subsets, endpoint)) return [...subsets];
  const samePort = subsets.findIndex((subset) => (subset.ports ?? []).length === 1 && subset.ports?.[0]?.port === endpoint.port);
  if (samePort === -1) return [...subsets, { addresses: [{ ip: endpoint.ip }], ports: [{ name: "https", port: endpoint.port, protocol: "TCP" }] }];
  return subsets.map((subset, index) => (index === samePort ? { ...subset, addresses: [...(subset.addresses ?? []), { ip: endpoint.ip }] } : subset));
}

async function ensureService(storages: Storages, allocators: ServiceAllocators, endpoint: ApiEndpoint, nowMs: number): Promise<void> {
  const info = findResource("", "v1", "services");
  if (info === undefined) throw new Error("the registry has no services");
  try {
    await storages.cacherFor(info).get(objectKey({ group: "", resource: "services" }, "default", "kubernetes"));
    return;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const clusterIp = allocators.ips.range.valueAt(0);
  try {
    await allocators.ips.allocate(clusterIp);
  } catch (error) {
    // Another replica is creating the Service right now.
    if (error instanceof AlreadyAllocatedError) return;
    throw error;
  }
  const service: StoredObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
    spec: { type: "ClusterIP", clusterIP: clusterIp, clusterIPs: [clusterIp], ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: endpoint.port }], sessionAffinity: "None" },
  };
  await createIfAbsent(storages, "", "v1", "services", service, nowMs);
}

/**
 * The EndpointSlice upstream's EndpointsAdapter writes for these Endpoints: same name, the
 * service-name label, the first subset's ready addresses and ports (upstream reads only that one).
 */
export function endpointSliceFromEndpoints(endpoints: StoredObject): StoredObject {
  const metadata = endpoints["metadata"] as { name?: string; namespace?: string };
  const [subset] = (endpoints["subsets"] as Subset[] | undefined) ?? [];
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: metadata.name ?? "", namespace: metadata.namespace ?? "default", labels: { "kubernetes.io/service-name": metadata.name ?? "" } },
    addressType: "IPv4",
    endpoints: (subset?.addresses ?? []).map((address) => ({ addresses: [address.ip], conditions: { ready: true } })),
    ports: (subset?.ports ?? []).map((port) => ({ ...(port.name === undefined ? {} : { name: port.name }), port: port.port, protocol: port.protocol ?? "TCP" })),
  };
}

async function ensureEndpointSlice(storages: Storages, endpoints: StoredObject, nowMs: number): Promise<void> {
  const info = findResource("discovery.k8s.io", "v1", "endpointslices");
  if (info === undefined) throw new Error("the registry has no endpointslices");
  const wanted = endpointSliceFromEndpoints(endpoints);
  if (await createIfAbsent(storages, "discovery.k8s.io", "v1", "endpointslices", wanted, nowMs)) return;
  await storages.cacherFor(info).update(objectKey({ group: "discovery.k8s.io", resource: "endpointslices" }, "default", "kubernetes"), (current) => ({
    ...current,
    endpoints: wanted["endpoints"],
    ports: wanted["ports"],
  }));
}

async function ensureEndpoints(storages: Storages, endpoint: ApiEndpoint, nowMs: number): Promise<StoredObject> {
  const info = findResource("", "v1", "endpoints");
  if (info === undefined) throw new Error("the registry has no endpoints");
  const endpoints: StoredObject = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "kubernetes", namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
    subsets: withEndpoint([], endpoint),
  };
  if (await createIfAbsent(storages, "", "v1", "endpoints", endpoints, nowMs)) return endpoints;
  return storages.cacherFor(info).update(objectKey({ group: "", resource: "endpoints" }, "default", "kubernetes"), (current) => ({
    ...current,
    subsets: withEndpoint((current["subsets"] as Subset[] | undefined) ?? [], endpoint),
  }));
}

export async function ensureKubernetesService(storages: Storages, allocators: ServiceAllocators, endpoint: ApiEndpoint, nowMs: number): Promise<void> {
  await ensureService(storages, allocators, endpoint, nowMs);
  const endpoints = await ensureEndpoints(storages, endpoint, nowMs);
  await ensureEndpointSlice(storages, endpoints, nowMs);
}
