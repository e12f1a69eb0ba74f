/**
 * The cluster DNS server on a loopback port, asked by the real `dig` over UDP and TCP. Only the
 * cluster zone is exercised: the server is built without a forwarder, so nothing leaves the
 * machine (names outside the zone get REFUSED).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../../libs/api/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { ClusterZone, Responder, serviceNameLabel, startDnsServer } from "../../../services/dns/index.ts";
import type { DnsServer } from "../../../services/dns/index.ts";

const zone = new ClusterZone({ domain: "cluster.local", ttlSeconds: 5 });
let server: DnsServer;

// Asynchronous on purpose: the server answers from this same process's event loop.
const execFileAsync = promisify(execFile);

async function dig(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("dig", ["@127.0.0.1", "-p", String(server.port), "+time=2", "+tries=1", ...args], { encoding: "utf8" });
  return stdout;
}

async function short(...args: string[]): Promise<string[]> {
  return (await dig("+short", ...args)).trim().split("\n").filter((line) => line !== "").sort();
}

function status(output: string): string | undefined {
  return /status: (\w+)/.exec(output)?.[1];
}

function headlessSlice(name: string, count: number): EndpointSlice {
  const endpoints = Array.from({ length: count }, (_, index) => ({ addresses: [`10.244.${1 + Math.floor(index / 200)}.${(index % 200) + 10}`], hostname: `${name}-${index}` }));
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-x1`, namespace: "shop", labels: { [serviceNameLabel]: name } },
    addressType: "IPv4",
    endpoints,
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  };
}

function svc(name: string, spec: NonNullable<Service["spec"]>): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "shop" }, spec };
}

beforeAll(async () => {
  zone.upsertService(svc("web", { clusterIP: "10.96.0.42", ports: [{ name: "http", port: 80, protocol: "TCP" }] }));
  zone.upsertService(svc("web", { clusterIP: "10.96.0.42", ports: [{ name: "http", port: 80, protocol: "TCP" }] }));
  zone.upsertService(svc("db", { clusterIP: "None" }));
  zone.upsertEndpointSlice(headlessSlice("db", 3));
  zone.upsertService(svc("many", { clusterIP: "None" }));
  zone.upsertEndpointSlice(headlessSlice("many", 60));
  zone.upsertService(svc("docs", { type: "ExternalName", externalName: "docs.example.test" }));
  server = await startDnsServer({ host: "127.0.0.1", port: 0, responder: new Responder({ zone }), log: createLogger("dns-test", { level: "silent" }) });
});

afterAll(async () => {
  await server.close();
});

describe("cluster DNS, asked by dig", () => {
  it("resolves a ClusterIP service over UDP and over TCP", async () => {
    expect(await short("web.shop.svc.cluster.local", "A")).toEqual(["10.96.0.42"]);
    expect(await short("+tcp", "web.shop.svc.cluster.local", "A")).toEqual(["10.96.0.42"]);
  });

  it("answers authoritatively with the 5 s TTL", async () => {
    const output = await dig("web.shop.svc.cluster.local", "A");
    expect(output).toMatch(/flags: qr aa rd ra/);
    expect(output).toMatch(/web\.shop\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.42/);
  });

  it("resolves a headless service to its pods and a StatefulSet pod by name", async () => {
    expect(await short("db.shop.svc.cluster.local")).toEqual(["10.244.1.10", "10.244.1.11", "10.244.1.12"]);
    expect(await short("db-1.db.shop.svc.cluster.local")).toEqual(["10.244.1.11"]);
  });

  it("answers SRV for a named port and PTR for a cluster IP", async () => {
    expect(await short("_http._tcp.web.shop.svc.cluster.local", "SRV")).toEqual(["0 100 80 web.shop.svc.cluster.local."]);
    expect(await short("-x", "10.96.0.42")).toEqual(["web.shop.svc.cluster.local."]);
  });

  it("answers an ExternalName service with its CNAME", async () => {
    expect(await dig("docs.shop.svc.cluster.local", "A")).toMatch(/docs\.shop\.svc\.cluster\.local\.\s+5\s+IN\s+CNAME\s+docs\.example\.test\./);
  });

  it("tells NXDOMAIN from NODATA, with the zone's SOA in both", async () => {
    const missing = await dig("nope.shop.svc.cluster.local", "A");
    expect(status(missing)).toBe("NXDOMAIN");
    expect(missing).toMatch(/cluster\.local\.\s+5\s+IN\s+SOA/);
    const noAaaa = await dig("web.shop.svc.cluster.local", "AAAA");
    expect(status(noAaaa)).toBe("NOERROR");
    expect(noAaaa).toMatch(/ANSWER: 0,/);
  });

  it("truncates an answer too big for UDP, and TCP carries it whole", async () => {
    const udp = await dig("+ignore", "+noedns", "many.shop.svc.cluster.local", "A");
    expect(udp).toMatch(/flags: qr aa tc rd ra;/);
    expect(udp).toMatch(/ANSWER: 0,/);
    expect(await short("+tcp", "many.shop.svc.cluster.local", "A")).toHaveLength(60);
  });

  it("refuses names outside the cluster zone when no forwarder is configured", async () => {
    expect(status(await dig("example.test", "A"))).toBe("REFUSED");
  });

  it("sees a changed slice at once: a removed pod leaves the answers", async () => {
    zone.upsertEndpointSlice({ ...headlessSlice("db", 3), endpoints: headlessSlice("db", 3).endpoints.slice(1) });
    expect(await short("db.shop.svc.cluster.local")).toEqual(["10.244.1.11", "10.244.1.12"]);
    expect(status(await dig("db-0.db.shop.svc.cluster.local"))).toBe("NXDOMAIN");
  });
});
