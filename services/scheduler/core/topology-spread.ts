/**
 * PodTopologySpread (upstream plugins/podtopologyspread): DoNotSchedule constraints filter nodes
 * whose domain would exceed maxSkew over the least-loaded eligible domain (minDomains counts
 * missing domains as zero); ScheduleAnyway constraints score nodes by how many matching pods their
 * domains already hold. Eligible nodes honour the pod's node affinity (nodeAffinityPolicy Honor)
 * and, when asked, its tolerations (nodeTaintsPolicy Honor), and carry every constraint's key.
 */
import { labelSelectorAsSelector, type Selector } from "../../../libs/api/labels.ts";
import type { Requirement } from "../../../libs/api/labels-requirement.ts";
import type { TopologySpreadConstraint } from "../../../libs/api/types/pod.ts";
import { firstUntoleratedTaint, podMatchesNodeSelectorAndAffinity } from "./node-match.ts";
import type { PodInfo } from "./pod-info.ts";
import type { ClusterSnapshot, NodeInfo } from "./snapshot.ts";
import { failure, reasons, type FilterFailure } from "./status.ts";

interface Constraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: Selector;
  readonly minDomains: number;
  readonly honorAffinity: boolean;
  readonly honorTaints: boolean;
}

function toConstraint(constraint: TopologySpreadConstraint, pod: PodInfo): Constraint {
  let selector = labelSelectorAsSelector(constraint.labelSelector);
  const extra: Requirement[] = [];
  for (const key of constraint.matchLabelKeys ?? []) {
    const value = pod.labels[key];
    if (value !== undefined) extra.push({ key, operator: "in", values: [value] });
  }
  if (extra.length > 0) selector = selector.add(...extra);
  return {
    maxSkew: constraint.maxSkew,
    topologyKey: constraint.topologyKey,
    selector,
    minDomains: constraint.minDomains ?? 1,
    honorAffinity: (constraint.nodeAffinityPolicy ?? "Honor") === "Honor",
    honorTaints: constraint.nodeTaintsPolicy === "Honor",
  };
}

function constraintsOf(pod: PodInfo, when: TopologySpreadConstraint["whenUnsatisfiable"]): Constraint[] {
  return (pod.pod.spec?.topologySpreadConstraints ?? []).filter((constraint) => constraint.whenUnsatisfiable === when).map((constraint) => toConstraint(constraint, pod));
}

function hasAllKeys(node: NodeInfo, constraints: readonly Constraint[]): boolean {
  for (const constraint of constraints) if (node.labels[constraint.topologyKey] === undefined) return false;
  return true;
}

function nodeIncluded(pod: PodInfo, node: NodeInfo, constraint: Constraint): boolean {
  if (constraint.honorAffinity && !podMatchesNodeSelectorAndAffinity(pod.pod, node.name, node.labels)) return false;
  return !constraint.honorTaints || firstUntoleratedTaint(node.taints, pod.tolerations) === undefined;
}

/** Matching pods per domain value of one constraint, over the domains of `nodes`. */
function countDomains(snapshot: ClusterSnapshot, pod: PodInfo, constraint: Constraint, nodes: readonly NodeInfo[], constraints: readonly Constraint[]): Map<string, number> {
  const domains = new Map<string, number>();
  const eligible = new Set<string>();
  for (const node of nodes) {
    if (!hasAllKeys(node, constraints) || !nodeIncluded(pod, node, constraint)) continue;
    eligible.add(node.name);
    domains.set(node.labels[constraint.topologyKey] ?? "", 0);
  }
  for (const existing of snapshot.candidatePods([pod.namespace], constraint.selector)) {
    const nodeName = existing.pod.spec?.nodeName;
    if (nodeName === undefined || !eligible.has(nodeName) || existing.pod.metadata.deletionTimestamp) continue;
    if (!constraint.selector.matches(existing.labels)) continue;
    const value = snapshot.node(nodeName)?.labels[constraint.topologyKey];
    if (value !== undefined) domains.set(value, (domains.get(value) ?? 0) + 1);
  }
  return domains;
}

