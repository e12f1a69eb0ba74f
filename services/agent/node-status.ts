/**
 * Node.status as the kubelet writes it: capacity and allocatable (cpu, memory, 110 pods,
 * ephemeral storage), addresses, nodeInfo (OS, architecture, kernel, runtime version), images, and
 * the conditions Ready, MemoryPressure, DiskPressure, PIDPressure and NetworkUnavailable with
 * transition times kept while a condition holds. Written when it changes (heartbeat times aside)
 * or every nodeStatusReportMs; the Lease is renewed every leaseRenewMs.
 */
import { readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { arch, cpus, freemem, hostname, release, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeCondition, NodeStatus } from "../../libs/api/index.ts";
import type { ContainerRuntime } from "./cri/index.ts";
import type { ControlPlane } from "./control-plane.ts";
import { formatTimeMs } from "./pods/status.ts";
import type { PodLogger } from "./pods/worker-context.ts";

export const maxPodsDefault = 110;
/** The kubelet's default hard eviction thresholds: memory.available<100Mi, nodefs.available<10%. */
export const evictionMemoryBytes = 100 * 1024 * 1024;
export const evictionDiskFraction = 0.1;
/** PIDPressure when the processes in use pass this share of pid_max. */
export const pidPressureFraction = 0.9;
export const leaseRenewMs = 10_000;
/** An unchanged status is still written this often, as the kubelet's nodeStatusReportFrequency. */
export const nodeStatusReportMs = 5 * 60_000;
/** How often the node's state is looked at for changes. */
export const nodeStatusCheckMs = 10_000;
/** Images listed in status, as the kubelet's nodeStatusMaxImages. */
export const nodeStatusImagesMax = 50;

export interface NodeFacts {
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly memoryAvailableBytes: number;
  readonly diskBytes: number;
  readonly diskAvailableBytes: number;
  readonly pidsInUse: number;
  readonly pidMax: number;
  readonly runtimeReady: boolean;
  readonly runtimeMessage: string;
  readonly runtimeVersion: string;
  readonly images: { names: string[]; sizeBytes: number }[];
}

export interface NodeIdentity {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly hostname: string;
  readonly maxPods: number;
  readonly agentVersion: string;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly machineId: string;
  readonly bootId: string;
  readonly systemUuid: string;
}

/** amd64 and arm64 as Kubernetes names them (node's x64 and arm64). */
export function kubernetesArchitecture(nodeArch: string): string {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "ia32") return "386";
  return nodeArch;
}

