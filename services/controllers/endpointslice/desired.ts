/**
 * What a Service's Endpoints and EndpointSlices should hold, from its selector's pods, as
 * upstream's endpoints and endpointslice controllers compute it: pods with an IP, not finished;
 * ready ones as addresses, others as not-ready (or all ready with publishNotReadyAddresses);
 * terminating pods only in slices (serving/terminating conditions); named target ports resolved
 * per pod, so pods that resolve differently land in different subsets and slices. Pure.
 */
import type { EndpointPort, EndpointSlice, EndpointSliceEndpoint, EndpointSubset, Pod, Service } from "../../../libs/api/index.ts";

/** Upstream's --max-endpoints-per-slice default. */
export const endpointsPerSliceMax = 100;
export const serviceNameLabel = "kubernetes.io/service-name";
export const managedByLabel = "endpointslice.kubernetes.io/managed-by";
export const managedByValue = "endpointslice-controller.k8s.io";

interface ResolvedPod {
  pod: Pod;
  ip: string;
  ports: EndpointPort[];
  ready: boolean;
  terminating: boolean;
}

/** The ports a pod serves for this service; undefined when a named target port does not resolve. */
function resolvePorts(service: Service, pod: Pod): EndpointPort[] | undefined {
  const ports: EndpointPort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const target = servicePort.targetPort ?? servicePort.port;
    const port = typeof target === "number" ? target : /^\d+$/.test(target) ? Number(target) : namedContainerPort(pod, target, servicePort.protocol ?? "TCP");
    if (port === undefined) continue;
    ports.push({ ...(servicePort.name === undefined || servicePort.name === "" ? {} : { name: servicePort.name }), port, protocol: servicePort.protocol ?? "TCP" });
  }
  return ports.length === 0 && (service.spec?.ports?.length ?? 0) > 0 ? undefined : ports;
}

function namedContainerPort(pod: Pod, name: string, protocol: string): number | undefined {
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) if (port.name === name && (port.protocol ?? "TCP") === protocol) return port.containerPort;
  }
  return undefined;
}

function isReadyPod(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true;
}

/** The pods that belong in this service's endpoints, with their resolved ports. */
export function resolvePods(service: Service, pods: readonly Pod[]): ResolvedPod[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const resolved: ResolvedPod[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP ?? "";
    const phase = pod.status?.phase;
    if (ip === "" || phase === "Succeeded" || phase === "Failed") continue;
    const ports = resolvePorts(service, pod);
    if (ports === undefined) continue;
    const terminating = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
    resolved.push({ pod, ip, ports, ready: publishNotReady || (isReadyPod(pod) && !terminating), terminating });
  }
  return resolved.sort((a, b) => compare(a.pod.metadata.name ?? "", b.pod.metadata.name ?? ""));
}

function portsKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify([...ports].sort((a, b) => compare(a.name ?? "", b.name ?? "")));
}

/** Endpoints subsets: one per distinct port set; terminating pods are left out (as upstream). */
export function desiredSubsets(service: Service, resolved: readonly ResolvedPod[]): EndpointSubset[] {
  const bySet = new Map<string, EndpointSubset>();
  for (const entry of resolved) {
    if (entry.terminating && service.spec?.publishNotReadyAddresses !== true) continue;
    const key = portsKey(entry.ports);
    const subset = bySet.get(key) ?? { ports: entry.ports };
    const address = { ip: entry.ip, ...(entry.pod.spec?.nodeName === undefined ? {} : { nodeName: entry.pod.spec.nodeName }), targetRef: podRef(entry.pod), ...hostnameOf(service, entry.pod) };
    if (entry.ready) subset.addresses = [...(subset.addresses ?? []), address];
    else subset.notReadyAddresses = [...(subset.notReadyAddresses ?? []), address];
    bySet.set(key, subset);
  }
  return [...bySet.entries()].sort(([a], [b]) => compare(a, b)).map(([, subset]) => subset);
}

/** Slice contents (without names): one group per port set, at most endpointsPerSliceMax each. */
export function desiredSliceContents(service: Service, resolved: readonly ResolvedPod[]): Pick<EndpointSlice, "addressType" | "endpoints" | "ports">[] {
  const bySet = new Map<string, { ports: EndpointPort[]; endpoints: EndpointSliceEndpoint[] }>();
  for (const entry of resolved) {
    const key = portsKey(entry.ports);
    const group = bySet.get(key) ?? { ports: entry.ports, endpoints: [] };
    group.endpoints.push({
      addresses: [entry.ip],
      conditions: { ready: entry.ready, serving: isReadyPod(entry.pod), terminating: entry.terminating },
      targetRef: podRef(entry.pod),
      ...(entry.pod.spec?.nodeName === undefined ? {} : { nodeName: entry.pod.spec.nodeName }),
      ...hostnameOf(service, entry.pod),
    });
    bySet.set(key, group);
  }
  const contents: Pick<EndpointSlice, "addressType" | "endpoints" | "ports">[] = [];
  for (const [, group] of [...bySet.entries()].sort(([a], [b]) => compare(a, b))) {
    for (let start = 0; start < group.endpoints.length; start += endpointsPerSliceMax) {
      contents.push({ addressType: "IPv4", ports: group.ports, endpoints: group.endpoints.slice(start, start + endpointsPerSliceMax) });
    }
  }
  // A service with no endpoints still gets one empty slice carrying its ports (upstream's placeholder).
  if (contents.length === 0) contents.push({ addressType: "IPv4", ports: placeholderPorts(service), endpoints: [] });
  return contents;
}

function placeholderPorts(service: Service): EndpointPort[] {
  return (service.spec?.ports ?? []).flatMap((port) => (typeof (port.targetPort ?? port.port) === "number" ? [{ ...(port.name === undefined || port.name === "" ? {} : { name: port.name }), port: Number(port.targetPort ?? port.port), protocol: port.protocol ?? "TCP" }] : []));
}

/** A pod's DNS hostname under a headless service: set when the pod names the service as its subdomain. */
function hostnameOf(service: Service, pod: Pod): { hostname?: string } {
  const hostname = pod.spec?.hostname;
  return hostname !== undefined && hostname !== "" && pod.spec?.subdomain === service.metadata.name ? { hostname } : {};
}

function podRef(pod: Pod): { kind: string; namespace: string; name: string; uid: string } {
  return { kind: "Pod", namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "" };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
