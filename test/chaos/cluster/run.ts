/**
 * One scenario on the running testbed: load starts, the nemesis repeats its fault until the
 * scenario's time is up, then the run waits (bounded) for the store, the API and the Deployment
 * to be whole again, stops the load, reads every key back and checks the invariants.
 */
import { findResource } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";
import { checkLinearizability, formatKeyVerdict, type HistoryEntry } from "../../../libs/lincheck/index.ts";
import { waitFor } from "../../harness/wait.ts";
import type { AdminClient } from "../admin.ts";
import { ScenarioClock } from "../clock.ts";
import { waitStoreHealthy } from "./faults.ts";
import { finalReads, runProbe, runWriter, slowFailureMs, type ProbeStats, type WriterStats } from "./load.ts";
import { statefulSetName, watchIdentities, type IdentityStats } from "./node-checks.ts";
import { runNemesis, type Scenario } from "./scenarios.ts";
import { agents, say, type Testbed } from "./testbed.ts";

export const demoDeployment = "hello";
export const demoNodePort = 30080;
export const desiredReplicas = 2;
/** The stated bound: after the last fault is healed the Deployment has 2 ready replicas within this. */
export const deploymentRecoveryMs = 90_000;
/** A failed API call slower than this did not fail fast. */
export const failFastBoundMs = 6_000;
/** The Service must keep answering: no gap between two answers longer than this. */
export const serviceGapBoundMs = 5_000;

export interface ScenarioOutcome {
  readonly id: string;
  faults: number;
  /** Longest time from a fault's injection until the store was whole again (restart included). */
  storeRecoveryMs: number;
  /** Longest time between two acknowledged API writes: how long the API was unavailable. */
  writeGapMs: number;
  /** After the last fault healed: until the store is whole and the Deployment has 2 ready replicas. */
  recoverMs: number | undefined;
  writes: number;
  writesFailed: number;
  slowFailures: number;
  slowestFailedMs: number;
  keysChecked: number;
  lincheck: string;
  probe: ProbeStats;
  /** The scenario's own recovery check (agent execs again, DiskPressure cleared), longest; undefined when it has none. */
  faultRecoveryMs: number | undefined;
  identities: Omit<IdentityStats, "violations">;
  readonly violations: string[];
}

export function emptyOutcome(id: string): ScenarioOutcome {
  return {
    id, faults: 0, storeRecoveryMs: 0, writeGapMs: 0, recoverMs: undefined, writes: 0, writesFailed: 0, slowFailures: 0, slowestFailedMs: 0, keysChecked: 0, lincheck: "-",
    probe: { probes: 0, failed: 0, longestGapMs: 0 }, faultRecoveryMs: undefined, identities: { polls: 0, identitiesSeenMax: 0 }, violations: [],
  };
}

export async function deploymentReady(client: HttpApiClient): Promise<boolean> {
  const deployments = findResource("apps", "v1", "deployments");
  if (deployments === undefined) throw new Error("deployments is not a known resource");
  const deployment = (await client.get(deployments, "default", demoDeployment)) as { status?: { readyReplicas?: number } };
  return deployment.status?.readyReplicas === desiredReplicas;
}

async function waitRecovered(testbed: Testbed, admin: AdminClient, client: HttpApiClient): Promise<void> {
  const deadline = Date.now() + deploymentRecoveryMs;
  await waitStoreHealthy(admin, testbed);
  await waitFor(async () => ((await deploymentReady(client)) ? true : undefined), {
    timeoutMs: Math.max(1, deadline - Date.now()), intervalMs: 500, description: `Deployment ${demoDeployment} back to ${desiredReplicas} ready replicas`,
  });
}

