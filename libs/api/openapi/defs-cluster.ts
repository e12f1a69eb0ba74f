/**
 * autoscaling v1/v2, networking.k8s.io, coordination.k8s.io, discovery.k8s.io, storage.k8s.io,
 * policy and rbac (types/cluster.ts), with upstream's definition names.
 */
import { intOrString, labelSelector, metaCondition, microTime, quantity, time } from "./defs-meta.ts";
import { bool, int32, int64, list, map, objectFields, packageBuilder, packages, required, str, stringMap, strings, type Definition, type FieldTuple } from "./dsl.ts";

const v1 = packageBuilder(packages.autoscalingV1);
const v2 = packageBuilder(packages.autoscalingV2);
const networking = packageBuilder(packages.networking);
const coordination = packageBuilder(packages.coordination);
const discovery = packageBuilder(packages.discovery);
const storage = packageBuilder(packages.storage);
const policy = packageBuilder(packages.policy);
const rbac = packageBuilder(packages.rbac);
const core = packageBuilder(packages.core);
const meta = packageBuilder(packages.meta);

const crossVersionReference = (builder: typeof v1): Definition =>
  builder.def("CrossVersionObjectReference", "The object to scale.", {
    kind: [str, "Kind of the referent.", required],
    name: [str, "Name of the referent.", required],
    apiVersion: [str, "API version of the referent."],
  });

const autoscalingV1: readonly Definition[] = [
  crossVersionReference(v1),
  v1.def("HorizontalPodAutoscalerSpec", "The desired state of an autoscaler.", {
    scaleTargetRef: [v1.ref("CrossVersionObjectReference"), "The object to scale.", required],
    minReplicas: [int32, "Lower bound of replicas."],
    maxReplicas: [int32, "Upper bound of replicas.", required],
    targetCPUUtilizationPercentage: [int32, "Target average CPU use, percent of requests."],
  }),
  v1.def("HorizontalPodAutoscalerStatus", "The observed state of an autoscaler.", {
    observedGeneration: [int64, "The generation last acted on."],
    lastScaleTime: [time, "When it last scaled."],
    currentReplicas: [int32, "Current replicas.", required],
    desiredReplicas: [int32, "Desired replicas.", required],
    currentCPUUtilizationPercentage: [int32, "Current average CPU use, percent of requests."],
  }),
  v1.def("HorizontalPodAutoscaler", "Scales a workload by CPU use.", {
    ...objectFields("HorizontalPodAutoscaler"),
    spec: [v1.ref("HorizontalPodAutoscalerSpec"), "Desired state."],
    status: [v1.ref("HorizontalPodAutoscalerStatus"), "Observed state."],
  }),
  v1.def("ScaleSpec", "The desired scale.", { replicas: [int32, "Desired replicas."] }),
  v1.def("ScaleStatus", "The observed scale.", {
    replicas: [int32, "Actual replicas.", required],
    selector: [str, "Label query over the pods, in string form."],
  }),
  v1.def("Scale", "The scale subresource of a workload.", {
    ...objectFields("Scale"),
    spec: [v1.ref("ScaleSpec"), "Desired scale."],
    status: [v1.ref("ScaleStatus"), "Observed scale."],
  }),
];

const metric: FieldTuple = [v2.ref("MetricIdentifier"), "The metric.", required];
const target: FieldTuple = [v2.ref("MetricTarget"), "The target value.", required];
const current: FieldTuple = [v2.ref("MetricValueStatus"), "The current value.", required];
const describedObject: FieldTuple = [v2.ref("CrossVersionObjectReference"), "The object described.", required];
const resourceName: FieldTuple = [str, "Name of the resource.", required];
const containerName: FieldTuple = [str, "Name of the container.", required];
const metricType: FieldTuple = [str, "Object, Pods, Resource, ContainerResource or External.", required];

