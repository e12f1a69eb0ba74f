/**
 * The Job controller (pkg/controller/job, NonIndexed completion mode): runs up to `parallelism`
 * pods until `completions` have succeeded, recreates failed ones after an exponential backoff
 * (10 s doubling to 6 min), fails the Job past backoffLimit or activeDeadlineSeconds (deleting
 * its running pods), suspends and resumes, and deletes a finished Job after
 * ttlSecondsAfterFinished (upstream's TTL-after-finished controller). Counts come from the pods
 * that exist (upstream's legacy tracking, without the job-tracking finalizer).
 */
import { deepEqual, formatTime, isStatusError, labelSelectorAsSelector, parseTime } from "../../../libs/api/index.ts";
import type { Job, JobStatus, JsonValue, KubeObject, Pod } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { claimObjects } from "../common/claim.ts";
import { setCondition } from "../common/conditions.ts";
import { Expectations } from "../common/expectations.ts";
import { controllerRefOf, isPodReady, newControllerRef, podFromTemplate } from "../common/pods.ts";
import { jobsResource, podsResource } from "../common/resources.ts";
import { slowStartBatch } from "../common/slow-start.ts";
import type { PodCounts } from "./status.ts";
import {
  backoffUntilMs,
  failure,
  finishedAtMs,
  generatedLabels,
  isComplete,
  isJobFinished,
  isSuspended,
  jobSelector,
  podFinishedMs,
  suspendedCondition,
  wantActive,
} from "./status.ts";

/** Pods one reconcile creates at most (upstream's MaxPodCreateDeletePerSync). */
export const podsPerSyncMax = 500;

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

