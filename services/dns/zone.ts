/**
 * The cluster zone: DNS records computed from Services and EndpointSlices, the way CoreDNS's
 * kubernetes plugin answers (see README.md for where we differ). Pure: no I/O, no clock.
 *
 * Each Service contributes a set of records, recomputed whenever the Service or one of its
 * EndpointSlices changes, and replaced in the name index as a whole, so a deleted pod leaves the
 * answers as soon as its slice update arrives.
 */
import type { EndpointSlice, EndpointSliceEndpoint, Service } from "../../libs/api/index.ts";

export type RecordType = "A" | "AAAA" | "SRV" | "PTR" | "CNAME";

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface ZoneRecord {
  /** Lower case, no trailing dot. */
  name: string;
  type: RecordType;
  ttlSeconds: number;
  /** An address for A/AAAA, a name for PTR/CNAME, SrvData for SRV. */
  data: string | SrvData;
}

export type LookupResult =
  | { kind: "answer"; records: ZoneRecord[] }
  | { kind: "nodata" }
  | { kind: "nxdomain" }
  /** Not ours: the server forwards it to the node's resolvers. */
  | { kind: "outside" };

export interface ZoneOptions {
  /** The cluster domain, `cluster.local`. */
  domain: string;
  /** CoreDNS's kubernetes plugin answers with 5 s by default; so do we. */
  ttlSeconds: number;
}

/** The label EndpointSlices carry to name their Service. */
export const serviceNameLabel = "kubernetes.io/service-name";

/** SRV weight CoreDNS gives when a name has one target; shared evenly otherwise. */
const srvWeightTotal = 100;

export class ClusterZone {
  readonly #options: ZoneOptions;
  readonly #services = new Map<string, Service>();
  /** service key → slice name → slice */
  readonly #slices = new Map<string, Map<string, EndpointSlice>>();
  readonly #recordsByService = new Map<string, ZoneRecord[]>();
  readonly #recordsByName = new Map<string, ZoneRecord[]>();
  /** How many records live at or below each name: a name with a count but no record is NODATA. */
  readonly #namesInUse = new Map<string, number>();

  constructor(options: ZoneOptions) {
    this.#options = { ...options, domain: normalizeName(options.domain) };
  }

  get domain(): string {
    return this.#options.domain;
  }

  upsertService(service: Service): void {
    const key = objectKey(service.metadata.namespace, service.metadata.name);
    this.#services.set(key, service);
    this.#recompute(key);
  }

  deleteService(service: Service): void {
    const key = objectKey(service.metadata.namespace, service.metadata.name);
    this.#services.delete(key);
    this.#recompute(key);
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const key = sliceServiceKey(slice);
    if (key === undefined) return;
    let slices = this.#slices.get(key);
    if (slices === undefined) {
      slices = new Map();
      this.#slices.set(key, slices);
    }
    slices.set(slice.metadata.name ?? "", slice);
    this.#recompute(key);
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    const key = sliceServiceKey(slice);
    if (key === undefined) return;
    const slices = this.#slices.get(key);
    slices?.delete(slice.metadata.name ?? "");
    if (slices?.size === 0) this.#slices.delete(key);
    this.#recompute(key);
  }

