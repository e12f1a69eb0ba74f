/**
 * The ingress routing table: built from the Ingresses, Services, EndpointSlices and TLS Secrets
 * the proxy has seen, then never mutated. The proxy swaps in a new table on every change, so a
 * request in flight keeps the table it started with and the next request sees the new one.
 *
 * Matching follows networking.k8s.io/v1: a host is exact or `*.suffix` (one DNS label only);
 * Prefix paths match element-wise (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`);
 * Exact matches the whole path; ImplementationSpecific is treated as Prefix. The longest match
 * wins, and Exact wins a tie with Prefix.
 */
import type { EndpointSlice, Ingress, IngressBackend, IngressClass, Secret, Service, ServicePort } from "../../libs/api/index.ts";

export const ingressClassName = "flotilla";
export const defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";
/** The controller name IngressClass.spec.controller carries for Flotilla's proxy. */
export const ingressControllerName = "flotilla.io/ingress";
/** The label EndpointSlices carry naming their Service. */
export const serviceNameLabel = "kubernetes.io/service-name";
/** Bounds what one table may hold, so a runaway object cannot make lookups unbounded. */
export const rulesPerTableMax = 100_000;

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

/** One backend as the proxy sees it: a stable key (for round-robin) and its ready upstreams. */
export interface ResolvedBackend {
  readonly key: string;
  readonly upstreams: readonly Upstream[];
}

export type MatchPathType = "Exact" | "Prefix";

interface PathRule {
  readonly path: string;
  readonly pathType: MatchPathType;
  /** Path elements of a Prefix rule (empty for `/`). */
  readonly elements: readonly string[];
  readonly backend: ResolvedBackend;
}

