/**
 * ClusterIP and NodePort allocation for Services, at create time (upstream's service REST
 * storage): a requested clusterIP or nodePort is taken or refused with upstream's 422, a missing
 * one is picked; headless (`None`) and ExternalName services get no IP; NodePort and
 * LoadBalancer services get a node port per port. Everything taken is given back when the
 * create fails and when the Service is deleted. The Storages instance of a server finds its
 * allocators here (registered at start), so the REST handlers need no new parameters.
 */
import { fieldInvalid, type FieldError } from "../../../libs/api/field-errors.ts";
import { newInvalid } from "../../../libs/api/status-errors.ts";
import type { Storages } from "../storages.ts";
import type { StoredObject } from "../storage/index.ts";
import { AlreadyAllocatedError, OutOfRangeError, RangeFullError, type StoredRange } from "./store.ts";

export interface ServiceAllocators {
  readonly ips: StoredRange;
  readonly ports: StoredRange;
}

const registered = new WeakMap<Storages, ServiceAllocators>();

export function registerServiceAllocators(storages: Storages, allocators: ServiceAllocators): void {
  registered.set(storages, allocators);
}

export function serviceAllocatorsOf(storages: Storages): ServiceAllocators | undefined {
  return registered.get(storages);
}

export type Record_ = Record<string, unknown>;
export const recordOf = (value: unknown): Record_ => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record_) : {});

export interface Allocation {
  readonly object: StoredObject;
  /** Gives back what this allocation took (after a failed create). */
  release(): Promise<void>;
}

export function needsNodePorts(spec: Record_): boolean {
  return spec["type"] === "NodePort" || spec["type"] === "LoadBalancer";
}

function invalid(name: string, error: FieldError): never {
  throw newInvalid({ group: "", kind: "Service" }, name, [error]);
}

