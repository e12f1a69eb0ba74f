/**
 * Which pods a ReplicaSet deletes first when it scales down (controller.ActivePodsWithRanks):
 * unscheduled before scheduled, Pending before Unknown before Running, not ready before ready,
 * pods on crowded nodes first, then the most recently ready, the most restarted and the newest.
 * Durations compare on a log2 scale, as upstream's LogarithmicScaleDown does, so that pods of
 * about the same age are treated alike and the tie goes to the next rule.
 */
import { parseTime } from "../../../libs/api/index.ts";
import type { Pod } from "../../../libs/api/index.ts";
import { isPodReady, podReadySinceMs, podRestarts } from "../common/pods.ts";

const phaseOrder: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function logBucket(durationMs: number): number {
  return durationMs <= 0 ? 0 : Math.floor(Math.log2(durationMs / 1000 + 1));
}

interface Ranked {
  pod: Pod;
  /** Active related pods on the same node: crowded nodes give up pods first. */
  rank: number;
}

function compareRanked(left: Ranked, right: Ranked, nowMs: number): number {
  const leftNode = left.pod.spec?.nodeName ?? "";
  const rightNode = right.pod.spec?.nodeName ?? "";
  if ((leftNode === "") !== (rightNode === "")) return leftNode === "" ? -1 : 1;
  const leftPhase = phaseOrder[left.pod.status?.phase ?? "Pending"] ?? 0;
  const rightPhase = phaseOrder[right.pod.status?.phase ?? "Pending"] ?? 0;
  if (leftPhase !== rightPhase) return leftPhase - rightPhase;
  const leftReady = isPodReady(left.pod);
  if (leftReady !== isPodReady(right.pod)) return leftReady ? 1 : -1;
  if (left.rank !== right.rank) return right.rank - left.rank;
  if (leftReady) {
    const leftFor = logBucket(nowMs - (podReadySinceMs(left.pod) ?? nowMs));
    const rightFor = logBucket(nowMs - (podReadySinceMs(right.pod) ?? nowMs));
    if (leftFor !== rightFor) return leftFor - rightFor;
  }
  const restarts = podRestarts(right.pod) - podRestarts(left.pod);
  if (restarts !== 0) return restarts;
  const leftAge = logBucket(nowMs - (parseTime(left.pod.metadata.creationTimestamp) ?? nowMs));
  const rightAge = logBucket(nowMs - (parseTime(right.pod.metadata.creationTimestamp) ?? nowMs));
  if (leftAge !== rightAge) return leftAge - rightAge;
  return (left.pod.metadata.name ?? "") < (right.pod.metadata.name ?? "") ? -1 : 1;
}

/** The `count` pods to delete first from `pods`; `related` are the pods whose node spread counts. */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number, nowMs: number): Pod[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const pod of related) {
    const node = pod.spec?.nodeName ?? "";
    if (node !== "") perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: perNode.get(pod.spec?.nodeName ?? "") ?? 0 }));
  ranked.sort((left, right) => compareRanked(left, right, nowMs));
  return ranked.slice(0, count).map((entry) => entry.pod);
}
