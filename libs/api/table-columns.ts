/**
 * The column definitions of upstream's server-side tables (k8s.io/kubernetes
 * pkg/printers/internalversion AddHandlers), per resource. Priority 1 columns are the ones
 * `kubectl get -o wide` adds; the server always sends them.
 */
import { columnDescription } from "./table-descriptions.ts";
import type { TableColumnDefinition } from "./types/meta.ts";

type ColumnType = TableColumnDefinition["type"];

interface ColumnOptions {
  readonly priority?: number;
  readonly format?: string;
}

function column(name: string, type: ColumnType, description: string, options: ColumnOptions = {}): TableColumnDefinition {
  return { name, type, format: options.format ?? "", description, priority: options.priority ?? 0 };
}

const doc = columnDescription;
const nameColumn = column("Name", "string", doc("ObjectMeta.name"), { format: "name" });
const ageColumn = column("Age", "string", doc("ObjectMeta.creationTimestamp"));
const wide = { priority: 1 };
const containersColumn = column("Containers", "string", "Names of each container in the template.", wide);
const imagesColumn = column("Images", "string", "Images referenced by each container in the template.", wide);

const podColumns = [
  nameColumn,
  column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
  column("Status", "string", "The aggregate status of the containers in this pod."),
  column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
  ageColumn,
  column("IP", "string", doc("PodStatus.podIP"), wide),
  column("Node", "string", doc("PodSpec.nodeName"), wide),
  column("Nominated Node", "string", doc("PodStatus.nominatedNodeName"), wide),
  column("Readiness Gates", "string", doc("PodSpec.readinessGates"), wide),
];

/** DESIRED CURRENT READY: the same three for ReplicaSets and ReplicationControllers, as upstream prints them. */
const replicaCountColumns = [
  column("Desired", "integer", doc("ReplicaSetSpec.replicas")),
  column("Current", "integer", doc("ReplicaSetStatus.replicas")),
  column("Ready", "integer", doc("ReplicaSetStatus.readyReplicas")),
];

const workloadColumns: Record<string, TableColumnDefinition[]> = {
  "deployments.apps": [
    nameColumn,
    column("Ready", "string", "Number of the pod with ready state"),
    column("Up-to-date", "string", doc("DeploymentStatus.updatedReplicas")),
    column("Available", "string", doc("DeploymentStatus.availableReplicas")),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", doc("DeploymentSpec.selector"), wide),
  ],
  "replicasets.apps": [
    nameColumn,
    ...replicaCountColumns,
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", doc("ReplicaSetSpec.selector"), wide),
  ],
  "replicationcontrollers.": [
    nameColumn,
    ...replicaCountColumns,
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", "Selector is a label query over pods that should match the Replicas count.", wide),
  ],
  "statefulsets.apps": [nameColumn, column("Ready", "string", "Number of the pod with ready state"), ageColumn, containersColumn, imagesColumn],
  "daemonsets.apps": [
    nameColumn,
    column("Desired", "integer", doc("DaemonSetStatus.desiredNumberScheduled")),
    column("Current", "integer", doc("DaemonSetStatus.currentNumberScheduled")),
    column("Ready", "integer", doc("DaemonSetStatus.numberReady")),
    column("Up-to-date", "integer", doc("DaemonSetStatus.updatedNumberScheduled")),
    column("Available", "integer", doc("DaemonSetStatus.numberAvailable")),
    column("Node Selector", "string", doc("PodSpec.nodeSelector")),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", doc("DaemonSetSpec.selector"), wide),
  ],
  "controllerrevisions.apps": [
    nameColumn,
    column("Controller", "string", "Controller of the object"),
    column("Revision", "string", doc("ControllerRevision.revision")),
    ageColumn,
  ],
  "jobs.batch": [
    nameColumn,
    column("Status", "string", "Status of the job."),
    column("Completions", "string", doc("JobStatus.succeeded")),
    column("Duration", "string", "Time required to complete the job."),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", doc("JobSpec.selector"), wide),
  ],
  "cronjobs.batch": [
    nameColumn,
    column("Schedule", "string", doc("CronJobSpec.schedule")),
    column("Timezone", "string", doc("CronJobSpec.timeZone")),
    column("Suspend", "boolean", doc("CronJobSpec.suspend")),
    column("Active", "integer", doc("CronJobStatus.active")),
    column("Last Schedule", "string", doc("CronJobStatus.lastScheduleTime")),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", doc("JobSpec.selector"), wide),
  ],
  "horizontalpodautoscalers.autoscaling": [
    nameColumn,
    column("Reference", "string", doc("HorizontalPodAutoscalerSpec.scaleTargetRef")),
    column("Targets", "string", doc("HorizontalPodAutoscalerSpec.metrics")),
    column("MinPods", "string", doc("HorizontalPodAutoscalerSpec.minReplicas")),
    column("MaxPods", "string", doc("HorizontalPodAutoscalerSpec.maxReplicas")),
    column("Replicas", "string", doc("HorizontalPodAutoscalerStatus.currentReplicas")),
    ageColumn,
  ],
  "poddisruptionbudgets.policy": [
    nameColumn,
    column("Min Available", "string", "The minimum number of pods that must be available."),
    column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    ageColumn,
  ],
};

