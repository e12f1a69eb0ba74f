/** core/v1 Pod and its parts (types/pod.ts), with upstream's definition names. */
import { intOrString, labelSelector, objectMeta, quantity, resourceList, time } from "./defs-meta.ts";
import { bool, int32, int64, list, objectFields, packageBuilder, packages, required, str, stringMap, strings, type Definition, type FieldTuple } from "./dsl.ts";

const core = packageBuilder(packages.core);
const r = core.ref;

const containerFields: Record<string, FieldTuple> = {
  name: [str, "Name of the container, a DNS label unique within the pod.", required],
  image: [str, "Container image reference."],
  command: [strings, "Entrypoint array, replacing the image's ENTRYPOINT; $(VAR) references expand."],
  args: [strings, "Arguments to the entrypoint, replacing the image's CMD."],
  workingDir: [str, "Working directory; the runtime's default when empty."],
  ports: [list(r("ContainerPort")), "Ports the container exposes (informational, except hostPort)."],
  envFrom: [list(r("EnvFromSource")), "Sources whose keys all become environment variables."],
  env: [list(r("EnvVar")), "Environment variables to set in the container."],
  resources: [r("ResourceRequirements"), "Compute resources the container requests and is limited to."],
  resizePolicy: [list(r("ContainerResizePolicy")), "How each resource may be resized in place."],
  restartPolicy: [str, "Only Always, only on init containers: makes it a sidecar."],
  volumeMounts: [list(r("VolumeMount")), "Pod volumes mounted into the container's filesystem."],
  volumeDevices: [list(r("VolumeDevice")), "Block devices the container uses."],
  livenessProbe: [r("Probe"), "Restarts the container when it fails."],
  readinessProbe: [r("Probe"), "Removes the pod from service endpoints while it fails."],
  startupProbe: [r("Probe"), "Holds the other probes until the container has started."],
  lifecycle: [r("Lifecycle"), "Actions run after start and before stop."],
  terminationMessagePath: [str, "File whose content becomes the termination message."],
  terminationMessagePolicy: [str, "File or FallbackToLogsOnError."],
  imagePullPolicy: [str, "Always, Never or IfNotPresent."],
  securityContext: [r("SecurityContext"), "Security options of the container."],
  stdin: [bool, "Allocate a buffer for stdin."],
  stdinOnce: [bool, "Close stdin after the first attach ends."],
  tty: [bool, "Allocate a TTY (needs stdin)."],
};

const keyToPaths: FieldTuple = [list(r("KeyToPath")), "Which keys to project, to which paths; all keys when empty."];
const defaultMode: FieldTuple = [int32, "Mode bits of the created files (0000-0777)."];
const optional: FieldTuple = [bool, "Allow the referenced object or key to be missing."];
const referenceName: FieldTuple = [str, "Name of the referenced object."];

