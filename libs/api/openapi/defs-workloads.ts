/** apps/v1 and batch/v1 (types/workloads.ts), with upstream's definition names. */
import { intOrString, labelSelector, objectMeta, time } from "./defs-meta.ts";
import { bool, int32, int64, list, objectFields, packageBuilder, packages, raw, required, str, stringMap, strings, type Definition, type FieldTuple } from "./dsl.ts";

const apps = packageBuilder(packages.apps);
const batch = packageBuilder(packages.batch);
const core = packageBuilder(packages.core);

// One condition shape for every workload status, as types/workloads.ts has it (a superset of
// each upstream condition type, so controllers' writes are never pruned).
const conditionFields: Record<string, FieldTuple> = {
  type: [str, "Type of the condition.", required],
  status: [str, "True, False or Unknown.", required],
  lastUpdateTime: [time, "When the condition was last updated."],
  lastProbeTime: [time, "When the condition was last checked."],
  lastTransitionTime: [time, "When the status last changed."],
  reason: [str, "CamelCase reason of the last transition."],
  message: [str, "Human-readable detail."],
};

const selector: FieldTuple = [labelSelector, "Label query over the pods; must match the template's labels.", required];
const template: FieldTuple = [core.ref("PodTemplateSpec"), "The pods to create.", required];
const minReadySeconds: FieldTuple = [int32, "Seconds a new pod must be ready before it counts as available."];
const revisionHistoryLimit: FieldTuple = [int32, "Old revisions to keep for rollback."];
const observedGeneration: FieldTuple = [int64, "The generation the controller last acted on."];
const collisionCount: FieldTuple = [int32, "Hash collisions seen, for naming revisions."];

const deployment: readonly Definition[] = [
  apps.def("RollingUpdateDeployment", "Settings of a rolling update.", {
    maxUnavailable: [intOrString, "Pods that may be unavailable during the update (number or percent)."],
    maxSurge: [intOrString, "Pods that may exist above the desired count (number or percent)."],
  }),
  apps.def("DeploymentStrategy", "How pods are replaced.", {
    type: [str, "Recreate or RollingUpdate."],
    rollingUpdate: [apps.ref("RollingUpdateDeployment"), "Rolling update settings."],
  }),
  apps.def("DeploymentSpec", "The desired state of a deployment.", {
    replicas: [int32, "Desired number of pods; 1 by default."],
    selector,
    template,
    strategy: [apps.ref("DeploymentStrategy"), "How to replace old pods with new ones."],
    minReadySeconds,
    revisionHistoryLimit,
    paused: [bool, "Stop rolling out changes."],
    progressDeadlineSeconds: [int32, "Seconds before a stalled rollout is reported."],
  }),
  apps.def("DeploymentCondition", "One aspect of a deployment's state.", conditionFields),
  apps.def("DeploymentStatus", "The observed state of a deployment.", {
    observedGeneration,
    replicas: [int32, "Pods targeted."],
    updatedReplicas: [int32, "Pods with the current template."],
    readyReplicas: [int32, "Ready pods."],
    availableReplicas: [int32, "Available pods."],
    unavailableReplicas: [int32, "Unavailable pods."],
    conditions: [list(apps.ref("DeploymentCondition")), "Current conditions."],
    collisionCount,
  }),
  apps.def("Deployment", "Declarative updates for pods and replica sets.", {
    ...objectFields("Deployment"),
    spec: [apps.ref("DeploymentSpec"), "Desired state."],
    status: [apps.ref("DeploymentStatus"), "Observed state."],
  }),
  apps.def("ReplicaSetSpec", "The desired state of a replica set.", {
    replicas: [int32, "Desired number of pods; 1 by default."],
    minReadySeconds,
    selector,
    template: [core.ref("PodTemplateSpec"), "The pods to create."],
  }),
  apps.def("ReplicaSetCondition", "One aspect of a replica set's state.", conditionFields),
  apps.def("ReplicaSetStatus", "The observed state of a replica set.", {
    replicas: [int32, "Pods observed.", required],
    fullyLabeledReplicas: [int32, "Pods whose labels match the template's."],
    readyReplicas: [int32, "Ready pods."],
    availableReplicas: [int32, "Available pods."],
    observedGeneration,
    conditions: [list(apps.ref("ReplicaSetCondition")), "Current conditions."],
  }),
  apps.def("ReplicaSet", "Keeps a number of identical pods running.", {
    ...objectFields("ReplicaSet"),
    spec: [apps.ref("ReplicaSetSpec"), "Desired state."],
    status: [apps.ref("ReplicaSetStatus"), "Observed state."],
  }),
];

