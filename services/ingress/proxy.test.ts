import { describe, expect, it } from "vitest";
import type { EndpointSlice, Ingress, Service } from "../../libs/api/index.ts";
import { IngressProxy } from "./proxy.ts";

const ingress: Ingress = {
  metadata: { name: "i", namespace: "ns" },
  spec: { rules: [{ host: "h", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "s", port: { number: 80 } } } }] } }] },
};
const service: Service = { metadata: { name: "s", namespace: "ns" }, spec: { ports: [{ port: 80, targetPort: 8080 }] } };

function slice(name: string, address: string, serviceName = "s"): EndpointSlice {
  return { metadata: { name, namespace: "ns", labels: { "kubernetes.io/service-name": serviceName } }, addressType: "IPv4", endpoints: [{ addresses: [address] }], ports: [{ port: 8080 }] };
}

function addresses(proxy: IngressProxy): string[] | undefined {
  return proxy.table.match("h", "/")?.upstreams.map((upstream) => upstream.address);
}

describe("IngressProxy state", () => {
  it("routes by the objects upserted so far and forgets deleted ones", () => {
    const proxy = new IngressProxy();
    proxy.upsertIngress(ingress);
    expect(addresses(proxy)).toEqual([]);
    proxy.upsertService(service);
    proxy.upsertEndpointSlice(slice("a", "10.0.0.1"));
    proxy.upsertEndpointSlice(slice("b", "10.0.0.2"));
    expect(addresses(proxy)).toEqual(["10.0.0.1", "10.0.0.2"]);
    proxy.deleteEndpointSlice("ns", "a");
    expect(addresses(proxy)).toEqual(["10.0.0.2"]);
    proxy.deleteIngress("ns", "i");
    expect(proxy.table.match("h", "/")).toBeUndefined();
  });

  it("a slice relabelled to another service leaves the first one", () => {
    const proxy = new IngressProxy();
    proxy.upsertIngress(ingress);
    proxy.upsertService(service);
    proxy.upsertEndpointSlice(slice("a", "10.0.0.1"));
    proxy.upsertEndpointSlice(slice("a", "10.0.0.1", "other"));
    expect(addresses(proxy)).toEqual([]);
  });

  it("a table taken before a change keeps answering as it did; the next lookup sees the change", () => {
    const proxy = new IngressProxy();
    proxy.upsertIngress(ingress);
    proxy.upsertService(service);
    proxy.upsertEndpointSlice(slice("a", "10.0.0.1"));
    const before = proxy.table;
    expect(proxy.table).toBe(before);
    proxy.upsertEndpointSlice(slice("a", "10.0.0.9"));
    expect(before.match("h", "/")?.upstreams.map((upstream) => upstream.address)).toEqual(["10.0.0.1"]);
    expect(addresses(proxy)).toEqual(["10.0.0.9"]);
    expect(proxy.table).not.toBe(before);
  });
});