const volumeSources: readonly Definition[] = [
  core.def("HostPathVolumeSource", "A file or directory on the node.", {
    path: [str, "Path on the host.", required],
    type: [str, "What must be at the path: DirectoryOrCreate, File, Socket, ..."],
  }),
  core.def("EmptyDirVolumeSource", "A directory that lives as long as the pod.", {
    medium: [str, "Storage medium: empty (node disk) or Memory."],
    sizeLimit: [quantity, "Upper bound of the volume's size."],
  }),
  core.def("SecretVolumeSource", "A Secret's keys as files.", {
    secretName: [str, "Name of the secret in the pod's namespace."],
    items: keyToPaths,
    defaultMode,
    optional,
  }),
  core.def("ConfigMapVolumeSource", "A ConfigMap's keys as files.", { name: referenceName, items: keyToPaths, defaultMode, optional }),
  core.def("PersistentVolumeClaimVolumeSource", "A reference to a claim in the pod's namespace.", {
    claimName: [str, "Name of the PersistentVolumeClaim.", required],
    readOnly: [bool, "Mount read-only."],
  }),
  core.def("ProjectedVolumeSource", "Several sources in one directory.", {
    sources: [list(r("VolumeProjection")), "The sources to project."],
    defaultMode,
  }),
  core.def("VolumeProjection", "One projected source; exactly one member is set.", {
    secret: [r("SecretProjection"), "Keys of a Secret."],
    configMap: [r("ConfigMapProjection"), "Keys of a ConfigMap."],
    downwardAPI: [r("DownwardAPIProjection"), "Pod fields."],
    serviceAccountToken: [r("ServiceAccountTokenProjection"), "A service account token."],
  }),
  core.def("SecretProjection", "A Secret's keys in a projected volume.", { name: referenceName, items: keyToPaths, optional }),
  core.def("ConfigMapProjection", "A ConfigMap's keys in a projected volume.", { name: referenceName, items: keyToPaths, optional }),
  core.def("DownwardAPIProjection", "Pod fields in a projected volume.", { items: [list(r("DownwardAPIVolumeFile")), "The files."] }),
  core.def("ServiceAccountTokenProjection", "A bound service account token in a projected volume.", {
    audience: [str, "Intended audience of the token."],
    expirationSeconds: [int64, "Requested lifetime of the token."],
    path: [str, "Path of the token file.", required],
  }),
  core.def("DownwardAPIVolumeSource", "Pod fields as files.", { items: [list(r("DownwardAPIVolumeFile")), "The files."], defaultMode }),
  core.def("NFSVolumeSource", "An NFS export.", {
    server: [str, "Host name or IP of the NFS server.", required],
    path: [str, "Exported path.", required],
    readOnly: [bool, "Mount read-only."],
  }),
  core.def("CSIVolumeSource", "An ephemeral volume from a CSI driver.", {
    driver: [str, "Name of the CSI driver.", required],
    readOnly: [bool, "Mount read-only."],
    fsType: [str, "Filesystem type."],
    volumeAttributes: [stringMap, "Driver-specific properties."],
    nodePublishSecretRef: [r("LocalObjectReference"), "Secret passed to the driver."],
  }),
  core.def("EphemeralVolumeSource", "A volume provisioned for the pod from a claim template.", {
    volumeClaimTemplate: [r("PersistentVolumeClaimTemplate"), "The claim to create."],
  }),
  core.def("PersistentVolumeClaimTemplate", "A claim created with a pod.", {
    metadata: [objectMeta, "Labels and annotations of the claim."],
    spec: [r("PersistentVolumeClaimSpec"), "The claim's spec.", required],
  }),
  core.def("ImageVolumeSource", "An OCI image or artifact mounted read-only.", {
    reference: [str, "Image reference."],
    pullPolicy: [str, "Always, Never or IfNotPresent."],
  }),
];

const volumeFields: Record<string, FieldTuple> = {
  name: [str, "Name of the volume, a DNS label unique within the pod.", required],
  hostPath: [r("HostPathVolumeSource"), "A file or directory on the node."],
  emptyDir: [r("EmptyDirVolumeSource"), "A scratch directory for the pod's lifetime."],
  secret: [r("SecretVolumeSource"), "A Secret's keys as files."],
  configMap: [r("ConfigMapVolumeSource"), "A ConfigMap's keys as files."],
  persistentVolumeClaim: [r("PersistentVolumeClaimVolumeSource"), "A PersistentVolumeClaim."],
  projected: [r("ProjectedVolumeSource"), "Several sources in one directory."],
  downwardAPI: [r("DownwardAPIVolumeSource"), "Pod fields as files."],
  nfs: [r("NFSVolumeSource"), "An NFS export."],
  csi: [r("CSIVolumeSource"), "An ephemeral CSI volume."],
  ephemeral: [r("EphemeralVolumeSource"), "A volume provisioned from a claim template."],
  image: [r("ImageVolumeSource"), "An OCI image mounted read-only."],
};

