/**
 * Node scores in [0, maxNodeScore], following upstream's plugins: NodeResourcesFit with the
 * LeastAllocated strategy (cpu and memory, weight 1 each, non-zero requests), BalancedAllocation
 * (one minus the standard deviation of the requested fractions), NodeAffinity's preferred terms,
 * TaintToleration's intolerable PreferNoSchedule taints, and SelectorSpread-style spreading of one
 * controller's pods over nodes and zones.
 */
import { nodeSelectorTermMatches, tolerationsTolerateTaint } from "./node-match.ts";
import type { PodInfo } from "./pod-info.ts";
import type { ClusterSnapshot, NodeInfo } from "./snapshot.ts";

export const maxNodeScore = 100;
export const zoneLabel = "topology.kubernetes.io/zone";
/** SelectorSpread weighs zone spreading twice as much as node spreading (upstream's zoneWeighting). */
const zoneWeighting = 2 / 3;

function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * maxNodeScore) / capacity);
}

export function scoreLeastAllocated(pod: PodInfo, node: NodeInfo): number {
  const cpu = leastRequested(node.nonZeroMilliCpu + pod.requests.nonZeroMilliCpu, node.allocatable.milliCpu);
  const memory = leastRequested(node.nonZeroMemoryBytes + pod.requests.nonZeroMemoryBytes, node.allocatable.memoryBytes);
  return Math.trunc((cpu + memory) / 2);
}

// Top-level rather than a closure: score functions run once per node per decision.
function requestedFraction(requested: number, capacity: number): number {
  return capacity === 0 ? 0 : Math.min(1, requested / capacity);
}

/** Requested fractions of cpu and memory (actual requests, as upstream), capped at 1. */
export function scoreBalancedAllocation(pod: PodInfo, node: NodeInfo): number {
  const cpu = requestedFraction(node.requested.milliCpu + pod.requests.requests.milliCpu, node.allocatable.milliCpu);
  const memory = requestedFraction(node.requested.memoryBytes + pod.requests.requests.memoryBytes, node.allocatable.memoryBytes);
  // For two resources the standard deviation is half their difference.
  const deviation = Math.abs(cpu - memory) / 2;
  return Math.trunc((1 - deviation) * maxNodeScore);
}

/** Sum of the weights of the preferred node-affinity terms the node matches (normalised later). */
export function scoreNodeAffinityRaw(pod: PodInfo, node: NodeInfo): number {
  let total = 0;
  for (const preferred of pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (preferred.weight !== 0 && nodeSelectorTermMatches(preferred.preference, node.name, node.labels)) total += preferred.weight;
  }
  return total;
}

/** Count of PreferNoSchedule taints the pod does not tolerate (normalised later, reversed). */
export function scoreTaintTolerationRaw(pod: PodInfo, node: NodeInfo): number {
  let count = 0;
  for (const taint of node.taints) {
    // Only tolerations for PreferNoSchedule (or every effect) count, and the taint's effect is that.
    if (taint.effect === "PreferNoSchedule" && !tolerationsTolerateTaint(pod.tolerations, taint)) count++;
  }
  return count;
}

/** Upstream's DefaultNormalizeScore: scale to [0, max] by the highest score, optionally reversed. */
export function defaultNormalize(raw: readonly number[], reverse: boolean): number[] {
  const highest = raw.reduce((max, score) => Math.max(max, score), 0);
  if (highest === 0) return raw.map(() => (reverse ? maxNodeScore : 0));
  return raw.map((score) => {
    const scaled = Math.trunc((maxNodeScore * score) / highest);
    return reverse ? maxNodeScore - scaled : scaled;
  });
}

/** InterPodAffinity's normalisation: min-max scaling, all zero when every node scores the same. */
export function minMaxNormalize(raw: readonly number[]): number[] {
  if (raw.length === 0) return [];
  const min = Math.min(...raw);
  const max = Math.max(...raw);
  if (max === min) return raw.map(() => 0);
  return raw.map((score) => Math.trunc((maxNodeScore * (score - min)) / (max - min)));
}

/**
 * SelectorSpread by controller owner: fewer pods of the same owner on the node and in its zone
 * scores higher. Returns one score per node of `nodes`, already normalised.
 */
export function scoreOwnerSpread(snapshot: ClusterSnapshot, pod: PodInfo, nodes: readonly NodeInfo[]): number[] {
  const byNode = pod.ownerUid === undefined ? undefined : snapshot.ownerPodsByNode(pod.ownerUid);
  if (byNode === undefined) return nodes.map(() => maxNodeScore);
  const counts = nodes.map((node) => byNode.get(node.name) ?? 0);
  const zoneCounts = new Map<string, number>();
  nodes.forEach((node, index) => {
    const zone = node.labels[zoneLabel];
    if (zone !== undefined) zoneCounts.set(zone, (zoneCounts.get(zone) ?? 0) + (counts[index] ?? 0));
  });
  const maxCount = Math.max(0, ...counts);
  const maxZoneCount = Math.max(0, ...zoneCounts.values());
  return nodes.map((node, index) => {
    let score = maxCount > 0 ? (maxNodeScore * (maxCount - (counts[index] ?? 0))) / maxCount : maxNodeScore;
    const zone = node.labels[zoneLabel];
    if (zoneCounts.size > 0 && zone !== undefined) {
      const zoneScore = maxZoneCount > 0 ? (maxNodeScore * (maxZoneCount - (zoneCounts.get(zone) ?? 0))) / maxZoneCount : maxNodeScore;
      score = score * (1 - zoneWeighting) + zoneWeighting * zoneScore;
    }
    return Math.trunc(score);
  });
}