const coreColumns: Record<string, TableColumnDefinition[]> = {
  "pods.": podColumns,
  "services.": [
    nameColumn,
    column("Type", "string", doc("ServiceSpec.type")),
    column("Cluster-IP", "string", doc("ServiceSpec.clusterIP")),
    column("External-IP", "string", doc("ServiceSpec.externalIPs")),
    column("Port(s)", "string", doc("ServiceSpec.ports")),
    ageColumn,
    column("Selector", "string", doc("ServiceSpec.selector"), wide),
  ],
  "podtemplates.": [
    nameColumn,
    column("Containers", "string", "Names of each container in the template."),
    column("Images", "string", "Images referenced by each container in the template."),
    column("Pod Labels", "string", "The labels for the pod template."),
  ],
  "endpoints.": [nameColumn, column("Endpoints", "string", doc("Endpoints.subsets")), ageColumn],
  "nodes.": [
    nameColumn,
    column("Status", "string", "The status of the node"),
    column("Roles", "string", "The roles of the node"),
    ageColumn,
    column("Version", "string", doc("NodeSystemInfo.kubeletVersion")),
    column("Internal-IP", "string", doc("NodeStatus.addresses"), wide),
    column("External-IP", "string", doc("NodeStatus.addresses"), wide),
    column("OS-Image", "string", doc("NodeSystemInfo.osImage"), wide),
    column("Kernel-Version", "string", doc("NodeSystemInfo.kernelVersion"), wide),
    column("Container-Runtime", "string", doc("NodeSystemInfo.containerRuntimeVersion"), wide),
  ],
  "events.": [
    column("Last Seen", "string", doc("Event.lastTimestamp")),
    column("Type", "string", doc("Event.type")),
    column("Reason", "string", doc("Event.reason")),
    column("Object", "string", doc("Event.involvedObject")),
    column("Subobject", "string", doc("ObjectReference.fieldPath"), wide),
    column("Source", "string", doc("Event.source"), wide),
    column("Message", "string", doc("Event.message")),
    column("First Seen", "string", doc("Event.firstTimestamp"), wide),
    column("Count", "string", doc("Event.count"), wide),
    column("Name", "string", doc("ObjectMeta.name"), { priority: 1, format: "name" }),
  ],
  "namespaces.": [nameColumn, column("Status", "string", "The status of the namespace"), ageColumn],
  "secrets.": [nameColumn, column("Type", "string", doc("Secret.type")), column("Data", "string", doc("Secret.data")), ageColumn],
  "serviceaccounts.": [nameColumn, column("Secrets", "string", doc("ServiceAccount.secrets")), ageColumn],
  "configmaps.": [nameColumn, column("Data", "string", doc("ConfigMap.data")), ageColumn],
  "persistentvolumes.": [
    nameColumn,
    column("Capacity", "string", doc("PersistentVolumeSpec.capacity")),
    column("Access Modes", "string", doc("PersistentVolumeSpec.accessModes")),
    column("Reclaim Policy", "string", doc("PersistentVolumeSpec.persistentVolumeReclaimPolicy")),
    column("Status", "string", doc("PersistentVolumeStatus.phase")),
    column("Claim", "string", doc("PersistentVolumeSpec.claimRef")),
    column("StorageClass", "string", "StorageClass of the pv"),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    column("Reason", "string", doc("PersistentVolumeStatus.reason")),
    ageColumn,
    column("VolumeMode", "string", doc("PersistentVolumeSpec.volumeMode"), wide),
  ],
  "persistentvolumeclaims.": [
    nameColumn,
    column("Status", "string", doc("PersistentVolumeClaimStatus.phase")),
    column("Volume", "string", doc("PersistentVolumeClaimSpec.volumeName")),
    column("Capacity", "string", doc("PersistentVolumeClaimStatus.capacity")),
    column("Access Modes", "string", doc("PersistentVolumeClaimStatus.accessModes")),
    column("StorageClass", "string", "StorageClass of the pvc"),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    ageColumn,
    column("VolumeMode", "string", doc("PersistentVolumeClaimSpec.volumeMode"), wide),
  ],
  "resourcequotas.": [
    nameColumn,
    column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
    ageColumn,
  ],
};