export class JobController implements Controller {
  readonly name = "job";
  #context: ControllerContext | undefined;
  #jobs: Informer<Job> | undefined;
  #pods: Informer<Pod> | undefined;
  #expectations: Expectations | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#expectations = new Expectations(() => context.nowMs());
    this.#jobs = context.informers.informerFor<Job>(jobsResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#jobs.addHandlers({
      onAdd: (job) => context.queue.add(keyOf(job)),
      onUpdate: (_previous, job) => context.queue.add(keyOf(job)),
      onDelete: (job) => this.#expectations?.forget(keyOf(job)),
    });
    this.#pods.addHandlers({
      onAdd: (pod) => this.#podEvent(pod, "add"),
      onUpdate: (_previous, pod) => this.#podEvent(pod, (pod.metadata.deletionTimestamp ?? null) !== null ? "delete" : "update"),
      onDelete: (pod) => this.#podEvent(pod, "delete"),
    });
  }

  #state(): { context: ControllerContext; jobs: Informer<Job>; pods: Informer<Pod>; expectations: Expectations } {
    if (this.#context === undefined || this.#jobs === undefined || this.#pods === undefined || this.#expectations === undefined) throw new Error("job controller used before setup()");
    return { context: this.#context, jobs: this.#jobs, pods: this.#pods, expectations: this.#expectations };
  }

  #podEvent(pod: Pod, kind: "add" | "update" | "delete"): void {
    const reference = controllerRefOf(pod);
    if (reference?.kind !== "Job") return;
    const key = `${pod.metadata.namespace ?? ""}/${reference.name}`;
    const { context, jobs, expectations } = this.#state();
    if (jobs.get(key)?.metadata.uid !== reference.uid) return;
    if (kind === "add") expectations.creationObserved(key);
    if (kind === "delete") expectations.deletionObserved(key, pod.metadata.uid ?? "");
    context.queue.add(key);
  }

  async reconcile(key: string): Promise<void> {
    const { context, jobs, expectations } = this.#state();
    const cached = jobs.get(key);
    if (cached === undefined) {
      expectations.forget(key);
      return;
    }
    const job = structuredClone(cached);
    if (isJobFinished(job)) {
      await this.#deleteAfterTtl(key, job);
      return;
    }
    const pods = await this.#claimPods(job);
    const counts = countPods(pods);
    const nowMs = context.nowMs();
    const status: JobStatus = { ...(job.status ?? {}) };
    let conditions = status.conditions;
    const failed = failure(job, counts, nowMs);
    if (failed !== undefined) {
      await this.#deletePods(key, job, counts.active);
      conditions = setCondition(conditions, { type: "Failed", status: "True", lastProbeTime: formatTime(nowMs), lastTransitionTime: formatTime(nowMs), reason: failed.reason, message: failed.message });
      context.events.record(job, "Warning", failed.reason, failed.message);
      counts.active = [];
    } else if (isComplete(job, counts)) {
      await this.#deletePods(key, job, counts.active);
      counts.active = [];
      conditions = setCondition(conditions, { type: "Complete", status: "True", lastProbeTime: formatTime(nowMs), lastTransitionTime: formatTime(nowMs) });
      status.completionTime = formatTime(nowMs);
      context.events.record(job, "Normal", "Completed", "Job completed");
    } else if (isSuspended(job)) {
      await this.#deletePods(key, job, counts.active);
      counts.active = [];
      if (!suspendedCondition(job)) {
        conditions = setCondition(conditions, { type: "Suspended", status: "True", lastProbeTime: formatTime(nowMs), lastTransitionTime: formatTime(nowMs), reason: "JobSuspended", message: "Job suspended" });
        context.events.record(job, "Normal", "Suspended", "Job suspended");
      }
    } else {
      if (suspendedCondition(job)) {
        conditions = setCondition(conditions, { type: "Suspended", status: "False", lastProbeTime: formatTime(nowMs), lastTransitionTime: formatTime(nowMs), reason: "JobResumed", message: "Job resumed" });
        status.startTime = formatTime(nowMs);
        context.events.record(job, "Normal", "Resumed", "Job resumed");
      }
      status.startTime ??= formatTime(nowMs);
      if (expectations.satisfied(key)) await this.#manage(key, job, counts, pods, nowMs);
      const deadline = job.spec?.activeDeadlineSeconds;
      const startMs = parseTime(status.startTime);
      if (deadline !== undefined && startMs !== undefined) context.queue.addAfter(key, Math.max(0, startMs + deadline * 1000 - nowMs));
    }
    setCounts(status, counts);
    if (conditions !== undefined && conditions.length > 0) status.conditions = conditions;
    if (!deepEqual((job.status ?? {}) as JsonValue, status as JsonValue)) {
      await context.client.update<Job>(jobsResource, { ...job, status }, { subresource: "status" });
    }
  }

  async #claimPods(job: Job): Promise<Pod[]> {
    const { context, pods } = this.#state();
    let selector;
    try {
      selector = labelSelectorAsSelector(jobSelector(job));
    } catch {
      return [];
    }
    return await claimObjects<Pod>({
      client: context.client,
      resource: podsResource,
      owner: job,
      ownerRef: newControllerRef(job, "batch/v1", "Job"),
      selector,
      candidates: pods.listMatching(job.metadata.namespace, ""),
      ownerStillLive: async () => (job.metadata.deletionTimestamp ?? null) === null,
    });
  }

  async #manage(key: string, job: Job, counts: PodCounts, pods: Pod[], nowMs: number): Promise<void> {
    const want = wantActive(job, counts);
    const active = counts.active.length;
    if (active > want) {
      await this.#deletePods(key, job, counts.active.slice(0, active - want));
      counts.active = counts.active.slice(active - want);
      return;
    }
    if (active === want) return;
    const lastFailureMs = pods
      .filter((pod) => pod.status?.phase === "Failed")
      .map(podFinishedMs)
      .reduce<number | undefined>((latest, value) => (value === undefined ? latest : Math.max(latest ?? 0, value)), undefined);
    const until = backoffUntilMs(counts.failed, lastFailureMs);
    if (until !== undefined && until > nowMs) {
      this.#state().context.queue.addAfter(key, until - nowMs);
      return;
    }
    await this.#createPods(key, job, Math.min(want - active, podsPerSyncMax), counts);
  }

  async #createPods(key: string, job: Job, count: number, counts: PodCounts): Promise<void> {
    const { context, expectations } = this.#state();
    expectations.expect(key, count, []);
    const template = structuredClone(job.spec?.template);
    const pod = podFromTemplate(template, job, newControllerRef(job, "batch/v1", "Job"));
    pod.metadata.labels = { ...generatedLabels(job), ...(pod.metadata.labels ?? {}) };
    const result = await slowStartBatch(count, 1, async () => {
      try {
        const created = await context.client.create<Pod>(podsResource, structuredClone(pod));
        counts.active.push(created);
        context.events.record(job, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name ?? ""}`);
      } catch (error) {
        expectations.creationObserved(key);
        context.events.record(job, "Warning", "FailedCreate", `Error creating: ${(error as Error).message}`);
        throw error;
      }
    });
    for (let index = 0; index < result.skipped; index++) expectations.creationObserved(key);
    if (result.errors.length > 0) throw result.errors[0] as Error;
  }

  async #deletePods(key: string, job: Job, victims: Pod[]): Promise<void> {
    if (victims.length === 0) return;
    const { context, expectations } = this.#state();
    expectations.expect(key, 0, victims.map((pod) => pod.metadata.uid ?? ""));
    for (const pod of victims) {
      try {
        await context.client.delete(podsResource, pod.metadata.namespace, pod.metadata.name ?? "");
        context.events.record(job, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name ?? ""}`);
      } catch (error) {
        expectations.deletionObserved(key, pod.metadata.uid ?? "");
        if (!isStatusError(error, "NotFound")) throw error;
      }
    }
  }

  async #deleteAfterTtl(key: string, job: Job): Promise<void> {
    const ttlSeconds = job.spec?.ttlSecondsAfterFinished;
    if (ttlSeconds === undefined) return;
    const { context } = this.#state();
    const dueMs = (finishedAtMs(job) ?? context.nowMs()) + ttlSeconds * 1000;
    if (dueMs > context.nowMs()) {
      context.queue.addAfter(key, dueMs - context.nowMs());
      return;
    }
    try {
      await context.client.delete(jobsResource, job.metadata.namespace, job.metadata.name ?? "", { propagationPolicy: "Background", preconditions: { uid: job.metadata.uid ?? "" } });
    } catch (error) {
      if (!isStatusError(error, "NotFound") && !isStatusError(error, "Conflict")) throw error;
    }
  }
}

function countPods(pods: readonly Pod[]): PodCounts {
  const active = pods.filter((pod) => pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed" && (pod.metadata.deletionTimestamp ?? null) === null);
  return {
    active,
    succeeded: pods.filter((pod) => pod.status?.phase === "Succeeded").length,
    failed: pods.filter((pod) => pod.status?.phase === "Failed").length,
    ready: active.filter(isPodReady).length,
  };
}

// Upstream writes active, ready, succeeded and failed as omitempty integers (ready always).
function setCounts(status: JobStatus, counts: PodCounts): void {
  const set = (field: "active" | "succeeded" | "failed", value: number): void => {
    if (value > 0) status[field] = value;
    else delete status[field];
  };
  set("active", counts.active.length);
  set("succeeded", counts.succeeded);
  set("failed", counts.failed);
  status.ready = counts.active.filter(isPodReady).length;
}
