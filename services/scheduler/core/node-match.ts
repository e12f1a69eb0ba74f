/**
 * Matching a pod's node-level constraints against a node: nodeSelector and node affinity terms
 * (k8s.io/component-helpers scheduling/corev1/nodeaffinity) and taints against tolerations
 * (core/v1 helper ToleratesTaint).
 */
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Taint } from "../../../libs/api/types/core.ts";
import type { Pod, Toleration } from "../../../libs/api/types/pod.ts";

export type Labels = Readonly<Record<string, string>>;

const int64Pattern = /^[+-]?\d{1,19}$/;

function parseInteger(text: string): bigint | undefined {
  return int64Pattern.test(text) ? BigInt(text) : undefined;
}

function requirementMatches(requirement: NodeSelectorRequirement, labels: Labels): boolean {
  const value = labels[requirement.key];
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
    case "Lt": {
      if (value === undefined || values.length !== 1) return false;
      const left = parseInteger(value);
      const right = parseInteger(values[0] ?? "");
      if (left === undefined || right === undefined) return false;
      return requirement.operator === "Gt" ? left > right : left < right;
    }
  }
}

/** A term matches when all its expressions and fields match; an empty term matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, nodeName: string, labels: Labels): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  // Loops, not closures: these run for every node of every decision.
  for (const requirement of expressions) if (!requirementMatches(requirement, labels)) return false;
  // metadata.name is the only field upstream supports in matchFields.
  for (const requirement of fields) {
    if (requirement.key !== "metadata.name" || !requirementMatches({ ...requirement, key: "name" }, { name: nodeName })) return false;
  }
  return true;
}

/** Terms are ORed. */
export function nodeSelectorMatches(selector: NodeSelector, nodeName: string, labels: Labels): boolean {
  for (const term of selector.nodeSelectorTerms) if (nodeSelectorTermMatches(term, nodeName, labels)) return true;
  return false;
}

/** nodeSelector and required node affinity together (upstream's RequiredNodeAffinity.Match). */
export function podMatchesNodeSelectorAndAffinity(pod: Pod, nodeName: string, labels: Labels): boolean {
  const selector = pod.spec?.nodeSelector;
  if (selector !== undefined) {
    for (const key in selector) if (labels[key] !== selector[key]) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return required === undefined || nodeSelectorMatches(required, nodeName, labels);
}

export function tolerationToleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  const key = toleration.key ?? "";
  if (key !== "" && key !== taint.key) return false;
  // An empty key with operator Exists tolerates every taint.
  switch (toleration.operator ?? "Equal") {
    case "Exists":
      return true;
    case "Equal":
      return (toleration.value ?? "") === (taint.value ?? "");
  }
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const toleration of tolerations) if (tolerationToleratesTaint(toleration, taint)) return true;
  return false;
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, if any. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== "PreferNoSchedule" && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

export const notReadyTaintKey = "node.kubernetes.io/not-ready";
export const unreachableTaintKey = "node.kubernetes.io/unreachable";
export const unschedulableTaintKey = "node.kubernetes.io/unschedulable";

/**
 * The node's taints plus the NoSchedule taint its Ready condition implies, when the node lifecycle
 * controller has not added it yet: Ready=False is not-ready, Ready=Unknown is unreachable. A node
 * without a Ready condition gets none (the kubelet registers with its own not-ready taint).
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((condition) => condition.type === "Ready");
  const implied = ready?.status === "False" ? notReadyTaintKey : ready?.status === "Unknown" ? unreachableTaintKey : undefined;
  if (implied !== undefined && !taints.some((taint) => taint.key === implied && taint.effect !== "PreferNoSchedule")) {
    taints.push({ key: implied, effect: "NoSchedule" });
  }
  return taints;
}
