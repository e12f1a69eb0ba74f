import { describe, expect, it } from "vitest";
import { findResource, type ConfigMap } from "../../libs/api/index.ts";
import { FakeClient } from "../../libs/client/fake.ts";
import type { Controller, ControllerContext, EventRecorder } from "../../libs/client/index.ts";
import { waitUntil } from "../../libs/client/test-support.ts";
import { runControllerManager } from "./manager.ts";

const configMaps = findResource("", "v1", "configmaps")!;
const silentEvents: EventRecorder = { record: () => undefined };

function configMap(name: string): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: {} };
}

/** Enqueues every ConfigMap key; reconcile fails `failFirst` times per key, then records the key. */
class RecordingController implements Controller {
  readonly name = "recording";
  readonly reconciled: string[] = [];
  readonly attempts = new Map<string, number>();
  syncedAtSetup: boolean | undefined;
  inFlight = 0;
  inFlightMax = 0;

  constructor(readonly failFirst = 0) {}

  setup(context: ControllerContext): void {
    const informer = context.informers.informerFor<ConfigMap>(configMaps);
    informer.addHandlers({
      onAdd: (object) => context.queue.add(`default/${object.metadata.name}`),
      onUpdate: (_, object) => context.queue.add(`default/${object.metadata.name}`),
    });
  }

  async reconcile(key: string): Promise<void> {
    this.inFlight++;
    this.inFlightMax = Math.max(this.inFlightMax, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempt);
      if (attempt <= this.failFirst) throw new Error(`planted failure ${attempt} for ${key}`);
      this.reconciled.push(key);
    } finally {
      this.inFlight--;
    }
  }
}

async function withManager(client: FakeClient, controller: Controller, body: () => Promise<void>, workersPerController = 2): Promise<void> {
  const stop = new AbortController();
  let started = false;
  const done = runControllerManager({ client, controllers: [controller], workersPerController, eventRecorderFor: () => silentEvents, onStarted: () => (started = true) }, stop.signal);
  await waitUntil(() => started);
  try {
    await body();
  } finally {
    stop.abort();
    await done;
  }
}

describe("runControllerManager", () => {
  it("reconciles every object listed before the workers start and each one added later", async () => {
    const client = new FakeClient();
    client.seed(configMaps, configMap("a"));
    client.seed(configMaps, configMap("b"));
    const controller = new RecordingController();
    await withManager(client, controller, async () => {
      await waitUntil(() => controller.reconciled.length === 2);
      await client.create(configMaps, configMap("c"));
      await waitUntil(() => controller.reconciled.length === 3);
    });
    expect([...controller.reconciled].sort()).toEqual(["default/a", "default/b", "default/c"]);
  });

  it("requeues a failing key with backoff until it succeeds", async () => {
    const client = new FakeClient();
    client.seed(configMaps, configMap("flaky"));
    const controller = new RecordingController(3);
    await withManager(client, controller, async () => {
      await waitUntil(() => controller.reconciled.length === 1);
    });
    expect(controller.attempts.get("default/flaky")).toBe(4);
  });

  it("never reconciles one key on two workers at once", async () => {
    const client = new FakeClient();
    client.seed(configMaps, configMap("hot"));
    const controller = new RecordingController();
    await withManager(
      client,
      controller,
      async () => {
        for (let round = 0; round < 20; round++) {
          client.mutate<ConfigMap>(configMaps, "default", "hot", (object) => ({ ...object, data: { round: String(round) } }));
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await waitUntil(() => controller.inFlight === 0 && controller.reconciled.length >= 2);
      },
      4,
    );
    expect(controller.inFlightMax).toBe(1);
  });

  it("stops when aborted before the caches sync", async () => {
    const client = new FakeClient();
    const stop = new AbortController();
    stop.abort();
    await expect(runControllerManager({ client, controllers: [new RecordingController()], eventRecorderFor: () => silentEvents }, stop.signal)).resolves.toBeUndefined();
  });
});
