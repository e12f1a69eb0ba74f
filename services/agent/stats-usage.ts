/**
 * Usage rates for metrics.k8s.io, as the kubelet's summary API gives metrics-server: CRI reports
 * cumulative CPU time per container, so the CPU figure is the difference between two samples
 * over the time between them (nanocores); memory is the working set as sampled. The node's own
 * figures come from /proc (all CPUs' busy time, MemTotal - MemAvailable), the whole machine as
 * the kubelet's cgroup root would see it.
 */
import type { NodeUsageSample, PodUsageSample } from "../apiserver/metrics/samples.ts";
import type { PodUsage } from "./pods/stats.ts";

/** Linux's USER_HZ: /proc/stat counts CPU time in 1/100 s on every architecture we run on. */
const clockTicksPerSecond = 100;
const nanosecondsPerTick = 1_000_000_000 / clockTicksPerSecond;
/** Samples closer than this give no rate (two reads in one tick would divide by ~0). */
const windowMsMin = 1_000;

/** Cumulative busy CPU time of all CPUs (user, nice, system, irq, softirq, steal) from /proc/stat. */
export function parseProcStatCpuNanoseconds(text: string): bigint {
  const line = text.split("\n").find((candidate) => candidate.startsWith("cpu "));
  if (line === undefined) throw new Error("/proc/stat has no cpu line");
  const fields = line.trim().split(/\s+/).slice(1).map((field) => BigInt(field));
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0n, nice = 0n, system = 0n, , , irq = 0n, softirq = 0n, steal = 0n] = fields;
  return (user + nice + system + irq + softirq + steal) * BigInt(nanosecondsPerTick);
}

/** MemTotal - MemAvailable from /proc/meminfo, in bytes: memory in use and not reclaimable at once. */
export function parseMeminfoWorkingSetBytes(text: string): number {
  const kibibytes = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    if (match === null) throw new Error(`/proc/meminfo has no ${name}`);
    return Number(match[1]);
  };
  return (kibibytes("MemTotal") - kibibytes("MemAvailable")) * 1024;
}

export interface NodeCumulative {
  readonly timestampMs: number;
  readonly cpuUsageCoreNanoseconds: bigint;
  readonly memoryWorkingSetBytes: number;
}

interface Previous {
  readonly timestampMs: number;
  readonly cpuUsageCoreNanoseconds: bigint;
}

function rateNanoCores(before: Previous | undefined, cpu: bigint, timestampMs: number): number | undefined {
  if (before === undefined) return undefined;
  const elapsedMs = timestampMs - before.timestampMs;
  const usedNanoseconds = cpu - before.cpuUsageCoreNanoseconds;
  // A restarted container starts its counter again: no rate until the next sample.
  if (elapsedMs < windowMsMin || usedNanoseconds < 0n) return undefined;
  return (Number(usedNanoseconds) * 1000) / elapsedMs;
}

/** Turns cumulative readings into rates; keeps only the previous reading of what still exists. */
export class UsageRates {
  #node: Previous | undefined;
  #containers = new Map<string, Previous>();

  /** The sample to report, or undefined on the first call (no rate yet). */
  next(nodeName: string, node: NodeCumulative, pods: readonly PodUsage[]): NodeUsageSample | undefined {
    const nodeRate = rateNanoCores(this.#node, node.cpuUsageCoreNanoseconds, node.timestampMs);
    const windowSeconds = this.#node === undefined ? 0 : Math.round((node.timestampMs - this.#node.timestampMs) / 1000);
    this.#node = { timestampMs: node.timestampMs, cpuUsageCoreNanoseconds: node.cpuUsageCoreNanoseconds };
    const seen = new Map<string, Previous>();
    const podSamples: PodUsageSample[] = [];
    for (const pod of pods) {
      const sample = this.#podSample(pod, seen);
      if (sample !== undefined) podSamples.push(sample);
    }
    this.#containers = seen;
    if (nodeRate === undefined) return undefined;
    return { nodeName, timestampMs: node.timestampMs, windowSeconds, cpuNanoCores: nodeRate, memoryWorkingSetBytes: node.memoryWorkingSetBytes, pods: podSamples };
  }

  #podSample(pod: PodUsage, seen: Map<string, Previous>): PodUsageSample | undefined {
    const containers: PodUsageSample["containers"][number][] = [];
    let complete = true;
    let windowMs = 0;
    for (const container of pod.containers) {
      const key = `${pod.uid}/${container.name}`;
      const before = this.#containers.get(key);
      seen.set(key, { timestampMs: pod.timestampMs, cpuUsageCoreNanoseconds: container.cpuUsageCoreNanoseconds });
      const rate = rateNanoCores(before, container.cpuUsageCoreNanoseconds, pod.timestampMs);
      if (rate === undefined || before === undefined) {
        complete = false;
        continue;
      }
      windowMs = Math.max(windowMs, pod.timestampMs - before.timestampMs);
      containers.push({ name: container.name, cpuNanoCores: rate, memoryWorkingSetBytes: container.memoryWorkingSetBytes });
    }
    // metrics-server leaves out a pod it cannot give every container's rate for.
    if (!complete || containers.length === 0) return undefined;
    return { namespace: pod.namespace, name: pod.name, timestampMs: pod.timestampMs, windowSeconds: Math.round(windowMs / 1000), containers };
  }
}
