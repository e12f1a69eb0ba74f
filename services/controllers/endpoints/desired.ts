/**
 * What a Service's Endpoints and EndpointSlices should hold (pkg/controller/endpoint and
 * endpointslice), pure: each pod with an IP that the selector matches, its service ports resolved
 * (a named targetPort looks the name up in the pod's containers, so pods may differ), ready or
 * not (publishNotReadyAddresses counts every pod ready), hostname when the pod's subdomain is the
 * Service, grouped into one subset or slice per distinct port list.
 */
import type { EndpointPort, EndpointSubset, Endpoints, EndpointSlice, EndpointSliceEndpoint, Pod, Service } from "../../../libs/api/index.ts";
import { isPodReady } from "../common/pods.ts";

export const serviceNameLabel = "kubernetes.io/service-name";
export const managedByLabel = "endpointslice.kubernetes.io/managed-by";
export const managedByValue = "endpointslice-controller.k8s.io";
export const headlessLabel = "service.kubernetes.io/headless";
/** Upstream's default --max-endpoints-per-slice. */
export const endpointsPerSliceMax = 100;

/** The ports of one pod for this Service, or undefined when a named targetPort does not resolve. */
export function resolvePorts(service: Service, pod: Pod): EndpointPort[] | undefined {
  const ports: EndpointPort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const protocol = servicePort.protocol ?? "TCP";
    const target = servicePort.targetPort ?? servicePort.port;
    let port: number | undefined;
    if (typeof target === "number") port = target;
    else if (/^\d+$/.test(target)) port = Number(target);
    else {
      for (const container of pod.spec?.containers ?? []) {
        const found = (container.ports ?? []).find((candidate) => candidate.name === target && (candidate.protocol ?? "TCP") === protocol);
        if (found !== undefined) port = found.containerPort;
      }
    }
    if (port === undefined) continue;
    const endpointPort: EndpointPort = { port, protocol };
    if ((servicePort.name ?? "") !== "") endpointPort.name = servicePort.name!;
    if (servicePort.appProtocol !== undefined) endpointPort.appProtocol = servicePort.appProtocol;
    ports.push(endpointPort);
  }
  return ports;
}

export interface PodEndpoint {
  pod: Pod;
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  hostname: string | undefined;
  ports: EndpointPort[];
}

/** Pods that back the Service, terminating ones included (Endpoints leaves them out, slices keep them). */
export function podEndpoints(service: Service, pods: readonly Pod[]): PodEndpoint[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const result: PodEndpoint[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP ?? "";
    const phase = pod.status?.phase;
    if (ip === "" || phase === "Succeeded" || phase === "Failed") continue;
    const ports = resolvePorts(service, pod);
    if (ports === undefined) continue;
    const serving = isPodReady(pod);
    const terminating = (pod.metadata.deletionTimestamp ?? null) !== null;
    const hostname = pod.spec?.hostname !== undefined && pod.spec.subdomain === service.metadata.name ? pod.spec.hostname : undefined;
    result.push({ pod, ip, ready: (serving || publishNotReady) && !terminating, serving, terminating, hostname, ports });
  }
  return result.sort((left, right) => (left.ip < right.ip ? -1 : left.ip > right.ip ? 1 : 0));
}

function portsKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify([...ports].sort((left, right) => (left.name ?? "").localeCompare(right.name ?? "") || left.port - right.port));
}

function targetRef(pod: Pod): NonNullable<EndpointSliceEndpoint["targetRef"]> {
  return { kind: "Pod", namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "" };
}

export function serviceLabels(service: Service): Record<string, string> {
  const labels = { ...(service.metadata.labels ?? {}) };
  if (service.spec?.clusterIP === "None") labels[headlessLabel] = "";
  return labels;
}

/** The Endpoints object: one subset per port list, ready and not-ready addresses apart. */
export function desiredEndpoints(service: Service, endpoints: readonly PodEndpoint[]): Endpoints {
  const subsets = new Map<string, EndpointSubset>();
  for (const endpoint of endpoints) {
    if (endpoint.terminating) continue;
    const key = portsKey(endpoint.ports);
    let subset = subsets.get(key);
    if (subset === undefined) {
      subset = { ports: [...endpoint.ports].sort((left, right) => (left.name ?? "").localeCompare(right.name ?? "") || left.port - right.port) };
      subsets.set(key, subset);
    }
    const address = { ip: endpoint.ip, ...(endpoint.hostname === undefined ? {} : { hostname: endpoint.hostname }), ...(endpoint.pod.spec?.nodeName === undefined ? {} : { nodeName: endpoint.pod.spec.nodeName }), targetRef: targetRef(endpoint.pod) };
    if (endpoint.ready) subset.addresses = [...(subset.addresses ?? []), address];
    else subset.notReadyAddresses = [...(subset.notReadyAddresses ?? []), address];
  }
  const result: Endpoints = { apiVersion: "v1", kind: "Endpoints", metadata: { name: service.metadata.name ?? "", namespace: service.metadata.namespace ?? "default", labels: serviceLabels(service) } };
  if (Object.keys(result.metadata.labels ?? {}).length === 0) delete result.metadata.labels;
  const list = [...subsets.values()].filter((subset) => (subset.ports ?? []).length > 0 || (service.spec?.ports ?? []).length === 0);
  if (list.length > 0) result.subsets = list;
  return result;
}

/** The slices' contents: per port list, chunks of at most endpointsPerSliceMax endpoints. */
export function desiredSlices(endpoints: readonly PodEndpoint[]): Pick<EndpointSlice, "endpoints" | "ports">[] {
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: EndpointSliceEndpoint[] }>();
  for (const endpoint of endpoints) {
    const key = portsKey(endpoint.ports);
    let group = groups.get(key);
    if (group === undefined) {
      group = { ports: endpoint.ports, endpoints: [] };
      groups.set(key, group);
    }
    const sliceEndpoint: EndpointSliceEndpoint = {
      addresses: [endpoint.ip],
      conditions: { ready: endpoint.ready, serving: endpoint.serving, terminating: endpoint.terminating },
      targetRef: targetRef(endpoint.pod),
    };
    if (endpoint.hostname !== undefined) sliceEndpoint.hostname = endpoint.hostname;
    if (endpoint.pod.spec?.nodeName !== undefined) sliceEndpoint.nodeName = endpoint.pod.spec.nodeName;
    group.endpoints.push(sliceEndpoint);
  }
  const slices: Pick<EndpointSlice, "endpoints" | "ports">[] = [];
  for (const group of groups.values()) {
    const ports = group.ports.map((port) => ({ name: port.name ?? "", port: port.port, protocol: port.protocol ?? "TCP", ...(port.appProtocol === undefined ? {} : { appProtocol: port.appProtocol }) }));
    for (let start = 0; start < group.endpoints.length; start += endpointsPerSliceMax) {
      slices.push({ endpoints: group.endpoints.slice(start, start + endpointsPerSliceMax), ports });
    }
  }
  // A Service with no backends still has one empty slice, as upstream keeps a placeholder.
  if (slices.length === 0) slices.push({ endpoints: [], ports: [] });
  return slices;
}
