/**
 * The per-node filters that need no cluster-wide precomputation, in the default profile's order:
 * NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit and the
 * node-affinity part of VolumeBinding. Each returns undefined when the node passes.
 */
import type { PersistentVolume } from "../../../libs/api/types/core.ts";
import { firstUntoleratedTaint, nodeSelectorMatches, podMatchesNodeSelectorAndAffinity, tolerationsTolerateTaint, unschedulableTaintKey } from "./node-match.ts";
import type { PodInfo } from "./pod-info.ts";
import { hostPortConflicts, type NodeInfo } from "./snapshot.ts";
import { failure, insufficient, reasons, untoleratedTaint, type FilterFailure } from "./status.ts";

export function filterNodeUnschedulable(pod: PodInfo, node: NodeInfo): FilterFailure | undefined {
  if (!node.unschedulable) return undefined;
  // A cordoned node admits pods tolerating the unschedulable taint (DaemonSet pods do).
  if (tolerationsTolerateTaint(pod.tolerations, { key: unschedulableTaintKey, effect: "NoSchedule" })) return undefined;
  return failure("NodeUnschedulable", "UnschedulableAndUnresolvable", reasons.nodeUnschedulable);
}

export function filterNodeName(pod: PodInfo, node: NodeInfo): FilterFailure | undefined {
  const wanted = pod.pod.spec?.nodeName;
  if (wanted === undefined || wanted === "" || wanted === node.name) return undefined;
  return failure("NodeName", "UnschedulableAndUnresolvable", reasons.nodeName);
}

export function filterTaintToleration(pod: PodInfo, node: NodeInfo): FilterFailure | undefined {
  const taint = firstUntoleratedTaint(node.taints, pod.tolerations);
  if (taint === undefined) return undefined;
  return failure("TaintToleration", "UnschedulableAndUnresolvable", untoleratedTaint(taint.key, taint.value));
}

export function filterNodeAffinity(pod: PodInfo, node: NodeInfo): FilterFailure | undefined {
  if (podMatchesNodeSelectorAndAffinity(pod.pod, node.name, node.labels)) return undefined;
  return failure("NodeAffinity", "UnschedulableAndUnresolvable", reasons.nodeAffinity);
}

export function filterNodePorts(pod: PodInfo, node: NodeInfo): FilterFailure | undefined {
  for (const hostPort of pod.hostPorts) {
    if (hostPortConflicts(node, hostPort.ip, hostPort.protocol, hostPort.port)) {
      return failure("NodePorts", "Unschedulable", reasons.nodePorts);
    }
  }
  return undefined;
}

/** Upstream's fitsRequest: every resource that does not fit is one reason. */
export function filterNodeResourcesFit(pod: PodInfo, node: NodeInfo): FilterFailure | undefined {
  const found: string[] = [];
  if (node.pods.size + 1 > node.allocatablePods) found.push(reasons.tooManyPods);
  const want = pod.requests.requests;
  const used = node.requested;
  const free = node.allocatable;
  if (want.milliCpu > 0 && want.milliCpu > free.milliCpu - used.milliCpu) found.push(insufficient("cpu"));
  if (want.memoryBytes > 0 && want.memoryBytes > free.memoryBytes - used.memoryBytes) found.push(insufficient("memory"));
  if (want.ephemeralStorageBytes > 0 && want.ephemeralStorageBytes > free.ephemeralStorageBytes - used.ephemeralStorageBytes) {
    found.push(insufficient("ephemeral-storage"));
  }
  for (const [name, amount] of want.scalars) {
    if (amount > 0 && amount > (free.scalars.get(name) ?? 0) - (used.scalars.get(name) ?? 0)) found.push(insufficient(name));
  }
  return found.length === 0 ? undefined : failure("NodeResourcesFit", "Unschedulable", ...found);
}

/** A bound PersistentVolume with nodeAffinity pins the pod to the nodes it names. */
export function filterVolumeNodeAffinity(volumes: readonly PersistentVolume[], node: NodeInfo): FilterFailure | undefined {
  for (const volume of volumes) {
    const required = volume.spec?.nodeAffinity?.required;
    if (required !== undefined && !nodeSelectorMatches(required, node.name, node.labels)) {
      return failure("VolumeBinding", "UnschedulableAndUnresolvable", reasons.volumeNodeAffinity);
    }
  }
  return undefined;
}
