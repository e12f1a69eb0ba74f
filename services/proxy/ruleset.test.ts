import { describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../libs/api/index.ts";
import { servicePorts } from "./model.ts";
import { desiredState, fullTransaction, transaction } from "./ruleset.ts";

function service(name: string, clusterIP: string, extra: Partial<NonNullable<Service["spec"]>> = {}): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { clusterIP, ports: [{ name: "http", port: 80, protocol: "TCP" }], ...extra } };
}

function slice(name: string, endpoints: EndpointSlice["endpoints"], portName = "http"): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-x`, namespace: "default", labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    endpoints,
    ports: [{ name: portName, port: 8080, protocol: "TCP" }],
  };
}

const config = { clusterCidr: "10.244.0.0/16" };

function state(services: Service[], slices: EndpointSlice[]) {
  return desiredState(servicePorts({ services, slices, nodeName: "n1" }), config);
}

describe("servicePorts", () => {
  it("meets a service port with its endpoints' port by name and skips headless services", () => {
    const ports = servicePorts({
      services: [service("web", "10.96.0.5"), service("db", "None")],
      slices: [slice("web", [{ addresses: ["10.244.1.2"] }]), slice("db", [{ addresses: ["10.244.1.3"] }])],
      nodeName: "n1",
    });
    expect(ports.map((port) => [port.key, port.endpoints])).toEqual([["default/web:http", [{ ip: "10.244.1.2", port: 8080, local: false }]]]);
  });

  it("falls back to serving terminating endpoints only when none is ready", () => {
    const terminating = { addresses: ["10.244.1.9"], conditions: { ready: false, serving: true, terminating: true } };
    const [alone] = servicePorts({ services: [service("web", "10.96.0.5")], slices: [slice("web", [terminating])], nodeName: "n1" });
    expect(alone?.endpoints.map((endpoint) => endpoint.ip)).toEqual(["10.244.1.9"]);
    const [withReady] = servicePorts({ services: [service("web", "10.96.0.5")], slices: [slice("web", [terminating, { addresses: ["10.244.1.2"] }])], nodeName: "n1" });
    expect(withReady?.endpoints.map((endpoint) => endpoint.ip)).toEqual(["10.244.1.2"]);
  });
});

describe("transaction", () => {
  it("changes only the chains of the service whose endpoints changed", () => {
    const before = state([service("a", "10.96.0.5"), service("b", "10.96.0.6")], [slice("a", [{ addresses: ["10.244.1.2"] }]), slice("b", [{ addresses: ["10.244.2.2"] }])]);
    const after = state([service("a", "10.96.0.5"), service("b", "10.96.0.6")], [slice("a", [{ addresses: ["10.244.1.2"] }, { addresses: ["10.244.1.3"] }]), slice("b", [{ addresses: ["10.244.2.2"] }])]);
    const script = transaction(before, after);
    expect(script).not.toContain("delete table");
    expect(script).not.toContain("10.244.2.2");
    expect(script).toContain("dnat to 10.244.1.3:8080");
    expect(script).toMatch(/numgen random mod 2/);
  });

  it("writes nothing when nothing changed", () => {
    const one = state([service("a", "10.96.0.5")], [slice("a", [{ addresses: ["10.244.1.2"] }])]);
    const two = state([service("a", "10.96.0.5")], [slice("a", [{ addresses: ["10.244.1.2"] }])]);
    expect(transaction(one, two)).toBe("");
  });

  it("moves a service without endpoints to the reject set and deletes its chains", () => {
    const served = state([service("a", "10.96.0.5")], [slice("a", [{ addresses: ["10.244.1.2"] }])]);
    const empty = state([service("a", "10.96.0.5")], []);
    const script = transaction(served, empty);
    expect(script).toContain("add element ip flotilla_proxy no_endpoint_services { 10.96.0.5 . tcp . 80 }");
    expect(script).toMatch(/delete element ip flotilla_proxy service_ips \{ 10\.96\.0\.5 \. tcp \. 80 : goto svc_/);
    expect(script).toMatch(/delete chain ip flotilla_proxy svc_/);
    // Chains are flushed before the map stops pointing at them and deleted last.
    expect(script.indexOf("flush chain")).toBeLessThan(script.indexOf("delete chain"));
  });

  it("keeps external traffic on local endpoints for externalTrafficPolicy Local, and drops it when there are none", () => {
    const local = service("a", "10.96.0.5", { type: "NodePort", externalTrafficPolicy: "Local", ports: [{ name: "http", port: 80, protocol: "TCP", nodePort: 30001 }] });
    const withLocal = fullTransaction(state([local], [slice("a", [{ addresses: ["10.244.1.2"], nodeName: "n1" }, { addresses: ["10.244.2.2"], nodeName: "n2" }])]));
    const extRules = withLocal.split("\n").filter((line) => / ext_\w+ /.test(line) && line.startsWith("add rule"));
    expect(extRules.join("\n")).toMatch(/numgen random mod 1 vmap/);
    expect(extRules.join("\n")).not.toContain("mark_for_masquerade");
    const noneLocal = fullTransaction(state([local], [slice("a", [{ addresses: ["10.244.2.2"], nodeName: "n2" }])]));
    expect(noneLocal).toMatch(/add rule ip flotilla_proxy ext_\w+ drop/);
  });

  it("answers on a LoadBalancer's status addresses, through the external chain when its policy is Local", () => {
    const spec = { type: "LoadBalancer" as const, ports: [{ name: "http", port: 80, protocol: "TCP" as const, nodePort: 30002 }] };
    const withStatus = (extra: Partial<NonNullable<Service["spec"]>>): Service => ({ ...service("lb", "10.96.0.7", { ...spec, ...extra }), status: { loadBalancer: { ingress: [{ ip: "192.168.1.11" }, { ip: "192.168.1.12" }] } } });
    const endpoints = [slice("lb", [{ addresses: ["10.244.1.2"], nodeName: "n1" }])];
    const cluster = fullTransaction(state([withStatus({})], endpoints));
    expect(cluster).toMatch(/add element ip flotilla_proxy service_ips \{ 192\.168\.1\.11 \. tcp \. 80 : goto svc_\w+ \}/);
    expect(cluster).toMatch(/add element ip flotilla_proxy service_ips \{ 192\.168\.1\.12 \. tcp \. 80 : goto svc_\w+ \}/);
    const local = fullTransaction(state([withStatus({ externalTrafficPolicy: "Local" })], endpoints));
    expect(local).toMatch(/service_ips \{ 192\.168\.1\.11 \. tcp \. 80 : goto ext_\w+ \}/);
    expect(local).toMatch(/service_ips \{ 10\.96\.0\.7 \. tcp \. 80 : goto svc_\w+ \}/);
    expect(local).toMatch(/add rule ip flotilla_proxy ext_\w+ ip saddr 10\.244\.0\.0\/16 goto svc_\w+/);
  });
});
