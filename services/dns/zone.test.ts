import { describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../libs/api/index.ts";
import { ClusterZone, reverseName, serviceNameLabel } from "./zone.ts";

function service(name: string, spec: NonNullable<Service["spec"]>, namespace = "default"): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec };
}

function slice(serviceName: string, endpoints: EndpointSlice["endpoints"], ports: EndpointSlice["ports"] = [], namespace = "default"): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${serviceName}-abcde`, namespace, labels: { [serviceNameLabel]: serviceName } },
    addressType: "IPv4",
    endpoints,
    ports,
  };
}

function zone(): ClusterZone {
  return new ClusterZone({ domain: "cluster.local", ttlSeconds: 5 });
}

describe("ClusterZone", () => {
  it("answers a ClusterIP service's name with its cluster IP, in any case and with a trailing dot", () => {
    const z = zone();
    z.upsertService(service("web", { clusterIP: "10.96.0.20", ports: [{ name: "http", port: 80, protocol: "TCP" }] }));
    expect(z.lookup("Web.Default.svc.cluster.local.", "A")).toEqual({
      kind: "answer",
      records: [{ name: "web.default.svc.cluster.local", type: "A", ttlSeconds: 5, data: "10.96.0.20" }],
    });
  });

  it("tells NODATA (the name exists) from NXDOMAIN (it does not)", () => {
    const z = zone();
    z.upsertService(service("web", { clusterIP: "10.96.0.20" }));
    expect(z.lookup("web.default.svc.cluster.local", "AAAA").kind).toBe("nodata");
    expect(z.lookup("default.svc.cluster.local", "A").kind).toBe("nodata");
    expect(z.lookup("nope.default.svc.cluster.local", "A").kind).toBe("nxdomain");
    expect(z.lookup("web.other.svc.cluster.local", "A").kind).toBe("nxdomain");
  });

  it("answers SRV for named ports with the service as target, and PTR for the cluster IP", () => {
    const z = zone();
    z.upsertService(service("web", { clusterIP: "10.96.0.20", ports: [{ name: "http", port: 80, protocol: "TCP" }, { port: 81 }] }));
    const srv = z.lookup("_http._tcp.web.default.svc.cluster.local", "SRV");
    expect(srv).toEqual({
      kind: "answer",
      records: [{ name: "_http._tcp.web.default.svc.cluster.local", type: "SRV", ttlSeconds: 5, data: { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" } }],
    });
    expect(z.lookup("20.0.96.10.in-addr.arpa", "PTR")).toMatchObject({ kind: "answer", records: [{ data: "web.default.svc.cluster.local" }] });
  });

  it("answers a headless service with its ready endpoints only, unless it publishes not-ready addresses", () => {
    const z = zone();
    z.upsertService(service("db", { clusterIP: "None" }));
    z.upsertEndpointSlice(slice("db", [
      { addresses: ["10.244.1.5"], conditions: { ready: true } },
      { addresses: ["10.244.2.6"], conditions: { ready: false } },
    ]));
    const ready = z.lookup("db.default.svc.cluster.local", "A");
    expect(ready.kind === "answer" ? ready.records.map((record) => record.data) : []).toEqual(["10.244.1.5"]);
    z.upsertService(service("db", { clusterIP: "None", publishNotReadyAddresses: true }));
    const all = z.lookup("db.default.svc.cluster.local", "A");
    expect(all.kind === "answer" ? all.records.map((record) => record.data).sort() : []).toEqual(["10.244.1.5", "10.244.2.6"]);
  });

  it("names StatefulSet pods by hostname under their headless service, with SRV and PTR pointing at them", () => {
    const z = zone();
    z.upsertService(service("web", { clusterIP: "None" }));
    z.upsertEndpointSlice(slice("web", [
      { addresses: ["10.244.1.7"], hostname: "web-0" },
      { addresses: ["10.244.2.8"], hostname: "web-1" },
    ], [{ name: "http", port: 8080, protocol: "TCP" }]));
    expect(z.lookup("web-1.web.default.svc.cluster.local", "A")).toMatchObject({ kind: "answer", records: [{ data: "10.244.2.8" }] });
    const srv = z.lookup("_http._tcp.web.default.svc.cluster.local", "SRV");
    expect(srv.kind === "answer" ? srv.records.map((record) => record.data) : []).toEqual([
      { priority: 0, weight: 50, port: 8080, target: "web-0.web.default.svc.cluster.local" },
      { priority: 0, weight: 50, port: 8080, target: "web-1.web.default.svc.cluster.local" },
    ]);
    expect(z.lookup("7.1.244.10.in-addr.arpa", "PTR")).toMatchObject({ kind: "answer", records: [{ data: "web-0.web.default.svc.cluster.local" }] });
  });

  it("drops a deleted endpoint's answers as soon as its slice changes", () => {
    const z = zone();
    z.upsertService(service("db", { clusterIP: "None" }));
    z.upsertEndpointSlice(slice("db", [{ addresses: ["10.244.1.5"] }, { addresses: ["10.244.1.6"] }]));
    z.upsertEndpointSlice(slice("db", [{ addresses: ["10.244.1.6"] }]));
    const answer = z.lookup("db.default.svc.cluster.local", "A");
    expect(answer.kind === "answer" ? answer.records.map((record) => record.data) : []).toEqual(["10.244.1.6"]);
    expect(z.lookup("10-244-1-5.db.default.svc.cluster.local", "A").kind).toBe("nxdomain");
  });

  it("answers an ExternalName service with a CNAME whatever type is asked", () => {
    const z = zone();
    z.upsertService(service("docs", { type: "ExternalName", externalName: "docs.example.test." }));
    expect(z.lookup("docs.default.svc.cluster.local", "A")).toEqual({
      kind: "answer",
      records: [{ name: "docs.default.svc.cluster.local", type: "CNAME", ttlSeconds: 5, data: "docs.example.test" }],
    });
  });

  it("forgets every record of a deleted service, leaving the namespace name NXDOMAIN", () => {
    const z = zone();
    const web = service("web", { clusterIP: "10.96.0.20", ports: [{ name: "http", port: 80 }] });
    z.upsertService(web);
    z.deleteService(web);
    expect(z.records()).toEqual([]);
    expect(z.lookup("web.default.svc.cluster.local", "A").kind).toBe("nxdomain");
    expect(z.lookup("default.svc.cluster.local", "A").kind).toBe("nxdomain");
    expect(z.lookup("20.0.96.10.in-addr.arpa", "PTR").kind).toBe("outside");
  });

  it("answers dashed pod names under <ns>.pod.<domain> and leaves other names to the forwarder", () => {
    const z = zone();
    expect(z.lookup("10-244-1-5.default.pod.cluster.local", "A")).toMatchObject({ kind: "answer", records: [{ data: "10.244.1.5" }] });
    expect(z.lookup("10-244-1-300.default.pod.cluster.local", "A").kind).toBe("nxdomain");
    expect(z.lookup("example.test", "A").kind).toBe("outside");
  });

  it("writes IPv6 reverse names nibble by nibble", () => {
    expect(reverseName("fd00::1")).toBe(`1.${"0.".repeat(29)}d.f.ip6.arpa`);
  });
});
