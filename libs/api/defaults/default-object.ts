/**
 * One entry point for defaulting: defaultObject(obj) picks the defaulter by apiVersion and kind
 * and returns a defaulted copy; the argument is left untouched. Kinds without defaults come back
 * as a plain copy.
 */
import type { KubeObject } from "../types/meta.ts";
import type { HorizontalPodAutoscalerV1 } from "../types/cluster.ts";
import {
  defaultEndpointSlice,
  defaultEndpoints,
  defaultHorizontalPodAutoscaler,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultPodTemplate,
  defaultSecret,
  defaultService,
} from "./core.ts";
import { defaultPod } from "./pod.ts";
import { defaultCronJob, defaultDaemonSet, defaultDeployment, defaultJob, defaultReplicaSet, defaultReplicationController, defaultStatefulSet } from "./workloads.ts";

// Each defaulter takes the object as upstream's shape; the casts sit in this table only.
type Defaulter = (object: never) => void;

function defaultHorizontalPodAutoscalerV1(autoscaler: HorizontalPodAutoscalerV1): void {
  if (autoscaler.spec !== undefined) autoscaler.spec.minReplicas ??= 1;
}

const defaulters: ReadonlyMap<string, Defaulter> = new Map<string, Defaulter>([
  ["v1/Pod", defaultPod],
  ["v1/PodTemplate", defaultPodTemplate],
  ["v1/Service", defaultService],
  ["v1/Secret", defaultSecret],
  ["v1/Namespace", defaultNamespace],
  ["v1/PersistentVolumeClaim", defaultPersistentVolumeClaim],
  ["v1/PersistentVolume", defaultPersistentVolume],
  ["v1/Node", defaultNode],
  ["v1/Endpoints", defaultEndpoints],
  ["v1/ReplicationController", defaultReplicationController],
  ["apps/v1/Deployment", defaultDeployment],
  ["apps/v1/ReplicaSet", defaultReplicaSet],
  ["apps/v1/StatefulSet", defaultStatefulSet],
  ["apps/v1/DaemonSet", defaultDaemonSet],
  ["batch/v1/Job", defaultJob],
  ["batch/v1/CronJob", defaultCronJob],
  ["autoscaling/v2/HorizontalPodAutoscaler", defaultHorizontalPodAutoscaler],
  ["autoscaling/v1/HorizontalPodAutoscaler", defaultHorizontalPodAutoscalerV1],
  ["discovery.k8s.io/v1/EndpointSlice", defaultEndpointSlice],
]);

/** Whether defaultObject knows defaults for this apiVersion and kind. */
export function hasDefaults(apiVersion: string, kind: string): boolean {
  return defaulters.has(`${apiVersion}/${kind}`);
}

/** A defaulted deep copy of `object` (objects are JSON, so a JSON round trip copies them). */
export function defaultObject<T extends KubeObject>(object: T): T {
  const copy = JSON.parse(JSON.stringify(object)) as T;
  copy.metadata ??= {};
  const defaulter = defaulters.get(`${copy.apiVersion ?? ""}/${copy.kind ?? ""}`);
  if (defaulter !== undefined) (defaulter as (value: T) => void)(copy);
  return copy;
}
