import { describe, expect, it } from "vitest";
import type { Node } from "../../libs/api/index.ts";
import { cniConfig } from "./cni-config.ts";
import { macFromBytes, overlayCommands, peersFromNodes, publicIpAnnotation, vtepMacAnnotation } from "./overlay-plan.ts";

function node(name: string, subnet: string | undefined, mac?: string, ip?: string): Node {
  const annotations: Record<string, string> = {};
  if (mac !== undefined) annotations[vtepMacAnnotation] = mac;
  if (ip !== undefined) annotations[publicIpAnnotation] = ip;
  return { apiVersion: "v1", kind: "Node", metadata: { name, annotations }, spec: subnet === undefined ? {} : { podCIDR: subnet } };
}

const empty = { neighbours: new Map<string, string>(), fdb: new Map<string, string>(), routes: new Map<string, string>() };

describe("overlay plan", () => {
  it("takes peers only from other nodes that have a subnet and both annotations", () => {
    const peers = peersFromNodes([node("self", "10.244.0.0/24", "0a:00:00:00:00:01", "192.168.1.1"), node("b", "10.244.1.0/24", "0A:00:00:00:00:02", "192.168.1.2"), node("c", undefined, "0a:00:00:00:00:03", "192.168.1.3"), node("d", "10.244.3.0/24")], "self");
    expect(peers).toEqual([{ nodeName: "b", subnet: "10.244.1.0/24", publicIp: "192.168.1.2", vtepMac: "0a:00:00:00:00:02" }]);
  });

  it("programs neighbour, FDB and route for a new peer", () => {
    const commands = overlayCommands([{ nodeName: "b", subnet: "10.244.1.0/24", publicIp: "192.168.1.2", vtepMac: "0a:00:00:00:00:02" }], empty);
    expect(commands.ip).toEqual([
      ["neigh", "replace", "10.244.1.0", "lladdr", "0a:00:00:00:00:02", "dev", "flotilla.1", "nud", "permanent"],
      ["route", "replace", "10.244.1.0/24", "via", "10.244.1.0", "dev", "flotilla.1", "onlink"],
    ]);
    expect(commands.bridge).toEqual([["fdb", "replace", "0a:00:00:00:00:02", "dev", "flotilla.1", "dst", "192.168.1.2", "self", "permanent"]]);
  });

  it("changes nothing when the kernel already holds what is wanted, and removes what no node wants", () => {
    const peer = { nodeName: "b", subnet: "10.244.1.0/24", publicIp: "192.168.1.2", vtepMac: "0a:00:00:00:00:02" };
    const converged = { neighbours: new Map([["10.244.1.0", peer.vtepMac]]), fdb: new Map([[peer.vtepMac, peer.publicIp]]), routes: new Map([["10.244.1.0/24", "10.244.1.0"]]) };
    expect(overlayCommands([peer], converged)).toEqual({ ip: [], bridge: [] });
    expect(overlayCommands([], converged)).toEqual({
      ip: [["route", "del", "10.244.1.0/24", "dev", "flotilla.1"], ["neigh", "del", "10.244.1.0", "dev", "flotilla.1"]],
      bridge: [["fdb", "del", "0a:00:00:00:00:02", "dev", "flotilla.1", "self"]],
    });
  });

  it("makes locally administered unicast MACs", () => {
    expect(macFromBytes(new Uint8Array([1, 2, 3, 4, 255]))).toBe("0a:01:02:03:04:ff");
  });

  it("writes a bridge + host-local + portmap CNI config without masquerade", () => {
    const config = JSON.parse(cniConfig({ subnet: "10.244.1.0/24", mtu: 1450 })) as { plugins: { type: string; ipMasq?: boolean; ipam?: { ranges: { subnet: string }[][] } }[] };
    expect(config.plugins.map((plugin) => plugin.type)).toEqual(["bridge", "portmap"]);
    expect(config.plugins[0]?.ipMasq).toBe(false);
    expect(config.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet).toBe("10.244.1.0/24");
  });
});
