import { describe, expect, it } from "vitest";
import type { CronJob, Job } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { cronJobsResource, jobsResource } from "../common/resources.ts";
import { CronJobController } from "./controller.ts";

function cronJob(spec: Partial<NonNullable<CronJob["spec"]>> = {}): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "tick", namespace: "default" },
    spec: {
      schedule: "*/5 * * * *",
      jobTemplate: { metadata: { labels: { app: "tick" } }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "tick", image: "busybox" }] } } } },
      ...spec,
    },
  };
}

function setup(initial: CronJob) {
  const fake = fakeControllerContext();
  fake.client.seed(cronJobsResource, initial);
  const controller = new CronJobController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const tick = async (minutes: number) => {
    fake.clock.advance(minutes * 60_000);
    fake.queue.add("default/tick");
    await run();
  };
  const jobNames = () => fake.client.storedAll<Job>(jobsResource).map((job) => job.metadata.name);
  const read = () => fake.client.stored<CronJob>(cronJobsResource, "default", "tick")!;
  const finish = (name: string, type: "Complete" | "Failed") =>
    fake.client.mutate<Job>(jobsResource, "default", name, (job) => ({
      ...job,
      status: { conditions: [{ type, status: "True" }], ...(type === "Complete" ? { completionTime: new Date(fake.clock.nowMs).toISOString().replace(".000Z", "Z") } : {}) },
    }));
  return { ...fake, controller, run, tick, jobNames, read, finish };
}

// The fake clock starts at 2026-01-01T00:00:00Z: minute 29444160 since the epoch.
const startMinute = Date.UTC(2026, 0, 1) / 60_000;

describe("CronJob controller", () => {
  it("creates the Job of a scheduled time once, then waits for the next time", async () => {
    const { client, queue, run, tick, jobNames, read, events } = setup(cronJob());
    await run();
    expect(jobNames()).toEqual([]);
    expect(queue.delayed.at(-1)).toEqual({ key: "default/tick", delayMs: 300_000 });
    await tick(5);
    expect(jobNames()).toEqual([`tick-${startMinute + 5}`]);
    const job = client.stored<Job>(jobsResource, "default", `tick-${startMinute + 5}`)!;
    expect(job.metadata.labels).toEqual({ app: "tick" });
    expect(job.metadata.annotations).toEqual({ "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-01-01T00:05:00Z" });
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", name: "tick", controller: true });
    expect(read().status).toMatchObject({ lastScheduleTime: "2026-01-01T00:05:00Z", active: [{ kind: "Job", name: `tick-${startMinute + 5}` }] });
    expect(events.reasons()).toEqual(["SuccessfulCreate"]);
    client.clearWrites();
    await tick(1);
    expect(client.writes).toEqual([]);
  });

  it("Forbid skips a run while the last one is active; Replace deletes it first", async () => {
    const forbid = setup(cronJob({ concurrencyPolicy: "Forbid" }));
    await forbid.tick(5);
    await forbid.tick(5);
    expect(forbid.jobNames()).toEqual([`tick-${startMinute + 5}`]);
    const replace = setup(cronJob({ concurrencyPolicy: "Replace" }));
    await replace.tick(5);
    await replace.tick(5);
    expect(replace.jobNames()).toEqual([`tick-${startMinute + 10}`]);
    expect(replace.read().status?.active?.map((reference) => reference.name)).toEqual([`tick-${startMinute + 10}`]);
  });

  it("skips a run missed by more than startingDeadlineSeconds", async () => {
    const { clock, queue, run, tick, jobNames } = setup(cronJob({ startingDeadlineSeconds: 30 }));
    await tick(6);
    expect(jobNames()).toEqual([]);
    // 20 s after 00:10 is within the deadline.
    clock.advance(4 * 60_000 + 20_000);
    queue.add("default/tick");
    await run();
    expect(jobNames()).toEqual([`tick-${startMinute + 10}`]);
  });

  it("keeps successfulJobsHistoryLimit finished Jobs and records lastSuccessfulTime", async () => {
    const { tick, jobNames, finish, read } = setup(cronJob({ successfulJobsHistoryLimit: 1 }));
    await tick(5);
    finish(`tick-${startMinute + 5}`, "Complete");
    await tick(5);
    finish(`tick-${startMinute + 10}`, "Complete");
    await tick(1);
    expect(jobNames()).toEqual([`tick-${startMinute + 10}`]);
    expect(read().status?.lastSuccessfulTime).toBe("2026-01-01T00:10:00Z");
    expect(read().status?.active).toBeUndefined();
  });

  it("does nothing while suspended", async () => {
    const { tick, jobNames } = setup(cronJob({ suspend: true }));
    await tick(10);
    expect(jobNames()).toEqual([]);
  });
});