export interface TlsCertificate {
  readonly key: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ProxyState {
  readonly ingresses: readonly Ingress[];
  readonly services: ReadonlyMap<string, Service>;
  /** EndpointSlices by `namespace/serviceName`, then by slice name. */
  readonly slices: ReadonlyMap<string, ReadonlyMap<string, EndpointSlice>>;
  readonly secrets: ReadonlyMap<string, Secret>;
  /** IngressClasses by name; absent: decide by the class name `flotilla` alone. */
  readonly classes?: ReadonlyMap<string, IngressClass>;
}

/** Ingresses with no class, or class `flotilla`, are ours (flotilla is the default class). */
/**
 * An Ingress is ours when it names `flotilla` or another IngressClass whose spec.controller is
 * ours; one that names no class is ours unless another controller's class is the default
 * (upstream: classless Ingresses belong to the default class). Without `classes`, only the name
 * `flotilla` counts and classless Ingresses are ours.
 */
export function isOurIngress(ingress: Ingress, classes?: ReadonlyMap<string, IngressClass>): boolean {
  const className = ingress.spec?.ingressClassName ?? ingress.metadata.annotations?.["kubernetes.io/ingress.class"];
  const isOurs = (name: string): boolean => name === ingressClassName || classes?.get(name)?.spec?.controller === ingressControllerName;
  if (className !== undefined) return isOurs(className);
  const defaults = [...(classes?.values() ?? [])].filter((candidate) => candidate.metadata.annotations?.[defaultClassAnnotation] === "true");
  return defaults.length === 0 || defaults.some((candidate) => isOurs(candidate.metadata.name ?? ""));
}

/** Elements of a path for element-wise Prefix matching: `/a//b/` → ["a", "b"]. */
export function pathElements(path: string): string[] {
  return path.split("/").filter((element) => element !== "");
}

function prefixMatches(rule: PathRule, requestElements: readonly string[]): boolean {
  if (rule.elements.length > requestElements.length) return false;
  for (let index = 0; index < rule.elements.length; index++) {
    if (rule.elements[index] !== requestElements[index]) return false;
  }
  return true;
}

/** Strips a port and a trailing dot, lowercases: `Foo.Example.:8080` → `foo.example`. */
export function normalizeHost(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return "";
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(":");
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

/** `*.example.com` covers `a.example.com` only (one label), never `example.com` or `a.b.example.com`. */
export function wildcardSuffixOf(host: string): string | undefined {
  const dot = host.indexOf(".");
  if (dot <= 0) return undefined;
  return host.slice(dot + 1);
}

export class RouteTable {
  readonly #exactHosts: ReadonlyMap<string, readonly PathRule[]>;
  /** Keyed by the suffix after `*.`. */
  readonly #wildcardHosts: ReadonlyMap<string, readonly PathRule[]>;
  readonly #anyHost: readonly PathRule[];
  readonly #defaultBackend: ResolvedBackend | undefined;
  /** Certificates by exact host and by `*.suffix`, and the first one as the default. */
  readonly certificatesByHost: ReadonlyMap<string, TlsCertificate>;
  readonly defaultCertificate: TlsCertificate | undefined;

  constructor(parts: {
    exactHosts: ReadonlyMap<string, readonly PathRule[]>;
    wildcardHosts: ReadonlyMap<string, readonly PathRule[]>;
    anyHost: readonly PathRule[];
    defaultBackend: ResolvedBackend | undefined;
    certificatesByHost: ReadonlyMap<string, TlsCertificate>;
    defaultCertificate: TlsCertificate | undefined;
  }) {
    this.#exactHosts = parts.exactHosts;
    this.#wildcardHosts = parts.wildcardHosts;
    this.#anyHost = parts.anyHost;
    this.#defaultBackend = parts.defaultBackend;
    this.certificatesByHost = parts.certificatesByHost;
    this.defaultCertificate = parts.defaultCertificate;
  }

  static empty(): RouteTable {
    return new RouteTable({ exactHosts: new Map(), wildcardHosts: new Map(), anyHost: [], defaultBackend: undefined, certificatesByHost: new Map(), defaultCertificate: undefined });
  }

  /**
   * The backend for a request: the exact host's rules, else the wildcard's, else the host-less
   * rules, else the default backend; undefined means 404.
   */
  match(hostHeader: string | undefined, requestPath: string): ResolvedBackend | undefined {
    const host = normalizeHost(hostHeader);
    const path = requestPath.split("?", 1)[0] ?? "/";
    const requestElements = pathElements(path);
    const exact = this.#exactHosts.get(host);
    const suffix = wildcardSuffixOf(host);
    const wildcard = suffix === undefined ? undefined : this.#wildcardHosts.get(suffix);
    for (const rules of [exact, wildcard, this.#anyHost]) {
      if (rules === undefined) continue;
      const found = bestRule(rules, path, requestElements);
      if (found !== undefined) return found.backend;
    }
    return this.#defaultBackend;
  }

  /** The certificate for an SNI name: exact, then `*.suffix`; undefined means use the default. */
  certificateFor(serverName: string): TlsCertificate | undefined {
    const host = normalizeHost(serverName);
    const exact = this.certificatesByHost.get(host);
    if (exact !== undefined) return exact;
    const suffix = wildcardSuffixOf(host);
    return suffix === undefined ? undefined : this.certificatesByHost.get(`*.${suffix}`);
  }
}

/** Longest match wins; at equal length Exact beats Prefix; the first rule added wins a full tie. */
function bestRule(rules: readonly PathRule[], path: string, requestElements: readonly string[]): PathRule | undefined {
  let best: PathRule | undefined;
  let bestLength = -1;
  for (const rule of rules) {
    const matches = rule.pathType === "Exact" ? rule.path === path : prefixMatches(rule, requestElements);
    if (!matches) continue;
    const length = rule.pathType === "Exact" ? rule.path.length : rule.elements.join("/").length + 1;
    const better = length > bestLength || (length === bestLength && rule.pathType === "Exact" && best?.pathType === "Prefix");
    if (better) {
      best = rule;
      bestLength = length;
    }
  }
  return best;
}

/** Resolves an Ingress backend to the ready addresses of the Service port's endpoints. */
export function resolveBackend(state: ProxyState, namespace: string, backend: IngressBackend): ResolvedBackend {
  const reference = backend.service;
  if (reference === undefined) return { key: `${namespace}/<resource>`, upstreams: [] };
  const portReference = reference.port?.number ?? reference.port?.name ?? "";
  const key = `${namespace}/${reference.name}:${portReference}`;
  const service = state.services.get(`${namespace}/${reference.name}`);
  const servicePort = service?.spec?.ports?.find((port) =>
    reference.port?.number !== undefined ? port.port === reference.port.number : (port.name ?? "") === (reference.port?.name ?? ""),
  );
  if (servicePort === undefined) return { key, upstreams: [] };
  const slices = [...(state.slices.get(`${namespace}/${reference.name}`)?.values() ?? [])];
  // Upstream: a nil ready condition means ready.
  const ready = upstreamsOf(slices, servicePort, (conditions) => conditions?.ready !== false);
  // As kube-proxy: when no endpoint is ready, terminating ones still serving take the traffic.
  const upstreams = ready.length > 0 ? ready : upstreamsOf(slices, servicePort, (conditions) => conditions?.serving === true && conditions.terminating === true);
  upstreams.sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
  return { key, upstreams };
}

type EndpointConditions = EndpointSlice["endpoints"][number]["conditions"];

function upstreamsOf(slices: readonly EndpointSlice[], servicePort: ServicePort, usable: (conditions: EndpointConditions) => boolean): Upstream[] {
  const portName = servicePort.name ?? "";
  const upstreams: Upstream[] = [];
  for (const slice of slices) {
    if (slice.addressType === "FQDN") continue;
    const slicePort = slice.ports?.find((port) => (port.name ?? "") === portName)?.port;
    // A slice without ports (hand-made) still serves a numeric targetPort.
    const targetPort = typeof servicePort.targetPort === "number" ? servicePort.targetPort : servicePort.targetPort === undefined ? servicePort.port : undefined;
    const port = slicePort ?? (slice.ports === undefined || slice.ports.length === 0 ? targetPort : undefined);
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints) {
      if (!usable(endpoint.conditions)) continue;
      const address = endpoint.addresses[0];
      if (address !== undefined) upstreams.push({ address, port });
    }
  }
  return upstreams;
}

function creationOrder(a: Ingress, b: Ingress): number {
  const aTime = a.metadata.creationTimestamp ?? "";
  const bTime = b.metadata.creationTimestamp ?? "";
  if (aTime !== bTime) return aTime < bTime ? -1 : 1;
  const aKey = `${a.metadata.namespace ?? ""}/${a.metadata.name ?? ""}`;
  const bKey = `${b.metadata.namespace ?? ""}/${b.metadata.name ?? ""}`;
  return aKey < bKey ? -1 : aKey > bKey ? 1 : 0;
}

function decodeBase64(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

function certificateOf(state: ProxyState, namespace: string, secretName: string): TlsCertificate | undefined {
  const secret = state.secrets.get(`${namespace}/${secretName}`);
  const certPem = decodeBase64(secret?.data?.["tls.crt"]);
  const keyPem = decodeBase64(secret?.data?.["tls.key"]);
  if (secret === undefined || certPem === undefined || keyPem === undefined) return undefined;
  return { key: `${namespace}/${secretName}@${secret.metadata.resourceVersion ?? ""}`, certPem, keyPem };
}

/** Builds an immutable table; the oldest Ingress wins a conflict (same host, path and type). */
export function buildRouteTable(state: ProxyState): RouteTable {
  const exactHosts = new Map<string, PathRule[]>();
  const wildcardHosts = new Map<string, PathRule[]>();
  const anyHost: PathRule[] = [];
  const certificatesByHost = new Map<string, TlsCertificate>();
  let defaultBackend: ResolvedBackend | undefined;
  let defaultCertificate: TlsCertificate | undefined;
  let ruleCount = 0;
  const ours = state.ingresses.filter((ingress) => isOurIngress(ingress, state.classes)).sort(creationOrder);
  for (const ingress of ours) {
    const namespace = ingress.metadata.namespace ?? "default";
    if (defaultBackend === undefined && ingress.spec?.defaultBackend !== undefined) defaultBackend = resolveBackend(state, namespace, ingress.spec.defaultBackend);
    for (const rule of ingress.spec?.rules ?? []) {
      const host = (rule.host ?? "").toLowerCase();
      const rules = host === "" ? anyHost : host.startsWith("*.") ? listIn(wildcardHosts, host.slice(2)) : listIn(exactHosts, host);
      for (const httpPath of rule.http?.paths ?? []) {
        if (ruleCount >= rulesPerTableMax) break;
        const path = httpPath.path ?? "/";
        const pathType: MatchPathType = httpPath.pathType === "Exact" ? "Exact" : "Prefix";
        if (rules.some((existing) => existing.path === path && existing.pathType === pathType)) continue;
        rules.push({ path, pathType, elements: pathElements(path), backend: resolveBackend(state, namespace, httpPath.backend) });
        ruleCount++;
      }
    }
    for (const tls of ingress.spec?.tls ?? []) {
      if (tls.secretName === undefined) continue;
      const certificate = certificateOf(state, namespace, tls.secretName);
      if (certificate === undefined) continue;
      defaultCertificate ??= certificate;
      for (const host of tls.hosts ?? []) {
        if (!certificatesByHost.has(host.toLowerCase())) certificatesByHost.set(host.toLowerCase(), certificate);
      }
    }
  }
  return new RouteTable({ exactHosts, wildcardHosts, anyHost, defaultBackend, certificatesByHost, defaultCertificate });
}

function listIn(map: Map<string, PathRule[]>, key: string): PathRule[] {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  return list;
}
