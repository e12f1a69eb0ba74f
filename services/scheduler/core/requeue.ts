/**
 * When to retry an unschedulable pod: upstream moves it from the unschedulable pool back to the
 * active queue only on cluster events that the plugins which rejected it registered for
 * (EventsToRegister / queueing hints), and after its backoff (1 s doubling to 10 s by default).
 */
import type { Node } from "../../../libs/api/types/core.ts";
import type { Pod } from "../../../libs/api/types/pod.ts";
import { nodeAllocatable } from "./resources.ts";
import { effectiveTaints } from "./node-match.ts";
import type { Diagnosis, PluginName } from "./status.ts";

export type ClusterEvent =
  | { readonly kind: "NodeAdd"; readonly node: Node }
  | { readonly kind: "NodeUpdate"; readonly oldNode: Node; readonly newNode: Node }
  | { readonly kind: "NodeDelete"; readonly node: Node }
  | { readonly kind: "PodAdd"; readonly pod: Pod }
  | { readonly kind: "PodUpdate"; readonly oldPod: Pod; readonly newPod: Pod }
  | { readonly kind: "PodDelete"; readonly pod: Pod }
  | { readonly kind: "VolumeChange" };

type NodeChange = "allocatable" | "labels" | "taints" | "unschedulable";

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function nodeChanges(oldNode: Node, newNode: Node): Set<NodeChange> {
  const changes = new Set<NodeChange>();
  if (json(nodeAllocatable(oldNode)) !== json(nodeAllocatable(newNode))) changes.add("allocatable");
  if (json(oldNode.metadata.labels) !== json(newNode.metadata.labels)) changes.add("labels");
  if (json(effectiveTaints(oldNode)) !== json(effectiveTaints(newNode))) changes.add("taints");
  if ((oldNode.spec?.unschedulable === true) !== (newNode.spec?.unschedulable === true)) changes.add("unschedulable");
  return changes;
}

/** Which node changes can turn each plugin's rejection around. */
const nodeChangesByPlugin: Readonly<Record<PluginName, readonly NodeChange[]>> = {
  NodeUnschedulable: ["unschedulable", "taints"],
  NodeName: [],
  TaintToleration: ["taints"],
  NodeAffinity: ["labels"],
  NodePorts: [],
  NodeResourcesFit: ["allocatable"],
  VolumeBinding: ["labels"],
  PodTopologySpread: ["labels", "taints"],
  InterPodAffinity: ["labels"],
};

/** Plugins whose verdict depends on other pods: a pod leaving (or relabelled) may help. */
const podSensitivePlugins: ReadonlySet<PluginName> = new Set(["NodePorts", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]);
/** Plugins an added pod may help: affinity wants company; a spread's minimum domain may grow. */
const podAddSensitivePlugins: ReadonlySet<PluginName> = new Set(["PodTopologySpread", "InterPodAffinity"]);

/**
 * Whether `event` may make a pod that failed with `diagnosis` schedulable. False only when no
 * plugin that rejected it could change its mind; a true answer still needs a new attempt.
 */
export function mayBecomeSchedulable(diagnosis: Diagnosis, event: ClusterEvent): boolean {
  const plugins = diagnosis.unschedulablePlugins;
  switch (event.kind) {
    case "NodeAdd":
      // A new node can satisfy anything except a nodeName pinned elsewhere; the name may match too.
      return true;
    case "NodeDelete":
      // Fewer nodes only help when a topology domain with the minimum count vanishes.
      return plugins.has("PodTopologySpread");
    case "NodeUpdate": {
      const changes = nodeChanges(event.oldNode, event.newNode);
      return [...plugins].some((plugin) => nodeChangesByPlugin[plugin].some((change) => changes.has(change)));
    }
    case "PodDelete":
      return [...plugins].some((plugin) => podSensitivePlugins.has(plugin));
    case "PodAdd":
      return [...plugins].some((plugin) => podAddSensitivePlugins.has(plugin));
    case "PodUpdate":
      // Label changes move pods in and out of selectors; a resize may free resources.
      return [...plugins].some((plugin) => podSensitivePlugins.has(plugin));
    case "VolumeChange":
      return plugins.has("VolumeBinding");
  }
}

export const podInitialBackoffMs = 1_000;
export const podMaxBackoffMs = 10_000;

/** Upstream's backoff: initial × 2^(attempts-1), capped at the maximum. */
export function podBackoffMs(attempts: number, initialMs = podInitialBackoffMs, maxMs = podMaxBackoffMs): number {
  if (attempts <= 0) return 0;
  let backoff = initialMs;
  for (let attempt = 1; attempt < attempts && backoff < maxMs; attempt++) backoff *= 2;
  return Math.min(backoff, maxMs);
}
