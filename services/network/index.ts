/**
 * services/network: the node's pod network (issue 7): the flannel-style VXLAN overlay and
 * containerd's CNI configuration. See README.md.
 */
export {
  gatewayOf,
  macFromBytes,
  overlayCommands,
  peersFromNodes,
  publicIpAnnotation,
  vtepMacAnnotation,
  vxlanDeviceName,
  vxlanId,
  vxlanOverheadBytes,
  vxlanUdpPort,
} from "./overlay-plan.ts";
export type { OverlayObserved, OverlayPeer } from "./overlay-plan.ts";
export { Overlay, runCommand, runnerIn } from "./overlay.ts";
export { NodeNetwork } from "./node-network.ts";
export type { NodeNetworkOptions } from "./node-network.ts";
export { enumerateSubnets, NodeIpamController } from "./node-ipam-controller.ts";
export { enableLbLabel, loadBalancerAddresses, ServiceLbController } from "./servicelb-controller.ts";
export type { NodeIpamOptions } from "./node-ipam-controller.ts";
export type { CommandRunner, OverlayOptions } from "./overlay.ts";
export { cniBridgeName, cniConfig, cniConfigFileName, podEgressMasqueradeRules } from "./cni-config.ts";
export type { CniConfigOptions } from "./cni-config.ts";
