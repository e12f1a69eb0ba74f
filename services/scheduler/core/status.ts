/**
 * Filter outcomes and the unschedulable message in upstream's words (kube-scheduler v1.33
 * framework.FitError.Error and the DefaultPreemption PostFilter message):
 *   0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.
 *   preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No
 *   preemption victims found for incoming pod.
 */

export type PluginName =
  | "NodeUnschedulable"
  | "NodeName"
  | "TaintToleration"
  | "NodeAffinity"
  | "NodePorts"
  | "NodeResourcesFit"
  | "VolumeBinding"
  | "PodTopologySpread"
  | "InterPodAffinity";

/** Unschedulable may be fixed by preempting pods; UnschedulableAndUnresolvable may not. */
export type FailureCode = "Unschedulable" | "UnschedulableAndUnresolvable";

export interface FilterFailure {
  readonly plugin: PluginName;
  readonly code: FailureCode;
  readonly reasons: readonly string[];
}

export const reasons = {
  nodeUnschedulable: "node(s) were unschedulable",
  nodeName: "node(s) didn't match the requested node name",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  nodePorts: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: "Too many pods",
  volumeNodeAffinity: "node(s) had volume node affinity conflict",
  topologySpread: "node(s) didn't match pod topology spread constraints",
  topologySpreadMissingLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  podAffinity: "node(s) didn't match pod affinity rules",
  podAntiAffinity: "node(s) didn't match pod anti-affinity rules",
  unboundImmediateClaims: "pod has unbound immediate PersistentVolumeClaims",
  preemptionNotHelpful: "Preemption is not helpful for scheduling",
  noPreemptionVictims: "No preemption victims found for incoming pod",
} as const;

export function insufficient(resourceName: string): string {
  return `Insufficient ${resourceName}`;
}

export function untoleratedTaint(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ""}}`;
}

export function failure(plugin: PluginName, code: FailureCode, ...failureReasons: string[]): FilterFailure {
  return { plugin, code, reasons: failureReasons };
}

/** Why no node fits: the per-node failures, or one PreFilter failure that applies to every node. */
export interface Diagnosis {
  readonly numAllNodes: number;
  readonly nodeFailures: ReadonlyMap<string, FilterFailure>;
  readonly preFilterFailure: FilterFailure | undefined;
  /** Plugins that rejected at least one node: which cluster changes may help (see requeue.ts). */
  readonly unschedulablePlugins: ReadonlySet<PluginName>;
}

// Go's sort.Strings: byte order, which for these ASCII strings is code-unit order.
function byteOrder(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** "N reason" entries, one per distinct reason, sorted as strings (so "10 x" sorts before "2 y"). */
function histogram(counts: ReadonlyMap<string, number>): string[] {
  return [...counts].map(([reason, count]) => `${count} ${reason}`).sort(byteOrder);
}

function filterHistogram(diagnosis: Diagnosis): string[] {
  const counts = new Map<string, number>();
  for (const nodeFailure of diagnosis.nodeFailures.values()) {
    for (const reason of nodeFailure.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return histogram(counts);
}

/**
 * What DefaultPreemption reports when it finds nothing to evict: nodes rejected with
 * UnschedulableAndUnresolvable cannot be helped; the others had no lower-priority victims. Flotilla
 * has no preemption yet, so this is the message upstream gives when no victim exists.
 */
function preemptionHistogram(diagnosis: Diagnosis): string[] {
  const counts = new Map<string, number>();
  const bump = (reason: string, by: number): void => void counts.set(reason, (counts.get(reason) ?? 0) + by);
  if (diagnosis.preFilterFailure !== undefined) {
    bump(reasons.preemptionNotHelpful, diagnosis.numAllNodes);
    return histogram(counts);
  }
  for (const nodeFailure of diagnosis.nodeFailures.values()) {
    bump(nodeFailure.code === "UnschedulableAndUnresolvable" ? reasons.preemptionNotHelpful : reasons.noPreemptionVictims, 1);
  }
  return histogram(counts);
}

export interface MessageOptions {
  /** preemptionPolicy: Never makes upstream skip preemption with its own message. */
  readonly preemptionPolicy?: "PreemptLowerPriority" | "Never";
}

/** The PodScheduled=False message and FailedScheduling event text for an unschedulable pod. */
export function unschedulableMessage(diagnosis: Diagnosis, options: MessageOptions = {}): string {
  if (diagnosis.numAllNodes === 0) return "no nodes available to schedule pods";
  let message = `0/${diagnosis.numAllNodes} nodes are available:`;
  if (diagnosis.preFilterFailure !== undefined) {
    message += ` ${diagnosis.preFilterFailure.reasons.join(", ")}.`;
  } else {
    const entries = filterHistogram(diagnosis);
    if (entries.length > 0) message += ` ${entries.join(", ")}.`;
  }
  if (options.preemptionPolicy === "Never") return `${message} preemption: not eligible due to preemptionPolicy=Never.`;
  const preemption = preemptionHistogram(diagnosis);
  return `${message} preemption: 0/${diagnosis.numAllNodes} nodes are available: ${preemption.join(", ")}.`;
}

/** The condition the scheduler writes on an unschedulable pod; `now` is an RFC 3339 time. */
export function podScheduledFalse(message: string, now: string): { type: "PodScheduled"; status: "False"; reason: "Unschedulable"; message: string; lastProbeTime: null; lastTransitionTime: string } {
  return { type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastProbeTime: null, lastTransitionTime: now };
}

/** The Warning event's reason and message (the caller fills in the object reference and counts). */
export function failedSchedulingEvent(message: string): { type: "Warning"; reason: "FailedScheduling"; message: string } {
  return { type: "Warning", reason: "FailedScheduling", message };
}