const envDefinitions: readonly Definition[] = [
  core.def("ObjectFieldSelector", "Selects a field of the pod.", {
    apiVersion: [str, "Version of the schema fieldPath is written in."],
    fieldPath: [str, "Path of the field, e.g. metadata.name.", required],
  }),
  core.def("ResourceFieldSelector", "Selects a container resource (limits.cpu, requests.memory).", {
    containerName: [str, "The container; required for volumes."],
    resource: [str, "The resource to select.", required],
    divisor: [quantity, "Output unit; 1 by default."],
  }),
  core.def("ConfigMapKeySelector", "One key of a ConfigMap.", { name: referenceName, key: [str, "The key.", required], optional }),
  core.def("SecretKeySelector", "One key of a Secret.", { name: referenceName, key: [str, "The key.", required], optional }),
  core.def("EnvVarSource", "Where an environment variable's value comes from.", {
    fieldRef: [r("ObjectFieldSelector"), "A field of the pod."],
    resourceFieldRef: [r("ResourceFieldSelector"), "A resource of a container."],
    configMapKeyRef: [r("ConfigMapKeySelector"), "A ConfigMap key."],
    secretKeyRef: [r("SecretKeySelector"), "A Secret key."],
  }),
  core.def("EnvVar", "An environment variable.", {
    name: [str, "Name of the variable.", required],
    value: [str, "Value; $(VAR) references to earlier variables expand."],
    valueFrom: [r("EnvVarSource"), "Source of the value; not with value."],
  }),
  core.def("EnvFromSource", "A set of variables from a ConfigMap or Secret.", {
    prefix: [str, "Prefix added to every key."],
    configMapRef: [r("ConfigMapEnvSource"), "The ConfigMap."],
    secretRef: [r("SecretEnvSource"), "The Secret."],
  }),
  core.def("ConfigMapEnvSource", "A ConfigMap whose keys become variables.", { name: referenceName, optional }),
  core.def("SecretEnvSource", "A Secret whose keys become variables.", { name: referenceName, optional }),
];

const probeHandlerFields: Record<string, FieldTuple> = {
  exec: [r("ExecAction"), "Run a command in the container."],
  httpGet: [r("HTTPGetAction"), "An HTTP GET request."],
  tcpSocket: [r("TCPSocketAction"), "Open a TCP connection."],
};

const probeDefinitions: readonly Definition[] = [
  core.def("ExecAction", "A command run in the container; exit status 0 is success.", { command: [strings, "The command line, not run in a shell."] }),
  core.def("HTTPHeader", "A header of a probe's HTTP request.", { name: [str, "Header name.", required], value: [str, "Header value.", required] }),
  core.def("HTTPGetAction", "An HTTP GET request; 200-399 is success.", {
    path: [str, "Path to request."],
    port: [intOrString, "Port number or name.", required],
    host: [str, "Host to connect to; the pod IP by default."],
    scheme: [str, "HTTP or HTTPS."],
    httpHeaders: [list(r("HTTPHeader")), "Extra request headers."],
  }),
  core.def("TCPSocketAction", "A TCP connection attempt.", {
    port: [intOrString, "Port number or name.", required],
    host: [str, "Host to connect to; the pod IP by default."],
  }),
  core.def("GRPCAction", "A gRPC health check.", {
    port: [int32, "Port number.", required],
    service: [str, "Service name sent in the HealthCheckRequest."],
  }),
  core.def("Probe", "A health check of a container.", {
    ...probeHandlerFields,
    grpc: [r("GRPCAction"), "A gRPC health check."],
    initialDelaySeconds: [int32, "Seconds after start before probing."],
    timeoutSeconds: [int32, "Seconds before a probe times out."],
    periodSeconds: [int32, "Seconds between probes."],
    successThreshold: [int32, "Consecutive successes to count as passing."],
    failureThreshold: [int32, "Consecutive failures to count as failing."],
    terminationGracePeriodSeconds: [int64, "Grace period when a failing probe kills the container."],
  }),
  core.def("SleepAction", "Sleep for a while.", { seconds: [int64, "Seconds to sleep.", required] }),
  core.def("LifecycleHandler", "An action of a lifecycle hook.", { ...probeHandlerFields, sleep: [r("SleepAction"), "Sleep before continuing."] }),
  core.def("Lifecycle", "Hooks run by the node agent around the container's life.", {
    postStart: [r("LifecycleHandler"), "Run right after the container is created."],
    preStop: [r("LifecycleHandler"), "Run before the container is stopped."],
  }),
];

