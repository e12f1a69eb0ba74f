/** core/v1 kinds other than Pod (types/core.ts), with upstream's definition names. */
import { labelSelector, metaCondition, microTime, intOrString, resourceList, time } from "./defs-meta.ts";
import { bool, bytes, int32, int64, list, map, objectFields, packageBuilder, packages, required, str, stringMap, strings, type Definition } from "./dsl.ts";

const core = packageBuilder(packages.core);
const r = core.ref;
const conditionType = { type: [str, "Type of the condition.", required], status: [str, "True, False or Unknown.", required] } as const;
const transition = {
  lastTransitionTime: [time, "When the status last changed."],
  reason: [str, "CamelCase reason of the last transition."],
  message: [str, "Human-readable detail."],
} as const;

const references: readonly Definition[] = [
  core.def("LocalObjectReference", "A reference to an object in the same namespace.", { name: [str, "Name of the referent."] }),
  core.def("ObjectReference", "A reference to any object.", {
    kind: [str, "Kind of the referent."],
    namespace: [str, "Namespace of the referent."],
    name: [str, "Name of the referent."],
    uid: [str, "UID of the referent."],
    apiVersion: [str, "API version of the referent."],
    resourceVersion: [str, "Specific resourceVersion referred to."],
    fieldPath: [str, "A field within the referent, e.g. spec.containers{name}."],
  }),
  core.def("TypedLocalObjectReference", "A typed reference in the same namespace.", {
    apiGroup: [str, "Group of the referent; empty for the core group."],
    kind: [str, "Kind of the referent.", required],
    name: [str, "Name of the referent.", required],
  }),
  core.def("TypedObjectReference", "A typed reference, possibly to another namespace.", {
    apiGroup: [str, "Group of the referent; empty for the core group."],
    kind: [str, "Kind of the referent.", required],
    name: [str, "Name of the referent.", required],
    namespace: [str, "Namespace of the referent."],
  }),
  core.def("NodeSelectorRequirement", "A key, an operator and values over node labels or fields.", {
    key: [str, "The label or field key.", required],
    operator: [str, "In, NotIn, Exists, DoesNotExist, Gt or Lt.", required],
    values: [strings, "Values; one integer for Gt and Lt."],
  }),
  core.def("NodeSelectorTerm", "Requirements ANDed together.", {
    matchExpressions: [list(r("NodeSelectorRequirement")), "Requirements on node labels."],
    matchFields: [list(r("NodeSelectorRequirement")), "Requirements on node fields."],
  }),
  core.def("NodeSelector", "Terms ORed together.", { nodeSelectorTerms: [list(r("NodeSelectorTerm")), "The terms.", required] }),
];

