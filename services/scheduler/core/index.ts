/**
 * The scheduler's decision core: a snapshot of the cluster updated incrementally, upstream's
 * default filters and scores, the unschedulable message, requeue hints and backoff. Pure: no I/O,
 * no clock (times are passed in), randomness from an injected Prng.
 */
export { ClusterSnapshot, hostPortConflicts } from "./snapshot.ts";
export type { NodeInfo } from "./snapshot.ts";
export { newPodInfo, podKey } from "./pod-info.ts";
export type { AffinityTerm, HostPort, PodInfo } from "./pod-info.ts";
export { computePodRequests, defaultMemoryRequestBytes, defaultMilliCpuRequest, nodeAllocatable } from "./resources.ts";
export type { NodeAllocatable, PodRequests, Resources } from "./resources.ts";
export {
  defaultSchedulerConfig,
  defaultScoreWeights,
  minFeasibleNodesPercentageToFind,
  minFeasibleNodesToFind,
  numFeasibleNodesToFind,
  Scheduler,
} from "./scheduler.ts";
export type { ScheduleInputs, ScheduleResult, SchedulerConfig, ScoreWeights } from "./scheduler.ts";
export { failedSchedulingEvent, podScheduledFalse, reasons, unschedulableMessage } from "./status.ts";
export type { Diagnosis, FailureCode, FilterFailure, MessageOptions, PluginName } from "./status.ts";
export { mayBecomeSchedulable, podBackoffMs, podInitialBackoffMs, podMaxBackoffMs } from "./requeue.ts";
export type { ClusterEvent } from "./requeue.ts";
export { effectiveTaints, notReadyTaintKey, unreachableTaintKey, unschedulableTaintKey } from "./node-match.ts";