export interface SpreadFilterState {
  readonly pod: PodInfo;
  readonly constraints: readonly Constraint[];
  readonly domainCounts: readonly Map<string, number>[];
  readonly minMatch: readonly number[];
}

export function preFilterTopologySpread(snapshot: ClusterSnapshot, pod: PodInfo): SpreadFilterState | undefined {
  const constraints = constraintsOf(pod, "DoNotSchedule");
  if (constraints.length === 0) return undefined;
  const domainCounts = constraints.map((constraint) => countDomains(snapshot, pod, constraint, snapshot.nodes(), constraints));
  const minMatch = constraints.map((constraint, index) => {
    const counts = domainCounts[index] ?? new Map<string, number>();
    if (counts.size < constraint.minDomains) return 0;
    return counts.size === 0 ? 0 : Math.min(...counts.values());
  });
  return { pod, constraints, domainCounts, minMatch };
}

export function filterTopologySpread(state: SpreadFilterState | undefined, node: NodeInfo): FilterFailure | undefined {
  if (state === undefined) return undefined;
  for (const [index, constraint] of state.constraints.entries()) {
    const value = node.labels[constraint.topologyKey];
    if (value === undefined) return failure("PodTopologySpread", "UnschedulableAndUnresolvable", reasons.topologySpreadMissingLabel);
    const selfMatch = constraint.selector.matches(state.pod.labels) ? 1 : 0;
    const count = state.domainCounts[index]?.get(value) ?? 0;
    const skew = count + selfMatch - (state.minMatch[index] ?? 0);
    if (skew > constraint.maxSkew) return failure("PodTopologySpread", "Unschedulable", reasons.topologySpread);
  }
  return undefined;
}

export interface SpreadScoreState {
  readonly constraints: readonly Constraint[];
  readonly domainCounts: readonly Map<string, number>[];
  /** log(domains + 2): constraints over many domains weigh more (upstream's topologyNormalizingWeight). */
  readonly weights: readonly number[];
}

/** PreScore over the feasible nodes; undefined when the pod has no ScheduleAnyway constraint. */
export function preScoreTopologySpread(snapshot: ClusterSnapshot, pod: PodInfo, feasible: readonly NodeInfo[]): SpreadScoreState | undefined {
  const constraints = constraintsOf(pod, "ScheduleAnyway");
  if (constraints.length === 0) return undefined;
  const domainCounts = constraints.map((constraint) => {
    const feasibleDomains = countDomains(snapshot, pod, constraint, feasible, constraints);
    const all = countDomains(snapshot, pod, constraint, snapshot.nodes(), constraints);
    // Only domains of feasible nodes are scored, but their counts include every eligible node.
    for (const value of feasibleDomains.keys()) feasibleDomains.set(value, all.get(value) ?? 0);
    return feasibleDomains;
  });
  const weights = domainCounts.map((counts) => Math.log(counts.size + 2));
  return { constraints, domainCounts, weights };
}

/** The raw score (lower is better); undefined marks a node missing a key (it scores 0 after normalising). */
export function scoreTopologySpread(state: SpreadScoreState, node: NodeInfo): number | undefined {
  if (!hasAllKeys(node, state.constraints)) return undefined;
  let score = 0;
  for (const [index, constraint] of state.constraints.entries()) {
    const count = state.domainCounts[index]?.get(node.labels[constraint.topologyKey] ?? "") ?? 0;
    score += count * (state.weights[index] ?? 0) + (constraint.maxSkew - 1);
  }
  return Math.round(score);
}

/** Upstream's NormalizeScore: fewer matching pods scores higher; nodes missing a key score 0. */
export function normalizeTopologySpread(raw: readonly (number | undefined)[], maxNodeScore: number): number[] {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const score of raw) {
    if (score === undefined) continue;
    min = Math.min(min, score);
    max = Math.max(max, score);
  }
  return raw.map((score) => {
    if (score === undefined) return 0;
    if (max === 0) return maxNodeScore;
    return Math.trunc((maxNodeScore * (max + min - score)) / max);
  });
}