const namespaceAndService: readonly Definition[] = [
  core.def("NamespaceSpec", "The desired state of a namespace.", { finalizers: [strings, "Must be empty before the namespace is removed."] }),
  core.def("NamespaceCondition", "One aspect of a namespace's state.", { ...conditionType, ...transition }),
  core.def("NamespaceStatus", "The observed state of a namespace.", {
    phase: [str, "Active or Terminating."],
    conditions: [list(r("NamespaceCondition")), "Current conditions."],
  }),
  core.def("Namespace", "A scope for names.", {
    ...objectFields("Namespace"),
    spec: [r("NamespaceSpec"), "Desired state."],
    status: [r("NamespaceStatus"), "Observed state."],
  }),
  core.def("ServicePort", "A port a service exposes.", {
    name: [str, "Name of the port, a DNS label; required with several ports."],
    protocol: [str, "TCP, UDP or SCTP; TCP by default."],
    appProtocol: [str, "Application protocol."],
    port: [int32, "Port the service exposes.", required],
    targetPort: [intOrString, "Port number or name on the pods; port by default."],
    nodePort: [int32, "Port on every node, for NodePort and LoadBalancer."],
  }),
  core.def("ClientIPConfig", "Settings of ClientIP session affinity.", { timeoutSeconds: [int32, "Session lifetime in seconds."] }),
  core.def("SessionAffinityConfig", "Settings of session affinity.", { clientIP: [r("ClientIPConfig"), "ClientIP settings."] }),
  core.def("ServiceSpec", "The desired state of a service.", {
    ports: [list(r("ServicePort")), "Ports exposed."],
    selector: [stringMap, "Labels of the pods traffic goes to."],
    clusterIP: [str, "Virtual IP; allocated when empty, None for a headless service."],
    clusterIPs: [strings, "Virtual IPs, one per IP family."],
    type: [str, "ClusterIP, NodePort, LoadBalancer or ExternalName."],
    externalIPs: [strings, "Extra IPs the nodes accept traffic for."],
    sessionAffinity: [str, "ClientIP or None."],
    loadBalancerIP: [str, "Deprecated: requested load balancer IP."],
    loadBalancerSourceRanges: [strings, "Client CIDRs allowed through the load balancer."],
    externalName: [str, "DNS name returned as a CNAME, for ExternalName."],
    externalTrafficPolicy: [str, "Cluster or Local."],
    healthCheckNodePort: [int32, "Health check node port, for Local traffic policy."],
    publishNotReadyAddresses: [bool, "Publish addresses of pods that are not ready."],
    sessionAffinityConfig: [r("SessionAffinityConfig"), "Session affinity settings."],
    ipFamilies: [strings, "IPv4 and/or IPv6."],
    ipFamilyPolicy: [str, "SingleStack, PreferDualStack or RequireDualStack."],
    allocateLoadBalancerNodePorts: [bool, "Allocate node ports for LoadBalancer services."],
    loadBalancerClass: [str, "Load balancer implementation."],
    internalTrafficPolicy: [str, "Cluster or Local."],
    trafficDistribution: [str, "Preference for routing traffic, e.g. PreferClose."],
  }),
  core.def("PortStatus", "The state of one load balancer port.", {
    port: [int32, "Port number.", required],
    protocol: [str, "TCP, UDP or SCTP.", required],
    error: [str, "CamelCase error of the port."],
  }),
  core.def("LoadBalancerIngress", "An ingress point of a load balancer.", {
    ip: [str, "IP of the ingress point."],
    hostname: [str, "Host name of the ingress point."],
    ipMode: [str, "VIP or Proxy."],
    ports: [list(r("PortStatus")), "Port states."],
  }),
  core.def("LoadBalancerStatus", "The state of a load balancer.", { ingress: [list(r("LoadBalancerIngress")), "Ingress points."] }),
  core.def("ServiceStatus", "The observed state of a service.", {
    loadBalancer: [r("LoadBalancerStatus"), "Load balancer state."],
    conditions: [list(metaCondition), "Current conditions."],
  }),
  core.def("Service", "A named set of pods behind one address.", {
    ...objectFields("Service"),
    spec: [r("ServiceSpec"), "Desired state."],
    status: [r("ServiceStatus"), "Observed state."],
  }),
  core.def("EndpointAddress", "One endpoint IP.", {
    ip: [str, "The IP.", required],
    hostname: [str, "Host name of the endpoint."],
    nodeName: [str, "Node hosting the endpoint."],
    targetRef: [r("ObjectReference"), "The object providing the endpoint."],
  }),
  core.def("EndpointPort", "A port of endpoints.", {
    name: [str, "Name matching the service port's."],
    port: [int32, "Port number.", required],
    protocol: [str, "TCP, UDP or SCTP."],
    appProtocol: [str, "Application protocol."],
  }),
  core.def("EndpointSubset", "Addresses sharing ports.", {
    addresses: [list(r("EndpointAddress")), "Ready addresses."],
    notReadyAddresses: [list(r("EndpointAddress")), "Addresses not ready yet."],
    ports: [list(r("EndpointPort")), "Ports of the addresses."],
  }),
  core.def("Endpoints", "The endpoints of a service.", { ...objectFields("Endpoints"), subsets: [list(r("EndpointSubset")), "Address sets."] }),
];

