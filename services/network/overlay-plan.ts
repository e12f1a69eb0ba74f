/**
 * The flannel-style VXLAN overlay as data: from this node's subnet and the other nodes (their pod
 * subnet, public address and VTEP MAC, read from Node objects) to the neighbour, FDB and route
 * entries the VXLAN device must hold, and the `ip`/`bridge` commands that get it there from what
 * the kernel holds now. Pure: the commands are run by overlay.ts.
 */
import type { Node } from "../../libs/api/index.ts";

/** Node annotations the agent publishes so that every other node can reach its pods. */
export const vtepMacAnnotation = "overlay.flotilla.io/vtep-mac";
export const publicIpAnnotation = "overlay.flotilla.io/public-ip";

export const vxlanDeviceName = "flotilla.1";
export const vxlanId = 1;
export const vxlanUdpPort = 8472;
/** VXLAN adds 50 bytes of outer Ethernet, IP, UDP and VXLAN headers. */
export const vxlanOverheadBytes = 50;

export interface OverlayPeer {
  nodeName: string;
  /** The peer's pod subnet, `10.244.2.0/24`. */
  subnet: string;
  publicIp: string;
  vtepMac: string;
}

/** What the kernel holds on the VXLAN device now (read with `ip -j` / `bridge -j`). */
export interface OverlayObserved {
  /** Permanent neighbour entries: address → MAC. */
  neighbours: Map<string, string>;
  /** FDB entries with a destination: MAC → remote address. */
  fdb: Map<string, string>;
  /** Routes through the device: destination subnet → gateway. */
  routes: Map<string, string>;
}

/** Peers from Node objects: every other node with a subnet and both overlay annotations. */
export function peersFromNodes(nodes: readonly Node[], selfName: string): OverlayPeer[] {
  const peers: OverlayPeer[] = [];
  for (const node of nodes) {
    const name = node.metadata.name ?? "";
    const subnet = node.spec?.podCIDR;
    const annotations = node.metadata.annotations ?? {};
    const vtepMac = annotations[vtepMacAnnotation];
    const publicIp = annotations[publicIpAnnotation];
    if (name === selfName || subnet === undefined || vtepMac === undefined || publicIp === undefined) continue;
    peers.push({ nodeName: name, subnet, publicIp, vtepMac: vtepMac.toLowerCase() });
  }
  return peers.sort((a, b) => (a.nodeName < b.nodeName ? -1 : 1));
}

/** The subnet's network address, which each node's VXLAN device holds as a /32 (flannel's way). */
export function gatewayOf(subnet: string): string {
  return subnet.split("/")[0] ?? subnet;
}

/** `ip`/`bridge` argument lists (without the command name) that turn observed into desired. */
export function overlayCommands(peers: readonly OverlayPeer[], observed: OverlayObserved): { ip: string[][]; bridge: string[][] } {
  const ip: string[][] = [];
  const bridge: string[][] = [];
  const device = vxlanDeviceName;
  const wantedNeighbours = new Map(peers.map((peer) => [gatewayOf(peer.subnet), peer.vtepMac]));
  const wantedFdb = new Map(peers.map((peer) => [peer.vtepMac, peer.publicIp]));
  const wantedRoutes = new Map(peers.map((peer) => [peer.subnet, gatewayOf(peer.subnet)]));
  // Add and replace first, remove last: a peer that changed address never loses its route.
  for (const [address, mac] of wantedNeighbours) {
    if (observed.neighbours.get(address) !== mac) ip.push(["neigh", "replace", address, "lladdr", mac, "dev", device, "nud", "permanent"]);
  }
  for (const [mac, remote] of wantedFdb) {
    if (observed.fdb.get(mac) !== remote) bridge.push(["fdb", "replace", mac, "dev", device, "dst", remote, "self", "permanent"]);
  }
  for (const [subnet, gateway] of wantedRoutes) {
    if (observed.routes.get(subnet) !== gateway) ip.push(["route", "replace", subnet, "via", gateway, "dev", device, "onlink"]);
  }
  for (const subnet of observed.routes.keys()) if (!wantedRoutes.has(subnet)) ip.push(["route", "del", subnet, "dev", device]);
  for (const address of observed.neighbours.keys()) if (!wantedNeighbours.has(address)) ip.push(["neigh", "del", address, "dev", device]);
  for (const mac of observed.fdb.keys()) if (!wantedFdb.has(mac)) bridge.push(["fdb", "del", mac, "dev", device, "self"]);
  return { ip, bridge };
}

/** A random locally administered unicast MAC from 5 random bytes (the caller supplies them). */
export function macFromBytes(bytes: Uint8Array): string {
  const octets = [0x0a, ...Array.from(bytes.slice(0, 5))];
  return octets.map((octet) => octet.toString(16).padStart(2, "0")).join(":");
}
