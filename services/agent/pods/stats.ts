/**
 * Container stats from CRI, summed per pod, for `flotilla top` and the autoscaler: the agent's
 * usage loop (../stats-report.ts) turns them into rates and reports them through the node API.
 */
import type { ContainerRuntime } from "../cri/index.ts";
import { labelNode, labelPodName, labelPodNamespace, labelPodUid } from "./runtime-config.ts";

export interface PodUsage {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly timestampMs: number;
  /** Cumulative CPU time of the pod's containers (bigint: it outgrows 2^53). */
  readonly cpuUsageCoreNanoseconds: bigint;
  readonly memoryWorkingSetBytes: number;
  readonly containers: { readonly name: string; readonly cpuUsageCoreNanoseconds: bigint; readonly memoryWorkingSetBytes: number }[];
}

/** Stats of this node's containers (ours only, by the node label), summed per pod uid. */
export async function podStats(runtime: ContainerRuntime, nodeName: string): Promise<PodUsage[]> {
  const stats = await runtime.listContainerStats({ labels: { [labelNode]: nodeName } });
  const byPod = new Map<string, PodUsage & { containers: PodUsage["containers"] }>();
  for (const stat of stats) {
    const uid = stat.labels[labelPodUid] ?? "";
    const cpu = stat.cpuUsageCoreNanoseconds ?? 0n;
    const memory = stat.memoryWorkingSetBytes ?? 0;
    const before = byPod.get(uid);
    const containers = [...(before?.containers ?? []), { name: stat.name, cpuUsageCoreNanoseconds: cpu, memoryWorkingSetBytes: memory }];
    byPod.set(uid, {
      namespace: stat.labels[labelPodNamespace] ?? "",
      name: stat.labels[labelPodName] ?? "",
      uid,
      timestampMs: Math.max(before?.timestampMs ?? 0, stat.timestampMs),
      cpuUsageCoreNanoseconds: (before?.cpuUsageCoreNanoseconds ?? 0n) + cpu,
      memoryWorkingSetBytes: (before?.memoryWorkingSetBytes ?? 0) + memory,
      containers,
    });
  }
  return [...byPod.values()];
}
