/**
 * Workload 4: watch delivery. `watchers` watches on one prefix, spread over the members, and one
 * writer putting `events` keys under it with the send time in each value. Each watcher's rate is
 * events received over the time from the writer's start to its last event; latency is receive
 * time minus send time, both read from this process's monotonic clock.
 */
import { performance } from "node:perf_hooks";
import { EtcdClient, prefixEnd, type Watch } from "../../../libs/etcd-client/index.ts";
import { runClosedLoop } from "./load.ts";
import { ratePerSecond, summarize, type LatencySummary } from "./stats.ts";
import { watchWriterInFlight } from "./config.ts";
import type { Meter, PhaseCost } from "./meter.ts";
import { benchKey, loadRequestTimeoutMs, paddedValue, rotatedEndpoints, throughputResult, withClients, type ThroughputResult } from "./workloads.ts";

export interface WatchResult {
  readonly watchers: number;
  readonly eventsWritten: number;
  /** Events every watcher received, summed. */
  readonly eventsDelivered: number;
  readonly eventsPerSecondPerWatcherMean: number;
  readonly eventsPerSecondPerWatcherMin: number;
  readonly latency: LatencySummary | undefined;
  readonly writer: ThroughputResult;
  readonly watcherErrors: readonly string[];
  /** From the writer's start until every watcher finished. */
  readonly cost: PhaseCost;
}

interface Received {
  readonly count: number;
  readonly latenciesMs: Float64Array;
  readonly lastReceivedAtMs: number;
  readonly error: string | undefined;
}

const watchPrefix = "/bench/watch/";
/** How long watchers may take to report `created`. */
const watchCreateTimeoutMs = 10_000;
/** How long after the writer's last put the watchers may still take to receive everything. */
const watchDrainTimeoutMs = 10_000;
const nowMs = (): number => performance.now();

/** Reads events until `expected` arrived or the watch ends; resolves `ready` on `created`. */
async function consume(watch: Watch, expected: number, ready: () => void): Promise<Received> {
  const latenciesMs = new Float64Array(expected);
  let count = 0;
  let lastReceivedAtMs = 0;
  try {
    for await (const response of watch) {
      if (response.created) ready();
      if (response.canceled) throw new Error(`watch canceled: ${response.cancel_reason}`);
      const receivedAtMs = nowMs();
      for (const event of response.events) {
        if (count >= expected) break;
        const sentAtMs = Number.parseFloat((event.kv?.value ?? Buffer.alloc(0)).toString("latin1"));
        latenciesMs[count++] = receivedAtMs - sentAtMs;
        lastReceivedAtMs = receivedAtMs;
      }
      if (count >= expected) break;
    }
  } catch (error) {
    return { count, latenciesMs: latenciesMs.subarray(0, count), lastReceivedAtMs, error: error instanceof Error ? error.message : String(error) };
  }
  return { count, latenciesMs: latenciesMs.subarray(0, count), lastReceivedAtMs, error: count < expected ? `received ${count} of ${expected} events` : undefined };
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${description}`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function writeEvents(meter: Meter, leaderUrl: string, events: number, durationMsMax: number): Promise<ThroughputResult> {
  return withClients([[leaderUrl]], async ([writer]) => {
    const end = meter.begin();
    const loop = await runClosedLoop({
      inFlight: watchWriterInFlight,
      operationsMax: events,
      durationMsMax,
      nowMs,
      operation: async (index) => {
        await (writer as EtcdClient).put({ key: benchKey("watch", index), value: paddedValue(nowMs().toFixed(3)) });
      },
    });
    return throughputResult(loop, end());
  });
}

export async function watchDelivery(meter: Meter, leaderUrl: string, endpoints: readonly string[], watchers: number, events: number, durationMsMax: number): Promise<WatchResult> {
  const clients = rotatedEndpoints(endpoints, watchers).map((list) => new EtcdClient({ endpoints: list, requestTimeoutMs: loadRequestTimeoutMs }));
  const watches: Watch[] = [];
  let drainTimer: NodeJS.Timeout | undefined;
  try {
    const readies: Promise<void>[] = [];
    const consumers: Promise<Received>[] = [];
    for (const client of clients) {
      const watch = client.watch({ key: Buffer.from(watchPrefix), range_end: prefixEnd(watchPrefix) });
      watches.push(watch);
      readies.push(new Promise<void>((resolve) => consumers.push(consume(watch, events, resolve))));
    }
    await withTimeout(Promise.all(readies), watchCreateTimeoutMs, `${watchers} watches created`);
    const writeStartedAtMs = nowMs();
    const end = meter.begin();
    const writer = await writeEvents(meter, leaderUrl, events, durationMsMax);
    drainTimer = setTimeout(() => watches.forEach((watch) => watch.cancel()), watchDrainTimeoutMs);
    const received = await Promise.all(consumers);
    return summarizeWatch(received, writer, writeStartedAtMs, end());
  } finally {
    clearTimeout(drainTimer);
    for (const watch of watches) watch.cancel();
    for (const client of clients) client.close();
  }
}

function summarizeWatch(received: readonly Received[], writer: ThroughputResult, writeStartedAtMs: number, cost: PhaseCost): WatchResult {
  const rates = received.map((watcher) => ratePerSecond(watcher.count, watcher.lastReceivedAtMs - writeStartedAtMs));
  const allLatenciesMs = new Float64Array(received.reduce((total, watcher) => total + watcher.count, 0));
  let offset = 0;
  for (const watcher of received) {
    allLatenciesMs.set(watcher.latenciesMs, offset);
    offset += watcher.count;
  }
  return {
    watchers: received.length,
    eventsWritten: writer.completed,
    eventsDelivered: offset,
    eventsPerSecondPerWatcherMean: rates.reduce((total, rate) => total + rate, 0) / Math.max(rates.length, 1),
    eventsPerSecondPerWatcherMin: Math.min(...rates),
    latency: summarize(allLatenciesMs),
    writer,
    watcherErrors: received.flatMap((watcher) => (watcher.error === undefined ? [] : [watcher.error])),
    cost,
  };
}
