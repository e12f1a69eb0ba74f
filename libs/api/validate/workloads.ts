/**
 * apps/v1 and batch/v1 spec validation as upstream (pkg/apis/apps/validation,
 * pkg/apis/batch/validation): selectors that must select the template, pod templates with the
 * restart policies each controller supports, replicas and strategies, Job and CronJob fields, and
 * the fields that may not change on update.
 */
import type { FieldError } from "../field-errors.ts";
import { fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "../field-errors.ts";
import { FieldPath } from "../field-path.ts";
import { labelSelectorAsSelector } from "../labels.ts";
import type { LabelSelector } from "../types/meta.ts";
import type { PodTemplateSpec } from "../types/pod.ts";
import type {
  CronJob,
  DaemonSet,
  DaemonSetSpec,
  Deployment,
  DeploymentSpec,
  Job,
  JobSpec,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
  StatefulSetSpec,
} from "../types/workloads.ts";
import { validateLabelSelector } from "../validation.ts";
import {
  fieldInvalidVerbatim,
  goStringMap,
  intOrPercentValue,
  intOrStringText,
  validateImmutableField,
  validateNonnegative,
  validateNotMoreThan100Percent,
  validatePositiveIntOrPercent,
} from "./common.ts";
import { isKnownTimeZone, parseCronSchedule } from "./cron.ts";
import { validatePodTemplateSpec } from "./pod.ts";

/** Longest CronJob name: the controller appends an 11-character suffix to make Job names. */
export const cronJobNameBytesMax = 52;

const specPath = FieldPath.of("spec");

function selectorMatchesTemplate(selector: LabelSelector, template: PodTemplateSpec, path: FieldPath): FieldError[] {
  let matches: boolean;
  try {
    const parsed = labelSelectorAsSelector(selector);
    matches = parsed.isEmpty() || parsed.matches(template.metadata?.labels);
  } catch {
    return [fieldInvalid(path.child("selector"), selector, "invalid label selector")];
  }
  return matches ? [] : [unmatchedTemplateLabels(template, path)];
}

function unmatchedTemplateLabels(template: PodTemplateSpec, path: FieldPath): FieldError {
  const labelsPath = path.child("template", "metadata", "labels");
  return fieldInvalidVerbatim(labelsPath, goStringMap(template.metadata?.labels), "`selector` does not match template `labels`");
}

/** A required, non-empty selector that selects the template, as the apps controllers demand. */
function validateSelectorForTemplate(selector: LabelSelector | undefined, template: PodTemplateSpec | undefined, kindName: string, path: FieldPath): FieldError[] {
  if (selector === undefined) {
    // A missing selector converts to one that matches nothing, so upstream also reports the
    // template labels as unmatched (the pair people see when they forget apps/v1's selector).
    const errors = [fieldRequired(path.child("selector"), "")];
    if (template !== undefined) errors.push(unmatchedTemplateLabels(template, path));
    return errors;
  }
  const errors = validateLabelSelector(selector, path.child("selector"));
  if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) {
    errors.push(fieldInvalid(path.child("selector"), selector, `empty selector is invalid for ${kindName}`));
  }
  if (template !== undefined) errors.push(...selectorMatchesTemplate(selector, template, path));
  return errors;
}