const autoscalingV2: readonly Definition[] = [
  crossVersionReference(v2),
  v2.def("MetricIdentifier", "Names a metric.", { name: [str, "Name of the metric.", required], selector: [labelSelector, "Metric label selector."] }),
  v2.def("MetricTarget", "A target value of a metric.", {
    type: [str, "Utilization, Value or AverageValue.", required],
    value: [quantity, "Target value."],
    averageValue: [quantity, "Target average over pods."],
    averageUtilization: [int32, "Target average use, percent of requests."],
  }),
  v2.def("MetricValueStatus", "A current value of a metric.", {
    value: [quantity, "Current value."],
    averageValue: [quantity, "Current average over pods."],
    averageUtilization: [int32, "Current average use, percent of requests."],
  }),
  v2.def("ObjectMetricSource", "A metric of an object.", { describedObject, target, metric }),
  v2.def("PodsMetricSource", "A metric averaged over pods.", { metric, target }),
  v2.def("ResourceMetricSource", "A resource metric of the pods.", { name: resourceName, target }),
  v2.def("ContainerResourceMetricSource", "A resource metric of one container.", { name: resourceName, target, container: containerName }),
  v2.def("ExternalMetricSource", "A metric from outside the cluster.", { metric, target }),
  v2.def("MetricSpec", "A metric to scale on.", {
    type: metricType,
    object: [v2.ref("ObjectMetricSource"), "An object metric."],
    pods: [v2.ref("PodsMetricSource"), "A pods metric."],
    resource: [v2.ref("ResourceMetricSource"), "A resource metric."],
    containerResource: [v2.ref("ContainerResourceMetricSource"), "A container resource metric."],
    external: [v2.ref("ExternalMetricSource"), "An external metric."],
  }),
  v2.def("ObjectMetricStatus", "Current object metric.", { metric, current, describedObject }),
  v2.def("PodsMetricStatus", "Current pods metric.", { metric, current }),
  v2.def("ResourceMetricStatus", "Current resource metric.", { name: resourceName, current }),
  v2.def("ContainerResourceMetricStatus", "Current container resource metric.", { name: resourceName, current, container: containerName }),
  v2.def("ExternalMetricStatus", "Current external metric.", { metric, current }),
  v2.def("MetricStatus", "The current value of a metric.", {
    type: metricType,
    object: [v2.ref("ObjectMetricStatus"), "An object metric."],
    pods: [v2.ref("PodsMetricStatus"), "A pods metric."],
    resource: [v2.ref("ResourceMetricStatus"), "A resource metric."],
    containerResource: [v2.ref("ContainerResourceMetricStatus"), "A container resource metric."],
    external: [v2.ref("ExternalMetricStatus"), "An external metric."],
  }),
  v2.def("HPAScalingPolicy", "One scaling step limit.", {
    type: [str, "Pods or Percent.", required],
    value: [int32, "Amount of change allowed.", required],
    periodSeconds: [int32, "Window the policy applies over.", required],
  }),
  v2.def("HPAScalingRules", "Scaling rules of one direction.", {
    stabilizationWindowSeconds: [int32, "Seconds of past recommendations considered."],
    selectPolicy: [str, "Max, Min or Disabled."],
    policies: [list(v2.ref("HPAScalingPolicy")), "Policies."],
  }),
  v2.def("HorizontalPodAutoscalerBehavior", "Scaling behaviour up and down.", {
    scaleUp: [v2.ref("HPAScalingRules"), "Scaling up."],
    scaleDown: [v2.ref("HPAScalingRules"), "Scaling down."],
  }),
  v2.def("HorizontalPodAutoscalerSpec", "The desired state of an autoscaler.", {
    scaleTargetRef: [v2.ref("CrossVersionObjectReference"), "The object to scale.", required],
    minReplicas: [int32, "Lower bound of replicas."],
    maxReplicas: [int32, "Upper bound of replicas.", required],
    metrics: [list(v2.ref("MetricSpec")), "Metrics to scale on."],
    behavior: [v2.ref("HorizontalPodAutoscalerBehavior"), "Scaling behaviour."],
  }),
  v2.def("HorizontalPodAutoscalerCondition", "One aspect of an autoscaler's state.", {
    type: [str, "Type of the condition.", required],
    status: [str, "True, False or Unknown.", required],
    lastTransitionTime: [time, "When the status last changed."],
    reason: [str, "CamelCase reason."],
    message: [str, "Human-readable detail."],
  }),
  v2.def("HorizontalPodAutoscalerStatus", "The observed state of an autoscaler.", {
    observedGeneration: [int64, "The generation last acted on."],
    lastScaleTime: [time, "When it last scaled."],
    currentReplicas: [int32, "Current replicas."],
    desiredReplicas: [int32, "Desired replicas.", required],
    currentMetrics: [list(v2.ref("MetricStatus")), "Current metric values."],
    conditions: [list(v2.ref("HorizontalPodAutoscalerCondition")), "Current conditions."],
  }),
  v2.def("HorizontalPodAutoscaler", "Scales a workload by metrics.", {
    ...objectFields("HorizontalPodAutoscaler"),
    spec: [v2.ref("HorizontalPodAutoscalerSpec"), "Desired state."],
    status: [v2.ref("HorizontalPodAutoscalerStatus"), "Observed state."],
  }),
];

