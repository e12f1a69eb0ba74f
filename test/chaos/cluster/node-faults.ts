/**
 * Faults and recovery checks on one agent host: filling its data disk (only a bounded one: the
 * testbed's size-limited tmpfs, never the machine's own disk), the node's DiskPressure condition,
 * and an exec through the agent into a pod on the host (the agent talks to containerd again).
 */
import { execFileSync } from "node:child_process";
import { rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { findResource } from "../../../libs/api/index.ts";
import { waitFor } from "../../harness/wait.ts";
import { podSnapshot } from "./node-checks.ts";
import type { FaultContext } from "./scenarios.ts";
import { run, servers, type TestbedHost } from "./testbed.ts";

/** A data disk larger than this is not the testbed's tmpfs: the scenario refuses to fill it. */
export const boundedDiskBytesMax = 4 * 1024 ** 3;
/** Free space left after filling: under the agent's 10% DiskPressure threshold. */
export const fillLeavesFraction = 0.05;
/** The agent looks at its disk every 10 s and writes the condition when it changes. */
export const diskPressureTimeoutMs = 60_000;
export const execRecoveryTimeoutMs = 60_000;
const execTimeoutMs = 10_000;
const fillFileName = "chaos-fill";

function fillPath(host: TestbedHost): string {
  return join(host.dataDir, fillFileName);
}

/** Fills the host's data disk until less than fillLeavesFraction is free; returns the bytes written. */
export function fillDisk(host: TestbedHost): number {
  const disk = statfsSync(host.dataDir);
  const totalBytes = disk.blocks * disk.bsize;
  if (totalBytes > boundedDiskBytesMax) throw new Error(`${host.dataDir} is ${totalBytes} bytes, not the testbed's bounded tmpfs (scripts/testbed --agent-disk-mib): refusing to fill it`);
  const fillBytes = Math.floor(disk.bavail * disk.bsize - totalBytes * fillLeavesFraction);
  if (fillBytes <= 0) return 0;
  execFileSync("fallocate", ["-l", String(fillBytes), fillPath(host)], { stdio: ["ignore", "ignore", "pipe"] });
  return fillBytes;
}

export function freeDisk(host: TestbedHost): void {
  rmSync(fillPath(host), { force: true });
}

/** Waits until the node's DiskPressure condition is `wanted`; returns how long that took (ms). */
export async function waitDiskPressure(context: FaultContext, host: TestbedHost, wanted: boolean): Promise<number> {
  const nodes = findResource("", "v1", "nodes");
  if (nodes === undefined) throw new Error("nodes is not a known resource");
  const startedMs = context.clock.nowMs();
  await waitFor(async () => {
    const node = (await context.client.get(nodes, undefined, host.namespace).catch(() => undefined)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
    const condition = node?.status?.conditions?.find((candidate) => candidate.type === "DiskPressure");
    return condition?.status === (wanted ? "True" : "False") ? true : undefined;
  }, { timeoutMs: diskPressureTimeoutMs, intervalMs: 500, description: `DiskPressure=${wanted ? "True" : "False"} on node ${host.namespace}` });
  return context.clock.nowMs() - startedMs;
}

/**
 * Waits until `kubectl exec <pod> -- true` works for a pod on the host, through any server (a
 * stream works only through the replica the agent's node stream is connected to).
 */
export async function waitAgentExecs(context: FaultContext, host: TestbedHost): Promise<void> {
  const pods = [...(await podSnapshot(context.client, host.namespace)).keys()];
  const pod = pods.find((name) => name.startsWith("default/"));
  if (pod === undefined) throw new Error(`no pod in namespace default on ${host.name} to exec into`);
  const [namespace, name] = pod.split("/") as [string, string];
  const serverUrls = servers(context.testbed).map((server) => `https://${server.ip}:6443`);
  await waitFor(async () => {
    for (const server of serverUrls) {
      const ok = await run(["kubectl", "--kubeconfig", context.testbed.kubeconfig, "--server", server, "--request-timeout", "8s", "exec", "-n", namespace, name, "--", "true"], execTimeoutMs).then(() => true, () => false);
      if (ok) return true;
    }
    return undefined;
  }, { timeoutMs: execRecoveryTimeoutMs, intervalMs: 500, description: `kubectl exec into ${pod} on ${host.name}` });
}