// core v1 ReplicationController: ReplicaSet's shape with a plain label-map selector.
const replicationController: readonly Definition[] = [
  core.def("ReplicationControllerSpec", "The desired state of a replication controller.", {
    replicas: [int32, "Desired number of pods; 1 by default."],
    minReadySeconds,
    selector: [stringMap, "Labels of the pods it keeps; the template's labels by default."],
    template: [core.ref("PodTemplateSpec"), "The pods to create."],
  }),
  core.def("ReplicationControllerCondition", "One aspect of a replication controller's state.", conditionFields),
  core.def("ReplicationControllerStatus", "The observed state of a replication controller.", {
    replicas: [int32, "Pods observed.", required],
    fullyLabeledReplicas: [int32, "Pods whose labels match the template's."],
    readyReplicas: [int32, "Ready pods."],
    availableReplicas: [int32, "Available pods."],
    observedGeneration,
    conditions: [list(core.ref("ReplicationControllerCondition")), "Current conditions."],
  }),
  core.def("ReplicationController", "Keeps a number of identical pods running (the older form of ReplicaSet).", {
    ...objectFields("ReplicationController"),
    spec: [core.ref("ReplicationControllerSpec"), "Desired state."],
    status: [core.ref("ReplicationControllerStatus"), "Observed state."],
  }),
];