const portStatus: FieldTuple = [list(networking.ref("IngressPortStatus")), "Port states."];

const ingress: readonly Definition[] = [
  networking.def("ServiceBackendPort", "A port of a backend service.", { name: [str, "Port name."], number: [int32, "Port number."] }),
  networking.def("IngressServiceBackend", "A service backend.", {
    name: [str, "Name of the service.", required],
    port: [networking.ref("ServiceBackendPort"), "Port of the service."],
  }),
  networking.def("IngressBackend", "Where matching traffic goes.", {
    service: [networking.ref("IngressServiceBackend"), "A service."],
    resource: [core.ref("TypedLocalObjectReference"), "Another object."],
  }),
  networking.def("HTTPIngressPath", "A path and its backend.", {
    path: [str, "Path to match."],
    pathType: [str, "Exact, Prefix or ImplementationSpecific.", required],
    backend: [networking.ref("IngressBackend"), "The backend.", required],
  }),
  networking.def("HTTPIngressRuleValue", "HTTP paths of a rule.", { paths: [list(networking.ref("HTTPIngressPath")), "The paths.", required] }),
  networking.def("IngressRule", "Routing of one host.", {
    host: [str, "Host name to match; all when empty."],
    http: [networking.ref("HTTPIngressRuleValue"), "HTTP paths."],
  }),
  networking.def("IngressTLS", "TLS for some hosts.", { hosts: [strings, "Host names."], secretName: [str, "Secret with the certificate."] }),
  networking.def("IngressSpec", "The desired state of an ingress.", {
    ingressClassName: [str, "IngressClass handling it."],
    defaultBackend: [networking.ref("IngressBackend"), "Backend for unmatched traffic."],
    tls: [list(networking.ref("IngressTLS")), "TLS settings."],
    rules: [list(networking.ref("IngressRule")), "Host rules."],
  }),
  networking.def("IngressPortStatus", "The state of one port.", {
    port: [int32, "Port number.", required],
    protocol: [str, "TCP, UDP or SCTP.", required],
    error: [str, "CamelCase error."],
  }),
  networking.def("IngressLoadBalancerIngress", "An ingress point.", { ip: [str, "IP."], hostname: [str, "Host name."], ports: portStatus }),
  networking.def("IngressLoadBalancerStatus", "Load balancer state.", { ingress: [list(networking.ref("IngressLoadBalancerIngress")), "Ingress points."] }),
  networking.def("IngressStatus", "The observed state of an ingress.", { loadBalancer: [networking.ref("IngressLoadBalancerStatus"), "Load balancer."] }),
  networking.def("Ingress", "HTTP routing into services.", {
    ...objectFields("Ingress"),
    spec: [networking.ref("IngressSpec"), "Desired state."],
    status: [networking.ref("IngressStatus"), "Observed state."],
  }),
  networking.def("IngressClassParametersReference", "Parameters of an ingress class.", {
    apiGroup: [str, "Group of the referent."],
    kind: [str, "Kind of the referent.", required],
    name: [str, "Name of the referent.", required],
    scope: [str, "Cluster or Namespace."],
    namespace: [str, "Namespace, for scope Namespace."],
  }),
  networking.def("IngressClassSpec", "An ingress class.", {
    controller: [str, "Controller implementing the class."],
    parameters: [networking.ref("IngressClassParametersReference"), "Extra configuration."],
  }),
  networking.def("IngressClass", "A kind of ingress controller.", { ...objectFields("IngressClass"), spec: [networking.ref("IngressClassSpec"), "The class."] }),
];

