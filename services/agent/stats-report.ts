/**
 * Reports this node's usage (its own and its pods') through the node API's ReportUsage every
 * `usageReportIntervalMs` (metrics-server's default resolution), for `kubectl top` and the
 * horizontal pod autoscaler. A failed report is logged and the next one comes on schedule: a
 * missed sample only ages the figures, the control plane keeps the last one for a minute.
 */
import { readFileSync } from "node:fs";
import type { NodeUsageSample } from "../apiserver/metrics/samples.ts";
import { sleepOrAbort } from "../../libs/client/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { ContainerRuntime } from "./cri/index.ts";
import { podStats } from "./pods/stats.ts";
import { parseMeminfoWorkingSetBytes, parseProcStatCpuNanoseconds, UsageRates, type NodeCumulative } from "./stats-usage.ts";

export const usageReportIntervalMs = 15_000;

export type UsageSender = (sample: NodeUsageSample) => Promise<void>;

/** The machine's CPU and memory from /proc. */
export function readProcNode(nowMs: number): NodeCumulative {
  return {
    timestampMs: nowMs,
    cpuUsageCoreNanoseconds: parseProcStatCpuNanoseconds(readFileSync("/proc/stat", "utf8")),
    memoryWorkingSetBytes: parseMeminfoWorkingSetBytes(readFileSync("/proc/meminfo", "utf8")),
  };
}


export interface UsageLoopOptions {
  readonly runtime: ContainerRuntime;
  readonly nodeName: string;
  readonly send: UsageSender;
  readonly log: Logger;
  readonly readNode?: (nowMs: number) => NodeCumulative;
  readonly intervalMs?: number;
}

/** One round: read, turn into rates, send (nothing on the first round: no rate yet). */
export async function reportUsageOnce(options: UsageLoopOptions, rates: UsageRates, nowMs: number): Promise<NodeUsageSample | undefined> {
  const node = (options.readNode ?? readProcNode)(nowMs);
  const pods = await podStats(options.runtime, options.nodeName);
  const sample = rates.next(options.nodeName, node, pods);
  if (sample !== undefined) await options.send(sample);
  return sample;
}

/** Reports until the signal aborts. */
export async function runUsageLoop(options: UsageLoopOptions, signal: AbortSignal): Promise<void> {
  const rates = new UsageRates();
  const intervalMs = options.intervalMs ?? usageReportIntervalMs;
  while (!signal.aborted) {
    try {
      await reportUsageOnce(options, rates, Date.now());
    } catch (error) {
      options.log.warn({ err: error }, "usage report failed");
    }
    await sleepOrAbort(intervalMs, signal);
  }
}
