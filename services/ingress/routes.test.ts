import { describe, expect, it } from "vitest";
import type { EndpointSlice, HTTPIngressPath, Ingress, IngressClass, IngressRule, Secret, Service } from "../../libs/api/index.ts";
import { buildRouteTable, isOurIngress, normalizeHost } from "./routes.ts";
import type { ProxyState } from "./routes.ts";

function backendTo(service: string): HTTPIngressPath["backend"] {
  return { service: { name: service, port: { number: 80 } } };
}

function path(value: string, pathType: HTTPIngressPath["pathType"], service: string): HTTPIngressPath {
  return { path: value, pathType, backend: backendTo(service) };
}

function ingress(name: string, rules: IngressRule[], extra: Partial<NonNullable<Ingress["spec"]>> = {}, createdAt = "2026-01-01T00:00:00Z"): Ingress {
  return { metadata: { name, namespace: "default", creationTimestamp: createdAt }, spec: { rules, ...extra } };
}

function service(name: string): Service {
  return { metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 80, targetPort: "web" }] } };
}

function slice(serviceName: string, address: string, ready = true): EndpointSlice {
  return {
    metadata: { name: `${serviceName}-x`, namespace: "default", labels: { "kubernetes.io/service-name": serviceName } },
    addressType: "IPv4",
    endpoints: [{ addresses: [address], conditions: { ready } }],
    ports: [{ name: "http", port: 8080 }],
  };
}

/** Each service `svc-N` has one endpoint 10.0.0.N, so a match names its service by address. */
function state(ingresses: Ingress[], services: string[], secrets: Secret[] = []): ProxyState {
  return {
    ingresses,
    services: new Map(services.map((name) => [`default/${name}`, service(name)])),
    slices: new Map(services.map((name, index) => [`default/${name}`, new Map([[`${name}-x`, slice(name, `10.0.0.${index + 1}`)]])])),
    secrets: new Map(secrets.map((secret) => [`default/${secret.metadata.name ?? ""}`, secret])),
  };
}

function addressFor(table: ReturnType<typeof buildRouteTable>, host: string, requestPath: string): string | undefined {
  const backend = table.match(host, requestPath);
  if (backend === undefined) return undefined;
  return backend.upstreams.map((upstream) => `${upstream.address}:${upstream.port}`).join(",");
}

