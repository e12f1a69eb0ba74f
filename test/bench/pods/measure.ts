/** What bench-pods measures with: pod startup through a watch, process-tree CPU and memory. */
import { readdirSync, readFileSync } from "node:fs";
import { findResource, type Pod } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";

export const podsResource = findResource("", "v1", "pods")!;
/** Linux clock ticks per second (USER_HZ), what /proc/<pid>/stat counts CPU in. */
const clockTicksPerSecond = 100;
/** Bound on the processes one tree walk visits. */
const treeProcessesMax = 10_000;

export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * fraction) - 1))] ?? 0;
}

/** Runs `work` over `count` indexes with at most `concurrency` in flight. */
export async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < count; index = next++) await work(index);
    }),
  );
}

/**
 * Watches pods in a namespace from `resourceVersion` and records, per pod name, the first time
 * the watch shows it Running (upstream's pod startup SLI ends there).
 */
export function watchRunning(client: HttpApiClient, namespace: string, resourceVersion: string, signal: AbortSignal): { runningAtMs: Map<string, number>; boundAtMs: Map<string, number>; done: Promise<void> } {
  const runningAtMs = new Map<string, number>();
  // When the watch first shows spec.nodeName: splits startup into scheduling and the node's part.
  const boundAtMs = new Map<string, number>();
  const done = (async () => {
    for await (const event of client.watch<Pod>(podsResource, namespace, { resourceVersion }, signal)) {
      if (event.type !== "ADDED" && event.type !== "MODIFIED") continue;
      const pod = event.object as Pod;
      const name = pod.metadata?.name ?? "";
      if ((pod.spec?.nodeName ?? "") !== "" && !boundAtMs.has(name)) boundAtMs.set(name, performance.now());
      if (pod.status?.phase === "Running" && !runningAtMs.has(name)) runningAtMs.set(name, performance.now());
    }
  })().catch(() => undefined);
  return { runningAtMs, boundAtMs, done };
}

function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Exited meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0 && found.length < treeProcessesMax) {
    const pid = queue.shift() ?? 0;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

export interface TreeUsage {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

/** CPU time (user + system) and resident memory of a process and all its descendants. */
export function treeUsage(rootPid: number): TreeUsage {
  let ticks = 0;
  let rssBytes = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      rssBytes += Number(rss?.[1] ?? 0) * 1024;
    } catch {
      // Exited meanwhile.
    }
  }
  return { cpuSeconds: ticks / clockTicksPerSecond, rssBytes };
}

/** Samples a process tree every intervalMs: peak RSS and CPU used since start. */
export class TreeSampler {
  readonly #pid: number;
  readonly #startCpuSeconds: number;
  readonly #startedAtMs = performance.now();
  #peakRssBytes = 0;
  #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs: number) {
    this.#pid = pid;
    this.#startCpuSeconds = treeUsage(pid).cpuSeconds;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#sample();
  }

  #sample(): void {
    this.#peakRssBytes = Math.max(this.#peakRssBytes, treeUsage(this.#pid).rssBytes);
  }

  stop(): { cpuSeconds: number; wallSeconds: number; peakRssBytes: number; rssBytes: number } {
    clearInterval(this.#timer);
    this.#sample();
    const now = treeUsage(this.#pid);
    return { cpuSeconds: now.cpuSeconds - this.#startCpuSeconds, wallSeconds: (performance.now() - this.#startedAtMs) / 1000, peakRssBytes: this.#peakRssBytes, rssBytes: now.rssBytes };
  }
}

export const mebibytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