/** Upstream's ValidatePodTemplateSpecForReplicaSet and its siblings: Always only, no deadline. */
function validateAlwaysTemplate(template: PodTemplateSpec | undefined, path: FieldPath): FieldError[] {
  if (template === undefined) return [fieldRequired(path, "")];
  const errors = validatePodTemplateSpec(template, path);
  const policy = template.spec?.restartPolicy;
  if (policy !== undefined && policy !== "Always") errors.push(fieldNotSupported(path.child("spec", "restartPolicy"), policy, ["Always"]));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errors.push(fieldForbidden(path.child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"));
  }
  return errors;
}

function validateDeploymentStrategy(strategy: DeploymentSpec["strategy"], path: FieldPath): FieldError[] {
  if (strategy === undefined || strategy.type === undefined) return [];
  if (strategy.type === "Recreate") {
    return strategy.rollingUpdate === undefined ? [] : [fieldForbidden(path.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")];
  }
  if (strategy.type !== "RollingUpdate") return [fieldNotSupported(path, strategy, ["Recreate", "RollingUpdate"])];
  const rolling = strategy.rollingUpdate;
  if (rolling === undefined) return [];
  const rollingPath = path.child("rollingUpdate");
  const errors = validatePositiveIntOrPercent(rolling.maxUnavailable, rollingPath.child("maxUnavailable"));
  errors.push(...validatePositiveIntOrPercent(rolling.maxSurge, rollingPath.child("maxSurge")));
  if (intOrPercentValue(rolling.maxUnavailable) === 0 && intOrPercentValue(rolling.maxSurge) === 0) {
    errors.push(fieldInvalidVerbatim(rollingPath.child("maxUnavailable"), intOrStringText(rolling.maxUnavailable), "may not be 0 when `maxSurge` is 0"));
  }
  errors.push(...validateNotMoreThan100Percent(rolling.maxUnavailable, rollingPath.child("maxUnavailable")));
  return errors;
}

export function validateDeploymentSpec(spec: DeploymentSpec, path: FieldPath = specPath): FieldError[] {
  const errors = validateNonnegative(spec.replicas, path.child("replicas"));
  errors.push(...validateSelectorForTemplate(spec.selector, spec.template, "deployment", path));
  errors.push(...validateAlwaysTemplate(spec.template, path.child("template")));
  errors.push(...validateDeploymentStrategy(spec.strategy, path.child("strategy")));
  errors.push(...validateNonnegative(spec.minReadySeconds, path.child("minReadySeconds")));
  errors.push(...validateNonnegative(spec.revisionHistoryLimit, path.child("revisionHistoryLimit")));
  const deadline = spec.progressDeadlineSeconds;
  if (deadline !== undefined) {
    errors.push(...validateNonnegative(deadline, path.child("progressDeadlineSeconds")));
    if (deadline <= (spec.minReadySeconds ?? 0)) errors.push(fieldInvalid(path.child("progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds"));
  }
  return errors;
}

export function validateDeployment(deployment: Deployment): FieldError[] {
  return deployment.spec === undefined ? [fieldRequired(specPath, "")] : validateDeploymentSpec(deployment.spec);
}

export function validateReplicaSet(replicaSet: ReplicaSet): FieldError[] {
  const spec = replicaSet.spec;
  if (spec === undefined) return [fieldRequired(specPath, "")];
  const errors = validateNonnegative(spec.replicas, specPath.child("replicas"));
  errors.push(...validateNonnegative(spec.minReadySeconds, specPath.child("minReadySeconds")));
  errors.push(...validateSelectorForTemplate(spec.selector, spec.template, "deployment", specPath));
  errors.push(...validateAlwaysTemplate(spec.template, specPath.child("template")));
  return errors;
}

/** core v1 ReplicationController (ValidateReplicationControllerSpec): a non-empty map selector that selects the template. */
export function validateReplicationController(controller: ReplicationController): FieldError[] {
  const spec = controller.spec;
  if (spec === undefined) return [fieldRequired(specPath, "")];
  const errors = validateNonnegative(spec.replicas, specPath.child("replicas"));
  errors.push(...validateNonnegative(spec.minReadySeconds, specPath.child("minReadySeconds")));
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) {
    errors.push(fieldRequired(specPath.child("selector"), ""));
  } else {
    errors.push(...validateLabelSelector({ matchLabels: selector }, specPath.child("selector")));
    if (spec.template !== undefined) errors.push(...selectorMatchesTemplate({ matchLabels: selector }, spec.template, specPath));
  }
  errors.push(...validateAlwaysTemplate(spec.template, specPath.child("template")));
  return errors;
}

function validateStatefulSetStrategy(strategy: StatefulSetSpec["updateStrategy"], path: FieldPath): FieldError[] {
  if (strategy?.type === undefined) return [];
  if (strategy.type === "OnDelete") {
    return strategy.rollingUpdate === undefined ? [] : [fieldInvalid(path.child("rollingUpdate"), strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")];
  }
  if (strategy.type !== "RollingUpdate") return [fieldInvalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'")];
  const rolling = strategy.rollingUpdate;
  if (rolling === undefined) return [];
  const errors = validateNonnegative(rolling.partition, path.child("rollingUpdate", "partition"));
  if (rolling.maxUnavailable !== undefined) {
    errors.push(...validatePositiveIntOrPercent(rolling.maxUnavailable, path.child("rollingUpdate", "maxUnavailable")));
    if (intOrPercentValue(rolling.maxUnavailable) === 0) {
      errors.push(fieldInvalidVerbatim(path.child("rollingUpdate", "maxUnavailable"), intOrStringText(rolling.maxUnavailable), "cannot be 0"));
    }
    errors.push(...validateNotMoreThan100Percent(rolling.maxUnavailable, path.child("rollingUpdate", "maxUnavailable")));
  }
  return errors;
}

/**
 * The template as the StatefulSet controller makes its pods: each volumeClaimTemplate becomes a
 * persistentVolumeClaim volume of that name, so volumeMounts may name claim templates (upstream
 * does not check a StatefulSet template's volumes against its mounts at all).
 */
function withClaimTemplateVolumes(spec: StatefulSetSpec): PodTemplateSpec | undefined {
  const template = spec.template;
  if (template?.spec === undefined) return template;
  const volumes = template.spec.volumes ?? [];
  const declared = new Set(volumes.map((volume) => volume.name));
  const claims = (spec.volumeClaimTemplates ?? [])
    .map((claim) => claim.metadata?.name ?? "")
    .filter((name) => name !== "" && !declared.has(name))
    .map((name) => ({ name, persistentVolumeClaim: { claimName: name } }));
  return claims.length === 0 ? template : { ...template, spec: { ...template.spec, volumes: [...volumes, ...claims] } };
}

export function validateStatefulSet(statefulSet: StatefulSet): FieldError[] {
  const spec = statefulSet.spec;
  if (spec === undefined) return [fieldRequired(specPath, "")];
  const errors: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (policy !== undefined && policy !== "OrderedReady" && policy !== "Parallel") {
    errors.push(fieldInvalid(specPath.child("podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  errors.push(...validateStatefulSetStrategy(spec.updateStrategy, specPath.child("updateStrategy")));
  for (const [name, value] of Object.entries(spec.persistentVolumeClaimRetentionPolicy ?? {})) {
    if (value !== "Retain" && value !== "Delete") errors.push(fieldNotSupported(specPath.child("persistentVolumeClaimRetentionPolicy", name), value, ["Retain", "Delete"]));
  }
  errors.push(...validateNonnegative(spec.replicas, specPath.child("replicas")));
  errors.push(...validateNonnegative(spec.minReadySeconds, specPath.child("minReadySeconds")));
  errors.push(...validateNonnegative(spec.ordinals?.start, specPath.child("ordinals", "start")));
  errors.push(...validateSelectorForTemplate(spec.selector, spec.template, "statefulset", specPath));
  errors.push(...validateAlwaysTemplate(withClaimTemplateVolumes(spec), specPath.child("template")));
  return errors;
}

function validateDaemonSetStrategy(strategy: DaemonSetSpec["updateStrategy"], path: FieldPath): FieldError[] {
  if (strategy?.type === undefined) return [];
  if (strategy.type !== "RollingUpdate" && strategy.type !== "OnDelete") return [fieldNotSupported(path.child("type"), strategy.type, ["OnDelete", "RollingUpdate"])];
  const rolling = strategy.rollingUpdate;
  if (strategy.type !== "RollingUpdate" || rolling === undefined) return [];
  const rollingPath = path.child("rollingUpdate");
  const errors = validatePositiveIntOrPercent(rolling.maxUnavailable, rollingPath.child("maxUnavailable"));
  errors.push(...validatePositiveIntOrPercent(rolling.maxSurge, rollingPath.child("maxSurge")));
  errors.push(...validateNotMoreThan100Percent(rolling.maxUnavailable, rollingPath.child("maxUnavailable")));
  errors.push(...validateNotMoreThan100Percent(rolling.maxSurge, rollingPath.child("maxSurge")));
  const hasUnavailable = intOrPercentValue(rolling.maxUnavailable) !== 0;
  const hasSurge = intOrPercentValue(rolling.maxSurge) !== 0;
  if (hasUnavailable && hasSurge) errors.push(fieldInvalidVerbatim(rollingPath.child("maxSurge"), intOrStringText(rolling.maxSurge), "may not be set when maxUnavailable is non-zero"));
  if (!hasUnavailable && !hasSurge) errors.push(fieldRequired(rollingPath.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
  return errors;
}

export function validateDaemonSet(daemonSet: DaemonSet): FieldError[] {
  const spec = daemonSet.spec;
  if (spec === undefined) return [fieldRequired(specPath, "")];
  const errors = validateSelectorForTemplate(spec.selector, spec.template, "daemonset", specPath);
  errors.push(...validateAlwaysTemplate(spec.template, specPath.child("template")));
  errors.push(...validateNonnegative(spec.minReadySeconds, specPath.child("minReadySeconds")));
  errors.push(...validateNonnegative(spec.revisionHistoryLimit, specPath.child("revisionHistoryLimit")));
  errors.push(...validateDaemonSetStrategy(spec.updateStrategy, specPath.child("updateStrategy")));
  return errors;
}

function validateJobTemplate(template: PodTemplateSpec | undefined, path: FieldPath): FieldError[] {
  if (template === undefined) return [fieldRequired(path, "")];
  const errors = validatePodTemplateSpec(template, path);
  const policy = template.spec?.restartPolicy;
  // A Job's pods must end: upstream refuses Always (and the Always default of a bare template).
  if (policy !== "OnFailure" && policy !== "Never") errors.push(fieldNotSupported(path.child("spec", "restartPolicy"), policy ?? "Always", ["OnFailure", "Never"]));
  return errors;
}

export function validateJobSpec(spec: JobSpec, path: FieldPath): FieldError[] {
  const errors = validateNonnegative(spec.parallelism, path.child("parallelism"));
  errors.push(...validateNonnegative(spec.completions, path.child("completions")));
  errors.push(...validateNonnegative(spec.backoffLimit, path.child("backoffLimit")));
  errors.push(...validateNonnegative(spec.ttlSecondsAfterFinished, path.child("ttlSecondsAfterFinished")));
  errors.push(...validateNonnegative(spec.activeDeadlineSeconds, path.child("activeDeadlineSeconds")));
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== "NonIndexed" && mode !== "Indexed") errors.push(fieldNotSupported(path.child("completionMode"), mode, ["NonIndexed", "Indexed"]));
  if (mode === "Indexed" && spec.completions === undefined) errors.push(fieldRequired(path.child("completions"), "when completion mode is Indexed"));
  if (spec.selector !== undefined) {
    errors.push(...validateLabelSelector(spec.selector, path.child("selector")));
    if (spec.template !== undefined) errors.push(...selectorMatchesTemplate(spec.selector, spec.template, path));
  }
  errors.push(...validateJobTemplate(spec.template, path.child("template")));
  return errors;
}

export function validateJob(job: Job): FieldError[] {
  return job.spec === undefined ? [fieldRequired(specPath, "")] : validateJobSpec(job.spec, specPath);
}

function validateSchedule(schedule: string, path: FieldPath): FieldError[] {
  if (schedule.length === 0) return [fieldRequired(path, "")];
  const errors: FieldError[] = [];
  const parsed = parseCronSchedule(schedule);
  if (!parsed.ok) errors.push(fieldInvalid(path, schedule, parsed.error));
  if (schedule.includes("TZ")) errors.push(fieldInvalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  return errors;
}

function validateTimeZone(zone: string | undefined, path: FieldPath): FieldError[] {
  if (zone === undefined || zone.length === 0) return [];
  if (zone.toLowerCase() === "local") return [fieldInvalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")];
  return isKnownTimeZone(zone) ? [] : [fieldInvalid(path, zone, `unknown time zone ${zone}`)];
}

export function validateCronJob(cronJob: CronJob): FieldError[] {
  const errors: FieldError[] = [];
  const name = cronJob.metadata.name ?? "";
  if (name.length > cronJobNameBytesMax) errors.push(fieldInvalid(FieldPath.of("metadata", "name"), name, `must be no more than ${cronJobNameBytesMax} characters`));
  const spec = cronJob.spec;
  if (spec === undefined) return [...errors, fieldRequired(specPath, "")];
  errors.push(...validateSchedule(spec.schedule ?? "", specPath.child("schedule")));
  errors.push(...validateTimeZone(spec.timeZone, specPath.child("timeZone")));
  errors.push(...validateNonnegative(spec.startingDeadlineSeconds, specPath.child("startingDeadlineSeconds")));
  const policy = spec.concurrencyPolicy;
  if (policy !== undefined && !["Allow", "Forbid", "Replace"].includes(policy)) errors.push(fieldNotSupported(specPath.child("concurrencyPolicy"), policy, ["Allow", "Forbid", "Replace"]));
  errors.push(...validateNonnegative(spec.successfulJobsHistoryLimit, specPath.child("successfulJobsHistoryLimit")));
  errors.push(...validateNonnegative(spec.failedJobsHistoryLimit, specPath.child("failedJobsHistoryLimit")));
  const jobSpec = spec.jobTemplate?.spec;
  if (jobSpec === undefined) errors.push(fieldRequired(specPath.child("jobTemplate", "spec"), ""));
  else errors.push(...validateJobSpec(jobSpec, specPath.child("jobTemplate", "spec")));
  return errors;
}

/** Selectors of Deployments, ReplicaSets, DaemonSets and Jobs may not change (apps/v1, batch/v1). */
export function validateSelectorUpdate(next: LabelSelector | undefined, previous: LabelSelector | undefined): FieldError[] {
  return validateImmutableField(next, previous, specPath.child("selector"));
}

const statefulSetMutableSpecFields = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

export function validateStatefulSetUpdate(next: StatefulSet, previous: StatefulSet): FieldError[] {
  const strip = (spec: StatefulSetSpec | undefined) => JSON.stringify(Object.entries(spec ?? {}).filter(([key]) => !statefulSetMutableSpecFields.includes(key)).sort());
  if (strip(next.spec) === strip(previous.spec)) return [];
  const detail =
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
  return [fieldForbidden(specPath, detail)];
}

export function validateJobUpdate(next: Job, previous: Job): FieldError[] {
  const errors = validateSelectorUpdate(next.spec?.selector, previous.spec?.selector);
  errors.push(...validateImmutableField(next.spec?.template, previous.spec?.template, specPath.child("template")));
  errors.push(...validateImmutableField(next.spec?.completionMode, previous.spec?.completionMode, specPath.child("completionMode")));
  if (next.spec?.completionMode !== "Indexed") errors.push(...validateImmutableField(next.spec?.completions, previous.spec?.completions, specPath.child("completions")));
  return errors;
}