const statefulSet: readonly Definition[] = [
  apps.def("RollingUpdateStatefulSetStrategy", "Settings of a stateful set rolling update.", {
    partition: [int32, "Ordinal at and above which pods are updated."],
    maxUnavailable: [intOrString, "Pods that may be unavailable during the update."],
  }),
  apps.def("StatefulSetUpdateStrategy", "How a stateful set updates its pods.", {
    type: [str, "RollingUpdate or OnDelete."],
    rollingUpdate: [apps.ref("RollingUpdateStatefulSetStrategy"), "Rolling update settings."],
  }),
  apps.def("StatefulSetPersistentVolumeClaimRetentionPolicy", "What happens to claims from templates.", {
    whenDeleted: [str, "Retain or Delete, when the set is deleted."],
    whenScaled: [str, "Retain or Delete, when the set is scaled down."],
  }),
  apps.def("StatefulSetOrdinals", "Numbering of the replicas.", { start: [int32, "First ordinal."] }),
  apps.def("StatefulSetSpec", "The desired state of a stateful set.", {
    replicas: [int32, "Desired number of pods; 1 by default."],
    selector,
    template,
    volumeClaimTemplates: [list(core.ref("PersistentVolumeClaim")), "Claims each pod gets, by name."],
    serviceName: [str, "The headless service governing the set."],
    podManagementPolicy: [str, "OrderedReady or Parallel."],
    updateStrategy: [apps.ref("StatefulSetUpdateStrategy"), "How pods are updated."],
    revisionHistoryLimit,
    minReadySeconds,
    persistentVolumeClaimRetentionPolicy: [apps.ref("StatefulSetPersistentVolumeClaimRetentionPolicy"), "Claim retention."],
    ordinals: [apps.ref("StatefulSetOrdinals"), "Replica numbering."],
  }),
  apps.def("StatefulSetCondition", "One aspect of a stateful set's state.", conditionFields),
  apps.def("StatefulSetStatus", "The observed state of a stateful set.", {
    observedGeneration,
    replicas: [int32, "Pods created.", required],
    readyReplicas: [int32, "Ready pods."],
    currentReplicas: [int32, "Pods at currentRevision."],
    updatedReplicas: [int32, "Pods at updateRevision."],
    currentRevision: [str, "Revision of the current pods."],
    updateRevision: [str, "Revision pods are updated to."],
    collisionCount,
    conditions: [list(apps.ref("StatefulSetCondition")), "Current conditions."],
    availableReplicas: [int32, "Available pods."],
  }),
  apps.def("StatefulSet", "Pods with stable identities and storage.", {
    ...objectFields("StatefulSet"),
    spec: [apps.ref("StatefulSetSpec"), "Desired state."],
    status: [apps.ref("StatefulSetStatus"), "Observed state."],
  }),
  apps.def("RollingUpdateDaemonSet", "Settings of a daemon set rolling update.", {
    maxUnavailable: [intOrString, "Nodes whose pod may be unavailable."],
    maxSurge: [intOrString, "Nodes that may run an extra pod."],
  }),
  apps.def("DaemonSetUpdateStrategy", "How a daemon set updates its pods.", {
    type: [str, "RollingUpdate or OnDelete."],
    rollingUpdate: [apps.ref("RollingUpdateDaemonSet"), "Rolling update settings."],
  }),
  apps.def("DaemonSetSpec", "The desired state of a daemon set.", {
    selector,
    template,
    updateStrategy: [apps.ref("DaemonSetUpdateStrategy"), "How pods are updated."],
    minReadySeconds,
    revisionHistoryLimit,
  }),
  apps.def("DaemonSetCondition", "One aspect of a daemon set's state.", conditionFields),
  apps.def("DaemonSetStatus", "The observed state of a daemon set.", {
    currentNumberScheduled: [int32, "Nodes running the pod that should.", required],
    numberMisscheduled: [int32, "Nodes running the pod that should not.", required],
    desiredNumberScheduled: [int32, "Nodes that should run the pod.", required],
    numberReady: [int32, "Nodes with a ready pod.", required],
    observedGeneration,
    updatedNumberScheduled: [int32, "Nodes running the updated pod."],
    numberAvailable: [int32, "Nodes with an available pod."],
    numberUnavailable: [int32, "Nodes without an available pod."],
    collisionCount,
    conditions: [list(apps.ref("DaemonSetCondition")), "Current conditions."],
  }),
  apps.def("DaemonSet", "A pod on every eligible node.", {
    ...objectFields("DaemonSet"),
    spec: [apps.ref("DaemonSetSpec"), "Desired state."],
    status: [apps.ref("DaemonSetStatus"), "Observed state."],
  }),
  apps.def("ControllerRevision", "An immutable snapshot of a controller's state.", {
    ...objectFields("ControllerRevision"),
    data: [raw, "The serialised state."],
    revision: [int64, "Revision number.", required],
  }),
];

const jobSpecFields: Record<string, FieldTuple> = {
  parallelism: [int32, "Pods running at once at most."],
  completions: [int32, "Successful pods needed."],
  activeDeadlineSeconds: [int64, "Seconds the job may run."],
  podFailurePolicy: [batch.ref("PodFailurePolicy"), "How pod failures are handled."],
  successPolicy: [batch.ref("SuccessPolicy"), "When an indexed job succeeds early."],
  backoffLimit: [int32, "Retries before the job fails; 6 by default."],
  backoffLimitPerIndex: [int32, "Retries per index of an indexed job."],
  maxFailedIndexes: [int32, "Failed indexes before the job fails."],
  selector: [labelSelector, "Label query over the pods; usually generated."],
  manualSelector: [bool, "Use the selector as given."],
  template: [core.ref("PodTemplateSpec"), "The pods to run.", required],
  ttlSecondsAfterFinished: [int32, "Seconds after finishing before the job is deleted."],
  completionMode: [str, "NonIndexed or Indexed."],
  suspend: [bool, "Stop creating pods."],
  podReplacementPolicy: [str, "TerminatingOrFailed or Failed."],
  managedBy: [str, "Controller that manages the job."],
};

