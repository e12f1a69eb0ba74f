/**
 * One chaos scenario, start to finish: a fresh cluster in fresh network namespaces, watchers
 * from the starting revision, the client load and the nemesis for the scenario's time, then
 * full recovery, a final write and final reads, convergence, and the checks. The cluster and
 * its namespaces are removed on every path.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prefixEnd } from "../../libs/etcd-client/index.ts";
import type { HistoryEntry } from "../../libs/lincheck/index.ts";
import { createPrng, type Prng } from "../../libs/prng/index.ts";
import { errorText } from "./admin.ts";
import { analyzeHistory, longestWriteUnavailabilityMs, statusWithout, type Analysis } from "./analysis.ts";
import { ClientPool } from "./client-pool.ts";
import { ScenarioClock, sleepMs } from "./clock.ts";
import { checkConvergence, type Convergence } from "./convergence.ts";
import { recoverAll, runNemesis, type FaultEvent, type LeaderLoss, type NemesisContext, type ScenarioKind } from "./faults.ts";
import { LabCluster, type StoreImplementation } from "./lab-cluster.ts";
import { WatchRecorder } from "./watchers.ts";
import { HistoryRecorder, runWorkload, type OperationMeta, type Target, type WorkloadEnvironment } from "./workload.ts";

export interface ScenarioSpec {
  readonly size: number;
  readonly kind: ScenarioKind;
}

export interface RunSettings {
  readonly implementation: StoreImplementation;
  readonly seconds: number;
  readonly clients: number;
  readonly keys: number;
  readonly watchers: number;
  readonly thinkTimeMsMax: number;
  readonly requestTimeoutMs: number;
  readonly seed: number;
  readonly plantStaleReads: boolean;
  readonly runId: string;
  readonly workRoot: string;
  readonly keepArtifacts: boolean;
  readonly log: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  readonly spec: ScenarioSpec;
  readonly durationMs: number;
  readonly events: readonly FaultEvent[];
  readonly leaderLosses: readonly LeaderLoss[];
  readonly analysis: Analysis | undefined;
  readonly convergence: Convergence | undefined;
  readonly unavailabilityAfterKillMs: number | undefined;
  readonly plantedReads: number;
  /** History indexes of planted reads named in a linearizability violation. */
  readonly plantedInViolation: readonly number[];
  /** The control of a plant: the verdict on the same history without the planted reads. */
  readonly statusWithoutPlanted: "linearizable" | "violation" | "unknown" | undefined;
  readonly watchReconnects: number;
  readonly streamsComplete: boolean;
  /** For each stream that did not reach the final write: why its last connection ended. */
  readonly streamsShort: readonly string[];
  /** A step that failed outright (cluster did not start, recovery failed). */
  readonly error: string | undefined;
  readonly artifactsDir: string | undefined;
  /** The namespaces' prefix and the bridge, removed when the scenario ended. */
  readonly lab: string | undefined;
  /** Planted reads: history index and the member that served them. */
  readonly plantedMembers: ReadonlyMap<number, string>;
}

const heartbeatIntervalMs = 100;
const electionTimeoutMs = 1000;
const snapshotCount = 5000;
const recoveryTimeoutMs = 60_000;
const streamCatchUpTimeoutMs = 30_000;
/** The final write is retried this many times (each attempt recorded) until one is acknowledged. */
const finalWriteAttemptsMax = 20;
const finalWriteRetryMs = 250;
/** Under --plant stale-reads, this share of gets during an isolation go to the isolated member. */
const plantProbability = 0.5;

export function scenarioName(spec: ScenarioSpec): string {
  return `${spec.size}/${spec.kind}`;
}

function pickTarget(cluster: LabCluster, pool: ClientPool): (prng: Prng) => Target | undefined {
  return (prng) => {
    const live = cluster.liveMembers();
    const member = live[prng.nextInt(Math.max(live.length, 1))];
    return member === undefined ? undefined : { name: member.name, client: pool.clientFor(member) };
  };
}

