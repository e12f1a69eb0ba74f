import { describe, expect, it } from "vitest";
import { StatusError } from "../../../libs/api/status-errors.ts";
import { createPrng } from "../../../libs/prng/index.ts";
import { FakeEtcd } from "../storage/test-support.ts";
import { endpointSliceFromEndpoints, withEndpoint } from "./kubernetes-service.ts";
import { nodePortStaticBandSize, parsePortRange, parseServiceCidr } from "./range.ts";
import { allocateForService, keepAllocatedValues, releaseForService, type ServiceAllocators } from "./services.ts";
import { StoredRange, nodePortsKey, serviceIpsKey } from "./store.ts";

function allocators(): ServiceAllocators {
  const etcd = new FakeEtcd();
  return {
    ips: new StoredRange(etcd, serviceIpsKey, parseServiceCidr("10.96.0.0/24"), createPrng(1)),
    ports: new StoredRange(etcd, nodePortsKey, parsePortRange("30000-30099"), createPrng(2), nodePortStaticBandSize),
  };
}

function service(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec };
}

async function statusOf(work: Promise<unknown>): Promise<StatusError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error("expected a StatusError");
}

describe("allocateForService()", () => {
  it("gives a NodePort service an IP and a node port per port, and takes them back on release", async () => {
    const ranges = allocators();
    const { object } = await allocateForService(ranges, service({ type: "NodePort", ports: [{ port: 80 }, { port: 443 }] }), false);
    const spec = object["spec"] as { clusterIP: string; clusterIPs: string[]; ports: { nodePort: number }[] };
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(await ranges.ips.isAllocated(spec.clusterIP)).toBe(true);
    expect(spec.ports.map((port) => port.nodePort)).toHaveLength(2);
    await releaseForService(ranges, object);
    expect(await ranges.ips.isAllocated(spec.clusterIP)).toBe(false);
    for (const port of spec.ports) expect(await ranges.ports.isAllocated(String(port.nodePort))).toBe(false);
  });

  it("gives headless and ExternalName services no IP and ClusterIP services no node port", async () => {
    const ranges = allocators();
    const headless = await allocateForService(ranges, service({ clusterIP: "None", ports: [{ port: 80 }] }), false);
    expect((headless.object["spec"] as { clusterIP: string }).clusterIP).toBe("None");
    const external = await allocateForService(ranges, service({ type: "ExternalName", externalName: "example.com" }), false);
    expect((external.object["spec"] as { clusterIP?: string }).clusterIP).toBeUndefined();
    const plain = await allocateForService(ranges, service({ type: "ClusterIP", ports: [{ port: 80 }] }), false);
    expect((plain.object["spec"] as { ports: { nodePort?: number }[] }).ports[0]?.nodePort).toBeUndefined();
  });

  it("refuses a taken node port in upstream's words and keeps nothing of the failed allocation", async () => {
    const ranges = allocators();
    await allocateForService(ranges, service({ type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }), false);
    const refused = await statusOf(allocateForService(ranges, service({ type: "NodePort", clusterIP: "10.96.0.20", ports: [{ port: 80, nodePort: 30001 }] }), false));
    expect(refused.status.code).toBe(422);
    expect(refused.message).toBe('Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated');
    expect(await ranges.ips.isAllocated("10.96.0.20")).toBe(false);
    const outside = await statusOf(allocateForService(ranges, service({ type: "NodePort", ports: [{ port: 80, nodePort: 80 }] }), false));
    expect(outside.message).toContain("provided port is not in the valid range. The range of valid ports is 30000-30099");
  });
});

describe("the kubernetes Endpoints", () => {
  it("list each replica once, one subset per port", () => {
    const one = withEndpoint([], { ip: "10.0.0.1", port: 6443 });
    const two = withEndpoint(one, { ip: "10.0.0.2", port: 6443 });
    expect(two).toEqual([{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }]);
    expect(withEndpoint(two, { ip: "10.0.0.2", port: 6443 })).toEqual(two);
    expect(withEndpoint(two, { ip: "127.0.0.1", port: 7443 })).toHaveLength(2);
  });

  it("are mirrored into the EndpointSlice `kubernetes` as upstream's EndpointsAdapter writes it (first subset, ready addresses)", () => {
    const subsets = withEndpoint(withEndpoint([], { ip: "10.0.0.1", port: 6443 }), { ip: "10.0.0.2", port: 6443 });
    const slice = endpointSliceFromEndpoints({ apiVersion: "v1", kind: "Endpoints", metadata: { name: "kubernetes", namespace: "default" }, subsets });
    expect(slice).toEqual({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "kubernetes", namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.0.0.1"], conditions: { ready: true } },
        { addresses: ["10.0.0.2"], conditions: { ready: true } },
      ],
      ports: [{ name: "https", port: 6443, protocol: "TCP" }],
    });
  });
});

describe("keepAllocatedValues()", () => {
  it("keeps the cluster IP and the node ports an update leaves out", () => {
    const current = service({ type: "NodePort", clusterIP: "10.96.0.5", clusterIPs: ["10.96.0.5"], ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }] });
    const next = service({ type: "NodePort", ports: [{ port: 80, protocol: "TCP" }, { port: 81, protocol: "TCP" }] });
    expect(keepAllocatedValues(current, next)["spec"]).toEqual({ type: "NodePort", clusterIP: "10.96.0.5", clusterIPs: ["10.96.0.5"], ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }, { port: 81, protocol: "TCP" }] });
    const toClusterIp = keepAllocatedValues(current, service({ type: "ClusterIP", ports: [{ port: 80, protocol: "TCP" }] }));
    expect((toClusterIp["spec"] as { ports: unknown[] }).ports).toEqual([{ port: 80, protocol: "TCP" }]);
  });
});