const job: readonly Definition[] = [
  batch.def("PodFailurePolicyOnExitCodesRequirement", "Matches exit codes.", {
    containerName: [str, "Container to check; all by default."],
    operator: [str, "In or NotIn.", required],
    values: [list(int32), "Exit codes.", required],
  }),
  batch.def("PodFailurePolicyOnPodConditionsPattern", "Matches a pod condition.", {
    type: [str, "Condition type.", required],
    status: [str, "Condition status.", required],
  }),
  batch.def("PodFailurePolicyRule", "An action for matching pod failures.", {
    action: [str, "FailJob, FailIndex, Ignore or Count.", required],
    onExitCodes: [batch.ref("PodFailurePolicyOnExitCodesRequirement"), "Exit codes to match."],
    onPodConditions: [list(batch.ref("PodFailurePolicyOnPodConditionsPattern")), "Conditions to match."],
  }),
  batch.def("PodFailurePolicy", "Rules for pod failures, first match wins.", { rules: [list(batch.ref("PodFailurePolicyRule")), "The rules.", required] }),
  batch.def("SuccessPolicyRule", "When an indexed job counts as succeeded.", {
    succeededIndexes: [str, "Indexes that must succeed, e.g. 0-2,5."],
    succeededCount: [int32, "How many of them."],
  }),
  batch.def("SuccessPolicy", "Rules for early success.", { rules: [list(batch.ref("SuccessPolicyRule")), "The rules.", required] }),
  batch.def("JobSpec", "The desired state of a job.", jobSpecFields),
  batch.def("JobCondition", "One aspect of a job's state.", conditionFields),
  batch.def("UncountedTerminatedPods", "Finished pods not counted yet.", {
    succeeded: [strings, "UIDs of succeeded pods."],
    failed: [strings, "UIDs of failed pods."],
  }),
  batch.def("JobStatus", "The observed state of a job.", {
    conditions: [list(batch.ref("JobCondition")), "Current conditions."],
    startTime: [time, "When the job started."],
    completionTime: [time, "When the job completed."],
    active: [int32, "Running pods."],
    succeeded: [int32, "Succeeded pods."],
    failed: [int32, "Failed pods."],
    terminating: [int32, "Terminating pods."],
    completedIndexes: [str, "Completed indexes, e.g. 1,3-5."],
    failedIndexes: [str, "Failed indexes."],
    uncountedTerminatedPods: [batch.ref("UncountedTerminatedPods"), "Pods not counted yet."],
    ready: [int32, "Ready pods."],
  }),
  batch.def("Job", "Pods run to completion.", {
    ...objectFields("Job"),
    spec: [batch.ref("JobSpec"), "Desired state."],
    status: [batch.ref("JobStatus"), "Observed state."],
  }),
  batch.def("JobTemplateSpec", "The jobs a cron job creates.", {
    metadata: [objectMeta, "Metadata of the jobs."],
    spec: [batch.ref("JobSpec"), "Spec of the jobs."],
  }),
  batch.def("CronJobSpec", "The desired state of a cron job.", {
    schedule: [str, "Schedule in cron format.", required],
    timeZone: [str, "Time zone of the schedule."],
    startingDeadlineSeconds: [int64, "Seconds a missed run may still start."],
    concurrencyPolicy: [str, "Allow, Forbid or Replace."],
    suspend: [bool, "Skip future runs."],
    jobTemplate: [batch.ref("JobTemplateSpec"), "The job to create.", required],
    successfulJobsHistoryLimit: [int32, "Successful jobs to keep."],
    failedJobsHistoryLimit: [int32, "Failed jobs to keep."],
  }),
  batch.def("CronJobStatus", "The observed state of a cron job.", {
    active: [list(core.ref("ObjectReference")), "Running jobs."],
    lastScheduleTime: [time, "Last time a job was scheduled."],
    lastSuccessfulTime: [time, "Last time a job succeeded."],
  }),
  batch.def("CronJob", "A job run on a schedule.", {
    ...objectFields("CronJob"),
    spec: [batch.ref("CronJobSpec"), "Desired state."],
    status: [batch.ref("CronJobStatus"), "Observed state."],
  }),
];

export const workloadDefinitions: readonly Definition[] = [...deployment, ...replicationController, ...statefulSet, ...job];
