/**
 * A pod's status from what the runtime shows, as the kubelet computes it (getPhase, container
 * states, conditions). Pure: the caller gathers the observations and passes the time in.
 */
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodPhase, PodStatus } from "../../../libs/api/index.ts";
import type { ContainerStatus as RuntimeContainerStatus } from "../cri/index.ts";

/** What the agent knows about one container of the spec. */
export interface ContainerObservation {
  readonly name: string;
  readonly image: string;
  /** The newest instance, if one was created. */
  readonly latest?: RuntimeContainerStatus;
  /** The instance before it (for lastState). */
  readonly previous?: RuntimeContainerStatus;
  /** Why no instance runs, when the agent decided that (CrashLoopBackOff, ErrImagePull...). */
  readonly waiting?: { readonly reason: string; readonly message: string };
  /** Readiness: running, started, and the readiness probe (if any) succeeded. */
  readonly ready: boolean;
  /** Running and the startup probe (if any) succeeded. */
  readonly started: boolean;
}

export interface PodObservation {
  readonly pod: Pod;
  readonly initContainers: readonly ContainerObservation[];
  readonly containers: readonly ContainerObservation[];
  readonly podIp: string;
  readonly hostIp: string;
  readonly startTimeMs: number | undefined;
  /** A non-optional init container failed under restartPolicy Never: the pod failed. */
  readonly initFailed: boolean;
  /** The status last reported, so unchanged conditions keep their transition times. */
  readonly previousStatus: PodStatus | undefined;
  readonly nowMs: number;
}

/** RFC 3339 without fractions, as metav1.Time. */
export function formatTimeMs(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const containerIdPrefix = "containerd://";

function terminatedState(status: RuntimeContainerStatus): ContainerState {
  const reason = status.reason !== "" ? status.reason : status.exitCode === 0 ? "Completed" : "Error";
  return {
    terminated: {
      exitCode: status.exitCode,
      reason,
      ...(status.message === "" ? {} : { message: status.message }),
      startedAt: status.startedAtMs > 0 ? formatTimeMs(status.startedAtMs) : null,
      finishedAt: status.finishedAtMs > 0 ? formatTimeMs(status.finishedAtMs) : null,
      containerID: `${containerIdPrefix}${status.id}`,
    },
  };
}

function currentState(observation: ContainerObservation, defaultWaitingReason: string): ContainerState {
  const latest = observation.latest;
  if (observation.waiting !== undefined) {
    return { waiting: { reason: observation.waiting.reason, ...(observation.waiting.message === "" ? {} : { message: observation.waiting.message }) } };
  }
  if (latest === undefined || latest.state === "Created" || latest.state === "Unknown") return { waiting: { reason: defaultWaitingReason } };
  if (latest.state === "Running") return { running: { startedAt: formatTimeMs(latest.startedAtMs) } };
  return terminatedState(latest);
}

export function containerStatus(observation: ContainerObservation, defaultWaitingReason: string): ContainerStatus {
  const latest = observation.latest;
  const state = currentState(observation, defaultWaitingReason);
  // While waiting to restart, the last run is lastState; while running, the run before it.
  const lastRun = state.waiting !== undefined && latest?.state === "Exited" ? latest : observation.previous;
  const status: ContainerStatus = {
    name: observation.name,
    state,
    lastState: lastRun === undefined || lastRun.state !== "Exited" ? {} : terminatedState(lastRun),
    ready: observation.ready && state.running !== undefined,
    restartCount: latest?.attempt ?? 0,
    image: latest?.image ?? observation.image,
    imageID: latest?.imageRef ?? "",
    started: observation.started && state.running !== undefined,
  };
  if (latest !== undefined) status.containerID = `${containerIdPrefix}${latest.id}`;
  return status;
}

/** upstream getPhase: init first, then counts of waiting, running and stopped app containers. */
export function podPhase(pod: Pod, initDone: boolean, initFailed: boolean, statuses: readonly ContainerStatus[]): PodPhase {
  if (initFailed) return "Failed";
  if (!initDone) return "Pending";
  const restartPolicy = pod.spec?.restartPolicy ?? "Always";
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of statuses) {
    if (status.state?.running !== undefined) running += 1;
    else if (status.state?.terminated !== undefined) {
      stopped += 1;
      if (status.state.terminated.exitCode === 0) succeeded += 1;
    } else if (status.lastState?.terminated !== undefined) stopped += 1;
    else waiting += 1;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped === 0) return "Pending";
  if (restartPolicy === "Always") return "Running";
  if (stopped === succeeded) return "Succeeded";
  return restartPolicy === "Never" ? "Failed" : "Running";
}

