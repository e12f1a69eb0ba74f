/**
 * Node health decisions of the node lifecycle controller, pure: whether a node's heartbeat is
 * stale, the conditions it then gets (Unknown, "Kubelet stopped posting node status."), the
 * NoExecute/NoSchedule taints its Ready condition calls for, and when a pod on a tainted node is
 * to be evicted (the shortest tolerationSeconds of the tolerations that match, counted from the
 * taint's timeAdded; an untolerated taint evicts at once).
 */
import { formatTime, parseTime } from "../../../libs/api/index.ts";
import type { Node, NodeCondition, Pod, Taint, Toleration } from "../../../libs/api/index.ts";
import { tolerationsFor } from "../common/taints.ts";

export const notReadyTaintKey = "node.kubernetes.io/not-ready";
export const unreachableTaintKey = "node.kubernetes.io/unreachable";
/** Conditions the controller turns Unknown when the kubelet goes silent (upstream's list). */
const monitoredConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

export function readyStatus(node: Node): NodeCondition["status"] | undefined {
  return (node.status?.conditions ?? []).find((condition) => condition.type === "Ready")?.status;
}

/** The conditions of a node whose kubelet stopped reporting: each monitored one Unknown. */
export function unknownConditions(node: Node, nowMs: number): NodeCondition[] {
  const now = formatTime(nowMs);
  const conditions = [...(node.status?.conditions ?? [])];
  for (const type of monitoredConditions) {
    const index = conditions.findIndex((condition) => condition.type === type);
    const current = index === -1 ? undefined : conditions[index];
    if (current?.status === "Unknown") continue;
    const next: NodeCondition = {
      type,
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: current === undefined ? "Kubelet never posted node status." : "Kubelet stopped posting node status.",
      lastHeartbeatTime: current?.lastHeartbeatTime ?? now,
      lastTransitionTime: now,
    };
    if (index === -1) conditions.push(next);
    else conditions[index] = next;
  }
  return conditions;
}

function isControllerTaint(taint: Taint): boolean {
  return taint.key === notReadyTaintKey || taint.key === unreachableTaintKey;
}

/**
 * The node's taints with the not-ready/unreachable ones the Ready condition calls for: False
 * gives not-ready, Unknown gives unreachable, True gives neither. Existing matching taints keep
 * their timeAdded, so eviction deadlines do not move.
 */
export function desiredTaints(node: Node, nowMs: number): Taint[] {
  const status = readyStatus(node) ?? "Unknown";
  const key = status === "False" ? notReadyTaintKey : status === "Unknown" ? unreachableTaintKey : undefined;
  const current = node.spec?.taints ?? [];
  const kept = current.filter((taint) => !isControllerTaint(taint) || taint.key === key);
  if (key === undefined) return kept;
  const wanted: Taint[] = [
    { key, effect: "NoSchedule" },
    { key, effect: "NoExecute", timeAdded: formatTime(nowMs) },
  ];
  for (const taint of wanted) if (!kept.some((existing) => existing.key === taint.key && existing.effect === taint.effect)) kept.push(taint);
  return kept;
}

/**
 * When a pod on this node must go, in ms since the epoch (the NoExecute taint manager): at once
 * when a NoExecute taint is not tolerated; otherwise the shortest tolerationSeconds among the
 * matching tolerations after the earliest taint was added; undefined when none is bounded. A pod
 * without a toleration for the controller's taints gets `defaultTolerationSeconds`, as upstream's
 * DefaultTolerationSeconds admission would have given it.
 */
export function evictionAtMs(pod: Pod, taints: readonly Taint[], defaultTolerationSeconds: number): number | undefined {
  const noExecute = taints.filter((taint) => taint.effect === "NoExecute");
  if (noExecute.length === 0) return undefined;
  const startMs = Math.min(...noExecute.map((taint) => parseTime(taint.timeAdded) ?? 0));
  const matching: Toleration[] = [];
  for (const taint of noExecute) {
    let tolerations = tolerationsFor(pod.spec?.tolerations, taint);
    if (tolerations.length === 0 && isControllerTaint(taint)) tolerations = [{ key: taint.key, operator: "Exists", effect: "NoExecute", tolerationSeconds: defaultTolerationSeconds }];
    if (tolerations.length === 0) return startMs;
    matching.push(...tolerations);
  }
  const bounded = matching.filter((toleration) => toleration.tolerationSeconds !== undefined).map((toleration) => Math.max(0, toleration.tolerationSeconds ?? 0));
  if (bounded.length === 0) return undefined;
  return startMs + Math.min(...bounded) * 1000;
}
