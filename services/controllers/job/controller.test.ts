import { describe, expect, it } from "vitest";
import { formatTime } from "../../../libs/api/index.ts";
import type { Job, Pod } from "../../../libs/api/index.ts";
import { drainQueue, fakeControllerContext } from "../../../libs/client/fake-informers.ts";
import { jobsResource, podsResource } from "../common/resources.ts";
import { JobController } from "./controller.ts";

function job(spec: Partial<NonNullable<Job["spec"]>> = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default" },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl" }] } }, ...spec },
  };
}

function setup(initial: Job) {
  const fake = fakeControllerContext();
  const stored = fake.client.seed(jobsResource, initial);
  const controller = new JobController();
  controller.setup(fake.context);
  const run = () => drainQueue(fake.queue, (key) => controller.reconcile(key));
  const read = () => fake.client.stored<Job>(jobsResource, "default", "pi")!;
  const podsIn = (phase?: string) => fake.client.storedAll<Pod>(podsResource).filter((pod) => phase === undefined || (pod.status?.phase ?? "Pending") === phase);
  const finish = (phase: "Succeeded" | "Failed", count: number) => {
    for (const pod of podsIn("Pending").slice(0, count)) {
      fake.client.mutate<Pod>(podsResource, "default", pod.metadata.name ?? "", (current) => ({
        ...current,
        status: { phase, containerStatuses: [{ name: "pi", image: "perl", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: phase === "Succeeded" ? 0 : 1, finishedAt: formatTime(fake.clock.nowMs) } } }] },
      }));
    }
  };
  return { ...fake, stored, controller, run, read, podsIn, finish };
}

describe("Job controller", () => {
  it("runs parallelism pods labelled for the Job until completions succeed, then reports Complete", async () => {
    const { stored, run, read, podsIn, finish, events } = setup(job({ completions: 3, parallelism: 2 }));
    await run();
    expect(podsIn()).toHaveLength(2);
    const [first] = podsIn();
    expect(first?.metadata.labels).toEqual({ "batch.kubernetes.io/controller-uid": stored.metadata.uid, "controller-uid": stored.metadata.uid, "batch.kubernetes.io/job-name": "pi", "job-name": "pi" });
    expect(first?.metadata.ownerReferences?.[0]).toMatchObject({ apiVersion: "batch/v1", kind: "Job", name: "pi", controller: true });
    expect(read().status).toMatchObject({ active: 2, ready: 0, startTime: "2026-01-01T00:00:00Z" });
    finish("Succeeded", 2);
    await run();
    expect(podsIn("Pending")).toHaveLength(1);
    finish("Succeeded", 1);
    await run();
    const status = read().status;
    expect(status).toMatchObject({ succeeded: 3, completionTime: "2026-01-01T00:00:00Z" });
    expect(status?.active).toBeUndefined();
    expect(status?.conditions?.map((condition) => [condition.type, condition.status])).toEqual([["Complete", "True"]]);
    expect(events.reasons().filter((reason) => reason === "SuccessfulCreate")).toHaveLength(3);
  });

  it("a second reconcile of a running Job writes nothing", async () => {
    const { client, controller, run } = setup(job({ completions: 2, parallelism: 2 }));
    await run();
    client.clearWrites();
    await controller.reconcile("default/pi");
    expect(client.writes).toEqual([]);
  });

  it("backs off before replacing a failed pod and fails the Job past backoffLimit", async () => {
    const { clock, queue, run, read, podsIn, finish, events } = setup(job({ backoffLimit: 1 }));
    await run();
    finish("Failed", 1);
    await run();
    expect(podsIn("Pending")).toHaveLength(0);
    expect(queue.delayed.at(-1)).toEqual({ key: "default/pi", delayMs: 10_000 });
    clock.advance(10_000);
    queue.add("default/pi");
    await run();
    expect(podsIn("Pending")).toHaveLength(1);
    finish("Failed", 1);
    await run();
    const failed = read().status?.conditions?.find((condition) => condition.type === "Failed");
    expect(failed).toMatchObject({ status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" });
    expect(read().status?.failed).toBe(2);
    expect(events.reasons()).toContain("BackoffLimitExceeded");
  });

  it("fails a Job that runs past activeDeadlineSeconds and deletes its pods", async () => {
    const { clock, queue, run, read, podsIn } = setup(job({ activeDeadlineSeconds: 30 }));
    await run();
    expect(queue.delayed).toContainEqual({ key: "default/pi", delayMs: 30_000 });
    clock.advance(30_000);
    queue.add("default/pi");
    await run();
    expect(podsIn()).toHaveLength(0);
    expect(read().status?.conditions?.[0]).toMatchObject({ type: "Failed", reason: "DeadlineExceeded" });
  });

  it("suspends by deleting active pods and resumes by creating them again", async () => {
    const { client, run, read, podsIn } = setup(job({ parallelism: 2, completions: 4 }));
    await run();
    client.mutate<Job>(jobsResource, "default", "pi", (current) => ({ ...current, spec: { ...current.spec!, suspend: true } }));
    await run();
    expect(podsIn()).toHaveLength(0);
    expect(read().status?.conditions?.[0]).toMatchObject({ type: "Suspended", status: "True", reason: "JobSuspended" });
    client.mutate<Job>(jobsResource, "default", "pi", (current) => ({ ...current, spec: { ...current.spec!, suspend: false } }));
    await run();
    expect(podsIn()).toHaveLength(2);
    expect(read().status?.conditions?.[0]).toMatchObject({ type: "Suspended", status: "False", reason: "JobResumed" });
  });

  it("deletes a finished Job after ttlSecondsAfterFinished", async () => {
    const { client, clock, queue, run, finish } = setup(job({ ttlSecondsAfterFinished: 100 }));
    await run();
    finish("Succeeded", 1);
    await run();
    expect(queue.delayed.at(-1)).toEqual({ key: "default/pi", delayMs: 100_000 });
    clock.advance(100_000);
    queue.add("default/pi");
    await run();
    expect(client.stored(jobsResource, "default", "pi")).toBeUndefined();
  });
});