const securityDefinitions: readonly Definition[] = [
  core.def("Capabilities", "Linux capabilities to add and drop.", { add: [strings, "Capabilities to add."], drop: [strings, "Capabilities to drop."] }),
  core.def("SELinuxOptions", "SELinux labels.", {
    user: [str, "SELinux user."],
    role: [str, "SELinux role."],
    type: [str, "SELinux type."],
    level: [str, "SELinux level."],
  }),
  core.def("SeccompProfile", "A seccomp profile.", {
    type: [str, "Unconfined, RuntimeDefault or Localhost.", required],
    localhostProfile: [str, "Path of a profile on the node, for Localhost."],
  }),
  core.def("AppArmorProfile", "An AppArmor profile.", {
    type: [str, "Unconfined, RuntimeDefault or Localhost.", required],
    localhostProfile: [str, "Name of a profile loaded on the node, for Localhost."],
  }),
  core.def("SecurityContext", "Security options of one container; they override the pod's.", {
    capabilities: [r("Capabilities"), "Capabilities to add and drop."],
    privileged: [bool, "Run as privileged (root on the host)."],
    seLinuxOptions: [r("SELinuxOptions"), "SELinux context."],
    runAsUser: [int64, "UID of the entrypoint."],
    runAsGroup: [int64, "GID of the entrypoint."],
    runAsNonRoot: [bool, "Refuse to start as UID 0."],
    readOnlyRootFilesystem: [bool, "Mount the root filesystem read-only."],
    allowPrivilegeEscalation: [bool, "Allow gaining more privileges than the parent (no_new_privs off)."],
    procMount: [str, "Default or Unmasked."],
    seccompProfile: [r("SeccompProfile"), "Seccomp profile."],
    appArmorProfile: [r("AppArmorProfile"), "AppArmor profile."],
  }),
  core.def("Sysctl", "A namespaced kernel parameter.", { name: [str, "Parameter name.", required], value: [str, "Value.", required] }),
  core.def("PodSecurityContext", "Security options of all the pod's containers.", {
    seLinuxOptions: [r("SELinuxOptions"), "SELinux context."],
    runAsUser: [int64, "UID of the entrypoints."],
    runAsGroup: [int64, "GID of the entrypoints."],
    runAsNonRoot: [bool, "Refuse to start containers as UID 0."],
    supplementalGroups: [list(int64), "Extra GIDs of the first process."],
    supplementalGroupsPolicy: [str, "Merge or Strict."],
    fsGroup: [int64, "GID owning the pod's volumes."],
    sysctls: [list(r("Sysctl")), "Namespaced sysctls."],
    fsGroupChangePolicy: [str, "OnRootMismatch or Always."],
    seccompProfile: [r("SeccompProfile"), "Seccomp profile."],
    appArmorProfile: [r("AppArmorProfile"), "AppArmor profile."],
  }),
];

const containerDefinitions: readonly Definition[] = [
  core.def("ContainerPort", "A network port of a container.", {
    name: [str, "An IANA_SVC_NAME, unique within the pod, for services to refer to."],
    hostPort: [int32, "Port to expose on the host."],
    containerPort: [int32, "Port number on the pod's IP.", required],
    protocol: [str, "TCP, UDP or SCTP; TCP by default."],
    hostIP: [str, "Host IP to bind the host port to."],
  }),
  core.def("ResourceClaim", "A reference to a resource claim of the pod.", {
    name: [str, "Name of an entry of the pod's resourceClaims.", required],
    request: [str, "Name of one request of the claim."],
  }),
  core.def("ResourceRequirements", "Compute resources requested and limited.", {
    limits: [resourceList, "Maximum amounts allowed."],
    requests: [resourceList, "Minimum amounts required; defaults to the limits."],
    claims: [list(r("ResourceClaim")), "Dynamic resource claims used."],
  }),
  core.def("ContainerResizePolicy", "Whether resizing a resource restarts the container.", {
    resourceName: [str, "cpu or memory.", required],
    restartPolicy: [str, "NotRequired or RestartContainer.", required],
  }),
  core.def("VolumeMount", "A volume mounted in a container.", {
    name: [str, "Name of a volume of the pod.", required],
    readOnly: [bool, "Mount read-only."],
    recursiveReadOnly: [str, "Disabled, IfPossible or Enabled."],
    mountPath: [str, "Path in the container.", required],
    subPath: [str, "Path within the volume to mount instead of its root."],
    mountPropagation: [str, "None, HostToContainer or Bidirectional."],
    subPathExpr: [str, "Like subPath, with $(VAR) expansion."],
  }),
  core.def("VolumeDevice", "A raw block device in a container.", {
    name: [str, "Name of a claim of the pod.", required],
    devicePath: [str, "Path of the device in the container.", required],
  }),
  core.def("Container", "A single application container of a pod.", containerFields),
  core.def("EphemeralContainer", "A temporary container added to a running pod for debugging.", {
    ...containerFields,
    targetContainerName: [str, "Container whose namespaces this one joins."],
  }),
];

