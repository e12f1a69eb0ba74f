/**
 * Small builders for hand-made clusters in the scheduler core's tests and benchmark: nodes with
 * allocatable, labels and taints; pods with requests, selectors, affinity and spread constraints.
 */
import type { Node, Taint } from "../../../libs/api/types/core.ts";
import type { Affinity, ContainerPort, Pod, Toleration, TopologySpreadConstraint } from "../../../libs/api/types/pod.ts";
import { ClusterSnapshot } from "./snapshot.ts";

export interface NodeOptions {
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: number;
  readonly labels?: Record<string, string>;
  readonly taints?: Taint[];
  readonly unschedulable?: boolean;
  readonly ready?: "True" | "False" | "Unknown";
}

export function makeNode(name: string, options: NodeOptions = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...options.labels } },
    spec: { ...(options.taints === undefined ? {} : { taints: options.taints }), ...(options.unschedulable === undefined ? {} : { unschedulable: options.unschedulable }) },
    status: {
      allocatable: { cpu: options.cpu ?? "4", memory: options.memory ?? "8Gi", pods: String(options.pods ?? 110) },
      conditions: [{ type: "Ready", status: options.ready ?? "True" }],
    },
  };
}

export interface PodOptions {
  readonly namespace?: string;
  readonly cpu?: string;
  readonly memory?: string;
  readonly labels?: Record<string, string>;
  readonly nodeName?: string;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: Toleration[];
  readonly affinity?: Affinity;
  readonly hostPorts?: ContainerPort[];
  readonly spread?: TopologySpreadConstraint[];
  readonly ownerUid?: string;
}

export function makePod(name: string, options: PodOptions = {}): Pod {
  const requests: Record<string, string> = {};
  if (options.cpu !== undefined) requests["cpu"] = options.cpu;
  if (options.memory !== undefined) requests["memory"] = options.memory;
  const spec: NonNullable<Pod["spec"]> = {
    containers: [{ name: "app", image: "app:1", resources: { requests }, ...(options.hostPorts === undefined ? {} : { ports: options.hostPorts }) }],
  };
  if (options.nodeName !== undefined) spec.nodeName = options.nodeName;
  if (options.nodeSelector !== undefined) spec.nodeSelector = options.nodeSelector;
  if (options.tolerations !== undefined) spec.tolerations = options.tolerations;
  if (options.affinity !== undefined) spec.affinity = options.affinity;
  if (options.spread !== undefined) spec.topologySpreadConstraints = options.spread;
  const owner = options.ownerUid === undefined ? {} : { ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: options.ownerUid, controller: true }] };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: options.namespace ?? "default", uid: `uid-${name}`, labels: options.labels ?? {}, ...owner },
    spec,
  };
}

export function snapshotOf(nodes: readonly Node[], pods: readonly Pod[] = []): ClusterSnapshot {
  const snapshot = new ClusterSnapshot();
  for (const node of nodes) snapshot.addNode(node);
  for (const pod of pods) snapshot.addPod(pod);
  return snapshot;
}
