/**
 * services/scheduler: the scheduler service (informers, scheduling queue, binding) around the
 * pure decision core in ./core.
 */
export { SchedulingQueue, unschedulableMaxMs } from "./queue.ts";
export { bindsInFlightMax, defaultSchedulerName, queueFlushIntervalMs, runScheduler, SchedulerService, statusWriteAttemptsMax } from "./scheduler.ts";
export type { SchedulerServiceOptions } from "./scheduler.ts";