function kibibytes(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

function condition(type: string, ok: boolean, reasons: [string, string], messages: [string, string], previous: NodeStatus | undefined, nowMs: number): NodeCondition {
  const status = ok ? "True" : "False";
  const before = previous?.conditions?.find((candidate) => candidate.type === type);
  const now = formatTimeMs(nowMs);
  return {
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: before !== undefined && before.status === status ? (before.lastTransitionTime ?? now) : now,
    reason: ok ? reasons[0] : reasons[1],
    message: ok ? messages[0] : messages[1],
  };
}

/** The status from what was measured; pure. */
export function nodeStatus(identity: NodeIdentity, facts: NodeFacts, previous: NodeStatus | undefined, nowMs: number): NodeStatus {
  const memoryPressure = facts.memoryAvailableBytes < evictionMemoryBytes;
  const diskPressure = facts.diskBytes > 0 && facts.diskAvailableBytes < facts.diskBytes * evictionDiskFraction;
  const pidPressure = facts.pidMax > 0 && facts.pidsInUse > facts.pidMax * pidPressureFraction;
  const capacity = { cpu: String(facts.cpuCount), memory: kibibytes(facts.memoryBytes), pods: String(identity.maxPods), "ephemeral-storage": kibibytes(facts.diskBytes) };
  const allocatable = {
    ...capacity,
    memory: kibibytes(Math.max(0, facts.memoryBytes - evictionMemoryBytes)),
    "ephemeral-storage": String(Math.floor(facts.diskBytes * (1 - evictionDiskFraction))),
  };
  return {
    capacity,
    allocatable,
    conditions: [
      condition("MemoryPressure", memoryPressure, ["KubeletHasInsufficientMemory", "KubeletHasSufficientMemory"], ["kubelet has insufficient memory available", "kubelet has sufficient memory available"], previous, nowMs),
      condition("DiskPressure", diskPressure, ["KubeletHasDiskPressure", "KubeletHasNoDiskPressure"], ["kubelet has disk pressure", "kubelet has no disk pressure"], previous, nowMs),
      condition("PIDPressure", pidPressure, ["KubeletHasInsufficientPID", "KubeletHasSufficientPID"], ["kubelet has insufficient PID available", "kubelet has sufficient PID available"], previous, nowMs),
      condition("Ready", facts.runtimeReady, ["KubeletReady", "KubeletNotReady"], ["kubelet is posting ready status", facts.runtimeMessage], previous, nowMs),
      condition("NetworkUnavailable", false, ["NetworkUnavailable", "RouteCreated"], ["", "flotilla agent set up the pod network"], previous, nowMs),
    ],
    addresses: [
      { type: "InternalIP", address: identity.nodeIp },
      { type: "Hostname", address: identity.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: identity.machineId,
      systemUUID: identity.systemUuid,
      bootID: identity.bootId,
      kernelVersion: identity.kernelVersion,
      osImage: identity.osImage,
      containerRuntimeVersion: facts.runtimeVersion,
      kubeletVersion: identity.agentVersion,
      kubeProxyVersion: identity.agentVersion,
      operatingSystem: "linux",
      architecture: kubernetesArchitecture(arch()),
    },
    images: facts.images.slice(0, nodeStatusImagesMax),
  };
}

/** The status with heartbeat times removed: what "changed" compares. */
export function statusWithoutHeartbeats(status: NodeStatus): string {
  return JSON.stringify({ ...status, conditions: status.conditions?.map(({ lastHeartbeatTime: _heartbeat, ...rest }) => rest) });
}

function readText(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

function osImage(): string {
  const osRelease = readText("/etc/os-release", "");
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease);
  return pretty?.[1] ?? "Linux";
}

export function localIdentity(nodeName: string, nodeIp: string, agentVersion: string, maxPods = maxPodsDefault): NodeIdentity {
  return {
    nodeName,
    nodeIp,
    hostname: hostname(),
    maxPods,
    agentVersion,
    kernelVersion: release(),
    osImage: osImage(),
    machineId: readText("/etc/machine-id", ""),
    bootId: readText("/proc/sys/kernel/random/boot_id", ""),
    systemUuid: readText("/sys/class/dmi/id/product_uuid", ""),
  };
}

/** Measures this machine and asks the runtime for its readiness, version and images. */
export async function measureNode(runtime: ContainerRuntime, dataDir: string): Promise<NodeFacts> {
  const disk = await statfs(dataDir);
  const loadavg = readText("/proc/loadavg", "0 0 0 0/0 0").split(" ")[3] ?? "0/0";
  const memInfo = readText("/proc/meminfo", "");
  const available = /^MemAvailable:\s+(\d+) kB$/m.exec(memInfo);
  let runtimeReady = false;
  let runtimeMessage: string;
  let runtimeVersion = "";
  let images: { names: string[]; sizeBytes: number }[] = [];
  try {
    const conditions = await runtime.conditions();
    const failing = conditions.filter((candidate) => !candidate.status);
    runtimeReady = failing.length === 0;
    runtimeMessage = failing.map((candidate) => `container runtime ${candidate.type}=false reason:${candidate.reason} message:${candidate.message}`).join("; ");
    const version = await runtime.version();
    runtimeVersion = `${version.runtimeName}://${version.runtimeVersion}`;
    images = (await runtime.listImages())
      .sort((left, right) => right.sizeBytes - left.sizeBytes)
      .map((image) => ({ names: [...image.repoDigests, ...image.repoTags], sizeBytes: image.sizeBytes }));
  } catch (error) {
    runtimeMessage = `container runtime is down: ${error instanceof Error ? error.message : String(error)}`;
  }
  return {
    cpuCount: cpus().length,
    memoryBytes: totalmem(),
    memoryAvailableBytes: available === null ? freemem() : Number(available[1]) * 1024,
    diskBytes: disk.blocks * disk.bsize,
    diskAvailableBytes: disk.bavail * disk.bsize,
    pidsInUse: Number(loadavg.split("/")[1] ?? 0),
    pidMax: Number(readText("/proc/sys/kernel/pid_max", "0")),
    runtimeReady,
    runtimeMessage,
    runtimeVersion,
    images,
  };
}

export interface NodeStatusLoopOptions {
  readonly controlPlane: ControlPlane;
  readonly identity: NodeIdentity;
  readonly measure: () => Promise<NodeFacts>;
  readonly log: PodLogger;
  readonly nowMs?: () => number;
}

/** Writes the node's status on change (and every nodeStatusReportMs) until aborted. */
export async function runNodeStatusLoop(options: NodeStatusLoopOptions, signal: AbortSignal): Promise<void> {
  const nowMs = options.nowMs ?? Date.now;
  let previous: NodeStatus | undefined;
  let reportedAtMs = 0;
  while (!signal.aborted) {
    try {
      const status = nodeStatus(options.identity, await options.measure(), previous, nowMs());
      const changed = previous === undefined || statusWithoutHeartbeats(status) !== statusWithoutHeartbeats(previous);
      if (changed || nowMs() - reportedAtMs >= nodeStatusReportMs) {
        await options.controlPlane.reportNodeStatus(status);
        previous = status;
        reportedAtMs = nowMs();
      }
    } catch (error) {
      options.log.warn({ err: error }, "node status update failed");
    }
    await sleep(nodeStatusCheckMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Renews the node's Lease every leaseRenewMs until aborted. */
export async function runLeaseLoop(controlPlane: ControlPlane, log: PodLogger, signal: AbortSignal, intervalMs = leaseRenewMs): Promise<void> {
  while (!signal.aborted) {
    await controlPlane.renewLease().catch((error: unknown) => log.warn({ err: error }, "lease renewal failed"));
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}
