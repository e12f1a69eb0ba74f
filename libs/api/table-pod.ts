/**
 * A pod's table row as upstream's printPod computes it: READY counts (sidecars included), the
 * STATUS reason (`Init:0/1`, `Init:CrashLoopBackOff`, `ContainerCreating`, `CrashLoopBackOff`,
 * `Completed`, `Terminating`, `NotReady`, ...), RESTARTS with the time of the last restart, and
 * the wide columns.
 */
import { parseTime, translateTimestampSince } from "./duration.ts";
import type { TableCell, TableRowCondition } from "./types/meta.ts";
import type { Container, ContainerStatus, Pod, PodCondition } from "./types/pod.ts";

export interface RowCells {
  readonly cells: TableCell[];
  readonly conditions?: TableRowCondition[];
}

// The reason the node lifecycle controller gives pods on unreachable nodes.
const nodeUnreachablePodReason = "NodeLost";

const successConditions: TableRowCondition[] = [{ type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." }];
const failedConditions: TableRowCondition[] = [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }];

function isRestartableInit(container: Container | undefined): boolean {
  return container?.restartPolicy === "Always";
}

function hasCondition(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((condition) => condition.type === type && condition.status === "True");
}

// Upstream looks at the first condition of the type only.
function isInitializedTrue(conditions: readonly PodCondition[] | undefined): boolean {
  const initialized = (conditions ?? []).find((condition) => condition.type === "Initialized");
  return initialized?.status === "True";
}

/** Tracks a restart count and the latest time a container last terminated. */
class Restarts {
  count = 0;
  lastMs: number | undefined;

  record(status: ContainerStatus): void {
    this.count += status.restartCount ?? 0;
    const finishedMs = parseTime(status.lastState?.terminated?.finishedAt);
    if (finishedMs !== undefined && (this.lastMs === undefined || this.lastMs < finishedMs)) this.lastMs = finishedMs;
  }
}

function terminatedReason(status: ContainerStatus, prefix: string): string | undefined {
  const terminated = status.state?.terminated;
  if (terminated === undefined) return undefined;
  if (terminated.reason !== undefined && terminated.reason !== "") return `${prefix}${terminated.reason}`;
  return terminated.signal ? `${prefix}Signal:${terminated.signal}` : `${prefix}ExitCode:${terminated.exitCode ?? 0}`;
}

interface InitProgress {
  reason: string | undefined;
  readySidecars: number;
}

// Walks init containers until the first one still running or failed, as upstream's loop does.
function initProgress(pod: Pod, all: Restarts, sidecars: Restarts): InitProgress {
  const specs = new Map((pod.spec?.initContainers ?? []).map((container) => [container.name, container]));
  const total = pod.spec?.initContainers?.length ?? 0;
  const progress: InitProgress = { reason: undefined, readySidecars: 0 };
  const statuses = pod.status?.initContainerStatuses ?? [];
  for (const [index, status] of statuses.entries()) {
    all.record(status);
    const restartable = isRestartableInit(specs.get(status.name));
    if (restartable) sidecars.record(status);
    if (status.state?.terminated !== undefined && status.state.terminated.exitCode === 0) continue;
    if (restartable && status.started === true) {
      if (status.ready) progress.readySidecars++;
      continue;
    }
    const waiting = status.state?.waiting?.reason ?? "";
    progress.reason =
      terminatedReason(status, "Init:") ?? (waiting !== "" && waiting !== "PodInitializing" ? `Init:${waiting}` : `Init:${index}/${total}`);
    break;
  }
  return progress;
}

interface ContainerProgress {
  reason: string;
  ready: number;
}

function containerProgress(pod: Pod, startReason: string, restarts: Restarts): ContainerProgress {
  let reason = startReason;
  let ready = 0;
  let hasRunning = false;
  const statuses = pod.status?.containerStatuses ?? [];
  // Upstream walks the statuses last to first, so the first container's reason wins.
  for (let index = statuses.length - 1; index >= 0; index--) {
    const status = statuses[index];
    if (status === undefined) continue;
    restarts.record(status);
    const waiting = status.state?.waiting?.reason ?? "";
    const terminated = terminatedReason(status, "");
    if (waiting !== "") reason = waiting;
    else if (terminated !== undefined) reason = terminated;
    else if (status.ready && status.state?.running !== undefined) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === "Completed" && hasRunning) reason = hasCondition(pod.status?.conditions, "Ready") ? "Running" : "NotReady";
  return { reason, ready };
}

/** The STATUS column and the ready, total and restart counts behind the other columns. */
export function podSummary(pod: Pod): { reason: string; ready: number; total: number; restarts: Restarts } {
  const phase = pod.status?.phase ?? "";
  let reason: string = pod.status?.reason || phase;
  if ((pod.status?.conditions ?? []).some((condition) => condition.type === "PodScheduled" && condition.reason === "SchedulingGated")) {
    reason = "SchedulingGated";
  }
  const total = (pod.spec?.containers?.length ?? 0) + (pod.spec?.initContainers ?? []).filter(isRestartableInit).length;
  const all = new Restarts();
  const sidecars = new Restarts();
  const init = initProgress(pod, all, sidecars);
  let ready = init.readySidecars;
  let restarts = all;
  if (init.reason === undefined || isInitializedTrue(pod.status?.conditions)) {
    const containers = containerProgress(pod, init.reason ?? reason, sidecars);
    reason = containers.reason;
    ready += containers.ready;
    restarts = sidecars;
  } else {
    reason = init.reason;
  }
  const deleting = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  if (deleting && pod.status?.reason === nodeUnreachablePodReason) reason = "Unknown";
  else if (deleting && phase !== "Failed" && phase !== "Succeeded") reason = "Terminating";
  return { reason, ready, total, restarts };
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return "<none>";
  const conditions = pod.status?.conditions ?? [];
  const passed = gates.filter((gate) => conditions.find((condition) => condition.type === gate.conditionType)?.status === "True").length;
  return `${passed}/${gates.length}`;
}

/** The cells of a pod's row, wide columns included (the server always sends them). */
export function podRow(pod: Pod, nowMs: number): RowCells {
  const summary = podSummary(pod);
  const { count, lastMs } = summary.restarts;
  const restarts = count !== 0 && lastMs !== undefined ? `${count} (${translateTimestampSince(new Date(lastMs).toISOString(), nowMs)} ago)` : String(count);
  const cells: TableCell[] = [
    pod.metadata.name ?? "",
    `${summary.ready}/${summary.total}`,
    summary.reason,
    restarts,
    translateTimestampSince(pod.metadata.creationTimestamp, nowMs),
    pod.status?.podIPs?.[0]?.ip || "<none>",
    pod.spec?.nodeName || "<none>",
    pod.status?.nominatedNodeName || "<none>",
    readinessGates(pod),
  ];
  const phase = pod.status?.phase;
  if (phase === "Succeeded") return { cells, conditions: successConditions };
  if (phase === "Failed") return { cells, conditions: failedConditions };
  return { cells };
}