const schedulingDefinitions: readonly Definition[] = [
  core.def("NodeAffinity", "Node affinity rules of a pod.", {
    requiredDuringSchedulingIgnoredDuringExecution: [r("NodeSelector"), "Rules a node must meet."],
    preferredDuringSchedulingIgnoredDuringExecution: [list(r("PreferredSchedulingTerm")), "Weighted preferences."],
  }),
  core.def("PreferredSchedulingTerm", "A weighted node preference.", {
    weight: [int32, "Weight, 1-100.", required],
    preference: [r("NodeSelectorTerm"), "The node selector term.", required],
  }),
  core.def("PodAffinityTerm", "Pods the pod should (not) run near, by topology.", {
    labelSelector: [labelSelector, "Pods to match."],
    namespaces: [strings, "Namespaces of the pods; the pod's own by default."],
    topologyKey: [str, "Node label defining co-location.", required],
    namespaceSelector: [labelSelector, "Namespaces to match."],
    matchLabelKeys: [strings, "Label keys whose values come from the incoming pod."],
    mismatchLabelKeys: [strings, "Label keys whose values must differ from the incoming pod's."],
  }),
  core.def("WeightedPodAffinityTerm", "A weighted pod affinity term.", {
    weight: [int32, "Weight, 1-100.", required],
    podAffinityTerm: [r("PodAffinityTerm"), "The term.", required],
  }),
  core.def("PodAffinity", "Rules to place a pod near other pods.", {
    requiredDuringSchedulingIgnoredDuringExecution: [list(r("PodAffinityTerm")), "Terms that must hold."],
    preferredDuringSchedulingIgnoredDuringExecution: [list(r("WeightedPodAffinityTerm")), "Weighted preferences."],
  }),
  core.def("PodAntiAffinity", "Rules to keep a pod away from other pods.", {
    requiredDuringSchedulingIgnoredDuringExecution: [list(r("PodAffinityTerm")), "Terms that must hold."],
    preferredDuringSchedulingIgnoredDuringExecution: [list(r("WeightedPodAffinityTerm")), "Weighted preferences."],
  }),
  core.def("Affinity", "Scheduling constraints of a pod.", {
    nodeAffinity: [r("NodeAffinity"), "Node affinity."],
    podAffinity: [r("PodAffinity"), "Pod affinity."],
    podAntiAffinity: [r("PodAntiAffinity"), "Pod anti-affinity."],
  }),
  core.def("Toleration", "Lets a pod schedule onto nodes with a matching taint.", {
    key: [str, "Taint key; empty matches all keys (with Exists)."],
    operator: [str, "Exists or Equal."],
    value: [str, "Taint value for Equal."],
    effect: [str, "NoSchedule, PreferNoSchedule or NoExecute; empty matches all."],
    tolerationSeconds: [int64, "How long a NoExecute taint is tolerated."],
  }),
  core.def("TopologySpreadConstraint", "How to spread matching pods across a topology.", {
    maxSkew: [int32, "Maximum difference of matching pods between domains.", required],
    topologyKey: [str, "Node label defining the domains.", required],
    whenUnsatisfiable: [str, "DoNotSchedule or ScheduleAnyway.", required],
    labelSelector: [labelSelector, "Pods to count."],
    minDomains: [int32, "Minimum number of eligible domains."],
    nodeAffinityPolicy: [str, "Honor or Ignore."],
    nodeTaintsPolicy: [str, "Honor or Ignore."],
    matchLabelKeys: [strings, "Label keys whose values come from the incoming pod."],
  }),
  core.def("PodDNSConfig", "DNS settings added to the pod's resolv.conf.", {
    nameservers: [strings, "Name server IPs."],
    searches: [strings, "Search domains."],
    options: [list(r("PodDNSConfigOption")), "Resolver options."],
  }),
  core.def("PodDNSConfigOption", "A resolver option.", { name: [str, "Option name."], value: [str, "Option value."] }),
  core.def("HostAlias", "An /etc/hosts entry.", { ip: [str, "IP address.", required], hostnames: [strings, "Host names of the IP."] }),
  core.def("PodReadinessGate", "An extra condition for pod readiness.", { conditionType: [str, "A condition type of the pod.", required] }),
  core.def("PodOS", "The pod's operating system.", { name: [str, "linux or windows.", required] }),
  core.def("PodSchedulingGate", "A gate that holds the pod from scheduling.", { name: [str, "Name of the gate.", required] }),
];

