/**
 * The load phases of the store benchmark, each the same client code against any etcd v3 server:
 * sequential puts, concurrent puts, linearizable gets and watch delivery. Writes go to the
 * leader (etcd's benchmark --target-leader), reads are spread over every member.
 */
import { performance } from "node:perf_hooks";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import { runClosedLoop, type ClosedLoopResult, type StopReason } from "./load.ts";
import { ratePerSecond, summarize, type LatencySummary } from "./stats.ts";
import { loadClients, loadInFlight, valueBytes, warmupOperations } from "./config.ts";
import type { Meter, PhaseCost } from "./meter.ts";

export interface ThroughputResult {
  readonly completed: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary | undefined;
  readonly stoppedBy: StopReason;
  readonly firstError: string | undefined;
  /** Cost of the measured loop alone (no warm-up, no key loading). */
  readonly cost: PhaseCost;
}

/** Deadline of each benchmark request: long enough that a slow store is measured, not failed. */
export const loadRequestTimeoutMs = 10_000;
const nowMs = (): number => performance.now();

export function benchKey(phase: string, index: number): Buffer {
  return Buffer.from(`/bench/${phase}/${index.toString().padStart(8, "0")}`);
}

/** A `valueBytes`-long value that starts with `text` and is padded with spaces. */
export function paddedValue(text = ""): Buffer {
  const value = Buffer.alloc(valueBytes, 0x20);
  value.write(text.slice(0, valueBytes), "latin1");
  return value;
}

/** Endpoint lists for `count` clients, each starting at a different member in turn. */
export function rotatedEndpoints(endpoints: readonly string[], count: number): string[][] {
  return Array.from({ length: count }, (_, i) => endpoints.map((_, j) => endpoints[(i + j) % endpoints.length] as string));
}

export async function withClients<T>(endpointLists: readonly (readonly string[])[], body: (clients: EtcdClient[]) => Promise<T>): Promise<T> {
  const clients = endpointLists.map((endpoints) => new EtcdClient({ endpoints, requestTimeoutMs: loadRequestTimeoutMs }));
  try {
    return await body(clients);
  } finally {
    for (const client of clients) client.close();
  }
}

export function throughputResult(loop: ClosedLoopResult, cost: PhaseCost): ThroughputResult {
  return {
    completed: loop.completed,
    failed: loop.failed,
    elapsedMs: loop.elapsedMs,
    opsPerSecond: ratePerSecond(loop.completed, loop.elapsedMs),
    latency: summarize(loop.latenciesMs),
    stoppedBy: loop.stoppedBy,
    firstError: loop.firstError,
    cost,
  };
}

async function putLoop(clients: readonly EtcdClient[], phase: string, inFlight: number, count: number, durationMsMax: number): Promise<ClosedLoopResult> {
  const value = paddedValue(phase);
  return runClosedLoop({
    inFlight,
    operationsMax: count,
    durationMsMax,
    nowMs,
    operation: async (index) => {
      await (clients[index % clients.length] as EtcdClient).put({ key: benchKey(phase, index), value });
    },
  });
}

/** Runs the measured loop between the meter's begin and end. */
async function metered(meter: Meter, loop: () => Promise<ClosedLoopResult>): Promise<ThroughputResult> {
  const end = meter.begin();
  const result = await loop();
  return throughputResult(result, end());
}

/** Warm-up failures are not fatal here: the measured phase that follows reports them. */
async function warmUp(clients: readonly EtcdClient[], inFlight: number, durationMsMax: number): Promise<void> {
  await putLoop(clients, "warmup", inFlight, warmupOperations, durationMsMax);
}

/** Workload 1: one client, one put at a time, distinct keys. */
export async function sequentialPuts(meter: Meter, leaderUrl: string, count: number, durationMsMax: number): Promise<ThroughputResult> {
  return withClients([[leaderUrl]], async (clients) => {
    await warmUp(clients, 1, durationMsMax);
    return metered(meter, async () => putLoop(clients, "sequential", 1, count, durationMsMax));
  });
}

/** Workload 2: `loadInFlight` puts outstanding over `loadClients` clients. */
export async function concurrentPuts(meter: Meter, leaderUrl: string, count: number, durationMsMax: number): Promise<ThroughputResult> {
  return withClients(rotatedEndpoints([leaderUrl], loadClients), async (clients) => {
    await warmUp(clients, loadInFlight, durationMsMax);
    return metered(meter, async () => putLoop(clients, "concurrent", loadInFlight, count, durationMsMax));
  });
}

/** Workload 3: linearizable (not serializable) gets of `keyCount` existing keys, over every member. */
export async function linearizableGets(meter: Meter, leaderUrl: string, endpoints: readonly string[], count: number, keyCount: number, durationMsMax: number): Promise<ThroughputResult> {
  const loaded = await withClients(rotatedEndpoints([leaderUrl], loadClients), async (clients) => putLoop(clients, "get", loadInFlight, keyCount, durationMsMax));
  if (loaded.completed < keyCount) throw new Error(`get phase: wrote only ${loaded.completed} of ${keyCount} keys: ${loaded.firstError ?? "out of time"}`);
  return withClients(rotatedEndpoints(endpoints, loadClients), async (clients) => {
    await warmUp(clients, loadInFlight, durationMsMax);
    const get = async (index: number): Promise<void> => {
      const key = benchKey("get", index % keyCount);
      const response = await (clients[index % clients.length] as EtcdClient).range({ key, serializable: false });
      if (response.kvs.length !== 1) throw new Error(`get ${key.toString()}: ${response.kvs.length} keys`);
    };
    return metered(meter, async () => runClosedLoop({ inFlight: loadInFlight, operationsMax: count, durationMsMax, nowMs, operation: get }));
  });
}