const configAndIdentity: readonly Definition[] = [
  core.def("ConfigMap", "Non-secret configuration data.", {
    ...objectFields("ConfigMap"),
    immutable: [bool, "When true, data cannot change."],
    data: [stringMap, "UTF-8 configuration values."],
    binaryData: [map(bytes), "Binary values, base64 in JSON."],
  }),
  core.def("Secret", "Sensitive data.", {
    ...objectFields("Secret"),
    immutable: [bool, "When true, data cannot change."],
    data: [map(bytes), "Secret values, base64 in JSON."],
    stringData: [stringMap, "Write-only plain values merged into data."],
    type: [str, "Type of the secret, e.g. Opaque or kubernetes.io/tls."],
  }),
  core.def("ServiceAccount", "An identity for processes in pods.", {
    ...objectFields("ServiceAccount"),
    secrets: [list(r("ObjectReference")), "Secrets pods of this account may use."],
    imagePullSecrets: [list(r("LocalObjectReference")), "Secrets for pulling images."],
    automountServiceAccountToken: [bool, "Mount the token into pods."],
  }),
  core.def("Binding", "Binds a pod to a node.", { ...objectFields("Binding"), target: [r("ObjectReference"), "The node.", required] }),
];

const nodes: readonly Definition[] = [
  core.def("Taint", "Repels pods that do not tolerate it.", {
    key: [str, "Taint key.", required],
    value: [str, "Taint value."],
    effect: [str, "NoSchedule, PreferNoSchedule or NoExecute.", required],
    timeAdded: [time, "When a NoExecute taint was added."],
  }),
  core.def("NodeSpec", "The desired state of a node.", {
    podCIDR: [str, "Pod IP range of the node."],
    podCIDRs: [strings, "Pod IP ranges, one per family."],
    providerID: [str, "ID of the node at its provider."],
    unschedulable: [bool, "Keep new pods off the node."],
    taints: [list(r("Taint")), "Taints of the node."],
  }),
  core.def("NodeCondition", "One aspect of a node's state.", {
    ...conditionType,
    lastHeartbeatTime: [time, "Last time the condition was reported."],
    ...transition,
  }),
  core.def("NodeAddress", "An address of a node.", {
    type: [str, "Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.", required],
    address: [str, "The address.", required],
  }),
  core.def("DaemonEndpoint", "A port of a node daemon.", { Port: [int32, "Port number.", required] }),
  core.def("NodeDaemonEndpoints", "Ports of the node's daemons.", { kubeletEndpoint: [r("DaemonEndpoint"), "The node agent's port."] }),
  core.def("NodeSystemInfo", "Identity and versions of a node.", {
    machineID: [str, "Machine ID.", required],
    systemUUID: [str, "System UUID.", required],
    bootID: [str, "Boot ID.", required],
    kernelVersion: [str, "Kernel version.", required],
    osImage: [str, "OS image.", required],
    containerRuntimeVersion: [str, "Container runtime version.", required],
    kubeletVersion: [str, "Node agent version.", required],
    kubeProxyVersion: [str, "Deprecated proxy version.", required],
    operatingSystem: [str, "Operating system.", required],
    architecture: [str, "CPU architecture.", required],
  }),
  core.def("ContainerImage", "An image on a node.", { names: [strings, "Names of the image."], sizeBytes: [int64, "Size in bytes."] }),
  core.def("AttachedVolume", "A volume attached to a node.", {
    name: [str, "Name of the volume.", required],
    devicePath: [str, "Where the device is.", required],
  }),
  core.def("NodeStatus", "The observed state of a node.", {
    capacity: [resourceList, "Total resources."],
    allocatable: [resourceList, "Resources available to pods."],
    phase: [str, "Deprecated lifecycle phase."],
    conditions: [list(r("NodeCondition")), "Current conditions."],
    addresses: [list(r("NodeAddress")), "Addresses of the node."],
    daemonEndpoints: [r("NodeDaemonEndpoints"), "Ports of its daemons."],
    nodeInfo: [r("NodeSystemInfo"), "Identity and versions."],
    images: [list(r("ContainerImage")), "Images on the node."],
    volumesInUse: [strings, "Volumes in use."],
    volumesAttached: [list(r("AttachedVolume")), "Volumes attached."],
  }),
  core.def("Node", "A machine that runs pods.", {
    ...objectFields("Node"),
    spec: [r("NodeSpec"), "Desired state."],
    status: [r("NodeStatus"), "Observed state."],
  }),
  core.def("EventSource", "Who reported an event.", { component: [str, "Component."], host: [str, "Node name."] }),
  core.def("EventSeries", "A series of repeated events.", {
    count: [int32, "Occurrences so far."],
    lastObservedTime: [microTime, "Last occurrence."],
  }),
  core.def("Event", "A report of something that happened.", {
    ...objectFields("Event"),
    involvedObject: [r("ObjectReference"), "The object the event is about.", required],
    reason: [str, "CamelCase reason."],
    message: [str, "Human-readable description."],
    source: [r("EventSource"), "Reporter."],
    firstTimestamp: [time, "First occurrence."],
    lastTimestamp: [time, "Latest occurrence."],
    count: [int32, "Occurrences."],
    type: [str, "Normal or Warning."],
    eventTime: [microTime, "When the event was first observed."],
    series: [r("EventSeries"), "Series data."],
    action: [str, "What was done."],
    related: [r("ObjectReference"), "A secondary object."],
    reportingComponent: [str, "Controller that reported the event.", required],
    reportingInstance: [str, "Instance of that controller.", required],
  }),
];

