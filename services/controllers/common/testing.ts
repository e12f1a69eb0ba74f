/**
 * Builders for controller unit tests: workloads and pods in the shapes the API server stores
 * (defaults filled in where a controller reads them).
 */
import { formatTime } from "../../../libs/api/index.ts";
import type { Pod, PodTemplateSpec, ReplicaSet } from "../../../libs/api/index.ts";

export function template(labels: Record<string, string>, image = "nginx:1"): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: "app", image }] } };
}

export function replicaSet(name: string, replicas: number, labels: Record<string, string>, extra: Partial<NonNullable<ReplicaSet["spec"]>> = {}): ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default" },
    spec: { replicas, selector: { matchLabels: labels }, template: template(labels), ...extra },
  };
}

/** Marks a pod Running and Ready since `readySinceMs` on `nodeName`, as an agent reports it. */
export function runningReady(pod: Pod, readySinceMs: number, nodeName = "node-1"): Pod {
  const since = formatTime(readySinceMs);
  return {
    ...pod,
    spec: { ...(pod.spec ?? { containers: [] }), nodeName },
    status: {
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True", lastTransitionTime: since },
        { type: "ContainersReady", status: "True", lastTransitionTime: since },
      ],
    },
  };
}
