/**
 * InterPodAffinity (upstream plugins/interpodaffinity): required affinity and anti-affinity of the
 * incoming pod, existing pods' required anti-affinity against it (symmetry), and the preferred
 * terms of both sides as a score. Counts are kept per topology pair (key, value) and computed once
 * per decision from the snapshot's label index, not by walking every pod of every node.
 */
import type { NodeInfo, ClusterSnapshot } from "./snapshot.ts";
import { termMatchesPod, type AffinityTerm, type PodInfo } from "./pod-info.ts";
import { failure, reasons, type FilterFailure } from "./status.ts";

/** topologyKey → topology value → count (or score). */
type PairCounts = Map<string, Map<string, number>>;

/** Upstream's default hardPodAffinityWeight: existing pods' required affinity counts this much when scoring. */
export const hardPodAffinityWeight = 1;

function bump(counts: PairCounts, key: string, value: string, by: number): void {
  let byValue = counts.get(key);
  if (byValue === undefined) counts.set(key, (byValue = new Map()));
  byValue.set(value, (byValue.get(value) ?? 0) + by);
}

function countAt(counts: PairCounts, key: string, value: string): number {
  return counts.get(key)?.get(value) ?? 0;
}

export interface AffinityFilterState {
  readonly pod: PodInfo;
  readonly existingAntiAffinity: PairCounts;
  readonly affinity: PairCounts;
  readonly antiAffinity: PairCounts;
}

function nodeOf(snapshot: ClusterSnapshot, info: PodInfo): NodeInfo | undefined {
  const name = info.pod.spec?.nodeName;
  return name === undefined ? undefined : snapshot.node(name);
}

function termNamespaces(term: AffinityTerm): Iterable<string> | undefined {
  // A namespaceSelector can match any namespace: search them all and let termMatchesPod decide.
  return term.namespaceSelector === undefined ? term.namespaces : undefined;
}

/** PreFilter: undefined when neither side has required terms (the filter then passes every node). */
export function preFilterInterPodAffinity(snapshot: ClusterSnapshot, pod: PodInfo): AffinityFilterState | undefined {
  const labelsOf = (namespace: string): Readonly<Record<string, string>> | undefined => snapshot.namespaceLabels(namespace);
  const state: AffinityFilterState = { pod, existingAntiAffinity: new Map(), affinity: new Map(), antiAffinity: new Map() };
  for (const existing of snapshot.podsWithRequiredAntiAffinity()) {
    const node = nodeOf(snapshot, existing);
    if (node === undefined) continue;
    for (const term of existing.requiredAntiAffinity) {
      const value = node.labels[term.topologyKey];
      if (value !== undefined && termMatchesPod(term, pod, labelsOf)) bump(state.existingAntiAffinity, term.topologyKey, value, 1);
    }
  }
  const [first] = pod.requiredAffinity;
  if (first !== undefined) {
    // An existing pod counts for affinity only when it matches every required term.
    for (const existing of snapshot.candidatePods(termNamespaces(first), first.selector)) {
      const node = nodeOf(snapshot, existing);
      if (node === undefined || !pod.requiredAffinity.every((term) => termMatchesPod(term, existing, labelsOf))) continue;
      for (const term of pod.requiredAffinity) {
        const value = node.labels[term.topologyKey];
        if (value !== undefined) bump(state.affinity, term.topologyKey, value, 1);
      }
    }
  }
  for (const term of pod.requiredAntiAffinity) {
    for (const existing of snapshot.candidatePods(termNamespaces(term), term.selector)) {
      const value = nodeOf(snapshot, existing)?.labels[term.topologyKey];
      if (value !== undefined && termMatchesPod(term, existing, labelsOf)) bump(state.antiAffinity, term.topologyKey, value, 1);
    }
  }
  const empty = state.existingAntiAffinity.size === 0 && pod.requiredAffinity.length === 0 && pod.requiredAntiAffinity.length === 0;
  return empty ? undefined : state;
}

function satisfiesAffinity(state: AffinityFilterState, node: NodeInfo, snapshot: ClusterSnapshot): boolean {
  let podsExist = true;
  for (const term of state.pod.requiredAffinity) {
    const value = node.labels[term.topologyKey];
    if (value === undefined) return false;
    if (countAt(state.affinity, term.topologyKey, value) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself may go anywhere that has the topology keys.
  const labelsOf = (namespace: string): Readonly<Record<string, string>> | undefined => snapshot.namespaceLabels(namespace);
  return state.affinity.size === 0 && state.pod.requiredAffinity.every((term) => termMatchesPod(term, state.pod, labelsOf));
}

function anyPairOnNode(counts: PairCounts, node: NodeInfo): boolean {
  for (const [key, byValue] of counts) {
    const value = node.labels[key];
    if (value !== undefined && (byValue.get(value) ?? 0) > 0) return true;
  }
  return false;
}

export function filterInterPodAffinity(state: AffinityFilterState | undefined, node: NodeInfo, snapshot: ClusterSnapshot): FilterFailure | undefined {
  if (state === undefined) return undefined;
  if (!satisfiesAffinity(state, node, snapshot)) return failure("InterPodAffinity", "UnschedulableAndUnresolvable", reasons.podAffinity);
  if (anyPairOnNode(state.antiAffinity, node)) return failure("InterPodAffinity", "Unschedulable", reasons.podAntiAffinity);
  if (anyPairOnNode(state.existingAntiAffinity, node)) return failure("InterPodAffinity", "Unschedulable", reasons.existingAntiAffinity);
  return undefined;
}

/** PreScore: the topology-pair scores both sides' preferred (and existing required) terms add up to. */
export function preScoreInterPodAffinity(snapshot: ClusterSnapshot, pod: PodInfo): PairCounts | undefined {
  const labelsOf = (namespace: string): Readonly<Record<string, string>> | undefined => snapshot.namespaceLabels(namespace);
  const scores: PairCounts = new Map();
  const incoming = (terms: readonly AffinityTerm[], sign: 1 | -1): void => {
    for (const term of terms) {
      for (const existing of snapshot.candidatePods(termNamespaces(term), term.selector)) {
        const value = nodeOf(snapshot, existing)?.labels[term.topologyKey];
        if (value !== undefined && termMatchesPod(term, existing, labelsOf)) bump(scores, term.topologyKey, value, sign * term.weight);
      }
    }
  };
  incoming(pod.preferredAffinity, 1);
  incoming(pod.preferredAntiAffinity, -1);
  for (const existing of snapshot.podsWithAffinity()) {
    const node = nodeOf(snapshot, existing);
    if (node === undefined) continue;
    const apply = (terms: readonly AffinityTerm[], weight: (term: AffinityTerm) => number): void => {
      for (const term of terms) {
        const value = node.labels[term.topologyKey];
        if (value !== undefined && termMatchesPod(term, pod, labelsOf)) bump(scores, term.topologyKey, value, weight(term));
      }
    };
    apply(existing.requiredAffinity, () => hardPodAffinityWeight);
    apply(existing.preferredAffinity, (term) => term.weight);
    apply(existing.preferredAntiAffinity, (term) => -term.weight);
  }
  return scores.size === 0 ? undefined : scores;
}

export function scoreInterPodAffinity(scores: PairCounts | undefined, node: NodeInfo): number {
  if (scores === undefined) return 0;
  let total = 0;
  for (const [key, byValue] of scores) {
    const value = node.labels[key];
    if (value !== undefined) total += byValue.get(value) ?? 0;
  }
  return total;
}