  /** Answers one question. `name` may carry a trailing dot and any case. */
  lookup(name: string, type: string): LookupResult {
    const wanted = normalizeName(name);
    if (!this.#isAuthoritativeFor(wanted)) return { kind: "outside" };
    const podAddress = podRecordAddress(wanted, this.#options.domain);
    if (podAddress !== undefined) {
      if (type !== "A") return { kind: "nodata" };
      return { kind: "answer", records: [{ name: wanted, type: "A", ttlSeconds: this.#options.ttlSeconds, data: podAddress }] };
    }
    const records = this.#recordsByName.get(wanted) ?? [];
    const alias = records.filter((record) => record.type === "CNAME");
    if (alias.length > 0) return { kind: "answer", records: alias };
    const matching = records.filter((record) => record.type === type);
    if (matching.length > 0) return { kind: "answer", records: matching };
    if (this.#namesInUse.has(wanted) || wanted === this.#options.domain) return { kind: "nodata" };
    // A reverse name we hold no record for may belong to someone else's network.
    if (isReverseName(wanted)) return { kind: "outside" };
    return { kind: "nxdomain" };
  }

  /** Every record held, for tests and the debug endpoint. */
  records(): ZoneRecord[] {
    return [...this.#recordsByService.values()].flat();
  }

  #isAuthoritativeFor(name: string): boolean {
    return name === this.#options.domain || name.endsWith(`.${this.#options.domain}`) || isReverseName(name);
  }

  #recompute(serviceKey: string): void {
    for (const record of this.#recordsByService.get(serviceKey) ?? []) this.#unindex(record);
    const service = this.#services.get(serviceKey);
    const slices = [...(this.#slices.get(serviceKey)?.values() ?? [])];
    const records = service === undefined ? [] : serviceRecords(service, slices, this.#options);
    if (records.length === 0) this.#recordsByService.delete(serviceKey);
    else this.#recordsByService.set(serviceKey, records);
    for (const record of records) this.#index(record);
  }

  #index(record: ZoneRecord): void {
    const atName = this.#recordsByName.get(record.name);
    if (atName === undefined) this.#recordsByName.set(record.name, [record]);
    else atName.push(record);
    for (const name of selfAndAncestors(record.name, this.#options.domain)) {
      this.#namesInUse.set(name, (this.#namesInUse.get(name) ?? 0) + 1);
    }
  }

  #unindex(record: ZoneRecord): void {
    const remaining = (this.#recordsByName.get(record.name) ?? []).filter((held) => held !== record);
    if (remaining.length === 0) this.#recordsByName.delete(record.name);
    else this.#recordsByName.set(record.name, remaining);
    for (const name of selfAndAncestors(record.name, this.#options.domain)) {
      const count = (this.#namesInUse.get(name) ?? 0) - 1;
      if (count <= 0) this.#namesInUse.delete(name);
      else this.#namesInUse.set(name, count);
    }
  }
}

/** The records one Service stands for, given its EndpointSlices. */
export function serviceRecords(service: Service, slices: readonly EndpointSlice[], options: ZoneOptions): ZoneRecord[] {
  const name = service.metadata.name ?? "";
  const namespace = service.metadata.namespace ?? "default";
  const base = `${name}.${namespace}.svc.${options.domain}`.toLowerCase();
  const spec = service.spec ?? {};
  const ttlSeconds = options.ttlSeconds;
  if (spec.type === "ExternalName") {
    if (spec.externalName === undefined || spec.externalName === "") return [];
    return [{ name: base, type: "CNAME", ttlSeconds, data: normalizeName(spec.externalName) }];
  }
  if (isHeadless(service)) return headlessRecords(base, service, slices, options);
  const addresses = spec.clusterIPs ?? (spec.clusterIP === undefined ? [] : [spec.clusterIP]);
  const records: ZoneRecord[] = [];
  for (const address of addresses.filter((ip) => ip !== "")) {
    records.push({ name: base, type: addressType(address), ttlSeconds, data: address });
    records.push({ name: reverseName(address), type: "PTR", ttlSeconds, data: base });
  }
  for (const port of spec.ports ?? []) {
    if (port.name === undefined || port.name === "") continue;
    const srvName = `_${port.name}._${(port.protocol ?? "TCP").toLowerCase()}.${base}`;
    records.push({ name: srvName, type: "SRV", ttlSeconds, data: { priority: 0, weight: srvWeightTotal, port: port.port, target: base } });
  }
  return records;
}

function headlessRecords(base: string, service: Service, slices: readonly EndpointSlice[], options: ZoneOptions): ZoneRecord[] {
  const ttlSeconds = options.ttlSeconds;
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const targets: { target: string; address: string; ports: EndpointSlice["ports"] }[] = [];
  const records: ZoneRecord[] = [];
  for (const slice of slices) {
    if (slice.addressType === "FQDN") continue;
    for (const endpoint of slice.endpoints) {
      if (!publishNotReady && !isReady(endpoint)) continue;
      for (const address of endpoint.addresses) {
        const target = `${endpoint.hostname ?? address.replaceAll(/[.:]/g, "-")}.${base}`.toLowerCase();
        records.push({ name: base, type: addressType(address), ttlSeconds, data: address });
        records.push({ name: target, type: addressType(address), ttlSeconds, data: address });
        if (endpoint.hostname !== undefined) records.push({ name: reverseName(address), type: "PTR", ttlSeconds, data: target });
        targets.push({ target, address, ports: slice.ports });
      }
    }
  }
  const srvCount = new Map<string, number>();
  const srvRecords: ZoneRecord[] = [];
  for (const { target, ports } of targets) {
    for (const port of ports ?? []) {
      if (port.name === undefined || port.name === "" || port.port === undefined) continue;
      const srvName = `_${port.name}._${(port.protocol ?? "TCP").toLowerCase()}.${base}`;
      srvCount.set(srvName, (srvCount.get(srvName) ?? 0) + 1);
      srvRecords.push({ name: srvName, type: "SRV", ttlSeconds, data: { priority: 0, weight: 0, port: port.port, target } });
    }
  }
  for (const record of srvRecords) {
    const data = record.data as SrvData;
    data.weight = Math.floor(srvWeightTotal / (srvCount.get(record.name) ?? 1));
  }
  return dedupe([...records, ...srvRecords]);
}

function isHeadless(service: Service): boolean {
  return service.spec?.clusterIP === "None";
}

/** Ready as EndpointSlice consumers read it: an absent condition counts as ready. */
function isReady(endpoint: EndpointSliceEndpoint): boolean {
  return endpoint.conditions?.ready !== false;
}

function addressType(address: string): "A" | "AAAA" {
  return address.includes(":") ? "AAAA" : "A";
}

/** The in-addr.arpa or ip6.arpa name of an address. */
export function reverseName(address: string): string {
  if (!address.includes(":")) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  const nibbles = expandIpv6(address).replaceAll(":", "").split("");
  return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

function expandIpv6(address: string): string {
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const missing = address.includes("::") ? 8 - headGroups.length - tailGroups.length : 0;
  const groups = [...headGroups, ...Array.from({ length: missing }, () => "0"), ...tailGroups];
  return groups.map((group) => group.padStart(4, "0")).join(":");
}

function isReverseName(name: string): boolean {
  return name.endsWith(".in-addr.arpa") || name.endsWith(".ip6.arpa");
}

/** `10-244-1-5.<ns>.pod.<domain>` → 10.244.1.5 (CoreDNS's `pods insecure` mode). */
function podRecordAddress(name: string, domain: string): string | undefined {
  const suffix = `.pod.${domain}`;
  if (!name.endsWith(suffix)) return undefined;
  const labels = name.slice(0, -suffix.length).split(".");
  if (labels.length !== 2) return undefined;
  const octets = (labels[0] ?? "").split("-");
  if (octets.length !== 4) return undefined;
  const valid = octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
  return valid ? octets.join(".") : undefined;
}

/** The name itself and each parent up to (not including) the zone's apex. */
function selfAndAncestors(name: string, domain: string): string[] {
  const names: string[] = [];
  let current = name;
  while (current !== domain && current.includes(".")) {
    names.push(current);
    current = current.slice(current.indexOf(".") + 1);
  }
  return names;
}

function dedupe(records: ZoneRecord[]): ZoneRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    const key = `${record.name}|${record.type}|${JSON.stringify(record.data)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

function objectKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? "default"}/${name ?? ""}`;
}

function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const serviceName = slice.metadata.labels?.[serviceNameLabel];
  return serviceName === undefined ? undefined : objectKey(slice.metadata.namespace, serviceName);
}
