/**
 * containerd's CNI configuration for this node: a bridge (`cni0`) with host-local IPAM on the
 * node's pod subnet, its gateway the bridge, and portmap for hostPort. No masquerade in the
 * bridge plugin: pod-to-pod traffic between nodes must keep its source address (no NAT); only
 * traffic leaving the cluster CIDR is masqueraded, by the overlay's own nftables rule.
 */
export const cniConfigFileName = "10-flotilla.conflist";
export const cniBridgeName = "cni0";

export interface CniConfigOptions {
  /** Node.spec.podCIDR, `10.244.1.0/24`. */
  subnet: string;
  /** The VXLAN device's MTU, so pod packets fit the overlay. */
  mtu: number;
}

export function cniConfig(options: CniConfigOptions): string {
  const config = {
    cniVersion: "0.4.0",
    name: "flotilla",
    plugins: [
      {
        type: "bridge",
        bridge: cniBridgeName,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: options.mtu,
        ipam: { type: "host-local", ranges: [[{ subnet: options.subnet }]], routes: [{ dst: "0.0.0.0/0" }] },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** nftables rules that masquerade pod traffic leaving the cluster network (flannel's ipMasq). */
export function podEgressMasqueradeRules(clusterCidr: string): string {
  const table = "flotilla_overlay";
  return [
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    "  chain postrouting {",
    "    type nat hook postrouting priority 100; policy accept;",
    `    ip saddr ${clusterCidr} ip daddr != ${clusterCidr} ip daddr != 224.0.0.0/4 masquerade fully-random`,
    "  }",
    "}",
  ].join("\n");
}