export async function runScenario(scenario: Scenario, index: number, testbed: Testbed, admin: AdminClient, client: HttpApiClient, seconds: number): Promise<ScenarioOutcome> {
  const clock = new ScenarioClock();
  const outcome = emptyOutcome(scenario.id);
  const stopLoad = new AbortController();
  const writerStats: WriterStats = { slowestFailedMs: 0, failed: 0, slowFailures: 0 };
  const prefix = `chaos-s${index}-${Date.now().toString(36)}`;
  const writer = runWriter(client, prefix, clock, stopLoad.signal, writerStats);
  const probe = runProbe(agents(testbed).map((host) => `http://${host.ip}:${demoNodePort}/`), clock, stopLoad.signal);
  const identities = watchIdentities(agents(testbed), stopLoad.signal);
  const log = (text: string): void => say(`  ${(clock.nowMs() / 1000).toFixed(1).padStart(6)}s  ${text}`);
  const faultRecoveriesMs: number[] = [];
  try {
    const nemesis = await runNemesis(scenario, { testbed, admin, client, clock, deadlineMs: seconds * 1000, log, violations: outcome.violations, faultRecoveriesMs });
    outcome.faults = nemesis.faults;
    outcome.storeRecoveryMs = nemesis.longestStoreRecoveryMs;
    const healedMs = clock.nowMs();
    await waitRecovered(testbed, admin, client);
    outcome.recoverMs = clock.nowMs() - healedMs;
  } catch (error) {
    outcome.violations.push(`not recovered: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    stopLoad.abort();
  }
  const history = await writer;
  const loadStoppedMs = clock.nowMs();
  outcome.probe = await probe;
  outcome.faultRecoveryMs = faultRecoveriesMs.length === 0 ? undefined : Math.max(...faultRecoveriesMs);
  checkIdentities(outcome, await identities);
  await checkWrites(outcome, history, client, prefix, clock);
  outcome.writes = history.length;
  outcome.writeGapMs = longestWriteGapMs(history, loadStoppedMs);
  outcome.slowFailures = writerStats.slowFailures;
  outcome.writesFailed = writerStats.failed;
  outcome.slowestFailedMs = writerStats.slowestFailedMs;
  if (writerStats.slowestFailedMs > failFastBoundMs) outcome.violations.push(`a failed API call took ${writerStats.slowestFailedMs.toFixed(0)} ms (bound ${failFastBoundMs} ms)`);
  if (scenario.serviceAnswersEveryCall === true && outcome.probe.failed > 0) outcome.violations.push(`${outcome.probe.failed} Service calls failed during a planned operation (bound 0)`);
  if (outcome.probe.longestGapMs > serviceGapBoundMs) outcome.violations.push(`the Service did not answer for ${(outcome.probe.longestGapMs / 1000).toFixed(1)} s (bound ${serviceGapBoundMs / 1000} s)`);
  return outcome;
}

/** Never two running pods of one StatefulSet identity; and the check must have seen the set running. */
function checkIdentities(outcome: ScenarioOutcome, stats: IdentityStats): void {
  outcome.identities = { polls: stats.polls, identitiesSeenMax: stats.identitiesSeenMax };
  outcome.violations.push(...stats.violations);
  if (stats.identitiesSeenMax === 0) outcome.violations.push(`the identity check saw no pod of StatefulSet ${statefulSetName} running in ${stats.polls} polls`);
}

/** Final reads appended to the write history; the linearizability check finds any lost acknowledged write. */
async function checkWrites(outcome: ScenarioOutcome, history: readonly HistoryEntry[], client: HttpApiClient, prefix: string, clock: ScenarioClock): Promise<void> {
  let reads: HistoryEntry[];
  try {
    reads = await finalReads(client, prefix, clock);
  } catch (error) {
    outcome.violations.push(`final reads failed: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  const report = checkLinearizability([...history, ...reads]);
  outcome.keysChecked = reads.length;
  outcome.lincheck = report.status;
  if (report.status === "linearizable") return;
  outcome.violations.push(`ConfigMap history ${report.status} (an acknowledged write lost or a stale final read)`);
  for (const verdict of report.keys.filter((key) => key.status === "violation").slice(0, 2)) say(formatKeyVerdict(verdict));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Gaps between acknowledged writes, counting from the scenario's start to the load's stop. */
export function longestWriteGapMs(history: readonly HistoryEntry[], loadStoppedMs: number): number {
  let gapMs = 0;
  let lastMs = 0;
  for (const entry of history) {
    if (entry.outcome.status !== "ok") continue;
    gapMs = Math.max(gapMs, entry.outcome.completeTime - lastMs);
    lastMs = entry.outcome.completeTime;
  }
  return Math.max(gapMs, loadStoppedMs - lastMs);
}

export function formatOutcome(outcome: ScenarioOutcome): string {
  const recover = outcome.recoverMs === undefined ? "NOT recovered" : seconds(outcome.recoverMs);
  return [
    `  faults injected: ${outcome.faults}; longest store recovery after a fault (restart included): ${seconds(outcome.storeRecoveryMs)}`,
    `  after the last fault healed, back to a whole store and ${desiredReplicas}/${desiredReplicas} ready replicas in: ${recover} (bound ${deploymentRecoveryMs / 1000} s)`,
    `  API writes: ${outcome.writes}, failed or unknown: ${outcome.writesFailed} (${outcome.slowFailures} of them slower than ${slowFailureMs} ms), slowest failed call: ${outcome.slowestFailedMs.toFixed(0)} ms, longest time without an acknowledged write: ${seconds(outcome.writeGapMs)}`,
    `  ConfigMaps checked: ${outcome.keysChecked} keys, history ${outcome.lincheck}`,
    `  Service: ${outcome.probe.probes} calls, ${outcome.probe.failed} failed, longest gap ${(outcome.probe.longestGapMs / 1000).toFixed(1)} s`,
    `  StatefulSet ${statefulSetName}: ${outcome.identities.polls} polls of every agent's runc state, up to ${outcome.identities.identitiesSeenMax} identities running, never two pods of one identity at once unless listed below`,
    ...(outcome.faultRecoveryMs === undefined ? [] : [`  the scenario's own recovery check (longest): ${seconds(outcome.faultRecoveryMs)}`]),
    `  invariant violations: ${outcome.violations.length}${outcome.violations.map((text) => `\n    ! ${text}`).join("")}`,
  ].join("\n");
}

export function formatTable(outcomes: readonly ScenarioOutcome[]): string {
  const header = ["scenario", "faults", "store-rec-s", "fault-rec-s", "api-gap-s", "settle-s", "writes", "w-failed", "w-slow-fail", "slowest-fail-ms", "keys", "history", "svc-calls", "svc-failed", "svc-gap-s", "sts-polls", "violations"];
  const rows = outcomes.map((o) => [
    o.id, String(o.faults), (o.storeRecoveryMs / 1000).toFixed(1), o.faultRecoveryMs === undefined ? "-" : (o.faultRecoveryMs / 1000).toFixed(1), (o.writeGapMs / 1000).toFixed(1), o.recoverMs === undefined ? "-" : (o.recoverMs / 1000).toFixed(1), String(o.writes), String(o.writesFailed), String(o.slowFailures),
    o.slowestFailedMs.toFixed(0), String(o.keysChecked), o.lincheck, String(o.probe.probes), String(o.probe.failed), (o.probe.longestGapMs / 1000).toFixed(1), String(o.identities.polls), String(o.violations.length),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const render = (row: readonly string[]): string => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return [render(header), render(widths.map((width) => "-".repeat(width))), ...rows.map(render)].join("\n");
}
