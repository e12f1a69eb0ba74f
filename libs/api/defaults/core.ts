/**
 * Defaulting of core/v1 objects other than pods and of the smaller groups (autoscaling/v2,
 * discovery), as upstream's defaulters; plus the few fields upstream's registry strategies fill on
 * create that `kubectl get -o yaml` shows (Service IP families, Namespace finalizers), marked.
 */
import type { Namespace, Node, PersistentVolume, PersistentVolumeClaim, Secret, Service, ServicePort, ServiceSpec } from "../types/core.ts";
import type { EndpointSlice, HorizontalPodAutoscaler, HPAScalingRules } from "../types/cluster.ts";
import type { Endpoints } from "../types/core.ts";
import type { PodTemplate } from "../types/pod.ts";
import { defaultPersistentVolumeClaimSpec, defaultPodTemplateSpec } from "./pod.ts";

/** Label upstream puts on every namespace, holding its name. */
export const namespaceNameLabel = "kubernetes.io/metadata.name";
/** ClientIP session affinity timeout upstream defaults (3 hours). */
export const sessionAffinityTimeoutSecondsDefault = 10800;
export const hpaCpuUtilizationPercentDefault = 80;
export const hpaScalePeriodSecondsDefault = 15;

function defaultServicePort(port: ServicePort): void {
  if (port.protocol === undefined) port.protocol = "TCP";
  // An unset (or zero) target port means the service port (SetDefaults_Service).
  if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === "") port.targetPort = port.port;
}

// What the registry fills on create in a single-stack IPv4 cluster (Flotilla's only kind).
function defaultServiceIpFamilies(spec: ServiceSpec): void {
  if (spec.type === "ExternalName") return;
  if ((spec.clusterIP ?? "") !== "" && spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP ?? ""];
  if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = "SingleStack";
  if (spec.ipFamilies === undefined) spec.ipFamilies = ["IPv4"];
}

export function defaultService(service: Service): void {
  service.spec ??= {};
  const spec = service.spec;
  if (spec.sessionAffinity === undefined) spec.sessionAffinity = "None";
  if (spec.type === undefined) spec.type = "ClusterIP";
  for (const port of spec.ports ?? []) defaultServicePort(port);
  if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && spec.externalTrafficPolicy === undefined) spec.externalTrafficPolicy = "Cluster";
  if (spec.type !== "ExternalName" && spec.internalTrafficPolicy === undefined) spec.internalTrafficPolicy = "Cluster";
  if (spec.sessionAffinity === "ClientIP") {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= sessionAffinityTimeoutSecondsDefault;
  }
  if (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  defaultServiceIpFamilies(spec);
}

export function defaultSecret(secret: Secret): void {
  if ((secret.type ?? "") === "") secret.type = "Opaque";
}

export function defaultNamespace(namespace: Namespace): void {
  const name = namespace.metadata.name ?? "";
  if (name !== "") namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), [namespaceNameLabel]: name };
  // The "kubernetes" finalizer comes from upstream's namespace strategy on create.
  namespace.spec ??= {};
  namespace.spec.finalizers ??= ["kubernetes"];
  namespace.status ??= {};
  namespace.status.phase ??= "Active";
}

export function defaultPersistentVolumeClaim(claim: PersistentVolumeClaim): void {
  if (claim.spec !== undefined) defaultPersistentVolumeClaimSpec(claim.spec);
  claim.status ??= {};
  claim.status.phase ??= "Pending";
}

export function defaultPersistentVolume(volume: PersistentVolume): void {
  volume.spec ??= {};
  volume.spec.persistentVolumeReclaimPolicy ??= "Retain";
  volume.spec.volumeMode ??= "Filesystem";
  volume.status ??= {};
  volume.status.phase ??= "Pending";
}

/** SetDefaults_NodeStatus: allocatable is the capacity unless told otherwise. */
export function defaultNode(node: Node): void {
  const capacity = node.status?.capacity;
  if (node.status !== undefined && capacity !== undefined && node.status.allocatable === undefined) node.status.allocatable = { ...capacity };
}

export function defaultEndpoints(endpoints: Endpoints): void {
  for (const subset of endpoints.subsets ?? []) {
    for (const port of subset.ports ?? []) port.protocol ??= "TCP";
  }
}

export function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const port of slice.ports ?? []) {
    port.protocol ??= "TCP";
    port.name ??= "";
  }
}

export function defaultPodTemplate(template: PodTemplate): void {
  defaultPodTemplateSpec(template.template);
}

function scaleUpRulesDefault(): HPAScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: hpaScalePeriodSecondsDefault },
      { type: "Percent", value: 100, periodSeconds: hpaScalePeriodSecondsDefault },
    ],
  };
}

// Scale-down leaves the stabilization window unset: the controller applies its 300 s default.
function scaleDownRulesDefault(): HPAScalingRules {
  return { selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: hpaScalePeriodSecondsDefault }] };
}

function fillScalingRules(rules: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  if (rules === undefined) return defaults;
  const filled: HPAScalingRules = { ...rules };
  if (filled.stabilizationWindowSeconds === undefined && defaults.stabilizationWindowSeconds !== undefined) {
    filled.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  }
  filled.selectPolicy ??= defaults.selectPolicy ?? "Max";
  filled.policies ??= defaults.policies ?? [];
  return filled;
}

/** autoscaling/v2: minReplicas 1, 80% CPU when no metric is given, behavior filled when present. */
export function defaultHorizontalPodAutoscaler(autoscaler: HorizontalPodAutoscaler): void {
  const spec = autoscaler.spec;
  if (spec === undefined) return;
  spec.minReplicas ??= 1;
  if ((spec.metrics ?? []).length === 0) {
    spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: hpaCpuUtilizationPercentDefault } } }];
  }
  if (spec.behavior !== undefined) {
    spec.behavior.scaleUp = fillScalingRules(spec.behavior.scaleUp, scaleUpRulesDefault());
    spec.behavior.scaleDown = fillScalingRules(spec.behavior.scaleDown, scaleDownRulesDefault());
  }
}
