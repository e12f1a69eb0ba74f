/**
 * nftables rules for the service proxy, in kube-proxy's nftables layout: verdict maps keyed by
 * (address, protocol, port) send a packet to its service chain, which picks an endpoint chain with
 * `numgen random` (or a client's affinity set) and DNATs. The desired state is plain data
 * (RuleState); `transaction(previous, next)` writes one `nft -f` script that changes only what
 * differs, so an endpoint change touches one service's chains. Pure.
 */
import type { ServicePort } from "./model.ts";

export const tableName = "flotilla_proxy";
/** The packet mark that asks postrouting to masquerade (kube-proxy's 0x4000). */
const masqueradeMark = "0x00004000";

export interface ProxyConfig {
  /** Pod network; traffic from outside it is masqueraded on its way to an endpoint. */
  clusterCidr: string;
}

export interface RuleState {
  /** Regular chains by name → their rules, in order. */
  chains: Map<string, string[]>;
  /** Dynamic sets of clients with session affinity, by name → timeout in seconds. */
  affinitySets: Map<string, number>;
  /** Elements of the verdict maps and of the reject set, by map name → key → value. */
  maps: Map<MapName, Map<string, string>>;
}

export type MapName = "service_ips" | "service_nodeports" | "no_endpoint_services" | "no_endpoint_nodeports";

const mapNames: readonly MapName[] = ["service_ips", "service_nodeports", "no_endpoint_services", "no_endpoint_nodeports"];

export function emptyState(): RuleState {
  return { chains: new Map(), affinitySets: new Map(), maps: new Map(mapNames.map((name) => [name, new Map()])) };
}

/**
 * The union of states that share no chain, set or map key (the states of different services:
 * their chains are named by their own hashes, their map keys by their own addresses and ports).
 */
export function mergeStates(states: Iterable<RuleState>): RuleState {
  const merged = emptyState();
  for (const state of states) {
    for (const [name, rules] of state.chains) merged.chains.set(name, rules);
    for (const [name, timeoutSeconds] of state.affinitySets) merged.affinitySets.set(name, timeoutSeconds);
    for (const [map, elements] of state.maps) {
      const into = merged.maps.get(map);
      for (const [key, value] of elements) into?.set(key, value);
    }
  }
  return merged;
}

/** The whole desired state for these service ports. */
export function desiredState(ports: readonly ServicePort[], config: ProxyConfig): RuleState {
  const state = emptyState();
  for (const port of ports) addServicePort(state, port, config);
  return state;
}

function addServicePort(state: RuleState, port: ServicePort, config: ProxyConfig): void {
  const id = shortHash(port.key);
  const serviceIps = state.maps.get("service_ips");
  const nodePorts = state.maps.get("service_nodeports");
  const virtualIps = [...port.clusterIPs, ...port.loadBalancerIPs];
  // externalTrafficPolicy Local holds for load-balancer addresses as for node ports.
  const externalIps = port.externalLocal ? port.loadBalancerIPs : [];
  if (port.endpoints.length === 0) {
    for (const ip of virtualIps) state.maps.get("no_endpoint_services")?.set(`${ip} . ${port.protocol} . ${port.port}`, "");
    if (port.nodePort !== 0) state.maps.get("no_endpoint_nodeports")?.set(`${port.protocol} . ${port.nodePort}`, "");
    return;
  }
  const endpointChains = port.endpoints.map((endpoint) => addEndpointChain(state, port, endpoint, id));
  const clusterChain = `svc_${id}`;
  state.chains.set(clusterChain, [
    `ip saddr != ${config.clusterCidr} jump mark_for_masquerade comment "${port.key}"`,
    ...balanceRules(port, endpointChains, endpointChains.map(() => true)),
  ]);
  const external = port.nodePort !== 0 || externalIps.length > 0 ? externalChain(state, port, endpointChains, id, config) : undefined;
  for (const ip of virtualIps) serviceIps?.set(`${ip} . ${port.protocol} . ${port.port}`, `goto ${external !== undefined && externalIps.includes(ip) ? external : clusterChain}`);
  if (port.nodePort !== 0 && external !== undefined) nodePorts?.set(`${port.protocol} . ${port.nodePort}`, `goto ${external}`);
}

/**
 * NodePort and load-balancer traffic: Cluster masquerades to any endpoint; Local keeps the
 * client's address and picks local endpoints only, except for pods, which go to any endpoint
 * (kube-proxy's short-circuit: a pod calling a load-balancer address must not be dropped).
 */
function externalChain(state: RuleState, port: ServicePort, endpointChains: string[], id: string, config: ProxyConfig): string {
  const name = `ext_${id}`;
  if (!port.externalLocal) {
    state.chains.set(name, ["jump mark_for_masquerade", `goto svc_${id}`]);
    return name;
  }
  const local = port.endpoints.map((endpoint) => endpoint.local);
  const rules = [`ip saddr ${config.clusterCidr} goto svc_${id} comment "pod traffic"`, ...(local.some(Boolean) ? balanceRules(port, endpointChains, local) : [`drop comment "no local endpoints"`])];
  state.chains.set(name, rules);
  return name;
}

function addEndpointChain(state: RuleState, port: ServicePort, endpoint: ServicePort["endpoints"][number], id: string): string {
  const name = `ep_${id}_${shortHash(`${endpoint.ip}:${endpoint.port}`)}`;
  const rules = [`ip saddr ${endpoint.ip} jump mark_for_masquerade comment "hairpin"`];
  if (port.affinitySeconds > 0) {
    state.affinitySets.set(`aff_${name.slice(3)}`, port.affinitySeconds);
    rules.push(`update @aff_${name.slice(3)} { ip saddr }`);
  }
  rules.push(`meta l4proto ${port.protocol} dnat to ${endpoint.ip}:${endpoint.port}`);
  state.chains.set(name, rules);
  return name;
}

