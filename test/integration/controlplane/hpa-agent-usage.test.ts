/**
 * Where the autoscaler's figures start: the agent's usage round (stats-report.ts) against a real
 * containerd in a network namespace. A pod that spins one shell loop under a 300m CPU limit must
 * be reported at a rate near its quota, a sleeping pod near zero, both with a working set.
 * Needs root, containerd, runc and the CNI plugins (as test/integration/agent).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container, Pod } from "../../../libs/api/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import type { NodeUsageSample } from "../../../services/apiserver/metrics/samples.ts";
import { MemoryControlPlane } from "../../../services/agent/memory-control-plane.ts";
import { PodManager } from "../../../services/agent/pods/index.ts";
import { readProcNode, reportUsageOnce } from "../../../services/agent/stats-report.ts";
import { UsageRates } from "../../../services/agent/stats-usage.ts";
import { busyboxImage, buildTestImages, ContainerdHost, unmountUnder } from "../../harness/containerd.ts";
import { NetworkLab } from "../../harness/netns.ts";
import { waitFor } from "../../harness/wait.ts";

const namespace = "usage-test";
const nodeName = "node-1";
const statusWaitMs = 60_000;
/** Two readings this far apart give a rate over a window like an agent's, shorter. */
const windowMs = 3_000;

let lab: NetworkLab | undefined;
let imagesDir: string | undefined;
let dataDir: string | undefined;
let containerd: ContainerdHost | undefined;
let agentStop: AbortController | undefined;
let agentRun: Promise<void> | undefined;
let controlPlane: MemoryControlPlane;

function pod(name: string, script: string, cpuLimit?: string): Pod {
  const container: Container = {
    name: "main",
    image: busyboxImage,
    imagePullPolicy: "IfNotPresent",
    command: ["sh", "-c", script],
    ...(cpuLimit === undefined ? {} : { resources: { requests: { cpu: "100m" }, limits: { cpu: cpuLimit } } }),
  };
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace, uid: `${lab?.prefix ?? ""}-${name}` }, spec: { nodeName, terminationGracePeriodSeconds: 2, containers: [container] } };
}

beforeAll(async () => {
  lab = NetworkLab.create(1);
  imagesDir = mkdtempSync(join(tmpdir(), "fl-images-"));
  dataDir = mkdtempSync(join(tmpdir(), "fl-usage-"));
  const images = await buildTestImages(imagesDir);
  const host = lab.hosts[0];
  if (host === undefined) throw new Error("NetworkLab made no host");
  containerd = await ContainerdHost.start({ lab, host, podSubnet: `10.244.${randomInt(1, 255)}.0/24`, images, streamServerAddress: host.ip });
  controlPlane = new MemoryControlPlane();
  agentStop = new AbortController();
  const manager = new PodManager({ runtime: containerd.runtime, controlPlane, nodeName, nodeIp: host.ip, dataDir, cgroupParent: containerd.cgroupParent, resyncIntervalMs: 300 });
  void controlPlane.watchNode(manager.handlers(), agentStop.signal);
  agentRun = manager.run(agentStop.signal);
  controlPlane.sync({});
});

afterAll(async () => {
  agentStop?.abort();
  await agentRun;
  await containerd?.stop();
  lab?.destroy();
  if (dataDir !== undefined) unmountUnder(dataDir);
  for (const dir of [imagesDir, dataDir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("usage from CRI", () => {
  it("reports a spinning pod near its CPU limit and a sleeping one near zero, with working sets", async () => {
    controlPlane.upsertPod(pod("spin", "while :; do :; done", "300m"));
    controlPlane.upsertPod(pod("idle", "sleep 1000"));
    await waitFor(
      () => (["spin", "idle"].every((name) => controlPlane.status(namespace, name)?.phase === "Running") ? true : undefined),
      { timeoutMs: statusWaitMs, intervalMs: 200, description: "both pods Running" },
    );
    const sent: NodeUsageSample[] = [];
    const options = { runtime: containerd!.runtime, nodeName, send: async (sample: NodeUsageSample) => void sent.push(sample), log: createLogger("usage-test"), readNode: readProcNode };
    const rates = new UsageRates();
    const first = await reportUsageOnce(options, rates, Date.now());
    expect(first).toBeUndefined();
    // A rate is CPU time over wall time: the second reading needs the window to have passed.
    await delay(windowMs);
    const sample = await reportUsageOnce(options, rates, Date.now());
    expect(sent).toHaveLength(1);
    const byName = new Map((sample?.pods ?? []).map((entry) => [entry.name, entry]));
    const spin = byName.get("spin")?.containers[0];
    const idle = byName.get("idle")?.containers[0];
    expect(spin?.cpuNanoCores).toBeGreaterThan(50_000_000);
    // The CFS quota holds it at 300m (a little over on a window's edges).
    expect(spin?.cpuNanoCores).toBeLessThan(400_000_000);
    expect(idle?.cpuNanoCores).toBeLessThan(20_000_000);
    expect(spin?.memoryWorkingSetBytes).toBeGreaterThan(0);
    expect(sample?.cpuNanoCores).toBeGreaterThan(0);
    expect(sample?.memoryWorkingSetBytes).toBeGreaterThan(0);
  });
});