describe("route matching", () => {
  it("an exact host matches case-insensitively and ignores the port in the Host header", () => {
    const table = buildRouteTable(state([ingress("a", [{ host: "a.example", http: { paths: [path("/", "Prefix", "svc-1")] } }])], ["svc-1"]));
    expect(addressFor(table, "A.Example:8080", "/x")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "b.example", "/x")).toBeUndefined();
  });

  it("a wildcard host covers exactly one label, and an exact host beats it", () => {
    const rules: IngressRule[] = [
      { host: "*.example.com", http: { paths: [path("/", "Prefix", "svc-1")] } },
      { host: "www.example.com", http: { paths: [path("/", "Prefix", "svc-2")] } },
    ];
    const table = buildRouteTable(state([ingress("a", rules)], ["svc-1", "svc-2"]));
    expect(addressFor(table, "foo.example.com", "/")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "www.example.com", "/")).toBe("10.0.0.2:8080");
    expect(addressFor(table, "a.b.example.com", "/")).toBeUndefined();
    expect(addressFor(table, "example.com", "/")).toBeUndefined();
  });

  it("Prefix matches path elements, not characters, and ignores a trailing slash", () => {
    const table = buildRouteTable(state([ingress("a", [{ http: { paths: [path("/foo/bar/", "Prefix", "svc-1")] } }])], ["svc-1"]));
    expect(addressFor(table, "any", "/foo/bar")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "any", "/foo/bar/")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "any", "/foo/bar/baz?q=1")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "any", "/foo/barbaz")).toBeUndefined();
    expect(addressFor(table, "any", "/foo")).toBeUndefined();
  });

  it("Exact matches only the whole path, and ImplementationSpecific acts as Prefix", () => {
    const rules: IngressRule[] = [{ http: { paths: [path("/exact", "Exact", "svc-1"), path("/impl", "ImplementationSpecific", "svc-2")] } }];
    const table = buildRouteTable(state([ingress("a", rules)], ["svc-1", "svc-2"]));
    expect(addressFor(table, "h", "/exact")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "h", "/exact/")).toBeUndefined();
    expect(addressFor(table, "h", "/impl/deeper")).toBe("10.0.0.2:8080");
  });

  it("the longest match wins, and Exact wins a tie with Prefix", () => {
    const rules: IngressRule[] = [
      { host: "h", http: { paths: [path("/", "Prefix", "svc-1"), path("/api", "Prefix", "svc-2"), path("/api", "Exact", "svc-3"), path("/api/v2", "Prefix", "svc-4")] } },
    ];
    const table = buildRouteTable(state([ingress("a", rules)], ["svc-1", "svc-2", "svc-3", "svc-4"]));
    expect(addressFor(table, "h", "/other")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "h", "/api")).toBe("10.0.0.3:8080");
    expect(addressFor(table, "h", "/api/v1")).toBe("10.0.0.2:8080");
    expect(addressFor(table, "h", "/api/v2/x")).toBe("10.0.0.4:8080");
  });

  it("host rules come first, then host-less rules, then the default backend", () => {
    const first = ingress("a", [{ host: "h", http: { paths: [path("/h", "Prefix", "svc-1")] } }, { http: { paths: [path("/any", "Prefix", "svc-2")] } }], {
      defaultBackend: backendTo("svc-3"),
    });
    const table = buildRouteTable(state([first], ["svc-1", "svc-2", "svc-3"]));
    expect(addressFor(table, "h", "/h")).toBe("10.0.0.1:8080");
    expect(addressFor(table, "h", "/any")).toBe("10.0.0.2:8080");
    expect(addressFor(table, "h", "/nothing")).toBe("10.0.0.3:8080");
  });

  it("the oldest Ingress wins a conflicting rule regardless of list order", () => {
    const older = ingress("z-old", [{ host: "h", http: { paths: [path("/", "Prefix", "svc-1")] } }], {}, "2026-01-01T00:00:00Z");
    const newer = ingress("a-new", [{ host: "h", http: { paths: [path("/", "Prefix", "svc-2")] } }], {}, "2026-02-01T00:00:00Z");
    expect(addressFor(buildRouteTable(state([newer, older], ["svc-1", "svc-2"])), "h", "/")).toBe("10.0.0.1:8080");
  });

  it("resolves a service port by name through targetPort to the slice port, skipping unready endpoints", () => {
    const base = state([ingress("a", [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "svc-1", port: { name: "http" } } } }] } }])], ["svc-1"]);
    const slices = new Map([["default/svc-1", new Map([["a", slice("svc-1", "10.0.0.1")], ["b", slice("svc-1", "10.0.0.9", false)]])]]);
    expect(addressFor(buildRouteTable({ ...base, slices }), "h", "/")).toBe("10.0.0.1:8080");
  });

  it("falls back to serving terminating endpoints only when none is ready", () => {
    const base = state([ingress("a", [{ http: { paths: [path("/", "Prefix", "svc-1")] } }])], ["svc-1"]);
    const terminating: EndpointSlice = { ...slice("svc-1", "10.0.0.7", false), endpoints: [{ addresses: ["10.0.0.7"], conditions: { ready: false, serving: true, terminating: true } }] };
    const onlyTerminating = new Map([["default/svc-1", new Map([["t", terminating]])]]);
    expect(addressFor(buildRouteTable({ ...base, slices: onlyTerminating }), "h", "/")).toBe("10.0.0.7:8080");
    const both = new Map([["default/svc-1", new Map([["t", terminating], ["r", slice("svc-1", "10.0.0.1")]])]]);
    expect(addressFor(buildRouteTable({ ...base, slices: both }), "h", "/")).toBe("10.0.0.1:8080");
  });

  it("a backend whose service or port is unknown matches with no upstreams (503, not 404)", () => {
    const rules: IngressRule[] = [{ http: { paths: [path("/missing", "Prefix", "nope"), { path: "/badport", pathType: "Prefix", backend: { service: { name: "svc-1", port: { number: 81 } } } }] } }];
    const table = buildRouteTable(state([ingress("a", rules)], ["svc-1"]));
    expect(table.match("h", "/missing")?.upstreams).toEqual([]);
    expect(table.match("h", "/badport")?.upstreams).toEqual([]);
  });

  it("ignores Ingresses of another class and takes ones with no class or class flotilla", () => {
    expect(isOurIngress(ingress("a", []))).toBe(true);
    expect(isOurIngress(ingress("a", [], { ingressClassName: "flotilla" }))).toBe(true);
    expect(isOurIngress(ingress("a", [], { ingressClassName: "nginx" }))).toBe(false);
    const other = ingress("b", [{ http: { paths: [path("/", "Prefix", "svc-1")] } }], { ingressClassName: "nginx" });
    expect(buildRouteTable(state([other], ["svc-1"])).match("h", "/")).toBeUndefined();
  });

  it("follows IngressClass objects: another class of our controller is ours, and classless Ingresses go to the default class", () => {
    const ingressClass = (name: string, controller: string, isDefault = false): IngressClass => ({
      metadata: { name, ...(isDefault ? { annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } } : {}) },
      spec: { controller },
    });
    const withNginxDefault = new Map([
      ["flotilla", ingressClass("flotilla", "flotilla.io/ingress")],
      ["edge", ingressClass("edge", "flotilla.io/ingress")],
      ["nginx", ingressClass("nginx", "k8s.io/ingress-nginx", true)],
    ]);
    expect(isOurIngress(ingress("a", [], { ingressClassName: "edge" }), withNginxDefault)).toBe(true);
    expect(isOurIngress(ingress("a", [], { ingressClassName: "flotilla" }), withNginxDefault)).toBe(true);
    expect(isOurIngress(ingress("a", []), withNginxDefault)).toBe(false);
    expect(isOurIngress(ingress("a", []), new Map([["edge", ingressClass("edge", "flotilla.io/ingress", true)]]))).toBe(true);
    expect(isOurIngress(ingress("a", []), new Map())).toBe(true);
    const edge = ingress("b", [{ http: { paths: [path("/", "Prefix", "svc-1")] } }], { ingressClassName: "edge" });
    expect(buildRouteTable(state([edge], ["svc-1"])).match("h", "/")).toBeUndefined();
    expect(buildRouteTable({ ...state([edge], ["svc-1"]), classes: withNginxDefault }).match("h", "/")).toBeDefined();
  });

  it("picks TLS certificates by exact host, then wildcard, with the first as the default", () => {
    const secret = (name: string): Secret => ({ metadata: { name, namespace: "default", resourceVersion: "1" }, type: "kubernetes.io/tls", data: { "tls.crt": btoa(`cert-${name}`), "tls.key": btoa(`key-${name}`) } });
    const withTls = ingress("a", [], { tls: [{ hosts: ["a.example"], secretName: "one" }, { hosts: ["*.example"], secretName: "two" }, { hosts: ["c.example"], secretName: "absent" }] });
    const table = buildRouteTable(state([withTls], [], [secret("one"), secret("two")]));
    expect(table.certificateFor("a.example")?.certPem).toBe("cert-one");
    expect(table.certificateFor("b.example")?.certPem).toBe("cert-two");
    expect(table.certificateFor("other.test")).toBeUndefined();
    expect(table.defaultCertificate?.keyPem).toBe("key-one");
  });

  it("normalizeHost strips ports, IPv6 brackets' ports and a trailing dot", () => {
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
    expect(normalizeHost("Example.COM.")).toBe("example.com");
    expect(normalizeHost(undefined)).toBe("");
  });
});
