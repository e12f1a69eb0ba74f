/**
 * What the proxy must do, as plain data: one ServicePort per (Service, port) with the endpoints
 * that may receive its traffic. Computed from Services and EndpointSlices as kube-proxy does:
 * a service port meets its endpoints' port by name, only ready endpoints receive traffic (serving
 * terminating ones when none is ready), and externalTrafficPolicy Local keeps external traffic on
 * the node's own endpoints. Pure.
 */
import type { EndpointSlice, Service } from "../../libs/api/index.ts";

export type L4Protocol = "tcp" | "udp" | "sctp";

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** The endpoint runs on this node (externalTrafficPolicy Local). */
  local: boolean;
}

export interface ServicePort {
  /** `namespace/name:portName` (portName empty for an unnamed single port). */
  key: string;
  protocol: L4Protocol;
  clusterIPs: string[];
  port: number;
  /** 0 when the service has no node port. */
  nodePort: number;
  /** Addresses on which a LoadBalancer service answers on `port` (servicelb: chosen nodes' IPs). */
  loadBalancerIPs: string[];
  externalLocal: boolean;
  /** sessionAffinity ClientIP timeout; 0 when there is no affinity. */
  affinitySeconds: number;
  endpoints: ProxyEndpoint[];
}

export interface ModelInput {
  services: readonly Service[];
  /** EndpointSlices of those services (label kubernetes.io/service-name). */
  slices: readonly EndpointSlice[];
  nodeName: string;
}

/** Upstream's default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const defaultAffinitySeconds = 10_800;

const serviceNameLabel = "kubernetes.io/service-name";

export function servicePorts(input: ModelInput): ServicePort[] {
  const slicesByService = groupSlices(input.slices);
  const result: ServicePort[] = [];
  for (const service of input.services) {
    if (!isProxied(service)) continue;
    const key = `${service.metadata.namespace ?? "default"}/${service.metadata.name ?? ""}`;
    const slices = slicesByService.get(key) ?? [];
    for (const port of service.spec?.ports ?? []) {
      const portName = port.name ?? "";
      result.push({
        key: `${key}:${portName}`,
        protocol: (port.protocol ?? "TCP").toLowerCase() as L4Protocol,
        clusterIPs: clusterIPv4s(service),
        port: port.port,
        nodePort: port.nodePort ?? 0,
        loadBalancerIPs: (service.status?.loadBalancer?.ingress ?? []).flatMap((ingress) => (ingress.ip === undefined ? [] : [ingress.ip])),
        externalLocal: service.spec?.externalTrafficPolicy === "Local",
        affinitySeconds: affinitySeconds(service),
        endpoints: endpointsFor(slices, portName, input.nodeName),
      });
    }
  }
  return result.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Headless and ExternalName services have no virtual IP to proxy. */
function isProxied(service: Service): boolean {
  const spec = service.spec;
  if (spec === undefined || spec.type === "ExternalName") return false;
  return spec.clusterIP !== undefined && spec.clusterIP !== "" && spec.clusterIP !== "None";
}

function clusterIPv4s(service: Service): string[] {
  const ips = service.spec?.clusterIPs ?? [service.spec?.clusterIP ?? ""];
  return ips.filter((ip) => ip !== "" && !ip.includes(":"));
}

function affinitySeconds(service: Service): number {
  if (service.spec?.sessionAffinity !== "ClientIP") return 0;
  return service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultAffinitySeconds;
}

function groupSlices(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const serviceName = slice.metadata.labels?.[serviceNameLabel];
    if (serviceName === undefined || slice.addressType !== "IPv4") continue;
    const key = `${slice.metadata.namespace ?? "default"}/${serviceName}`;
    byService.set(key, [...(byService.get(key) ?? []), slice]);
  }
  return byService;
}

/** Ready endpoints; if none is ready, the serving terminating ones (upstream's fallback). */
function endpointsFor(slices: readonly EndpointSlice[], portName: string, nodeName: string): ProxyEndpoint[] {
  const ready: ProxyEndpoint[] = [];
  const servingTerminating: ProxyEndpoint[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    const port = (slice.ports ?? []).find((candidate) => (candidate.name ?? "") === portName)?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints) {
      const conditions = endpoint.conditions ?? {};
      const isReady = conditions.ready !== false;
      const isServingTerminating = !isReady && conditions.serving === true && conditions.terminating === true;
      for (const ip of endpoint.addresses) {
        const id = `${ip}:${port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const proxied = { ip, port, local: endpoint.nodeName === nodeName };
        if (isReady) ready.push(proxied);
        else if (isServingTerminating) servingTerminating.push(proxied);
      }
    }
  }
  const chosen = ready.length > 0 ? ready : servingTerminating;
  return chosen.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
}
