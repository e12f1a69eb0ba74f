/**
 * What the scheduler needs from a pod, computed once when the pod enters the snapshot or the
 * scheduling cycle: requests as numbers, host ports, owner, and affinity terms with their label
 * selectors already parsed (upstream's framework.PodInfo).
 */
import { labelSelectorAsSelector, type Selector } from "../../../libs/api/labels.ts";
import type { PodAffinityTerm, Pod, Toleration } from "../../../libs/api/types/pod.ts";
import type { Requirement } from "../../../libs/api/labels-requirement.ts";
import { computePodRequests, type PodRequests } from "./resources.ts";

export interface AffinityTerm {
  readonly selector: Selector;
  /** Namespaces named by the term, or the pod's own when it names none and has no namespaceSelector. */
  readonly namespaces: ReadonlySet<string>;
  /** Matched against namespace labels; undefined when the term has no namespaceSelector. */
  readonly namespaceSelector: Selector | undefined;
  readonly topologyKey: string;
  /** 1 for required terms; the term's weight for preferred ones. */
  readonly weight: number;
}

export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

export interface PodInfo {
  readonly key: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly pod: Pod;
  readonly requests: PodRequests;
  readonly hostPorts: readonly HostPort[];
  /** The uid of the controller owner (ReplicaSet, StatefulSet, ...), for default spreading. */
  readonly ownerUid: string | undefined;
  readonly tolerations: readonly Toleration[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly AffinityTerm[];
  readonly preferredAntiAffinity: readonly AffinityTerm[];
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? "default"}/${pod.metadata.name ?? ""}`;
}

// matchLabelKeys / mismatchLabelKeys add `key in (pod's value)` / `key notin (...)` requirements.
function withLabelKeys(selector: Selector, term: PodAffinityTerm, labels: Readonly<Record<string, string>>): Selector {
  const extra: Requirement[] = [];
  for (const key of term.matchLabelKeys ?? []) {
    const value = labels[key];
    if (value !== undefined) extra.push({ key, operator: "in", values: [value] });
  }
  for (const key of term.mismatchLabelKeys ?? []) {
    const value = labels[key];
    if (value !== undefined) extra.push({ key, operator: "notin", values: [value] });
  }
  return extra.length === 0 ? selector : selector.add(...extra);
}

function toAffinityTerm(term: PodAffinityTerm, weight: number, namespace: string, labels: Readonly<Record<string, string>>): AffinityTerm {
  const named = term.namespaces ?? [];
  const namespaceSelector = term.namespaceSelector === undefined ? undefined : labelSelectorAsSelector(term.namespaceSelector);
  const namespaces = new Set(named.length === 0 && namespaceSelector === undefined ? [namespace] : named);
  return { selector: withLabelKeys(labelSelectorAsSelector(term.labelSelector), term, labels), namespaces, namespaceSelector, topologyKey: term.topologyKey, weight };
}

export function newPodInfo(pod: Pod): PodInfo {
  const namespace = pod.metadata.namespace ?? "default";
  const labels = pod.metadata.labels ?? {};
  const affinity = pod.spec?.affinity;
  const required = (terms: PodAffinityTerm[] | undefined): AffinityTerm[] => (terms ?? []).map((term) => toAffinityTerm(term, 1, namespace, labels));
  const preferred = (terms: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined): AffinityTerm[] =>
    (terms ?? []).map((term) => toAffinityTerm(term.podAffinityTerm, term.weight, namespace, labels));
  return {
    key: podKey(pod),
    namespace,
    labels,
    pod,
    requests: computePodRequests(pod),
    hostPorts: podHostPorts(pod),
    ownerUid: pod.metadata.ownerReferences?.find((owner) => owner.controller === true)?.uid,
    tolerations: pod.spec?.tolerations ?? [],
    requiredAffinity: required(affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinity: required(affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinity: preferred(affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: preferred(affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
  };
}

function podHostPorts(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      if (port.hostPort === undefined || port.hostPort <= 0) continue;
      ports.push({ ip: port.hostIP === undefined || port.hostIP === "" ? "0.0.0.0" : port.hostIP, protocol: port.protocol ?? "TCP", port: port.hostPort });
    }
  }
  return ports;
}

/** Whether `term` (of a pod in some namespace) selects `target`; namespace labels for namespaceSelector. */
export function termMatchesPod(term: AffinityTerm, target: PodInfo, namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined): boolean {
  const inNamespace = term.namespaces.has(target.namespace) || (term.namespaceSelector !== undefined && term.namespaceSelector.matches(namespaceLabels(target.namespace)));
  return inNamespace && term.selector.matches(target.labels);
}

/** Whether an existing pod's terms take part in scoring others (required anti-affinity does not). */
export function hasScoringAffinity(info: PodInfo): boolean {
  return info.requiredAffinity.length + info.preferredAffinity.length + info.preferredAntiAffinity.length > 0;
}