const clusterColumns: Record<string, TableColumnDefinition[]> = {
  "ingresses.networking.k8s.io": [
    nameColumn,
    column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
    column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    column("Ports", "string", "Ports of TLS configurations that open"),
    ageColumn,
  ],
  "ingressclasses.networking.k8s.io": [
    nameColumn,
    column("Controller", "string", "Controller that is responsible for handling this class"),
    column("Parameters", "string", "A reference to a resource with additional parameters"),
    ageColumn,
  ],
  "leases.coordination.k8s.io": [nameColumn, column("Holder", "string", doc("LeaseSpec.holderIdentity")), ageColumn],
  "endpointslices.discovery.k8s.io": [
    nameColumn,
    column("AddressType", "string", doc("EndpointSlice.addressType")),
    column("Ports", "string", doc("EndpointSlice.ports")),
    column("Endpoints", "string", doc("EndpointSlice.endpoints")),
    ageColumn,
  ],
  "storageclasses.storage.k8s.io": [
    nameColumn,
    column("Provisioner", "string", doc("StorageClass.provisioner")),
    column("ReclaimPolicy", "string", doc("StorageClass.reclaimPolicy")),
    column("VolumeBindingMode", "string", doc("StorageClass.volumeBindingMode")),
    column("AllowVolumeExpansion", "string", doc("StorageClass.allowVolumeExpansion")),
    ageColumn,
  ],
  "rolebindings.rbac.authorization.k8s.io": bindingColumns(doc("RoleBinding.roleRef"), "roleBinding"),
  "clusterrolebindings.rbac.authorization.k8s.io": bindingColumns(doc("ClusterRoleBinding.roleRef"), "clusterRoleBinding"),
};

function bindingColumns(roleDescription: string, noun: string): TableColumnDefinition[] {
  return [
    nameColumn,
    column("Role", "string", roleDescription),
    ageColumn,
    column("Users", "string", `Users in the ${noun}`, wide),
    column("Groups", "string", `Groups in the ${noun}`, wide),
    column("ServiceAccounts", "string", `ServiceAccounts in the ${noun}`, wide),
  ];
}

/** The Scale subresource's table (note: its Name column has no "name" format upstream). */
export const scaleColumns: TableColumnDefinition[] = [
  column("Name", "string", doc("ObjectMeta.name")),
  column("Desired", "integer", doc("ScaleSpec.replicas")),
  column("Available", "integer", doc("ScaleStatus.replicas")),
  ageColumn,
];

/** Upstream's default table for resources without a printer: Name and Created At (a date). */
export const defaultColumns: TableColumnDefinition[] = [nameColumn, column("Created At", "date", doc("ObjectMeta.creationTimestamp"))];

const columnsByResource: ReadonlyMap<string, TableColumnDefinition[]> = new Map(Object.entries({ ...coreColumns, ...workloadColumns, ...clusterColumns }));

/** The columns of a resource's table (keyed by group and plural resource), or undefined for the default table. */
export function columnsFor(group: string, resource: string): TableColumnDefinition[] | undefined {
  return columnsByResource.get(`${resource}.${group}`);
}