export async function runScenario(spec: ScenarioSpec, index: number, settings: RunSettings): Promise<ScenarioResult> {
  const name = scenarioName(spec);
  const workDir = join(settings.workRoot, `${index}-${spec.size}-${spec.kind}`);
  mkdirSync(workDir, { recursive: true });
  const clock = new ScenarioClock();
  let cluster: LabCluster;
  try {
    cluster = await LabCluster.start({ implementation: settings.implementation, size: spec.size, workDir, heartbeatIntervalMs, electionTimeoutMs, snapshotCount });
  } catch (error) {
    return failedResult(name, spec, clock, `${errorText(error)}${error instanceof Error && error.cause !== undefined ? `: ${errorText(error.cause)}` : ""}`, workDir);
  }
  const pool = new ClientPool(settings.requestTimeoutMs);
  let result: ScenarioResult;
  try {
    result = await driveScenario(spec, index, settings, { cluster, pool, clock, workDir, name });
  } catch (error) {
    result = failedResult(name, spec, clock, errorText(error), workDir);
  } finally {
    pool.closeAll();
    await cluster.destroy();
  }
  return { ...result, lab: `namespaces ${cluster.lab.prefix}-*, bridge ${cluster.lab.bridge}` };
}

function failedResult(name: string, spec: ScenarioSpec, clock: ScenarioClock, error: string, workDir: string): ScenarioResult {
  return {
    name, spec, durationMs: clock.nowMs(), events: [], leaderLosses: [], analysis: undefined, convergence: undefined,
    unavailabilityAfterKillMs: undefined, plantedReads: 0, plantedInViolation: [], statusWithoutPlanted: undefined, watchReconnects: 0, streamsComplete: false, streamsShort: [],
    error, artifactsDir: workDir, lab: undefined, plantedMembers: new Map(),
  };
}

interface ScenarioParts {
  readonly cluster: LabCluster;
  readonly pool: ClientPool;
  readonly clock: ScenarioClock;
  readonly workDir: string;
  readonly name: string;
}

async function driveScenario(spec: ScenarioSpec, index: number, settings: RunSettings, parts: ScenarioParts): Promise<ScenarioResult> {
  const { cluster, pool, clock } = parts;
  const prefix = `/chaos/${settings.runId}/${index}/`;
  const keys = Array.from({ length: settings.keys }, (_, key) => `${prefix}k${key}`);
  const targets = pickTarget(cluster, pool);
  const startRevision = await currentRevision(cluster, pool);
  const watchers = Array.from({ length: settings.watchers }, (_, watcher) => new WatchRecorder({
    name: `watcher ${watcher}`, prefix, rangeEnd: prefixEnd(prefix).toString("utf8"), startRevision: startRevision + 1,
    pickTarget: targets, prng: createPrng(settings.seed * 7919 + index * 31 + watcher), clock,
  }));
  for (const watcher of watchers) watcher.start();
  try {
    const recorder = new HistoryRecorder(clock);
    const ctx: NemesisContext = {
      cluster, pool, clock, prng: createPrng(settings.seed * 104_729 + index), electionTimeoutMs,
      plantStaleReads: settings.plantStaleReads, events: [], leaderLosses: [], staleMember: undefined,
    };
    await loadWithFaults(spec, settings, { ctx, recorder, keys, targets, index });
    await recoverAll(ctx, recoveryTimeoutMs);
    const finalRevision = await finalOperations(recorder, cluster, pool, keys, `${prefix}final`, settings.clients);
    const caughtUp = await Promise.all(watchers.map(async (watcher) => watcher.waitForRevision(finalRevision, streamCatchUpTimeoutMs)));
    for (const watcher of watchers) await watcher.stop();
    const convergence = await checkConvergence(cluster, pool, prefix, finalRevision);
    const streams = watchers.map((watcher) => watcher.toStream());
    const analysis = analyzeHistory(recorder.entries, streams, caughtUp.every(Boolean));
    const streamsShort = watchers.filter((_, watcher) => caughtUp[watcher] !== true)
      .map((watcher) => `${watcher.name} stopped at revision ${watcher.lastRevision} of ${finalRevision}; last: ${watcher.reconnectLog.at(-1) ?? "never connected"}`);
    const result = summarize(spec, parts, { ctx, recorder, analysis, convergence, watchers, streamsShort });
    return { ...result, artifactsDir: saveArtifacts(parts.workDir, settings, result, recorder, watchers) };
  } finally {
    for (const watcher of watchers) await watcher.stop();
  }
}