const podSpec = core.def("PodSpec", "The desired behaviour of a pod.", {
  volumes: [list(r("Volume")), "Volumes containers can mount."],
  initContainers: [list(r("Container")), "Containers run in order, to completion, before the others."],
  containers: [list(r("Container")), "The pod's containers; at least one.", required],
  ephemeralContainers: [list(r("EphemeralContainer")), "Debugging containers added to a running pod."],
  restartPolicy: [str, "Always, OnFailure or Never."],
  terminationGracePeriodSeconds: [int64, "Seconds to terminate gracefully."],
  activeDeadlineSeconds: [int64, "Seconds the pod may be active before it is failed."],
  dnsPolicy: [str, "ClusterFirst, ClusterFirstWithHostNet, Default or None."],
  nodeSelector: [stringMap, "Labels a node must have."],
  serviceAccountName: [str, "Service account the pod runs as."],
  serviceAccount: [str, "Deprecated alias of serviceAccountName."],
  automountServiceAccountToken: [bool, "Mount the service account token."],
  nodeName: [str, "Node the pod is bound to; set by the scheduler."],
  hostNetwork: [bool, "Use the host's network namespace."],
  hostPID: [bool, "Use the host's PID namespace."],
  hostIPC: [bool, "Use the host's IPC namespace."],
  shareProcessNamespace: [bool, "Share one PID namespace between the containers."],
  securityContext: [r("PodSecurityContext"), "Pod-level security options."],
  imagePullSecrets: [list(r("LocalObjectReference")), "Secrets used to pull images."],
  hostname: [str, "Host name of the pod; its name by default."],
  subdomain: [str, "Subdomain for a fully qualified host name."],
  affinity: [r("Affinity"), "Scheduling constraints."],
  schedulerName: [str, "The scheduler that schedules the pod."],
  tolerations: [list(r("Toleration")), "Taints the pod tolerates."],
  hostAliases: [list(r("HostAlias")), "Extra /etc/hosts entries."],
  priorityClassName: [str, "Name of the pod's PriorityClass."],
  priority: [int32, "Priority value, from the priority class."],
  dnsConfig: [r("PodDNSConfig"), "DNS settings."],
  readinessGates: [list(r("PodReadinessGate")), "Extra conditions for readiness."],
  runtimeClassName: [str, "RuntimeClass to run the pod with."],
  enableServiceLinks: [bool, "Inject service environment variables."],
  preemptionPolicy: [str, "PreemptLowerPriority or Never."],
  overhead: [resourceList, "Resources the sandbox uses on top of the containers."],
  topologySpreadConstraints: [list(r("TopologySpreadConstraint")), "How to spread pods across topology domains."],
  setHostnameAsFQDN: [bool, "Set the host name to the fully qualified domain name."],
  os: [r("PodOS"), "The pod's operating system."],
  hostUsers: [bool, "Use the host's user namespace."],
  schedulingGates: [list(r("PodSchedulingGate")), "Gates that hold scheduling."],
  resources: [r("ResourceRequirements"), "Pod-level resources."],
});

