/**
 * Allocation when a Service is updated (upstream's service REST update): fields that belonged to
 * the old type and were left as they were go (dropTypeDependentFields: ClusterIP -> ExternalName
 * drops the cluster IPs, NodePort -> ClusterIP the node ports), then what the new spec needs and
 * did not hold is allocated (ExternalName -> ClusterIP gets an IP, ClusterIP -> NodePort gets node
 * ports, a user-chosen port that is taken is upstream's 422), and what the old object held and the
 * new one does not is released once the update is stored. An update that is not stored gives back
 * what it took.
 */
import type { StoredObject } from "../storage/index.ts";
import { allocateIp, allocatePort, needsNodePorts, recordOf, type Record_, type ServiceAllocators } from "./services.ts";

/** The cluster IPs and node ports a Service holds, as the bitmaps spell them. */
export interface HeldValues {
  readonly ips: string[];
  readonly ports: string[];
}

export function heldValues(service: StoredObject): HeldValues {
  const spec = recordOf(service["spec"]);
  const listed = Array.isArray(spec["clusterIPs"]) ? (spec["clusterIPs"] as unknown[]) : [spec["clusterIP"]];
  const ips = listed.filter((ip): ip is string => typeof ip === "string" && ip !== "" && ip !== "None");
  const ports: string[] = [];
  for (const port of Array.isArray(spec["ports"]) ? (spec["ports"] as unknown[]) : []) {
    const nodePort = recordOf(port)["nodePort"];
    if (typeof nodePort === "number" && nodePort !== 0) ports.push(String(nodePort));
  }
  return { ips, ports };
}

function sameValue(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function portKey(port: Record_): string {
  return `${String(port["port"] ?? "")}/${String(port["protocol"] ?? "TCP")}`;
}

function isExposed(spec: Record_): boolean {
  return spec["type"] === "NodePort" || spec["type"] === "LoadBalancer";
}

// A field the user left as the old type had it goes with the old type; one they changed stays (and validation judges it).
function dropUnchanged(spec: Record_, old: Record_, fields: readonly string[]): void {
  for (const field of fields) if (spec[field] !== undefined && sameValue(spec[field], old[field])) delete spec[field];
}

/** upstream's dropTypeDependentFields, run on an update before validation. */
export function dropTypeDependentFields(current: StoredObject, next: StoredObject): StoredObject {
  const old = recordOf(current["spec"]);
  const spec = { ...recordOf(next["spec"]) };
  if (old["type"] !== "ExternalName" && spec["type"] === "ExternalName") {
    const clusterIp = spec["clusterIP"];
    if (clusterIp === undefined || clusterIp === "" || clusterIp === old["clusterIP"]) delete spec["clusterIP"];
    dropUnchanged(spec, old, ["clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"]);
  }
  if (needsNodePorts(old) && !needsNodePorts(spec) && Array.isArray(spec["ports"])) {
    const oldNodePorts = new Map((Array.isArray(old["ports"]) ? (old["ports"] as unknown[]) : []).map((port) => [portKey(recordOf(port)), recordOf(port)["nodePort"]]));
    spec["ports"] = (spec["ports"] as unknown[]).map((port) => {
      const record = { ...recordOf(port) };
      if (record["nodePort"] !== undefined && record["nodePort"] === oldNodePorts.get(portKey(record))) delete record["nodePort"];
      return record;
    });
  }
  if (isExposed(old) && !isExposed(spec)) dropUnchanged(spec, old, ["externalTrafficPolicy", "healthCheckNodePort"]);
  if (old["type"] === "LoadBalancer" && spec["type"] !== "LoadBalancer") dropUnchanged(spec, old, ["allocateLoadBalancerNodePorts", "loadBalancerClass"]);
  return { ...next, spec };
}

/**
 * One update's allocations. `apply` may run more than once (the store retries an update that
 * lost a compare-and-swap round): each run first gives back what the previous run took.
 */
export class ServiceUpdateAllocation {
  readonly #allocators: ServiceAllocators;
  readonly #dryRun: boolean;
  #taken: { ips: string[]; ports: string[] } = { ips: [], ports: [] };
  #freed: HeldValues = { ips: [], ports: [] };

  constructor(allocators: ServiceAllocators, dryRun: boolean) {
    this.#allocators = allocators;
    this.#dryRun = dryRun;
  }

  /** `next` with what it needs allocated; remembers what `current` held that `next` does not. */
  async apply(current: StoredObject, next: StoredObject): Promise<StoredObject> {
    await this.abort();
    const held = heldValues(current);
    const spec = { ...recordOf(next["spec"]) };
    const name = String(recordOf(next["metadata"])["name"] ?? "");
    try {
      await this.#allocateIp(spec, held, name);
      await this.#allocatePorts(spec, held, name);
    } catch (error) {
      await this.abort();
      throw error;
    }
    const result = { ...next, spec };
    const now = heldValues(result);
    this.#freed = { ips: held.ips.filter((ip) => !now.ips.includes(ip)), ports: held.ports.filter((port) => !now.ports.includes(port)) };
    return result;
  }

  async #allocateIp(spec: Record_, held: HeldValues, name: string): Promise<void> {
    if (held.ips.length > 0 || spec["type"] === "ExternalName" || spec["clusterIP"] === "None") return;
    const ip = await allocateIp(this.#allocators, spec, name, this.#dryRun);
    if (ip === undefined) return;
    this.#taken.ips.push(ip);
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = [ip];
  }

  async #allocatePorts(spec: Record_, held: HeldValues, name: string): Promise<void> {
    if (!needsNodePorts(spec) || !Array.isArray(spec["ports"])) return;
    const owned = new Set(held.ports);
    const ports: unknown[] = [];
    for (const [index, port] of (spec["ports"] as unknown[]).entries()) {
      const record = recordOf(port);
      const nodePort = record["nodePort"];
      if (typeof nodePort === "number" && owned.delete(String(nodePort))) {
        ports.push(record);
        continue;
      }
      const allocated = await allocatePort(this.#allocators, record, index, name, this.#dryRun);
      this.#taken.ports.push(String(allocated));
      ports.push({ ...record, nodePort: allocated });
    }
    spec["ports"] = ports;
  }

  /** After the update is stored: what the old object held and the new one does not goes back. */
  async commit(): Promise<void> {
    const freed = this.#freed;
    this.#taken = { ips: [], ports: [] };
    this.#freed = { ips: [], ports: [] };
    if (this.#dryRun) return;
    for (const ip of freed.ips) await this.#allocators.ips.release(ip);
    for (const port of freed.ports) await this.#allocators.ports.release(port);
  }

  /** The update was not stored: what it took goes back. */
  async abort(): Promise<void> {
    const taken = this.#taken;
    this.#taken = { ips: [], ports: [] };
    this.#freed = { ips: [], ports: [] };
    if (this.#dryRun) return;
    for (const ip of taken.ips) await this.#allocators.ips.release(ip);
    for (const port of taken.ports) await this.#allocators.ports.release(port);
  }
}
