/**
 * The CronJob controller (pkg/controller/cronjob, v2): at each scheduled time creates the Job
 * `<cronjob>-<minutes since epoch>` from jobTemplate, honouring timeZone, suspend,
 * startingDeadlineSeconds (a run missed by more is skipped, with a MissSchedule event),
 * concurrencyPolicy (Allow, Forbid: skip while one runs, Replace: delete the running ones first)
 * and the successful/failed history limits. status.active, lastScheduleTime and
 * lastSuccessfulTime follow its Jobs. The deterministic name makes a second attempt for the same
 * time an AlreadyExists, so a time never runs twice.
 */
import { deepEqual, formatTime, isStatusError, parseTime } from "../../../libs/api/index.ts";
import type { CronJob, Job, JsonValue, KubeObject, ObjectReference } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { controllerRefOf, newControllerRef } from "../common/pods.ts";
import { cronJobsResource, jobsResource } from "../common/resources.ts";
import { nextActivationMs, scheduleOf } from "./schedule.ts";

/** Upstream's bound on missed start times it counts before it warns and moves on. */
export const missedSchedulesMax = 100;
export const successfulJobsHistoryLimitDefault = 3;
export const failedJobsHistoryLimitDefault = 1;
export const scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

function finishedType(job: Job): "Complete" | "Failed" | undefined {
  const condition = (job.status?.conditions ?? []).find((candidate) => (candidate.type === "Complete" || candidate.type === "Failed") && candidate.status === "True");
  return condition?.type as "Complete" | "Failed" | undefined;
}

