/**
 * The smaller groups as plain JSON shapes with upstream's field names (k8s.io/api):
 * autoscaling v1/v2 (HorizontalPodAutoscaler, Scale), networking.k8s.io/v1 (Ingress,
 * IngressClass), coordination.k8s.io/v1 (Lease), discovery.k8s.io/v1 (EndpointSlice),
 * storage.k8s.io/v1 (StorageClass), policy/v1 (PodDisruptionBudget, Eviction) and
 * rbac.authorization.k8s.io/v1 (Role, ClusterRole and their bindings).
 */
import type { ObjectReference, Protocol, TypedLocalObjectReference } from "./core.ts";
import type { Condition, ConditionStatus, DeleteOptions, IntOrString, KubeObject, LabelSelector, MicroTime, QuantityString, Time } from "./meta.ts";

export interface CrossVersionObjectReference {
  kind: string;
  name: string;
  apiVersion?: string;
}

/** autoscaling/v1 HorizontalPodAutoscaler: CPU utilisation only. */
export interface HorizontalPodAutoscalerV1 extends KubeObject {
  spec?: { scaleTargetRef: CrossVersionObjectReference; minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number };
  status?: { observedGeneration?: number; lastScaleTime?: Time; currentReplicas: number; desiredReplicas: number; currentCPUUtilizationPercentage?: number };
}

export interface MetricIdentifier {
  name: string;
  selector?: LabelSelector;
}

export interface MetricTarget {
  type: "Utilization" | "Value" | "AverageValue";
  value?: QuantityString;
  averageValue?: QuantityString;
  averageUtilization?: number;
}

export interface MetricValueStatus {
  value?: QuantityString;
  averageValue?: QuantityString;
  averageUtilization?: number;
}

export type MetricSourceType = "Object" | "Pods" | "Resource" | "ContainerResource" | "External";

export interface MetricSpec {
  type: MetricSourceType;
  object?: { describedObject: CrossVersionObjectReference; target: MetricTarget; metric: MetricIdentifier };
  pods?: { metric: MetricIdentifier; target: MetricTarget };
  resource?: { name: string; target: MetricTarget };
  containerResource?: { name: string; target: MetricTarget; container: string };
  external?: { metric: MetricIdentifier; target: MetricTarget };
}

export interface MetricStatus {
  type: MetricSourceType;
  object?: { metric: MetricIdentifier; current: MetricValueStatus; describedObject: CrossVersionObjectReference };
  pods?: { metric: MetricIdentifier; current: MetricValueStatus };
  resource?: { name: string; current: MetricValueStatus };
  containerResource?: { name: string; current: MetricValueStatus; container: string };
  external?: { metric: MetricIdentifier; current: MetricValueStatus };
}

export interface HPAScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: "Max" | "Min" | "Disabled";
  policies?: { type: "Pods" | "Percent"; value: number; periodSeconds: number }[];
}

/** autoscaling/v2 HorizontalPodAutoscaler (the preferred version). */
export interface HorizontalPodAutoscaler extends KubeObject {
  spec?: {
    scaleTargetRef: CrossVersionObjectReference;
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpec[];
    behavior?: { scaleUp?: HPAScalingRules; scaleDown?: HPAScalingRules };
  };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: Time;
    currentReplicas?: number;
    desiredReplicas: number;
    currentMetrics?: MetricStatus[];
    conditions?: { type: string; status: ConditionStatus; lastTransitionTime?: Time; reason?: string; message?: string }[];
  };
}

/** autoscaling/v1 Scale: the body of the scale subresource. */
export interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

export interface IngressBackend {
  service?: { name: string; port?: { name?: string; number?: number } };
  resource?: TypedLocalObjectReference;
}

export interface HTTPIngressPath {
  path?: string;
  pathType: "Exact" | "Prefix" | "ImplementationSpecific";
  backend: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths: HTTPIngressPath[] };
}

export interface Ingress extends KubeObject {
  spec?: { ingressClassName?: string; defaultBackend?: IngressBackend; tls?: { hosts?: string[]; secretName?: string }[]; rules?: IngressRule[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ports?: { port: number; protocol: Protocol; error?: string }[] }[] } };
}

export interface IngressClass extends KubeObject {
  spec?: {
    controller?: string;
    parameters?: { apiGroup?: string; kind: string; name: string; scope?: "Cluster" | "Namespace"; namespace?: string };
  };
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: MicroTime;
    renewTime?: MicroTime;
    leaseTransitions?: number;
    strategy?: string;
    preferredHolder?: string;
  };
}

export interface EndpointSliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  targetRef?: ObjectReference;
  nodeName?: string;
  zone?: string;
  hints?: { forZones?: { name: string }[] };
}

export interface EndpointSlicePort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  addressType: "IPv4" | "IPv6" | "FQDN";
  endpoints: EndpointSliceEndpoint[];
  ports?: EndpointSlicePort[];
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: "Retain" | "Delete" | "Recycle";
  mountOptions?: string[];
  allowVolumeExpansion?: boolean;
  volumeBindingMode?: "Immediate" | "WaitForFirstConsumer";
  allowedTopologies?: { matchLabelExpressions?: { key: string; values: string[] }[] }[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec?: {
    minAvailable?: IntOrString;
    selector?: LabelSelector;
    maxUnavailable?: IntOrString;
    unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
  };
  status?: {
    observedGeneration?: number;
    disruptedPods?: Record<string, Time>;
    disruptionsAllowed: number;
    currentHealthy: number;
    desiredHealthy: number;
    expectedPods: number;
    conditions?: Condition[];
  };
}

/** policy/v1 Eviction: the body of POST pods/{name}/eviction. */
export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Role extends KubeObject {
  rules: PolicyRule[];
}

export interface ClusterRole extends KubeObject {
  rules: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}

export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: "Role" | "ClusterRole";
  name: string;
}

export interface RoleBinding extends KubeObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}

export interface ClusterRoleBinding extends KubeObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}
