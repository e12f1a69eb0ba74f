/**
 * Builders for controller unit tests: workloads and pods in the shapes the API server stores
 * (defaults filled in where a controller reads them).
 */
import { formatTime } from "../../../libs/api/index.ts";
import type { Pod, PodTemplateSpec, ReplicaSet } from "../../../libs/api/index.ts";
import { fakeControllerContext, ManualQueue } from "../../../libs/client/fake-informers.ts";
import type { FakeControllerContext } from "../../../libs/client/fake-informers.ts";
import type { Controller } from "../../../libs/client/types.ts";
import { podsResource } from "./resources.ts";

export function template(labels: Record<string, string>, image = "nginx:1"): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: "app", image }] } };
}

export function replicaSet(name: string, replicas: number, labels: Record<string, string>, extra: Partial<NonNullable<ReplicaSet["spec"]>> = {}): ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default" },
    spec: { replicas, selector: { matchLabels: labels }, template: template(labels), ...extra },
  };
}

/** Marks a pod Running and Ready since `readySinceMs` on `nodeName`, as an agent reports it. */
export function runningReady(pod: Pod, readySinceMs: number, nodeName = "node-1"): Pod {
  const since = formatTime(readySinceMs);
  return {
    ...pod,
    spec: { ...(pod.spec ?? { containers: [] }), nodeName },
    status: {
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True", lastTransitionTime: since },
        { type: "ContainersReady", status: "True", lastTransitionTime: since },
      ],
    },
  };
}

/** Several controllers on one fake API, each with its own queue, as the manager runs them. */
export class FakeControllers {
  readonly fake: FakeControllerContext;
  readonly #running: { controller: Controller; queue: ManualQueue }[] = [];

  constructor(fake: FakeControllerContext = fakeControllerContext()) {
    this.fake = fake;
  }

  add<C extends Controller>(controller: C): C {
    const queue = new ManualQueue();
    controller.setup({ ...this.fake.context, queue });
    this.#running.push({ controller, queue });
    return controller;
  }

  queueOf(controller: Controller): ManualQueue {
    const running = this.#running.find((entry) => entry.controller === controller);
    if (running === undefined) throw new Error(`${controller.name} was not added`);
    return running.queue;
  }

  /** Runs every queued key of every controller until all queues are empty (bounded). */
  async settle(afterEachReconcile: () => void = () => {}, roundsMax = 10_000): Promise<void> {
    for (let round = 0; round < roundsMax; round++) {
      const busy = this.#running.find((entry) => entry.queue.length > 0);
      if (busy === undefined) return;
      const key = await busy.queue.get();
      if (key !== undefined) await busy.controller.reconcile(key);
      afterEachReconcile();
    }
    throw new Error("controllers did not settle");
  }

  /** Re-queues the delayed keys (as if their time had come) and settles. */
  async fireDelayed(): Promise<void> {
    for (const { queue } of this.#running) {
      for (const { key } of queue.delayed.splice(0, queue.delayed.length)) queue.add(key);
    }
    await this.settle();
  }

  /** What an agent does: every pod not yet Running becomes Running and Ready now. */
  markPodsReady(filter: (pod: Pod) => boolean = () => true): void {
    const { client, clock } = this.fake;
    for (const pod of client.storedAll<Pod>(podsResource)) {
      if (pod.status?.phase === "Running" || !filter(pod)) continue;
      client.mutate<Pod>(podsResource, pod.metadata.namespace, pod.metadata.name ?? "", (current) => runningReady(current, clock.nowMs, current.spec?.nodeName ?? "node-1"));
    }
  }
}