function condition(type: string, ok: boolean, reason: string | undefined, previous: PodStatus | undefined, nowMs: number): PodCondition {
  const status = ok ? "True" : "False";
  const before = previous?.conditions?.find((candidate) => candidate.type === type);
  const transition = before !== undefined && before.status === status ? (before.lastTransitionTime ?? formatTimeMs(nowMs)) : formatTimeMs(nowMs);
  return { type, status, lastProbeTime: null, lastTransitionTime: transition, ...(ok || reason === undefined ? {} : { reason }) };
}

/** Regular init containers exited 0; sidecars (restartPolicy Always) have started. */
function initDoneOf(observations: readonly ContainerObservation[], specs: readonly Container[]): boolean {
  return observations.every((observation) => {
    const sidecar = specs.find((spec) => spec.name === observation.name)?.restartPolicy === "Always";
    if (sidecar) return observation.started || (observation.latest?.attempt ?? 0) > 0;
    return observation.latest?.state === "Exited" && observation.latest.exitCode === 0 && observation.waiting === undefined;
  });
}

export function computePodStatus(observation: PodObservation): PodStatus {
  const { pod, nowMs, previousStatus } = observation;
  const initSpecs = pod.spec?.initContainers ?? [];
  const initDone = initDoneOf(observation.initContainers, initSpecs);
  const initStatuses = observation.initContainers.map((container) => containerStatus(container, "PodInitializing"));
  const appStatuses = observation.containers.map((container) => containerStatus(container, initDone ? "ContainerCreating" : "PodInitializing"));
  const phase = podPhase(pod, initDone, observation.initFailed, appStatuses);
  const sidecarStatuses = initStatuses.filter((status) => initSpecs.find((spec) => spec.name === status.name)?.restartPolicy === "Always");
  const containersReady = [...appStatuses, ...sidecarStatuses].every((status) => status.ready);
  const terminal = phase === "Succeeded" || phase === "Failed";
  const readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
  const conditions: PodCondition[] = [
    condition("PodReadyToStartContainers", observation.podIp !== "" && !terminal, undefined, previousStatus, nowMs),
    condition("Initialized", initDone, terminal ? "PodCompleted" : "ContainersNotInitialized", previousStatus, nowMs),
    condition("Ready", containersReady && !terminal, readyReason, previousStatus, nowMs),
    condition("ContainersReady", containersReady && !terminal, readyReason, previousStatus, nowMs),
    condition("PodScheduled", true, undefined, previousStatus, nowMs),
  ];
  const status: PodStatus = { phase, conditions, hostIP: observation.hostIp, hostIPs: [{ ip: observation.hostIp }] };
  if (observation.podIp !== "") {
    status.podIP = observation.podIp;
    status.podIPs = [{ ip: observation.podIp }];
  }
  if (observation.startTimeMs !== undefined) status.startTime = formatTimeMs(observation.startTimeMs);
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  status.containerStatuses = appStatuses;
  status.qosClass = qosClass(pod);
  return status;
}

/** Guaranteed when every container's requests equal its limits for cpu and memory; BestEffort with none. */
export function qosClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const container of containers) {
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    for (const resource of ["cpu", "memory"]) {
      const limit = limits[resource];
      const request = requests[resource] ?? limit;
      if (limit !== undefined || request !== undefined) any = true;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
