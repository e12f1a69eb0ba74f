import { describe, expect, it } from "vitest";
import { StatusError } from "../../../libs/api/status-errors.ts";
import { createPrng } from "../../../libs/prng/index.ts";
import { FakeEtcd } from "../storage/test-support.ts";
import { nodePortStaticBandSize, parsePortRange, parseServiceCidr } from "./range.ts";
import { allocateForService, keepAllocatedValues, type ServiceAllocators } from "./services.ts";
import { StoredRange, nodePortsKey, serviceIpsKey } from "./store.ts";
import { dropTypeDependentFields, heldValues, ServiceUpdateAllocation } from "./update.ts";

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

const port80 = { name: "http", port: 80, protocol: "TCP", targetPort: 8080 };

/** Runs one update as rest-write and guardedUpdate do: type-dependent fields dropped, allocated values kept, allocation applied, committed. */
async function update(ranges: ServiceAllocators, current: Record<string, unknown>, next: Record<string, unknown>): Promise<Record<string, unknown>> {
  const allocation = new ServiceUpdateAllocation(ranges, false);
  const stored = await allocation.apply(current, keepAllocatedValues(current, dropTypeDependentFields(current, next)));
  await allocation.commit();
  return stored;
}

describe("Service allocation on update", () => {
  it("ClusterIP -> NodePort allocates a node port per port, and NodePort -> ClusterIP releases them", async () => {
    const ranges = allocators();
    const created = (await allocateForService(ranges, service({ type: "ClusterIP", ports: [port80] }), false)).object;
    const asNodePort = await update(ranges, created, { ...created, spec: { ...(created["spec"] as object), type: "NodePort" } });
    const [nodePort] = heldValues(asNodePort).ports;
    expect(nodePort).toBeDefined();
    expect(await ranges.ports.isAllocated(nodePort ?? "")).toBe(true);
    expect(heldValues(asNodePort).ips).toEqual(heldValues(created).ips);
    const back = await update(ranges, asNodePort, { ...asNodePort, spec: { ...(asNodePort["spec"] as object), type: "ClusterIP" } });
    expect(heldValues(back).ports).toEqual([]);
    expect(await ranges.ports.isAllocated(nodePort ?? "")).toBe(false);
  });

  it("-> ExternalName releases the cluster IP, and -> ClusterIP again allocates one", async () => {
    const ranges = allocators();
    const created = (await allocateForService(ranges, service({ type: "ClusterIP", ports: [port80] }), false)).object;
    const [ip] = heldValues(created).ips;
    const external = await update(ranges, created, { ...created, spec: { ...(created["spec"] as object), type: "ExternalName", externalName: "example.com" } });
    expect(external["spec"]).not.toHaveProperty("clusterIP");
    expect(external["spec"]).not.toHaveProperty("clusterIPs");
    expect(await ranges.ips.isAllocated(ip ?? "")).toBe(false);
    const internal = await update(ranges, external, { ...external, spec: { type: "ClusterIP", ports: [port80] } });
    const [again] = heldValues(internal).ips;
    expect(again).toBeDefined();
    expect(await ranges.ips.isAllocated(again ?? "")).toBe(true);
  });

  it("a user-chosen node port that is taken is upstream's 422 and nothing stays taken", async () => {
    const ranges = allocators();
    await allocateForService(ranges, service({ type: "NodePort", ports: [{ ...port80, nodePort: 30005 }] }), false);
    const created = (await allocateForService(ranges, service({ type: "ClusterIP", ports: [port80, { name: "https", port: 443, protocol: "TCP" }] }), false)).object;
    const allocation = new ServiceUpdateAllocation(ranges, false);
    const next = { ...created, spec: { ...(created["spec"] as object), type: "NodePort", ports: [port80, { name: "https", port: 443, protocol: "TCP", nodePort: 30005 }] } };
    const error = await allocation.apply(created, next).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StatusError);
    expect((error as StatusError).status.code).toBe(422);
    expect((error as StatusError).status.message).toContain("spec.ports[1].nodePort: Invalid value: 30005: provided port is already allocated");
    // The port picked for ports[0] before the refusal went back.
    const taken: string[] = [];
    for (let port = 30000; port <= 30099; port++) if (await ranges.ports.isAllocated(String(port))) taken.push(String(port));
    expect(taken).toEqual(["30005"]);
  });

  it("a retried apply gives back what the earlier attempt took, and abort gives back the rest", async () => {
    const ranges = allocators();
    const created = (await allocateForService(ranges, service({ type: "ClusterIP", ports: [port80] }), false)).object;
    const next = { ...created, spec: { ...(created["spec"] as object), type: "NodePort" } };
    const allocation = new ServiceUpdateAllocation(ranges, false);
    const first = heldValues(await allocation.apply(created, next)).ports[0] ?? "";
    const second = heldValues(await allocation.apply(created, next)).ports[0] ?? "";
    expect(await ranges.ports.isAllocated(first)).toBe(first === second);
    await allocation.abort();
    expect(await ranges.ports.isAllocated(second)).toBe(false);
  });

  it("keeps a node port the user changed when the type leaves NodePort, for validation to refuse", () => {
    const current = service({ type: "NodePort", clusterIP: "10.96.0.20", ports: [{ ...port80, nodePort: 30001 }], externalTrafficPolicy: "Cluster" });
    const dropped = dropTypeDependentFields(current, service({ type: "ClusterIP", clusterIP: "10.96.0.20", ports: [{ ...port80, nodePort: 30002 }], externalTrafficPolicy: "Cluster" }));
    expect(dropped["spec"]).toEqual({ type: "ClusterIP", clusterIP: "10.96.0.20", ports: [{ ...port80, nodePort: 30002 }] });
  });

  it("a dry run takes and releases nothing", async () => {
    const ranges = allocators();
    const created = (await allocateForService(ranges, service({ type: "ClusterIP", ports: [port80] }), false)).object;
    const allocation = new ServiceUpdateAllocation(ranges, true);
    const external = await allocation.apply(created, dropTypeDependentFields(created, { ...created, spec: { type: "NodePort", ports: [port80] } }));
    await allocation.commit();
    expect(heldValues(external).ports).toHaveLength(1);
    expect(await ranges.ports.isAllocated(heldValues(external).ports[0] ?? "")).toBe(false);
    expect(await ranges.ips.isAllocated(heldValues(created).ips[0] ?? "")).toBe(true);
  });
});