const statusDefinitions: readonly Definition[] = [
  core.def("PodCondition", "One aspect of a pod's state.", {
    type: [str, "PodScheduled, Initialized, ContainersReady, Ready, ...", required],
    status: [str, "True, False or Unknown.", required],
    lastProbeTime: [time, "When the condition was last probed."],
    lastTransitionTime: [time, "When the status last changed."],
    reason: [str, "CamelCase reason of the last transition."],
    message: [str, "Human-readable detail."],
  }),
  core.def("ContainerStateWaiting", "A container that is not running yet.", { reason: [str, "Why it is waiting."], message: [str, "Detail."] }),
  core.def("ContainerStateRunning", "A running container.", { startedAt: [time, "When it last started."] }),
  core.def("ContainerStateTerminated", "A container that has exited.", {
    exitCode: [int32, "Exit status of the last termination.", required],
    signal: [int32, "Signal of the last termination."],
    reason: [str, "Why it terminated."],
    message: [str, "Detail."],
    startedAt: [time, "When it started."],
    finishedAt: [time, "When it terminated."],
    containerID: [str, "ID of the container, runtime://id."],
  }),
  core.def("ContainerState", "A container's state; at most one member is set.", {
    waiting: [r("ContainerStateWaiting"), "Waiting."],
    running: [r("ContainerStateRunning"), "Running."],
    terminated: [r("ContainerStateTerminated"), "Terminated."],
  }),
  core.def("ContainerStatus", "The state of one container.", {
    name: [str, "Name of the container.", required],
    state: [r("ContainerState"), "Current state."],
    lastState: [r("ContainerState"), "State of the last termination."],
    ready: [bool, "Passed its readiness probe.", required],
    restartCount: [int32, "Times the container restarted.", required],
    image: [str, "Image it runs.", required],
    imageID: [str, "Image ID it runs.", required],
    containerID: [str, "runtime://id."],
    started: [bool, "Passed its startup probe."],
    allocatedResources: [resourceList, "Resources the node allocated."],
    resources: [r("ResourceRequirements"), "Resources the container was given."],
  }),
  core.def("HostIP", "An IP of the pod's host.", { ip: [str, "The IP.", required] }),
  core.def("PodIP", "An IP of the pod.", { ip: [str, "The IP.", required] }),
  core.def("PodStatus", "The observed state of a pod.", {
    phase: [str, "Pending, Running, Succeeded, Failed or Unknown."],
    conditions: [list(r("PodCondition")), "Current conditions."],
    message: [str, "Why the pod is in this state."],
    reason: [str, "CamelCase reason."],
    nominatedNodeName: [str, "Node the pod preempted pods on."],
    hostIP: [str, "Primary IP of the node."],
    hostIPs: [list(r("HostIP")), "IPs of the node."],
    podIP: [str, "Primary IP of the pod."],
    podIPs: [list(r("PodIP")), "IPs of the pod."],
    startTime: [time, "When the node agent accepted the pod."],
    initContainerStatuses: [list(r("ContainerStatus")), "Init container states."],
    containerStatuses: [list(r("ContainerStatus")), "Container states."],
    qosClass: [str, "Guaranteed, Burstable or BestEffort."],
    ephemeralContainerStatuses: [list(r("ContainerStatus")), "Ephemeral container states."],
  }),
];

export const podDefinitions: readonly Definition[] = [
  ...volumeSources,
  core.def("Volume", "A named volume the pod's containers can mount.", volumeFields),
  ...envDefinitions,
  ...probeDefinitions,
  ...securityDefinitions,
  ...containerDefinitions,
  ...schedulingDefinitions,
  podSpec,
  core.def("PodTemplateSpec", "The pods a controller creates.", {
    metadata: [objectMeta, "Metadata of the pods."],
    spec: [r("PodSpec"), "Spec of the pods."],
  }),
  ...statusDefinitions,
  core.def("Pod", "A group of containers run together on one node.", {
    ...objectFields("Pod"),
    spec: [r("PodSpec"), "Desired behaviour of the pod."],
    status: [r("PodStatus"), "Observed state of the pod, written by the system."],
  }),
  core.def("PodTemplate", "A stored pod template.", {
    ...objectFields("PodTemplate"),
    template: [r("PodTemplateSpec"), "The template."],
  }),
  core.def("KeyToPath", "A key projected to a path.", {
    key: [str, "The key.", required],
    path: [str, "Relative path of the file.", required],
    mode: [int32, "Mode bits of the file."],
  }),
  core.def("DownwardAPIVolumeFile", "A file holding a pod field.", {
    path: [str, "Relative path of the file.", required],
    fieldRef: [r("ObjectFieldSelector"), "A pod field."],
    resourceFieldRef: [r("ResourceFieldSelector"), "A container resource."],
    mode: [int32, "Mode bits of the file."],
  }),
];
