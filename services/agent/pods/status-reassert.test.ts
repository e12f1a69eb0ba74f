import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Pod, PodStatus } from "../../../libs/api/index.ts";
import { MemoryControlPlane } from "../memory-control-plane.ts";
import { FakeRuntime } from "./fake-runtime.ts";
import { PodManager } from "./pod-manager.ts";
import { statusFingerprint, statusReassertsMax } from "./pod-worker.ts";

const image = "docker.io/flotilla/busybox:1";

let dataDir: string;
let runtime: FakeRuntime;
let controlPlane: MemoryControlPlane;
let watch: AbortController;
let manager: PodManager;

const pod: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "uid-web", resourceVersion: "1" },
  spec: { nodeName: "node-a", containers: [{ name: "main", image, imagePullPolicy: "IfNotPresent", command: ["sleep", "1000"] }] },
};

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "fl-reassert-"));
  const nowMs = 1_700_000_000_000;
  runtime = new FakeRuntime({ nowMs: () => nowMs, images: [image] });
  controlPlane = new MemoryControlPlane();
  watch = new AbortController();
  manager = new PodManager({ runtime, controlPlane, nodeName: "node-a", nodeIp: "192.168.1.10", dataDir, nowMs: () => nowMs, mountTmpfs: false });
  void controlPlane.watchNode(manager.handlers(), watch.signal);
});

afterEach(() => {
  watch.abort();
  rmSync(dataDir, { recursive: true, force: true });
});

function writes(): PodStatus[] {
  return controlPlane.statuses.get("default/web") ?? [];
}

function readyOf(status: PodStatus | undefined): string | undefined {
  return status?.conditions?.find((condition) => condition.type === "Ready")?.status;
}

/** The pod as the API holds it after the node lifecycle controller marked it not ready. */
function markedNotReady(reported: PodStatus, resourceVersion: string): Pod {
  const conditions = (reported.conditions ?? []).map((condition) => (condition.type === "Ready" ? { ...condition, status: "False" as const } : condition));
  return { ...pod, metadata: { ...pod.metadata, resourceVersion }, status: { ...reported, conditions } };
}

/** Runs a converged pod and returns the status the agent wrote. */
async function converged(): Promise<PodStatus> {
  controlPlane.sync({ pods: [pod] });
  await manager.syncAll();
  const reported = controlPlane.status("default", "web");
  expect(readyOf(reported)).toBe("True");
  return reported ?? {};
}

describe("status reassertion", () => {
  it("a pod marked Ready=False by another writer gets the agent's Ready=True written again", async () => {
    const reported = await converged();
    const before = writes().length;
    controlPlane.upsertPod(markedNotReady(reported, "7"));
    await manager.syncAll();
    expect(writes().length).toBe(before + 1);
    expect(readyOf(writes().at(-1))).toBe("True");
  });

  it("a pod whose API status equals the agent's is not written again", async () => {
    const reported = await converged();
    const before = writes().length;
    controlPlane.upsertPod({ ...pod, metadata: { ...pod.metadata, resourceVersion: "8" }, status: reported });
    await manager.syncAll();
    await manager.syncAll();
    expect(writes().length).toBe(before);
  });

  it("resyncs against the same differing object write once, not every pass", async () => {
    const reported = await converged();
    const before = writes().length;
    controlPlane.upsertPod(markedNotReady(reported, "9"));
    for (let pass = 0; pass < 5; pass += 1) await manager.syncAll();
    expect(writes().length).toBe(before + 1);
  });

  it("a server that keeps a different value is written at most statusReassertsMax times", async () => {
    const reported = await converged();
    const before = writes().length;
    for (let version = 10; version < 10 + statusReassertsMax * 3; version += 1) {
      controlPlane.upsertPod(markedNotReady(reported, String(version)));
      await manager.syncAll();
    }
    expect(writes().length).toBe(before + statusReassertsMax);
  });

  it("the bound starts again once the API agreed", async () => {
    const reported = await converged();
    for (let version = 20; version < 20 + statusReassertsMax; version += 1) {
      controlPlane.upsertPod(markedNotReady(reported, String(version)));
      await manager.syncAll();
    }
    controlPlane.upsertPod({ ...pod, metadata: { ...pod.metadata, resourceVersion: "30" }, status: reported });
    await manager.syncAll();
    const before = writes().length;
    controlPlane.upsertPod(markedNotReady(reported, "31"));
    await manager.syncAll();
    expect(writes().length).toBe(before + 1);
  });
});

describe("statusFingerprint()", () => {
  it("ignores timestamps but not a condition's status", () => {
    const base: PodStatus = { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-11-22T08:00:00Z" }] };
    const laterTime: PodStatus = { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-11-22T08:05:00Z" }] };
    const notReady: PodStatus = { phase: "Running", conditions: [{ type: "Ready", status: "False", lastTransitionTime: "2026-11-22T08:00:00Z" }] };
    expect(statusFingerprint(laterTime)).toBe(statusFingerprint(base));
    expect(statusFingerprint(notReady)).not.toBe(statusFingerprint(base));
  });
});