export class CronJobController implements Controller {
  readonly name = "cronjob";
  #context: ControllerContext | undefined;
  #cronJobs: Informer<CronJob> | undefined;
  #jobs: Informer<Job> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#cronJobs = context.informers.informerFor<CronJob>(cronJobsResource);
    this.#jobs = context.informers.informerFor<Job>(jobsResource);
    this.#cronJobs.addHandlers({ onAdd: (cronJob) => context.queue.add(keyOf(cronJob)), onUpdate: (_previous, cronJob) => context.queue.add(keyOf(cronJob)) });
    const jobChanged = (job: Job): void => {
      const reference = controllerRefOf(job);
      if (reference?.kind === "CronJob") context.queue.add(`${job.metadata.namespace ?? ""}/${reference.name}`);
    };
    this.#jobs.addHandlers({ onAdd: jobChanged, onUpdate: (_previous, job) => jobChanged(job), onDelete: jobChanged });
  }

  #state(): { context: ControllerContext; cronJobs: Informer<CronJob>; jobs: Informer<Job> } {
    if (this.#context === undefined || this.#cronJobs === undefined || this.#jobs === undefined) throw new Error("cronjob controller used before setup()");
    return { context: this.#context, cronJobs: this.#cronJobs, jobs: this.#jobs };
  }

  async reconcile(key: string): Promise<void> {
    const { context, cronJobs, jobs } = this.#state();
    const cached = cronJobs.get(key);
    if (cached === undefined || (cached.metadata.deletionTimestamp ?? null) !== null) return;
    const cronJob = structuredClone(cached);
    const owned = jobs.listMatching(cronJob.metadata.namespace, "").filter((job) => controllerRefOf(job)?.uid === cronJob.metadata.uid);
    const status = this.#trackJobs(cronJob, owned);
    await this.#runIfDue(cronJob, owned, status);
    await this.#cleanupHistory(cronJob, owned);
    if (!deepEqual((cronJob.status ?? {}) as JsonValue, status as JsonValue)) {
      await context.client.update<CronJob>(cronJobsResource, { ...cronJob, status }, { subresource: "status" });
    }
  }

  // status.active keeps the running Jobs only; finished ones count towards lastSuccessfulTime.
  #trackJobs(cronJob: CronJob, owned: Job[]): NonNullable<CronJob["status"]> {
    const status = structuredClone(cronJob.status ?? {});
    const running = new Set(owned.filter((job) => finishedType(job) === undefined).map((job) => job.metadata.uid));
    const active = (status.active ?? []).filter((reference) => running.has(reference.uid));
    for (const job of owned) {
      if (running.has(job.metadata.uid) && !active.some((reference) => reference.uid === job.metadata.uid)) active.push(jobReference(job));
      if (finishedType(job) === "Complete") {
        const completed = job.status?.completionTime;
        if (completed !== undefined && (status.lastSuccessfulTime === undefined || (parseTime(completed) ?? 0) > (parseTime(status.lastSuccessfulTime) ?? 0))) status.lastSuccessfulTime = completed;
      }
    }
    if (active.length > 0) status.active = active;
    else delete status.active;
    return status;
  }

  async #runIfDue(cronJob: CronJob, owned: Job[], status: NonNullable<CronJob["status"]>): Promise<void> {
    const { context } = this.#state();
    const spec = cronJob.spec;
    if (spec === undefined || spec.suspend === true) return;
    const parsed = scheduleOf(spec.schedule, spec.timeZone);
    if (!parsed.ok) {
      context.events.record(cronJob, "Warning", "UnparseableSchedule", `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${parsed.error}`);
      return;
    }
    const nowMs = context.nowMs();
    const scheduledMs = this.#mostRecent(cronJob, parsed, nowMs);
    const nextMs = nextActivationMs(parsed.schedule, parsed.timeZone, nowMs);
    if (nextMs !== undefined) context.queue.addAfter(keyOf(cronJob), nextMs - nowMs);
    if (scheduledMs === undefined) return;
    const deadlineSeconds = spec.startingDeadlineSeconds;
    if (deadlineSeconds !== undefined && scheduledMs + deadlineSeconds * 1000 < nowMs) {
      context.events.record(cronJob, "Warning", "MissSchedule", `Missed scheduled time to start a job: ${formatTime(scheduledMs)}`);
      return;
    }
    const name = `${cronJob.metadata.name ?? ""}-${Math.floor(scheduledMs / 60_000)}`;
    if (owned.some((job) => job.metadata.name === name)) {
      // Made by an attempt whose status write was lost: record it now.
      if ((parseTime(status.lastScheduleTime) ?? 0) < scheduledMs) status.lastScheduleTime = formatTime(scheduledMs);
      return;
    }
    const running = owned.filter((job) => finishedType(job) === undefined);
    const policy = spec.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && running.length > 0) return;
    if (policy === "Replace") await this.#deleteJobs(cronJob, running);
    const created = await this.#createJob(cronJob, name, scheduledMs);
    if (created === undefined) return;
    status.active = [...(policy === "Replace" ? [] : (status.active ?? [])), jobReference(created)];
    status.lastScheduleTime = formatTime(scheduledMs);
  }

  // getMostRecentScheduleTime: the last activation at or before now since the last run.
  #mostRecent(cronJob: CronJob, parsed: Extract<ReturnType<typeof scheduleOf>, { ok: true }>, nowMs: number): number | undefined {
    let earliestMs = parseTime(cronJob.status?.lastScheduleTime) ?? parseTime(cronJob.metadata.creationTimestamp) ?? nowMs;
    const deadlineSeconds = cronJob.spec?.startingDeadlineSeconds;
    if (deadlineSeconds !== undefined) earliestMs = Math.max(earliestMs, nowMs - deadlineSeconds * 1000);
    let latest: number | undefined;
    let missed = 0;
    for (let at = nextActivationMs(parsed.schedule, parsed.timeZone, earliestMs); at !== undefined && at <= nowMs; at = nextActivationMs(parsed.schedule, parsed.timeZone, at)) {
      latest = at;
      missed++;
      if (missed > missedSchedulesMax) {
        this.#state().context.events.record(cronJob, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
        // Jump to the last activation before now instead of walking every missed one.
        let probe = Math.max(at, nowMs - 366 * 24 * 3600 * 1000);
        for (let next = nextActivationMs(parsed.schedule, parsed.timeZone, probe); next !== undefined && next <= nowMs; next = nextActivationMs(parsed.schedule, parsed.timeZone, next)) probe = next;
        return probe <= nowMs ? probe : latest;
      }
    }
    return latest;
  }

  async #createJob(cronJob: CronJob, name: string, scheduledMs: number): Promise<Job | undefined> {
    const { context } = this.#state();
    const template = cronJob.spec!.jobTemplate;
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name,
        namespace: cronJob.metadata.namespace ?? "default",
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), [scheduledTimestampAnnotation]: formatTime(scheduledMs) },
        ownerReferences: [newControllerRef(cronJob, "batch/v1", "CronJob")],
      },
      spec: structuredClone(template.spec ?? { template: { spec: { containers: [] } } }),
    };
    try {
      const created = await context.client.create<Job>(jobsResource, job);
      context.events.record(cronJob, "Normal", "SuccessfulCreate", `Created job ${name}`);
      return created;
    } catch (error) {
      if (isStatusError(error, "AlreadyExists")) return undefined;
      context.events.record(cronJob, "Warning", "FailedCreate", `Error creating job: ${(error as Error).message}`);
      throw error;
    }
  }

  async #deleteJobs(cronJob: CronJob, jobs: Job[]): Promise<void> {
    const { context } = this.#state();
    for (const job of jobs) {
      try {
        await context.client.delete(jobsResource, job.metadata.namespace, job.metadata.name ?? "", { propagationPolicy: "Background" });
        context.events.record(cronJob, "Normal", "SuccessfulDelete", `Deleted job ${job.metadata.name ?? ""}`);
      } catch (error) {
        if (!isStatusError(error, "NotFound")) throw error;
      }
    }
  }

  async #cleanupHistory(cronJob: CronJob, owned: Job[]): Promise<void> {
    const byStart = (left: Job, right: Job): number => (parseTime(left.metadata.creationTimestamp) ?? 0) - (parseTime(right.metadata.creationTimestamp) ?? 0) || ((left.metadata.name ?? "") < (right.metadata.name ?? "") ? -1 : 1);
    const limits: ["Complete" | "Failed", number][] = [
      ["Complete", cronJob.spec?.successfulJobsHistoryLimit ?? successfulJobsHistoryLimitDefault],
      ["Failed", cronJob.spec?.failedJobsHistoryLimit ?? failedJobsHistoryLimitDefault],
    ];
    for (const [type, limit] of limits) {
      const finished = owned.filter((job) => finishedType(job) === type && (job.metadata.deletionTimestamp ?? null) === null).sort(byStart);
      await this.#deleteJobs(cronJob, finished.slice(0, Math.max(0, finished.length - limit)));
    }
  }
}

function jobReference(job: Job): ObjectReference {
  return { kind: "Job", namespace: job.metadata.namespace ?? "", name: job.metadata.name ?? "", uid: job.metadata.uid ?? "", apiVersion: "batch/v1", resourceVersion: job.metadata.resourceVersion ?? "" };
}
