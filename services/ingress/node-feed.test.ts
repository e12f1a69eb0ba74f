import { describe, expect, it } from "vitest";
import type { EndpointSlice, Ingress, IngressClass, KubeObject, Secret, Service } from "../../libs/api/index.ts";
import type { NodeStreamHandlers } from "../agent/control-plane.ts";
import { withIngressProxy } from "./node-feed.ts";
import { IngressProxy } from "./proxy.ts";

function recordingHandlers(seen: string[]): NodeStreamHandlers {
  const record = (kind: string) => (event: { type: string; object: KubeObject }) => seen.push(`${kind} ${event.type} ${event.object.metadata.name ?? ""}`);
  return { onPod: record("pod"), onConfigMap: record("configmap"), onSecret: record("secret"), onService: record("service"), onEndpointSlice: record("slice"), onNode: record("node"), onSynced: () => seen.push("synced") };
}

const service: Service = { apiVersion: "v1", kind: "Service", metadata: { namespace: "shop", name: "web" }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] } };
const slice: EndpointSlice = {
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { namespace: "shop", name: "web-1", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  endpoints: [{ addresses: ["10.244.1.5"], conditions: { ready: true } }],
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
};
const ingress: Ingress = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { namespace: "shop", name: "front", creationTimestamp: "2026-11-22T00:00:00Z" },
  spec: { rules: [{ host: "shop.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
};

describe("withIngressProxy", () => {
  it("routes an Ingress from the node stream to its Service's ready endpoint and forgets it on delete", () => {
    const proxy = new IngressProxy();
    const seen: string[] = [];
    const handlers = withIngressProxy(recordingHandlers(seen), proxy);
    handlers.onService({ type: "upsert", object: service });
    handlers.onEndpointSlice({ type: "upsert", object: slice });
    handlers.onIngress?.({ type: "upsert", object: ingress });
    expect(proxy.table.match("shop.test", "/cart")).toMatchObject({ upstreams: [{ address: "10.244.1.5", port: 8080 }] });
    handlers.onIngress?.({ type: "delete", object: ingress });
    expect(proxy.table.match("shop.test", "/cart")).toBeUndefined();
    // The wrapped handlers still see every event of the kinds they know.
    expect(seen).toEqual(["service upsert web", "slice upsert web-1"]);
  });

  it("takes an Ingress of another class once the stream brings that class with our controller", () => {
    const proxy = new IngressProxy();
    const handlers = withIngressProxy(recordingHandlers([]), proxy);
    handlers.onService({ type: "upsert", object: service });
    handlers.onEndpointSlice({ type: "upsert", object: slice });
    handlers.onIngress?.({ type: "upsert", object: { ...ingress, spec: { ...ingress.spec, ingressClassName: "edge" } } as Ingress });
    expect(proxy.table.match("shop.test", "/")).toBeUndefined();
    const edge: IngressClass = { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "edge" }, spec: { controller: "flotilla.io/ingress" } };
    handlers.onIngressClass?.({ type: "upsert", object: edge });
    expect(proxy.table.match("shop.test", "/")?.upstreams).toEqual([{ address: "10.244.1.5", port: 8080 }]);
    handlers.onIngressClass?.({ type: "delete", object: edge });
    expect(proxy.table.match("shop.test", "/")).toBeUndefined();
  });

  it("hands the TLS secret an Ingress names to the proxy, and takes it away on delete", () => {
    const proxy = new IngressProxy();
    const seen: string[] = [];
    const handlers = withIngressProxy(recordingHandlers(seen), proxy);
    const pem = (text: string): string => Buffer.from(text).toString("base64");
    const secret: Secret = { apiVersion: "v1", kind: "Secret", metadata: { namespace: "shop", name: "cert", resourceVersion: "7" }, type: "kubernetes.io/tls", data: { "tls.crt": pem("CERT"), "tls.key": pem("KEY") } };
    const secured: Ingress = { ...ingress, spec: { ...ingress.spec, tls: [{ hosts: ["shop.test"], secretName: "cert" }] } };
    handlers.onIngress?.({ type: "upsert", object: secured });
    expect(proxy.table.certificateFor("shop.test")).toBeUndefined();
    handlers.onSecret({ type: "upsert", object: secret });
    expect(proxy.table.certificateFor("shop.test")).toEqual({ key: "shop/cert@7", certPem: "CERT", keyPem: "KEY" });
    handlers.onSecret({ type: "delete", object: secret });
    expect(proxy.table.certificateFor("shop.test")).toBeUndefined();
    expect(seen).toEqual(["secret upsert cert", "secret delete cert"]);
  });
});
