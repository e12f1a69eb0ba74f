/**
 * Which nodes a DaemonSet runs on (NodeShouldRunDaemonPod): the template's nodeSelector and
 * required node affinity match the node, and the pod tolerates the node's NoSchedule and
 * NoExecute taints. DaemonSet pods get upstream's automatic tolerations (not-ready,
 * unreachable, disk/memory/pid pressure, unschedulable), so they stay on sick nodes.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PodTemplateSpec, Toleration } from "../../../libs/api/index.ts";
import { toleratesTaint } from "../common/taints.ts";

/** The tolerations the DaemonSet controller adds to every pod it makes (util.AddOrUpdateDaemonPodTolerations). */
export const daemonTolerations: readonly Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

function requirementMatches(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
  }
  return false;
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length + fields.length === 0) return false;
  return (
    expressions.every((requirement) => requirementMatches(requirement, labels[requirement.key])) &&
    fields.every((requirement) => requirementMatches(requirement, requirement.key === "metadata.name" ? node.metadata.name : undefined))
  );
}

export function withDaemonTolerations(tolerations: readonly Toleration[] | undefined): Toleration[] {
  const result = [...(tolerations ?? [])];
  for (const toleration of daemonTolerations) {
    if (!result.some((existing) => existing.key === toleration.key && existing.effect === toleration.effect)) result.push(toleration);
  }
  return result;
}

export function shouldRunOn(template: PodTemplateSpec | undefined, node: Node): boolean {
  const spec = template?.spec;
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(spec?.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required !== undefined && !required.nodeSelectorTerms.some((term) => termMatches(term, node))) return false;
  const tolerations = withDaemonTolerations(spec?.tolerations);
  return (node.spec?.taints ?? []).every((taint) => taint.effect === "PreferNoSchedule" || tolerations.some((toleration) => toleratesTaint(toleration, taint)));
}