const storage: readonly Definition[] = [
  core.def("LocalVolumeSource", "A local disk of the node.", { path: [str, "Path on the node.", required], fsType: [str, "Filesystem type."] }),
  core.def("CSIPersistentVolumeSource", "A volume from a CSI driver.", {
    driver: [str, "Name of the CSI driver.", required],
    volumeHandle: [str, "Volume ID at the driver.", required],
    readOnly: [bool, "Mount read-only."],
    fsType: [str, "Filesystem type."],
    volumeAttributes: [stringMap, "Driver-specific properties."],
  }),
  core.def("VolumeNodeAffinity", "Nodes a volume can be used from.", { required: [r("NodeSelector"), "Nodes that can use the volume."] }),
  core.def("PersistentVolumeSpec", "The desired state of a persistent volume.", {
    capacity: [resourceList, "Capacity of the volume."],
    hostPath: [r("HostPathVolumeSource"), "A directory on a node (testing only)."],
    local: [r("LocalVolumeSource"), "A local disk."],
    nfs: [r("NFSVolumeSource"), "An NFS export."],
    csi: [r("CSIPersistentVolumeSource"), "A CSI volume."],
    accessModes: [strings, "ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod."],
    claimRef: [r("ObjectReference"), "The claim bound to the volume."],
    persistentVolumeReclaimPolicy: [str, "Retain, Delete or Recycle."],
    storageClassName: [str, "Storage class of the volume."],
    mountOptions: [strings, "Mount options."],
    volumeMode: [str, "Block or Filesystem."],
    nodeAffinity: [r("VolumeNodeAffinity"), "Nodes that can use it."],
    volumeAttributesClassName: [str, "VolumeAttributesClass of the volume."],
  }),
  core.def("PersistentVolumeStatus", "The observed state of a persistent volume.", {
    phase: [str, "Pending, Available, Bound, Released or Failed."],
    message: [str, "Why the volume is in this state."],
    reason: [str, "CamelCase reason."],
    lastPhaseTransitionTime: [time, "When the phase last changed."],
  }),
  core.def("PersistentVolume", "A piece of storage in the cluster.", {
    ...objectFields("PersistentVolume"),
    spec: [r("PersistentVolumeSpec"), "Desired state."],
    status: [r("PersistentVolumeStatus"), "Observed state."],
  }),
  core.def("VolumeResourceRequirements", "Storage requested and limited.", {
    limits: [resourceList, "Maximum amounts."],
    requests: [resourceList, "Minimum amounts."],
  }),
  core.def("PersistentVolumeClaimSpec", "What a claim asks for.", {
    accessModes: [strings, "Access modes wanted."],
    selector: [labelSelector, "Volumes to consider."],
    resources: [r("VolumeResourceRequirements"), "Storage wanted."],
    volumeName: [str, "A specific volume to bind."],
    storageClassName: [str, "Storage class wanted."],
    volumeMode: [str, "Block or Filesystem."],
    dataSource: [r("TypedLocalObjectReference"), "Populate from this object."],
    dataSourceRef: [r("TypedObjectReference"), "Populate from this object, maybe in another namespace."],
    volumeAttributesClassName: [str, "VolumeAttributesClass wanted."],
  }),
  core.def("PersistentVolumeClaimCondition", "One aspect of a claim's state.", {
    ...conditionType,
    lastProbeTime: [time, "Last probe."],
    ...transition,
  }),
  core.def("PersistentVolumeClaimStatus", "The observed state of a claim.", {
    phase: [str, "Pending, Bound or Lost."],
    accessModes: [strings, "Access modes of the bound volume."],
    capacity: [resourceList, "Capacity of the bound volume."],
    conditions: [list(r("PersistentVolumeClaimCondition")), "Current conditions."],
    allocatedResources: [resourceList, "Resources allocated."],
  }),
  core.def("PersistentVolumeClaim", "A request for storage.", {
    ...objectFields("PersistentVolumeClaim"),
    spec: [r("PersistentVolumeClaimSpec"), "Desired state."],
    status: [r("PersistentVolumeClaimStatus"), "Observed state."],
  }),
];

