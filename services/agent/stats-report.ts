/**
 * Reports this node's usage (its own and its pods') through the node API's ReportUsage every
 * `usageReportIntervalMs` (metrics-server's default resolution), for `kubectl top` and the
 * horizontal pod autoscaler. A failed report is logged and the next one comes on schedule: a
 * missed sample only ages the figures, the control plane keeps the last one for a minute.
 */
import { credentials as grpcCredentials, type Client, type ServiceError } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import type { NodeUsageSample } from "../apiserver/metrics/samples.ts";
import { loadNodeApi, nodeApiMessageBytesMax } from "../nodeapi/wire.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { ContainerRuntime } from "./cri/index.ts";
import { loadCredentials, type NodeCredentials } from "./nodeclient/index.ts";
import { podStats } from "./pods/stats.ts";
import { parseMeminfoWorkingSetBytes, parseProcStatCpuNanoseconds, UsageRates, type NodeCumulative } from "./stats-usage.ts";

export const usageReportIntervalMs = 15_000;
export const usageCallTimeoutMs = 10_000;

export type UsageSender = (sample: NodeUsageSample) => Promise<void>;

/** The machine's CPU and memory from /proc. */
export function readProcNode(nowMs: number): NodeCumulative {
  return {
    timestampMs: nowMs,
    cpuUsageCoreNanoseconds: parseProcStatCpuNanoseconds(readFileSync("/proc/stat", "utf8")),
    memoryWorkingSetBytes: parseMeminfoWorkingSetBytes(readFileSync("/proc/meminfo", "utf8")),
  };
}

/**
 * ReportUsage over the node API with the node certificate, each replica tried once in order.
 * `current` is asked before each send: a renewed certificate (nodeclient/renewal.ts) replaces the
 * channels made with the old one.
 */
export function nodeApiUsageSender(current: NodeCredentials | (() => NodeCredentials)): UsageSender & { close(): void } {
  const clients = new Map<string, Client>();
  let credentials = typeof current === "function" ? current() : current;
  const refresh = (): void => {
    if (typeof current !== "function") return;
    const latest = current();
    if (latest.certificatePem === credentials.certificatePem) return;
    clients.forEach((client) => client.close());
    clients.clear();
    credentials = latest;
  };
  const clientFor = (address: string): Client => {
    let client = clients.get(address);
    if (client === undefined) {
      const NodeApi = loadNodeApi();
      const channel = grpcCredentials.createSsl(Buffer.from(credentials.caCertificatePem), Buffer.from(credentials.privateKeyPem), Buffer.from(credentials.certificatePem));
      client = new NodeApi(address, channel, { "grpc.max_send_message_length": nodeApiMessageBytesMax });
      clients.set(address, client);
    }
    return client;
  };
  const callOnce = async (address: string, sample: NodeUsageSample): Promise<void> => {
    const client = clientFor(address) as unknown as { ReportUsage: (request: unknown, options: { deadline: Date }, callback: (error: ServiceError | null) => void) => void };
    await new Promise<void>((resolve, reject) => {
      client.ReportUsage({ usage_json: Buffer.from(JSON.stringify(sample)) }, { deadline: new Date(Date.now() + usageCallTimeoutMs) }, (error) => (error === null ? resolve() : reject(error)));
    });
  };
  const send = async (sample: NodeUsageSample): Promise<void> => {
    refresh();
    let lastError: unknown;
    for (const address of credentials.replicas) {
      try {
        return await callOnce(address, sample);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`ReportUsage: no control-plane replica took the sample: ${(lastError as ServiceError | undefined)?.details ?? String(lastError)}`, { cause: lastError });
  };
  return Object.assign(send, { close: () => clients.forEach((client) => client.close()) });
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
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

/**
 * The agent's usage loop over the node API with the credentials saved in its data directory;
 * without them (a test's in-memory control plane) there is nowhere to report and it returns.
 */
export async function runUsageReporting(options: Omit<UsageLoopOptions, "send"> & { readonly dataDir: string }, signal: AbortSignal): Promise<void> {
  const credentials = loadCredentials(options.dataDir, options.nodeName);
  if (credentials === undefined) {
    options.log.info({ node: options.nodeName }, "no node credentials in the data directory: usage is not reported");
    return;
  }
  const saved = credentials;
  const send = nodeApiUsageSender(() => loadCredentials(options.dataDir, options.nodeName) ?? saved);
  try {
    await runUsageLoop({ ...options, send }, signal);
  } finally {
    send.close();
  }
}