async function currentRevision(cluster: LabCluster, pool: ClientPool): Promise<number> {
  for (const member of cluster.liveMembers()) {
    try {
      const response = await pool.clientFor(member).range({ key: Buffer.from("/chaos-start") });
      return Number(response.header?.revision ?? 0);
    } catch {
      // try the next member
    }
  }
  throw new Error("no member answered a read of the starting revision");
}

interface LoadParts {
  readonly ctx: NemesisContext;
  readonly recorder: HistoryRecorder;
  readonly keys: readonly string[];
  readonly targets: (prng: Prng) => Target | undefined;
  readonly index: number;
}

/** Load runs from the start until the nemesis has finished its last fault after the scenario's time. */
async function loadWithFaults(spec: ScenarioSpec, settings: RunSettings, parts: LoadParts): Promise<void> {
  const { ctx, recorder } = parts;
  const environment: WorkloadEnvironment = {
    pickTarget: parts.targets,
    staleReadTarget: () => (ctx.staleMember === undefined ? undefined : { name: ctx.staleMember.name, client: ctx.pool.clientFor(ctx.staleMember) }),
    plantProbability: settings.plantStaleReads ? plantProbability : 0,
  };
  const abort = new AbortController();
  ctx.events.push({ atMs: ctx.clock.nowMs(), text: `cluster up; load starts (${settings.clients} clients, ${parts.keys.length} keys)` });
  const load = runWorkload(recorder, environment, {
    clients: settings.clients, keys: parts.keys, valuePrefix: `${settings.runId}.${parts.index}.`,
    thinkTimeMsMax: settings.thinkTimeMsMax, seed: settings.seed + parts.index,
  }, abort.signal);
  try {
    await runNemesis(spec.kind, ctx, ctx.clock.nowMs() + settings.seconds * 1000);
  } finally {
    abort.abort();
    await load;
    ctx.events.push({ atMs: ctx.clock.nowMs(), text: "load stops" });
  }
}

/**
 * After recovery: one acknowledged final write (its revision is where every watch stream must
 * arrive), then a linearizable read of every key through every member; all recorded, so the
 * checker sees the final state as every member serves it.
 */
async function finalOperations(recorder: HistoryRecorder, cluster: LabCluster, pool: ClientPool, keys: readonly string[], finalKey: string, client: number): Promise<number> {
  let finalRevision: number | undefined;
  for (let attempt = 0; attempt < finalWriteAttemptsMax && finalRevision === undefined; attempt++) {
    const member = cluster.liveMembers()[attempt % Math.max(cluster.liveMembers().length, 1)];
    if (member === undefined) break;
    const operation = { kind: "put" as const, key: finalKey, value: `final.${attempt}` };
    const result = await recorder.perform(client, operation, { name: member.name, client: pool.clientFor(member) }, { serializable: false, planted: false });
    if (result?.kind === "put") finalRevision = result.revision;
    else await sleepMs(finalWriteRetryMs);
  }
  if (finalRevision === undefined) throw new Error(`no final write acknowledged in ${finalWriteAttemptsMax} attempts`);
  for (const member of cluster.liveMembers()) {
    const target = { name: member.name, client: pool.clientFor(member) };
    for (const key of keys) await recorder.perform(client, { kind: "get", key }, target, { serializable: false, planted: false });
  }
  return finalRevision;
}

interface Observations {
  readonly ctx: NemesisContext;
  readonly recorder: HistoryRecorder;
  readonly analysis: Analysis;
  readonly convergence: Convergence;
  readonly watchers: readonly WatchRecorder[];
  readonly streamsShort: readonly string[];
}