const smaller: readonly Definition[] = [
  coordination.def("LeaseSpec", "The state of a lease.", {
    holderIdentity: [str, "Current holder."],
    leaseDurationSeconds: [int32, "Seconds candidates wait before taking over."],
    acquireTime: [microTime, "When the holder acquired it."],
    renewTime: [microTime, "When the holder last renewed it."],
    leaseTransitions: [int32, "Changes of holder."],
    strategy: [str, "How a holder is chosen."],
    preferredHolder: [str, "Holder to hand over to."],
  }),
  coordination.def("Lease", "A lease, for leader election and heartbeats.", { ...objectFields("Lease"), spec: [coordination.ref("LeaseSpec"), "The lease."] }),
  discovery.def("EndpointConditions", "The state of an endpoint.", {
    ready: [bool, "Ready to receive traffic."],
    serving: [bool, "Serving, even while terminating."],
    terminating: [bool, "Terminating."],
  }),
  discovery.def("ForZone", "A zone hint.", { name: [str, "Zone name.", required] }),
  discovery.def("EndpointHints", "Routing hints.", { forZones: [list(discovery.ref("ForZone")), "Zones to serve."] }),
  discovery.def("Endpoint", "One backend.", {
    addresses: [strings, "Addresses of the endpoint.", required],
    conditions: [discovery.ref("EndpointConditions"), "State."],
    hostname: [str, "Host name."],
    targetRef: [core.ref("ObjectReference"), "The object behind it."],
    nodeName: [str, "Node hosting it."],
    zone: [str, "Zone of it."],
    hints: [discovery.ref("EndpointHints"), "Routing hints."],
  }),
  discovery.def("EndpointPort", "A port of the endpoints.", {
    name: [str, "Name matching the service port's."],
    protocol: [str, "TCP, UDP or SCTP."],
    port: [int32, "Port number."],
    appProtocol: [str, "Application protocol."],
  }),
  discovery.def("EndpointSlice", "A subset of a service's endpoints.", {
    ...objectFields("EndpointSlice"),
    addressType: [str, "IPv4, IPv6 or FQDN.", required],
    endpoints: [list(discovery.ref("Endpoint")), "The endpoints.", required],
    ports: [list(discovery.ref("EndpointPort")), "Ports of all endpoints."],
  }),
  core.def("TopologySelectorLabelRequirement", "A label and its allowed values.", {
    key: [str, "Label key.", required],
    values: [strings, "Allowed values.", required],
  }),
  core.def("TopologySelectorTerm", "A topology requirement.", {
    matchLabelExpressions: [list(core.ref("TopologySelectorLabelRequirement")), "Label requirements."],
  }),
  storage.def("StorageClass", "A class of dynamically provisioned storage.", {
    ...objectFields("StorageClass"),
    provisioner: [str, "Provisioner of the volumes.", required],
    parameters: [stringMap, "Provisioner parameters."],
    reclaimPolicy: [str, "Retain, Delete or Recycle."],
    mountOptions: [strings, "Mount options."],
    allowVolumeExpansion: [bool, "Claims may grow."],
    volumeBindingMode: [str, "Immediate or WaitForFirstConsumer."],
    allowedTopologies: [list(core.ref("TopologySelectorTerm")), "Where volumes may be provisioned."],
  }),
];

