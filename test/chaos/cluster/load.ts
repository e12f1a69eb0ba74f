/**
 * The load during a scenario: one client writing ConfigMaps through the API (create, update,
 * delete; every operation recorded in libs/lincheck's history shape, so the same checker that
 * judges the store judges the API), and one client calling the NodePort Service with curl,
 * counting failures and the longest gap between two answers.
 */
import { readFileSync } from "node:fs";
import { findResource, isStatusError } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import type { HistoryEntry, KvOperation, KvResult } from "../../../libs/lincheck/index.ts";
import { sleepMs, type ScenarioClock } from "../clock.ts";
import { run } from "./testbed.ts";

export const loadNamespace = "default";
/** Keys the writer cycles through: few, so that every key sees many writes and deletes. */
export const configMapKeys = 6;
/** An API call that has not answered in this long counts as hanging (and its outcome as unknown). */
export const apiRequestTimeoutMs = 5_000;
/** A read moves on to the next server after this (libs/client's per-attempt timeout). */
export const apiAttemptTimeoutMs = 1_500;
/** Bounds on one scenario's load, whatever its length. */
export const writesMaxPerScenario = 5_000;
export const probesMaxPerScenario = 5_000;
const writePauseMs = 50;
const probeTimeoutSeconds = 1;
const probePauseMs = 100;
/** Definite refusals: the write did not happen. Anything else (5xx, timeout, reset) may have. */
const definiteFailureCodes = new Set([400, 403, 404, 409, 422]);

const configMaps = findResource("", "v1", "configmaps");

export function apiClient(kubeconfig: string, serverUrls: readonly string[]): HttpApiClient {
  const options = optionsFromKubeconfig(readFileSync(kubeconfig, "utf8"), serverUrls);
  return new HttpApiClient({ ...options, requestTimeoutMs: apiRequestTimeoutMs, attemptTimeoutMs: apiAttemptTimeoutMs, userAgent: "flotilla-chaos" });
}

/** Each scenario writes its own keys (`prefix`), so every history starts from absent keys. */
export function keyName(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

export interface WriterStats {
  /** Slowest call that failed (ms): calls during faults must fail fast, not hang. */
  slowestFailedMs: number;
  failed: number;
  /** Failed calls slower than slowFailureMs: they waited for the client's deadline, not a refusal. */
  slowFailures: number;
}

export const slowFailureMs = 1_000;

/** Runs the ConfigMap writer until `signal` aborts; returns the recorded history. */
export async function runWriter(client: HttpApiClient, prefix: string, clock: ScenarioClock, signal: AbortSignal, stats: WriterStats): Promise<HistoryEntry[]> {
  const history: HistoryEntry[] = [];
  const present = new Map<string, boolean>();
  for (let index = 0; index < writesMaxPerScenario && !signal.aborted; index++) {
    const key = keyName(prefix, index % configMapKeys);
    const operation: KvOperation = present.get(key) === true && index % 5 === 4 ? { kind: "delete", key } : { kind: "put", key, value: `v${index}-${clock.nowMs().toFixed(0)}` };
    history.push(await recordOne(client, clock, operation, present, stats));
    await sleepMs(writePauseMs);
  }
  return history;
}

async function applyOne(client: HttpApiClient, operation: KvOperation, present: Map<string, boolean>): Promise<KvResult> {
  const resource = configMaps;
  if (resource === undefined) throw new Error("configmaps is not a known resource");
  if (operation.kind === "delete") {
    await client.delete(resource, loadNamespace, operation.key);
    present.set(operation.key, false);
    return { kind: "delete" };
  }
  if (operation.kind !== "put") throw new Error(`the writer sends no ${operation.kind}`);
  const object = { metadata: { name: operation.key, namespace: loadNamespace }, data: { value: operation.value } };
  if (present.get(operation.key) === true) await client.update(resource, object);
  else await client.create(resource, object);
  present.set(operation.key, true);
  return { kind: "put" };
}

/**
 * One write. A create that meets 409 (or an update that meets 404) learned the key's state: the
 * write did not happen and the next one uses the other verb.
 */
async function recordOne(client: HttpApiClient, clock: ScenarioClock, operation: KvOperation, present: Map<string, boolean>, stats: WriterStats): Promise<HistoryEntry> {
  const invokeTime = clock.nowMs();
  try {
    const result = await applyOne(client, operation, present);
    return { client: 0, operation, invokeTime, outcome: { status: "ok", completeTime: clock.nowMs(), result } };
  } catch (error) {
    const completeTime = clock.nowMs();
    stats.failed++;
    stats.slowestFailedMs = Math.max(stats.slowestFailedMs, completeTime - invokeTime);
    if (completeTime - invokeTime > slowFailureMs) stats.slowFailures++;
    const code = isStatusError(error) ? (error.status.code ?? 0) : 0;
    if (code === 409) present.set(operation.key, true);
    if (code === 404) present.set(operation.key, false);
    // Unknown keeps the verb honest: after an unknown create the next write may meet 409.
    if (definiteFailureCodes.has(code)) return { client: 0, operation, invokeTime, outcome: { status: "failed", completeTime } };
    present.delete(operation.key);
    return { client: 0, operation, invokeTime, outcome: { status: "unknown" } };
  }
}

/** The final read of every key, appended to the history as gets (so lost writes show as violations). */
export async function finalReads(client: HttpApiClient, prefix: string, clock: ScenarioClock): Promise<HistoryEntry[]> {
  const resource = configMaps;
  if (resource === undefined) throw new Error("configmaps is not a known resource");
  const reads: HistoryEntry[] = [];
  for (let index = 0; index < configMapKeys; index++) {
    const key = keyName(prefix, index);
    const invokeTime = clock.nowMs();
    let value: string | null = null;
    try {
      const object = (await client.get(resource, loadNamespace, key)) as { data?: Record<string, string> };
      value = object.data?.["value"] ?? null;
    } catch (error) {
      if (!(isStatusError(error) && error.status.code === 404)) throw error;
    }
    reads.push({ client: 1, operation: { kind: "get", key }, invokeTime, outcome: { status: "ok", completeTime: clock.nowMs(), result: { kind: "get", value } } });
  }
  return reads;
}

export interface ProbeStats {
  probes: number;
  failed: number;
  /** Longest time without a successful answer, ms. */
  longestGapMs: number;
}

/** Calls the Service through each agent's NodePort in turn until `signal` aborts. */
export async function runProbe(urls: readonly string[], clock: ScenarioClock, signal: AbortSignal): Promise<ProbeStats> {
  const stats: ProbeStats = { probes: 0, failed: 0, longestGapMs: 0 };
  let lastOkMs = clock.nowMs();
  for (let index = 0; index < probesMaxPerScenario && !signal.aborted; index++) {
    const url = urls[index % urls.length] ?? "";
    stats.probes++;
    try {
      await run(["curl", "-sf", "-o", "/dev/null", "-m", String(probeTimeoutSeconds), url], (probeTimeoutSeconds + 2) * 1000);
      const nowMs = clock.nowMs();
      stats.longestGapMs = Math.max(stats.longestGapMs, nowMs - lastOkMs);
      lastOkMs = nowMs;
    } catch {
      stats.failed++;
    }
    await sleepMs(probePauseMs);
  }
  stats.longestGapMs = Math.max(stats.longestGapMs, clock.nowMs() - lastOkMs);
  return stats;
}