function summarize(spec: ScenarioSpec, parts: ScenarioParts, seen: Observations): ScenarioResult {
  const kills = seen.ctx.leaderLosses.filter((loss) => loss.kind === "kill").map((loss) => loss.atMs);
  const plantedMembers = new Map<number, string>();
  seen.recorder.meta.forEach((meta, historyIndex) => {
    if (meta.planted) plantedMembers.set(historyIndex, meta.member);
  });
  return {
    name: parts.name, spec, durationMs: parts.clock.nowMs(), events: seen.ctx.events, leaderLosses: seen.ctx.leaderLosses,
    analysis: seen.analysis, convergence: seen.convergence,
    unavailabilityAfterKillMs: longestWriteUnavailabilityMs(seen.recorder.entries, kills),
    plantedReads: plantedMembers.size, plantedInViolation: plantedNamedInViolations(seen.analysis, plantedMembers), plantedMembers,
    statusWithoutPlanted: plantedMembers.size === 0 ? undefined : statusWithout(seen.analysis, new Set(plantedMembers.keys())),
    watchReconnects: seen.watchers.reduce((sum, watcher) => sum + Math.max(0, watcher.reconnectLog.length - 1), 0),
    streamsComplete: seen.streamsShort.length === 0, streamsShort: seen.streamsShort, error: undefined, artifactsDir: undefined, lab: undefined,
  };
}

function plantedNamedInViolations(analysis: Analysis, planted: ReadonlyMap<number, string>): number[] {
  const named = new Set<number>();
  for (const verdict of analysis.linearizability.keys) {
    if (verdict.status !== "violation") continue;
    const explanation = verdict.explanation;
    for (const ref of [explanation.blocking, ...explanation.unplaced]) if (planted.has(ref.historyIndex)) named.add(ref.historyIndex);
  }
  return [...named];
}

/** Keeps history, streams and member logs when something is wrong (or when asked); else removes them. */
function saveArtifacts(workDir: string, settings: RunSettings, result: ScenarioResult, recorder: HistoryRecorder, watchers: readonly WatchRecorder[]): string | undefined {
  const suspicious = scenarioAnomalies(result).length > 0 || settings.plantStaleReads;
  if (!suspicious && !settings.keepArtifacts) {
    rmSync(workDir, { recursive: true, force: true });
    return undefined;
  }
  const history: { entry: HistoryEntry; meta: OperationMeta }[] = recorder.entries.map((entry, historyIndex) => ({ entry, meta: recorder.meta[historyIndex] as OperationMeta }));
  writeFileSync(join(workDir, "history.json"), JSON.stringify(history));
  const streams = watchers.map((watcher) => ({ ...watcher.toStream(), arrivalMs: watcher.arrivalMs, reconnects: watcher.reconnectLog }));
  writeFileSync(join(workDir, "watch-streams.json"), JSON.stringify(streams));
  writeFileSync(join(workDir, "faults.json"), JSON.stringify({ events: result.events, leaderLosses: result.leaderLosses }, null, 1));
  return workDir;
}

/** Every anomaly of a scenario, one line each; empty means the store behaved. */
export function scenarioAnomalies(result: ScenarioResult): string[] {
  const anomalies: string[] = [];
  if (result.error !== undefined) anomalies.push(`scenario failed: ${result.error}`);
  const analysis = result.analysis;
  if (analysis !== undefined) {
    for (const verdict of analysis.linearizability.keys) {
      if (verdict.status === "violation") anomalies.push(`linearizability violation on key ${verdict.key}`);
    }
    for (const problem of analysis.watch.problems) anomalies.push(`watch ${problem.kind}${problem.stream === undefined ? "" : ` in ${problem.stream}`}: ${problem.message}`);
    if (analysis.watch.problemsDropped > 0) anomalies.push(`... ${analysis.watch.problemsDropped} more watch problems`);
    for (const lost of analysis.lostWrites ?? []) anomalies.push(`acknowledged write history[${lost.historyIndex}] at revision ${lost.revision} is in no watch stream`);
  }
  if (result.convergence !== undefined && !result.convergence.ok) anomalies.push(`members did not converge: ${result.convergence.detail}`);
  for (const short of result.streamsShort) anomalies.push(`watch stream incomplete (acknowledged writes not checked against the streams): ${short}`);
  for (const event of result.events) if (/exited|not healthy/.test(event.text)) anomalies.push(`availability: ${event.text}`);
  return anomalies;
}

/** Keys whose check ran out of budget: not an anomaly, but not a pass either. */
export function inconclusiveKeys(result: ScenarioResult): string[] {
  return (result.analysis?.linearizability.keys ?? []).filter((verdict) => verdict.status === "unknown").map((verdict) => verdict.key);
}