export async function allocateIp(allocators: ServiceAllocators, spec: Record_, name: string, dryRun: boolean): Promise<string | undefined> {
  if (spec["type"] === "ExternalName" || spec["clusterIP"] === "None") return undefined;
  const requested = typeof spec["clusterIP"] === "string" && spec["clusterIP"] !== "" ? spec["clusterIP"] : undefined;
  if (requested === undefined) {
    try {
      return await allocators.ips.allocateNext(dryRun);
    } catch (error) {
      if (error instanceof RangeFullError) invalid(name, fieldInvalid("spec.clusterIPs", [], "failed to allocate a serviceIP: range is full"));
      throw error;
    }
  }
  try {
    await allocators.ips.allocate(requested, dryRun);
  } catch (error) {
    if (error instanceof AlreadyAllocatedError) invalid(name, fieldInvalid("spec.clusterIPs", [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
    if (error instanceof OutOfRangeError) {
      invalid(name, fieldInvalid("spec.clusterIPs", [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${allocators.ips.range.text}`));
    }
    throw error;
  }
  return requested;
}

export async function allocatePort(allocators: ServiceAllocators, port: Record_, index: number, name: string, dryRun: boolean): Promise<number> {
  const requested = typeof port["nodePort"] === "number" && port["nodePort"] !== 0 ? port["nodePort"] : undefined;
  if (requested === undefined) {
    try {
      return Number(await allocators.ports.allocateNext(dryRun));
    } catch (error) {
      if (error instanceof RangeFullError) invalid(name, fieldInvalid(`spec.ports[${index}].nodePort`, 0, "failed to allocate a nodePort: range is full"));
      throw error;
    }
  }
  try {
    await allocators.ports.allocate(String(requested), dryRun);
  } catch (error) {
    if (error instanceof AlreadyAllocatedError) invalid(name, fieldInvalid(`spec.ports[${index}].nodePort`, requested, "provided port is already allocated"));
    if (error instanceof OutOfRangeError) invalid(name, fieldInvalid(`spec.ports[${index}].nodePort`, requested, `provided port is not in the valid range. The range of valid ports is ${allocators.ports.range.text}`));
    throw error;
  }
  return requested;
}

/** Allocates what a new Service needs and returns it filled in; on failure nothing stays taken. */
export async function allocateForService(allocators: ServiceAllocators, service: StoredObject, dryRun: boolean): Promise<Allocation> {
  const spec = { ...recordOf(service["spec"]) };
  const name = String(recordOf(service["metadata"])["name"] ?? "");
  const taken: { ips: string[]; ports: string[] } = { ips: [], ports: [] };
  const release = async (): Promise<void> => {
    if (dryRun) return;
    for (const ip of taken.ips) await allocators.ips.release(ip);
    for (const port of taken.ports) await allocators.ports.release(port);
  };
  try {
    const ip = await allocateIp(allocators, spec, name, dryRun);
    if (ip !== undefined) {
      taken.ips.push(ip);
      spec["clusterIP"] = ip;
      spec["clusterIPs"] = [ip];
    }
    if (needsNodePorts(spec) && Array.isArray(spec["ports"])) {
      const ports: unknown[] = [];
      for (const [index, port] of (spec["ports"] as unknown[]).entries()) {
        const nodePort = await allocatePort(allocators, recordOf(port), index, name, dryRun);
        taken.ports.push(String(nodePort));
        ports.push({ ...recordOf(port), nodePort });
      }
      spec["ports"] = ports;
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { object: { ...service, spec }, release };
}

/** Gives back a deleted Service's IP and node ports. */
export async function releaseForService(allocators: ServiceAllocators, service: StoredObject): Promise<void> {
  const spec = recordOf(service["spec"]);
  const ips = Array.isArray(spec["clusterIPs"]) ? (spec["clusterIPs"] as unknown[]) : [spec["clusterIP"]];
  for (const ip of ips) if (typeof ip === "string" && ip !== "" && ip !== "None") await allocators.ips.release(ip);
  for (const port of Array.isArray(spec["ports"]) ? (spec["ports"] as unknown[]) : []) {
    const nodePort = recordOf(port)["nodePort"];
    if (typeof nodePort === "number" && nodePort !== 0) await allocators.ports.release(String(nodePort));
  }
}

function portKey(port: Record_): string {
  return `${String(port["port"] ?? "")}/${String(port["protocol"] ?? "TCP")}`;
}

/**
 * An update that leaves out what was allocated keeps it (upstream's patchAllocatedValues): the
 * cluster IPs while neither type is ExternalName, and the node port of each port (same port and
 * protocol) while both types need node ports. What an update adds or drops is allocated and released in update.ts.
 */
export function keepAllocatedValues(current: StoredObject, next: StoredObject): StoredObject {
  const old = recordOf(current["spec"]);
  const spec = { ...recordOf(next["spec"]) };
  // Only while both types have them (upstream's needsClusterIP/needsNodePort on old and new).
  if (spec["type"] !== "ExternalName" && old["type"] !== "ExternalName") {
    if ((spec["clusterIP"] ?? "") === "" && typeof old["clusterIP"] === "string") spec["clusterIP"] = old["clusterIP"];
    if (spec["clusterIPs"] === undefined && Array.isArray(old["clusterIPs"])) spec["clusterIPs"] = old["clusterIPs"];
  }
  if (needsNodePorts(spec) && needsNodePorts(old) && Array.isArray(spec["ports"])) {
    const oldPorts = new Map((Array.isArray(old["ports"]) ? (old["ports"] as unknown[]) : []).map((port) => [portKey(recordOf(port)), recordOf(port)["nodePort"]]));
    spec["ports"] = (spec["ports"] as unknown[]).map((port) => {
      const record = recordOf(port);
      const kept = oldPorts.get(portKey(record));
      return (record["nodePort"] ?? 0) === 0 && typeof kept === "number" ? { ...record, nodePort: kept } : port;
    });
  }
  return { ...next, spec };
}
