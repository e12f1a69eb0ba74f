/**
 * One scheduling decision, as upstream's schedulePod: PreFilter (cluster-wide counts for pod
 * affinity and topology spread), Filter over nodes starting where the last decision stopped until
 * enough feasible nodes are found (percentageOfNodesToScore), Score with the default profile's
 * weights, and a host picked among the best scores by a seeded PRNG. Reads the snapshot, never
 * changes it: the caller assumes the pod onto the chosen node (ClusterSnapshot.assumePod).
 */
import { assert } from "../../../libs/assert/index.ts";
import type { Prng } from "../../../libs/prng/index.ts";
import type { PersistentVolume } from "../../../libs/api/types/core.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import {
  filterNodeAffinity,
  filterNodeName,
  filterNodePorts,
  filterNodeResourcesFit,
  filterNodeUnschedulable,
  filterTaintToleration,
  filterVolumeNodeAffinity,
} from "./filters.ts";
import { filterInterPodAffinity, preFilterInterPodAffinity, preScoreInterPodAffinity, scoreInterPodAffinity, type AffinityFilterState } from "./pod-affinity.ts";
import { newPodInfo, type PodInfo } from "./pod-info.ts";
import {
  defaultNormalize,
  minMaxNormalize,
  scoreBalancedAllocation,
  scoreLeastAllocated,
  scoreNodeAffinityRaw,
  scoreOwnerSpread,
  scoreTaintTolerationRaw,
} from "./scores.ts";
import type { ClusterSnapshot, NodeInfo } from "./snapshot.ts";
import { failure, reasons, unschedulableMessage, type Diagnosis, type FilterFailure, type PluginName } from "./status.ts";
import { filterTopologySpread, normalizeTopologySpread, preFilterTopologySpread, preScoreTopologySpread, scoreTopologySpread, type SpreadFilterState } from "./topology-spread.ts";

/** Upstream's bounds on how many feasible nodes a decision looks for. */
export const minFeasibleNodesToFind = 100;
export const minFeasibleNodesPercentageToFind = 5;
const adaptivePercentageBase = 50;
const adaptivePercentageNodesPerPoint = 125;

export interface ScoreWeights {
  readonly leastAllocated: number;
  readonly balancedAllocation: number;
  readonly nodeAffinity: number;
  readonly interPodAffinity: number;
  readonly topologySpread: number;
  readonly taintToleration: number;
  readonly ownerSpread: number;
}

/** The default profile's weights (kubescheduler.config.k8s.io/v1); ownerSpread is SelectorSpread's old weight. */
export const defaultScoreWeights: ScoreWeights = {
  leastAllocated: 1,
  balancedAllocation: 1,
  nodeAffinity: 2,
  interPodAffinity: 2,
  topologySpread: 2,
  taintToleration: 3,
  ownerSpread: 1,
};

export interface SchedulerConfig {
  /** 0 means upstream's adaptive percentage (50 - nodes/125, at least 5). 100 checks every node. */
  readonly percentageOfNodesToScore: number;
  readonly weights: ScoreWeights;
}

export const defaultSchedulerConfig: SchedulerConfig = { percentageOfNodesToScore: 0, weights: defaultScoreWeights };

/** What the caller resolved about the pod's volumes (the core reads no PVC or PV itself). */
export interface ScheduleInputs {
  /** The PersistentVolumes the pod's claims are bound to. */
  readonly boundVolumes?: readonly PersistentVolume[];
  /** True when a claim with Immediate binding is still unbound (the pod waits for the PV controller). */
  readonly unboundImmediateClaims?: boolean;
  /** Set when a claim or its bound PV is not known yet: the pod waits with this reason. */
  readonly missingVolumeReason?: string;
}

export type ScheduleResult =
  | { readonly kind: "Scheduled"; readonly nodeName: string; readonly feasibleNodes: number; readonly evaluatedNodes: number }
  | { readonly kind: "Unschedulable"; readonly diagnosis: Diagnosis; readonly message: string };

