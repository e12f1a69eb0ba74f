/**
 * Table rows of the workload resources as upstream's printers fill them: deployments, replica
 * sets, stateful sets, daemon sets, controller revisions, jobs, cron jobs, horizontal pod
 * autoscalers and pod disruption budgets. Wide cells are always included.
 */
import { humanDuration, parseTime, translateTimestampSince } from "./duration.ts";
import { parseApiVersion } from "./group-version.ts";
import { canonicalQuantity } from "./quantity.ts";
import { formatLabels, formatLabelSelector, labelSelectorAsSelector } from "./labels.ts";
import type { RowCells } from "./table-pod.ts";
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus, PodDisruptionBudget } from "./types/cluster.ts";
import type { KubeObject, TableCell } from "./types/meta.ts";
import type { Container } from "./types/pod.ts";
import type { ControllerRevision, CronJob, DaemonSet, Deployment, Job, ReplicaSet, ReplicationController, StatefulSet, WorkloadCondition } from "./types/workloads.ts";

/** Container names and images, each joined with "," (upstream's layoutContainerCells). */
export function containerCells(containers: readonly Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((container) => container.name).join(","), list.map((container) => container.image ?? "").join(",")];
}

function age(object: KubeObject, nowMs: number): string {
  return translateTimestampSince(object.metadata.creationTimestamp, nowMs);
}

export function deploymentRow(deployment: Deployment, nowMs: number): RowCells {
  const spec = deployment.spec;
  const status = deployment.status;
  let selector: string;
  try {
    selector = labelSelectorAsSelector(spec?.selector).toString();
  } catch {
    selector = "<invalid>";
  }
  const [names, images] = containerCells(spec?.template?.spec?.containers);
  const ready = `${status?.readyReplicas ?? 0}/${spec?.replicas ?? 0}`;
  return {
    cells: [deployment.metadata.name ?? "", ready, status?.updatedReplicas ?? 0, status?.availableReplicas ?? 0, age(deployment, nowMs), names, images, selector],
  };
}

export function replicaSetRow(replicaSet: ReplicaSet, nowMs: number): RowCells {
  const [names, images] = containerCells(replicaSet.spec?.template?.spec?.containers);
  const status = replicaSet.status;
  return {
    cells: [
      replicaSet.metadata.name ?? "",
      replicaSet.spec?.replicas ?? 0,
      status?.replicas ?? 0,
      status?.readyReplicas ?? 0,
      age(replicaSet, nowMs),
      names,
      images,
      formatLabelSelector(replicaSet.spec?.selector),
    ],
  };
}

export function replicationControllerRow(controller: ReplicationController, nowMs: number): RowCells {
  const [names, images] = containerCells(controller.spec?.template?.spec?.containers);
  const status = controller.status;
  const cells = [controller.metadata.name ?? "", controller.spec?.replicas ?? 0, status?.replicas ?? 0, status?.readyReplicas ?? 0, age(controller, nowMs)];
  return { cells: [...cells, names, images, formatLabels(controller.spec?.selector)] };
}

export function statefulSetRow(statefulSet: StatefulSet, nowMs: number): RowCells {
  const [names, images] = containerCells(statefulSet.spec?.template?.spec?.containers);
  const ready = `${statefulSet.status?.readyReplicas ?? 0}/${statefulSet.spec?.replicas ?? 0}`;
  return { cells: [statefulSet.metadata.name ?? "", ready, age(statefulSet, nowMs), names, images] };
}

export function daemonSetRow(daemonSet: DaemonSet, nowMs: number): RowCells {
  const status = daemonSet.status;
  const [names, images] = containerCells(daemonSet.spec?.template?.spec?.containers);
  return {
    cells: [
      daemonSet.metadata.name ?? "",
      status?.desiredNumberScheduled ?? 0,
      status?.currentNumberScheduled ?? 0,
      status?.numberReady ?? 0,
      status?.updatedNumberScheduled ?? 0,
      status?.numberAvailable ?? 0,
      formatLabels(daemonSet.spec?.template?.spec?.nodeSelector),
      age(daemonSet, nowMs),
      names,
      images,
      formatLabelSelector(daemonSet.spec?.selector),
    ],
  };
}

/** `deployment.apps/web`: the controlling owner as kind.group/name, lower-cased. */
export function controllerRevisionRow(revision: ControllerRevision, nowMs: number): RowCells {
  const owner = (revision.metadata.ownerReferences ?? []).find((reference) => reference.controller === true);
  let controller = "<none>";
  if (owner !== undefined) {
    const group = parseApiVersion(owner.apiVersion)?.group ?? "";
    const kind = group === "" ? owner.kind : `${owner.kind}.${group}`;
    controller = kind === "" ? owner.name : `${kind.toLowerCase()}/${owner.name}`;
  }
  return { cells: [revision.metadata.name ?? "", controller, revision.revision, age(revision, nowMs)] };
}

function hasTrueCondition(conditions: readonly WorkloadCondition[] | undefined, type: string): boolean {
  // Upstream looks at the first condition of the type only.
  return (conditions ?? []).find((condition) => condition.type === type)?.status === "True";
}

function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasTrueCondition(conditions, "Complete")) return "Complete";
  if (hasTrueCondition(conditions, "Failed")) return "Failed";
  if (job.metadata.deletionTimestamp !== undefined && job.metadata.deletionTimestamp !== null) return "Terminating";
  if (hasTrueCondition(conditions, "Suspended")) return "Suspended";
  if (hasTrueCondition(conditions, "FailureTarget")) return "FailureTarget";
  return "Running";
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, nowMs: number): string {
  const startMs = parseTime(job.status?.startTime);
  if (startMs === undefined) return "";
  const endMs = parseTime(job.status?.completionTime) ?? nowMs;
  return humanDuration(endMs - startMs);
}