const policies: readonly Definition[] = [
  core.def("ScopedResourceSelectorRequirement", "A quota scope requirement.", {
    scopeName: [str, "Scope name.", required],
    operator: [str, "In, NotIn, Exists or DoesNotExist.", required],
    values: [strings, "Values for In and NotIn."],
  }),
  core.def("ScopeSelector", "Requirements on quota scopes, ANDed.", { matchExpressions: [list(r("ScopedResourceSelectorRequirement")), "Requirements."] }),
  core.def("ResourceQuotaSpec", "Hard limits of a quota.", {
    hard: [resourceList, "Limit per resource."],
    scopes: [strings, "Scopes the quota applies to."],
    scopeSelector: [r("ScopeSelector"), "Scope requirements."],
  }),
  core.def("ResourceQuotaStatus", "Usage against a quota.", { hard: [resourceList, "Enforced limits."], used: [resourceList, "Current usage."] }),
  core.def("ResourceQuota", "Aggregate limits per namespace.", {
    ...objectFields("ResourceQuota"),
    spec: [r("ResourceQuotaSpec"), "Desired limits."],
    status: [r("ResourceQuotaStatus"), "Observed usage."],
  }),
  core.def("LimitRangeItem", "Limits for one kind of object.", {
    type: [str, "Pod, Container or PersistentVolumeClaim.", required],
    max: [resourceList, "Maximum per resource."],
    min: [resourceList, "Minimum per resource."],
    default: [resourceList, "Default limits."],
    defaultRequest: [resourceList, "Default requests."],
    maxLimitRequestRatio: [resourceList, "Maximum limit/request ratio."],
  }),
  core.def("LimitRangeSpec", "The limits.", { limits: [list(r("LimitRangeItem")), "Limits per object kind.", required] }),
  core.def("LimitRange", "Resource limits per object in a namespace.", { ...objectFields("LimitRange"), spec: [r("LimitRangeSpec"), "The limits."] }),
];

export const coreDefinitions: readonly Definition[] = [...references, ...namespaceAndService, ...configAndIdentity, ...nodes, ...storage, ...policies];