/** Upstream's numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = Math.max(minFeasibleNodesPercentageToFind, adaptivePercentageBase - Math.trunc(numAllNodes / adaptivePercentageNodesPerPoint));
  }
  return Math.max(minFeasibleNodesToFind, Math.trunc((numAllNodes * percentage) / 100));
}

interface CycleState {
  readonly pod: PodInfo;
  readonly volumes: readonly PersistentVolume[];
  readonly affinity: AffinityFilterState | undefined;
  readonly spread: SpreadFilterState | undefined;
}

export class Scheduler {
  readonly snapshot: ClusterSnapshot;
  readonly config: SchedulerConfig;
  #nextStartNodeIndex = 0;

  constructor(snapshot: ClusterSnapshot, config: SchedulerConfig = defaultSchedulerConfig) {
    this.snapshot = snapshot;
    this.config = config;
  }

  schedule(pod: Pod, prng: Prng, inputs: ScheduleInputs = {}): ScheduleResult {
    const info = newPodInfo(pod);
    const numAllNodes = this.snapshot.nodeCount;
    const volumeReason = inputs.missingVolumeReason ?? (inputs.unboundImmediateClaims === true ? reasons.unboundImmediateClaims : undefined);
    if (numAllNodes === 0 || volumeReason !== undefined) {
      const preFilterFailure = numAllNodes === 0 || volumeReason === undefined ? undefined : failure("VolumeBinding", "UnschedulableAndUnresolvable", volumeReason);
      const plugins = new Set<PluginName>(preFilterFailure === undefined ? [] : ["VolumeBinding"]);
      return this.#unschedulable(pod, { numAllNodes, nodeFailures: new Map(), preFilterFailure, unschedulablePlugins: plugins });
    }
    const state: CycleState = {
      pod: info,
      volumes: inputs.boundVolumes ?? [],
      affinity: preFilterInterPodAffinity(this.snapshot, info),
      spread: preFilterTopologySpread(this.snapshot, info),
    };
    const { feasible, failures, evaluated } = this.#findFeasible(state);
    if (feasible.length === 0) {
      const plugins = new Set([...failures.values()].map((nodeFailure) => nodeFailure.plugin));
      return this.#unschedulable(pod, { numAllNodes, nodeFailures: failures, preFilterFailure: undefined, unschedulablePlugins: plugins });
    }
    const only = feasible.length === 1 ? feasible[0] : undefined;
    const chosen = only ?? this.#selectHost(feasible, this.#score(info, feasible), prng);
    return { kind: "Scheduled", nodeName: chosen.name, feasibleNodes: feasible.length, evaluatedNodes: evaluated };
  }

  #unschedulable(pod: Pod, diagnosis: Diagnosis): ScheduleResult {
    const policy = pod.spec?.preemptionPolicy;
    return { kind: "Unschedulable", diagnosis, message: unschedulableMessage(diagnosis, policy === undefined ? {} : { preemptionPolicy: policy }) };
  }

  #findFeasible(state: CycleState): { feasible: NodeInfo[]; failures: Map<string, FilterFailure>; evaluated: number } {
    const nodes = this.snapshot.nodes();
    const wanted = numFeasibleNodesToFind(nodes.length, this.config.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    const failures = new Map<string, FilterFailure>();
    let evaluated = 0;
    while (evaluated < nodes.length && feasible.length < wanted) {
      const node = nodes[(this.#nextStartNodeIndex + evaluated) % nodes.length];
      assert(node !== undefined, "node index is within the node list");
      evaluated++;
      const nodeFailure = this.#filter(state, node);
      if (nodeFailure === undefined) feasible.push(node);
      else failures.set(node.name, nodeFailure);
    }
    this.#nextStartNodeIndex = (this.#nextStartNodeIndex + evaluated) % nodes.length;
    return { feasible, failures, evaluated };
  }

  /** The default profile's filter order; the first failing plugin decides the node's reason. */
  #filter(state: CycleState, node: NodeInfo): FilterFailure | undefined {
    const pod = state.pod;
    return (
      filterNodeUnschedulable(pod, node) ??
      filterNodeName(pod, node) ??
      filterTaintToleration(pod, node) ??
      filterNodeAffinity(pod, node) ??
      filterNodePorts(pod, node) ??
      filterNodeResourcesFit(pod, node) ??
      filterVolumeNodeAffinity(state.volumes, node) ??
      filterTopologySpread(state.spread, node) ??
      filterInterPodAffinity(state.affinity, node, this.snapshot)
    );
  }

  /** Weighted sum of every plugin's normalised score, per feasible node. */
  #score(pod: PodInfo, nodes: readonly NodeInfo[]): number[] {
    const weights = this.config.weights;
    const totals = nodes.map((node) => weights.leastAllocated * scoreLeastAllocated(pod, node) + weights.balancedAllocation * scoreBalancedAllocation(pod, node));
    const add = (weight: number, scores: readonly number[]): void => {
      scores.forEach((score, index) => (totals[index] = (totals[index] ?? 0) + weight * score));
    };
    add(weights.nodeAffinity, defaultNormalize(nodes.map((node) => scoreNodeAffinityRaw(pod, node)), false));
    add(weights.taintToleration, defaultNormalize(nodes.map((node) => scoreTaintTolerationRaw(pod, node)), true));
    const affinityScores = preScoreInterPodAffinity(this.snapshot, pod);
    if (affinityScores !== undefined) add(weights.interPodAffinity, minMaxNormalize(nodes.map((node) => scoreInterPodAffinity(affinityScores, node))));
    const spread = preScoreTopologySpread(this.snapshot, pod, nodes);
    if (spread !== undefined) add(weights.topologySpread, normalizeTopologySpread(nodes.map((node) => scoreTopologySpread(spread, node)), 100));
    add(weights.ownerSpread, scoreOwnerSpread(this.snapshot, pod, nodes));
    return totals;
  }

  /** Reservoir sampling over the nodes with the highest score, so ties are broken uniformly. */
  #selectHost(nodes: readonly NodeInfo[], scores: readonly number[], prng: Prng): NodeInfo {
    let best: NodeInfo | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    let tied = 0;
    nodes.forEach((node, index) => {
      const score = scores[index] ?? 0;
      if (score > bestScore) {
        best = node;
        bestScore = score;
        tied = 1;
      } else if (score === bestScore) {
        tied++;
        if (prng.nextInt(tied) === 0) best = node;
      }
    });
    return best ?? (nodes[0] as NodeInfo);
  }
}