export function jobRow(job: Job, nowMs: number): RowCells {
  const [names, images] = containerCells(job.spec?.template?.spec?.containers);
  return {
    cells: [job.metadata.name ?? "", jobStatus(job), jobCompletions(job), jobDuration(job, nowMs), age(job, nowMs), names, images, formatLabelSelector(job.spec?.selector)],
  };
}

function boolPointer(value: boolean | undefined): string {
  return value === undefined ? "<unset>" : value ? "True" : "False";
}

export function cronJobRow(cronJob: CronJob, nowMs: number): RowCells {
  const spec = cronJob.spec;
  const last = cronJob.status?.lastScheduleTime;
  const jobSpec = spec?.jobTemplate?.spec;
  const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
  return {
    cells: [
      cronJob.metadata.name ?? "",
      spec?.schedule ?? "",
      spec?.timeZone ?? "<none>",
      boolPointer(spec?.suspend),
      cronJob.status?.active?.length ?? 0,
      last === undefined ? "<none>" : translateTimestampSince(last, nowMs),
      age(cronJob, nowMs),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ],
  };
}

// Upstream prints a quantity pointer with String(): canonical text, "<nil>" when unset.
function quantityText(quantity: string | undefined): string {
  if (quantity === undefined) return "<nil>";
  try {
    return canonicalQuantity(quantity);
  } catch {
    return quantity;
  }
}

function averaged(current: string | undefined, target: string, present: boolean): string {
  return `${present && current !== undefined ? quantityText(current) : "<unknown>"}/${quantityText(target)} (avg)`;
}

function plain(current: string | undefined, target: string | undefined, present: boolean): string {
  return `${present ? quantityText(current) : "<unknown>"}/${quantityText(target)}`;
}

// One metric as upstream's formatHPAMetrics prints it, given its status (same index) if any.
function formatMetric(spec: MetricSpec, status: MetricStatus | undefined): string {
  switch (spec.type) {
    case "External": {
      const target = spec.external?.target;
      const current = status?.external?.current;
      if (target?.averageValue !== undefined) return averaged(current?.averageValue, target.averageValue, current !== undefined);
      return plain(current?.value, target?.value, current !== undefined);
    }
    case "Pods":
      return plain(status?.pods?.current.averageValue, spec.pods?.target.averageValue, status?.pods !== undefined);
    case "Object": {
      const target = spec.object?.target;
      const current = status?.object?.current;
      if (target?.averageValue !== undefined) return averaged(current?.averageValue, target.averageValue, current !== undefined);
      return plain(current?.value, target?.value, current !== undefined);
    }
    case "Resource":
      return resourceMetric(spec.resource, status?.resource);
    case "ContainerResource":
      return resourceMetric(spec.containerResource, status?.containerResource);
    default:
      return "<unknown type>";
  }
}

type ResourceMetric = { name: string; target: { averageValue?: string; averageUtilization?: number } };
type ResourceMetricStatus = { current: { averageValue?: string; averageUtilization?: number } };

function resourceMetric(spec: ResourceMetric | undefined, status: ResourceMetricStatus | undefined): string {
  const name = spec?.name ?? "";
  if (spec?.target.averageValue !== undefined) return `${name}: ${plain(status?.current.averageValue, spec.target.averageValue, status !== undefined)}`;
  const utilization = status?.current.averageUtilization;
  const current = utilization === undefined ? "<unknown>" : `${utilization}%`;
  const target = spec?.target.averageUtilization === undefined ? "<auto>" : `${spec.target.averageUtilization}%`;
  return `${name}: ${current}/${target}`;
}

/** Upstream shows at most two metrics, then `+ N more...`. */
const hpaMetricsShownMax = 2;

export function formatHpaMetrics(specs: readonly MetricSpec[] | undefined, statuses: readonly MetricStatus[] | undefined): string {
  const list = specs ?? [];
  if (list.length === 0) return "<none>";
  const texts = list.map((spec, index) => formatMetric(spec, statuses?.[index]));
  if (texts.length <= hpaMetricsShownMax) return texts.join(", ");
  return `${texts.slice(0, hpaMetricsShownMax).join(", ")} + ${texts.length - hpaMetricsShownMax} more...`;
}

export function horizontalPodAutoscalerRow(hpa: HorizontalPodAutoscaler, nowMs: number): RowCells {
  const spec = hpa.spec;
  const reference = `${spec?.scaleTargetRef?.kind ?? ""}/${spec?.scaleTargetRef?.name ?? ""}`;
  const minPods = spec?.minReplicas === undefined ? "<unset>" : String(spec.minReplicas);
  const cells: TableCell[] = [
    hpa.metadata.name ?? "",
    reference,
    formatHpaMetrics(spec?.metrics, hpa.status?.currentMetrics),
    minPods,
    spec?.maxReplicas ?? 0,
    hpa.status?.currentReplicas ?? 0,
    age(hpa, nowMs),
  ];
  return { cells };
}

export function podDisruptionBudgetRow(budget: PodDisruptionBudget, nowMs: number): RowCells {
  const minAvailable = budget.spec?.minAvailable;
  const maxUnavailable = budget.spec?.maxUnavailable;
  return {
    cells: [
      budget.metadata.name ?? "",
      minAvailable === undefined ? "N/A" : String(minAvailable),
      maxUnavailable === undefined ? "N/A" : String(maxUnavailable),
      budget.status?.disruptionsAllowed ?? 0,
      age(budget, nowMs),
    ],
  };
}
