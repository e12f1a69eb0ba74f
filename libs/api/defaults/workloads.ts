/**
 * apps/v1 and batch/v1 defaulting as upstream (pkg/apis/apps/v1/defaults.go,
 * pkg/apis/batch/v1/defaults.go): replicas, strategies, history limits, and the pod defaults of
 * every embedded template. Functions mutate the object they are given.
 */
import type { CronJob, DaemonSet, Deployment, Job, JobSpec, ReplicaSet, ReplicationController, StatefulSet } from "../types/workloads.ts";
import { defaultPersistentVolumeClaimSpec, defaultPodTemplateSpec } from "./pod.ts";

export const revisionHistoryLimitDefault = 10;
export const progressDeadlineSecondsDefault = 600;
export const backoffLimitDefault = 6;
/** backoffLimit when backoffLimitPerIndex is set: effectively unlimited (math.MaxInt32). */
export const backoffLimitUnlimited = 2147483647;
export const successfulJobsHistoryLimitDefault = 3;
export const failedJobsHistoryLimitDefault = 1;

export function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (spec === undefined) return;
  if (spec.replicas === undefined) spec.replicas = 1;
  spec.strategy ??= {};
  if (spec.strategy.type === undefined) spec.strategy.type = "RollingUpdate";
  if (spec.strategy.type === "RollingUpdate") {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
    spec.strategy.rollingUpdate.maxSurge ??= "25%";
  }
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = revisionHistoryLimitDefault;
  if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = progressDeadlineSecondsDefault;
  defaultPodTemplateSpec(spec.template);
}

export function defaultReplicaSet(replicaSet: ReplicaSet): void {
  const spec = replicaSet.spec;
  if (spec === undefined) return;
  if (spec.replicas === undefined) spec.replicas = 1;
  defaultPodTemplateSpec(spec.template);
}

/** SetDefaults_ReplicationController: selector and labels from the template's labels, 1 replica. */
export function defaultReplicationController(controller: ReplicationController): void {
  const spec = controller.spec;
  if (spec === undefined) return;
  const templateLabels = spec.template?.metadata?.labels ?? {};
  if (Object.keys(templateLabels).length > 0) {
    if (Object.keys(spec.selector ?? {}).length === 0) spec.selector = { ...templateLabels };
    if (Object.keys(controller.metadata.labels ?? {}).length === 0) controller.metadata.labels = { ...templateLabels };
  }
  if (spec.replicas === undefined) spec.replicas = 1;
  defaultPodTemplateSpec(spec.template);
}

export function defaultStatefulSet(statefulSet: StatefulSet): void {
  const spec = statefulSet.spec;
  if (spec === undefined) return;
  if (spec.podManagementPolicy === undefined) spec.podManagementPolicy = "OrderedReady";
  spec.updateStrategy ??= {};
  if (spec.updateStrategy.type === undefined) spec.updateStrategy.type = "RollingUpdate";
  if (spec.updateStrategy.type === "RollingUpdate") {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.partition ??= 0;
  }
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= "Retain";
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= "Retain";
  if (spec.replicas === undefined) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = revisionHistoryLimitDefault;
  for (const claim of spec.volumeClaimTemplates ?? []) {
    // Upstream stamps the claim templates with their type, as `kubectl get -o yaml` shows.
    claim.apiVersion ??= "v1";
    claim.kind ??= "PersistentVolumeClaim";
    if (claim.spec !== undefined) defaultPersistentVolumeClaimSpec(claim.spec);
    claim.status ??= { phase: "Pending" };
  }
  defaultPodTemplateSpec(spec.template);
}

export function defaultDaemonSet(daemonSet: DaemonSet): void {
  const spec = daemonSet.spec;
  if (spec === undefined) return;
  spec.updateStrategy ??= {};
  if (spec.updateStrategy.type === undefined) spec.updateStrategy.type = "RollingUpdate";
  if (spec.updateStrategy.type === "RollingUpdate") {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = revisionHistoryLimitDefault;
  defaultPodTemplateSpec(spec.template);
}

function defaultJobSpec(spec: JobSpec): void {
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  if (spec.parallelism === undefined) spec.parallelism = 1;
  if (spec.backoffLimit === undefined) spec.backoffLimit = spec.backoffLimitPerIndex === undefined ? backoffLimitDefault : backoffLimitUnlimited;
  if (spec.completionMode === undefined) spec.completionMode = "NonIndexed";
  if (spec.suspend === undefined) spec.suspend = false;
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const condition of rule.onPodConditions ?? []) {
      if ((condition.status as string | undefined) === undefined) condition.status = "True";
    }
  }
  if (spec.podReplacementPolicy === undefined) spec.podReplacementPolicy = spec.podFailurePolicy === undefined ? "TerminatingOrFailed" : "Failed";
}

export function defaultJob(job: Job): void {
  const spec = job.spec;
  if (spec === undefined) return;
  defaultJobSpec(spec);
  // A Job without labels takes its template's (SetDefaults_Job).
  const templateLabels = spec.template?.metadata?.labels;
  if (Object.keys(job.metadata.labels ?? {}).length === 0 && templateLabels !== undefined) job.metadata.labels = { ...templateLabels };
  defaultPodTemplateSpec(spec.template);
}

/** SetDefaults_CronJob; the job template gets pod defaults but not Job defaults, as upstream. */
export function defaultCronJob(cronJob: CronJob): void {
  const spec = cronJob.spec;
  if (spec === undefined) return;
  if (spec.concurrencyPolicy === undefined) spec.concurrencyPolicy = "Allow";
  if (spec.suspend === undefined) spec.suspend = false;
  if (spec.successfulJobsHistoryLimit === undefined) spec.successfulJobsHistoryLimit = successfulJobsHistoryLimitDefault;
  if (spec.failedJobsHistoryLimit === undefined) spec.failedJobsHistoryLimit = failedJobsHistoryLimitDefault;
  defaultPodTemplateSpec(spec.jobTemplate?.spec?.template);
}