const policyAndRbac: readonly Definition[] = [
  policy.def("PodDisruptionBudgetSpec", "The desired budget.", {
    minAvailable: [intOrString, "Pods that must stay available (number or percent)."],
    selector: [labelSelector, "Pods covered."],
    maxUnavailable: [intOrString, "Pods that may be unavailable (number or percent)."],
    unhealthyPodEvictionPolicy: [str, "IfHealthyBudget or AlwaysAllow."],
  }),
  policy.def("PodDisruptionBudgetStatus", "The observed budget.", {
    observedGeneration: [int64, "The generation last acted on."],
    disruptedPods: [map(meta.ref("Time")), "Pods being evicted, with when."],
    disruptionsAllowed: [int32, "Disruptions allowed now.", required],
    currentHealthy: [int32, "Healthy pods.", required],
    desiredHealthy: [int32, "Healthy pods wanted.", required],
    expectedPods: [int32, "Pods counted.", required],
    conditions: [list(metaCondition), "Current conditions."],
  }),
  policy.def("PodDisruptionBudget", "Limits voluntary disruptions of pods.", {
    ...objectFields("PodDisruptionBudget"),
    spec: [policy.ref("PodDisruptionBudgetSpec"), "Desired budget."],
    status: [policy.ref("PodDisruptionBudgetStatus"), "Observed budget."],
  }),
  policy.def("Eviction", "Evicts a pod, respecting budgets.", {
    ...objectFields("Eviction"),
    deleteOptions: [meta.ref("DeleteOptions"), "Options of the deletion."],
  }),
  rbac.def("PolicyRule", "Actions allowed on resources or URLs.", {
    verbs: [strings, "Verbs allowed; * for all.", required],
    apiGroups: [strings, "API groups; empty string for core."],
    resources: [strings, "Resources; * for all."],
    resourceNames: [strings, "Names allowed; all when empty."],
    nonResourceURLs: [strings, "Non-resource URLs (cluster roles only)."],
  }),
  rbac.def("Role", "Namespaced permissions.", { ...objectFields("Role"), rules: [list(rbac.ref("PolicyRule")), "The rules."] }),
  rbac.def("AggregationRule", "Roles whose rules are combined.", { clusterRoleSelectors: [list(labelSelector), "Cluster roles to combine."] }),
  rbac.def("ClusterRole", "Cluster-wide permissions.", {
    ...objectFields("ClusterRole"),
    rules: [list(rbac.ref("PolicyRule")), "The rules."],
    aggregationRule: [rbac.ref("AggregationRule"), "How rules are aggregated."],
  }),
  rbac.def("Subject", "A user, group or service account.", {
    kind: [str, "User, Group or ServiceAccount.", required],
    apiGroup: [str, "Group of the subject's kind."],
    name: [str, "Name of the subject.", required],
    namespace: [str, "Namespace of a service account."],
  }),
  rbac.def("RoleRef", "The role granted.", {
    apiGroup: [str, "Group of the role.", required],
    kind: [str, "Role or ClusterRole.", required],
    name: [str, "Name of the role.", required],
  }),
  rbac.def("RoleBinding", "Grants a role within a namespace.", {
    ...objectFields("RoleBinding"),
    subjects: [list(rbac.ref("Subject")), "Who gets the role."],
    roleRef: [rbac.ref("RoleRef"), "The role.", required],
  }),
  rbac.def("ClusterRoleBinding", "Grants a cluster role everywhere.", {
    ...objectFields("ClusterRoleBinding"),
    subjects: [list(rbac.ref("Subject")), "Who gets the role."],
    roleRef: [rbac.ref("RoleRef"), "The role.", required],
  }),
];

export const clusterDefinitions: readonly Definition[] = [...autoscalingV1, ...autoscalingV2, ...ingress, ...smaller, ...policyAndRbac];