/** Affinity first (a known client goes back to its endpoint), then a uniform random pick. */
function balanceRules(port: ServicePort, endpointChains: string[], eligible: boolean[]): string[] {
  const chosen = endpointChains.filter((_, index) => eligible[index] === true);
  const rules: string[] = [];
  if (port.affinitySeconds > 0) {
    for (const chain of chosen) rules.push(`ip saddr @aff_${chain.slice(3)} goto ${chain}`);
  }
  const choices = chosen.map((chain, index) => `${index} : goto ${chain}`).join(", ");
  rules.push(`numgen random mod ${chosen.length} vmap { ${choices} }`);
  return rules;
}

/** The table's fixed part: base chains, maps and sets. Written only on a full resync. */
export function baseTable(): string {
  return `table ip ${tableName} {
  map service_ips { type ipv4_addr . inet_proto . inet_service : verdict; }
  map service_nodeports { type inet_proto . inet_service : verdict; }
  set no_endpoint_services { type ipv4_addr . inet_proto . inet_service; }
  set no_endpoint_nodeports { type inet_proto . inet_service; }
  chain mark_for_masquerade { meta mark set meta mark or ${masqueradeMark}; }
  chain services {
    ip daddr . meta l4proto . th dport vmap @service_ips
    fib daddr type local meta l4proto . th dport vmap @service_nodeports
  }
  chain nat_prerouting { type nat hook prerouting priority -100; policy accept; jump services; }
  chain nat_output { type nat hook output priority -100; policy accept; jump services; }
  chain nat_postrouting {
    type nat hook postrouting priority 100; policy accept;
    meta mark and ${masqueradeMark} == 0 return
    meta mark set meta mark xor ${masqueradeMark}
    masquerade fully-random
  }
  chain reject_no_endpoints {
    ip daddr . meta l4proto . th dport @no_endpoint_services reject
    fib daddr type local meta l4proto . th dport @no_endpoint_nodeports reject
  }
  chain filter_input { type filter hook input priority -110; policy accept; ct state new jump reject_no_endpoints; }
  chain filter_forward { type filter hook forward priority -110; policy accept; ct state new jump reject_no_endpoints; }
  chain filter_output { type filter hook output priority -110; policy accept; ct state new jump reject_no_endpoints; }
}`;
}

/** Replaces the whole table in one transaction (first sync, or after a failed incremental one). */
export function fullTransaction(next: RuleState): string {
  return [`add table ip ${tableName}`, `delete table ip ${tableName}`, baseTable(), transaction(emptyState(), next)].join("\n");
}

/** The statements that turn `previous` into `next`, in an order nft accepts within one transaction. */
export function transaction(previous: RuleState, next: RuleState): string {
  const lines: string[] = [];
  const t = `ip ${tableName}`;
  for (const [name, timeoutSeconds] of next.affinitySets) {
    if (!previous.affinitySets.has(name)) lines.push(`add set ${t} ${name} { type ipv4_addr; flags dynamic,timeout; timeout ${timeoutSeconds}s; }`);
  }
  const changed = [...next.chains].filter(([name, rules]) => !sameRules(previous.chains.get(name), rules));
  const removed = [...previous.chains.keys()].filter((name) => !next.chains.has(name));
  for (const [name] of changed) if (!previous.chains.has(name)) lines.push(`add chain ${t} ${name}`);
  for (const name of [...changed.map(([chain]) => chain), ...removed]) if (previous.chains.has(name)) lines.push(`flush chain ${t} ${name}`);
  for (const [name, rules] of changed) for (const rule of rules) lines.push(`add rule ${t} ${name} ${rule}`);
  lines.push(...mapChanges(previous, next, t));
  for (const name of removed) lines.push(`delete chain ${t} ${name}`);
  for (const name of previous.affinitySets.keys()) if (!next.affinitySets.has(name)) lines.push(`delete set ${t} ${name}`);
  return lines.join("\n");
}

function mapChanges(previous: RuleState, next: RuleState, t: string): string[] {
  const deletions: string[] = [];
  const additions: string[] = [];
  for (const map of mapNames) {
    const before = previous.maps.get(map) ?? new Map<string, string>();
    const after = next.maps.get(map) ?? new Map<string, string>();
    const element = (key: string, value: string): string => (value === "" ? key : `${key} : ${value}`);
    for (const [key, value] of before) if (after.get(key) !== value) deletions.push(`delete element ${t} ${map} { ${element(key, value)} }`);
    for (const [key, value] of after) if (before.get(key) !== value) additions.push(`add element ${t} ${map} { ${element(key, value)} }`);
  }
  return [...deletions, ...additions];
}

function sameRules(previous: readonly string[] | undefined, next: readonly string[]): boolean {
  return previous !== undefined && previous.length === next.length && previous.every((rule, index) => rule === next[index]);
}

/**
 * Two FNV-1a hashes (different offset bases), 64 bits in all, base 36: short stable chain names.
 * 32 bits alone would collide about once in a hundred tables of 10 000 chains.
 */
export function shortHash(text: string): string {
  return fnv1a(text, 0x811c9dc5).toString(36).padStart(7, "0") + fnv1a(text, 0x050c5d1f).toString(36).padStart(7, "0");
}

function fnv1a(text: string, offsetBasis: number): number {
  let hash = offsetBasis;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
