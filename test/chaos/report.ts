/**
 * What a chaos run prints: per scenario the faults, the operation counts, each check's verdict
 * and the anomalies (with the checker's explanation of a violation); at the end one table.
 */
import { formatKeyVerdict, formatWatchReport } from "../../libs/lincheck/index.ts";
import { inconclusiveKeys, scenarioAnomalies, type ScenarioResult } from "./scenario.ts";

/** Bound on fault lines printed per scenario; the rest are counted. */
export const faultLinesShown = 60;
/** Bound on anomaly lines and violation explanations printed per scenario. */
export const anomalyLinesShown = 20;
export const violationsExplained = 2;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function formatScenario(result: ScenarioResult): string {
  const lines: string[] = [];
  const faultCount = result.events.filter((event) => /^(SIGKILL|SIGSTOP|partition|MemberRemove)/.test(event.text)).length;
  lines.push(`faults injected: ${faultCount} (times from the scenario's start, cluster start-up included)`);
  for (const event of result.events.slice(0, faultLinesShown)) lines.push(`  ${seconds(event.atMs).padStart(7)}  ${event.text}`);
  if (result.events.length > faultLinesShown) lines.push(`  ... ${result.events.length - faultLinesShown} more`);
  const analysis = result.analysis;
  if (analysis !== undefined) {
    const counts = analysis.counts;
    const refinement = analysis.refinement;
    lines.push(`ops: ${counts.total} total, ${counts.ok} ok, ${counts.failed} failed, ${counts.unknown} unknown`);
    lines.push(refinement.skippedBecause === undefined
      ? `  unknown writes settled by the watch streams: ${refinement.revealed} took effect, ${refinement.dropped} never did`
      : `  unknown writes NOT settled (${refinement.skippedBecause}): checked raw, with a state budget`);
    if (result.plantedReads > 0) {
      lines.push(`  planted stale reads: ${result.plantedReads} (serializable gets on an isolated member); ` +
        `without them the same history is ${result.statusWithoutPlanted ?? "?"}`);
    }
    lines.push(`watch: ${analysis.watch.status}, ${result.watchReconnects} reconnects, streams ${result.streamsComplete ? "reached" : "did NOT reach"} the final write`);
    const statesExplored = analysis.linearizability.keys.reduce((sum, verdict) => sum + verdict.statesExplored, 0);
    const raw = analysis.rawStatus === undefined ? "" : `; the raw history, unknown writes unsettled: ${analysis.rawStatus}`;
    lines.push(`linearizability: ${analysis.linearizability.status} (${analysis.linearizability.keys.length} keys, ${statesExplored} states explored)${raw}`);
    const lostText = analysis.lostWrites === undefined ? "not checked (a stream is incomplete)" : String(analysis.lostWrites.length);
    lines.push(`acknowledged writes lost: ${lostText} with a revision missing from every watch stream; ` +
      `${violatingKeys(result)} keys where the checker found a read that misses an acknowledged write or sees a stale one`);
  }
  if (result.convergence !== undefined) lines.push(`convergence: ${result.convergence.ok ? "ok" : "FAILED"}, ${result.convergence.detail}`);
  lines.push(`longest write unavailability after a leader kill: ${formatUnavailability(result)}`);
  lines.push(...formatAnomalies(result));
  return lines.join("\n");
}

function formatUnavailability(result: ScenarioResult): string {
  const kills = result.leaderLosses.filter((loss) => loss.kind === "kill").length;
  if (kills === 0) return "n/a (no leader kill in this scenario)";
  return result.unavailabilityAfterKillMs === undefined ? `no write succeeded after ${kills} leader kills` : `${result.unavailabilityAfterKillMs.toFixed(0)} ms (over ${kills} leader kills)`;
}

/** Keys with a linearizability violation: a lost acknowledged write shows up as one (a later read misses it). */
function violatingKeys(result: ScenarioResult): number {
  return (result.analysis?.linearizability.keys ?? []).filter((verdict) => verdict.status === "violation").length;
}

function formatAnomalies(result: ScenarioResult): string[] {
  const anomalies = scenarioAnomalies(result);
  const lines = [`anomalies: ${anomalies.length}`];
  for (const anomaly of anomalies.slice(0, anomalyLinesShown)) lines.push(`  ! ${anomaly}`);
  if (anomalies.length > anomalyLinesShown) lines.push(`  ... ${anomalies.length - anomalyLinesShown} more`);
  const inconclusive = inconclusiveKeys(result);
  if (inconclusive.length > 0) lines.push(`INCONCLUSIVE: the checker ran out of budget on ${inconclusive.join(", ")}`);
  const analysis = result.analysis;
  if (analysis !== undefined) {
    const violations = analysis.linearizability.keys.filter((verdict) => verdict.status === "violation");
    for (const verdict of violations.slice(0, violationsExplained)) {
      if (verdict.status !== "violation") continue;
      lines.push(formatKeyVerdict(verdict));
      const named = new Set([verdict.explanation.blocking, ...verdict.explanation.unplaced].map((ref) => ref.historyIndex));
      for (const historyIndex of named) {
        const member = result.plantedMembers.get(historyIndex);
        if (member !== undefined) lines.push(`  (#${historyIndex} is a planted serializable get, served by ${member} while it was cut off)`);
      }
    }
    if (analysis.watch.status !== "ok") lines.push(formatWatchReport(analysis.watch));
  }
  if (result.artifactsDir !== undefined) lines.push(`artifacts (history, watch streams, faults, member logs): ${result.artifactsDir}`);
  if (result.lab !== undefined) lines.push(`cleaned up: every store process, ${result.lab}`);
  return lines;
}

export function formatSummary(results: readonly ScenarioResult[]): string {
  const header = ["scenario", "ops", "ok", "failed", "unknown", "faults", "lin", "lost", "anomalies", "unavail-ms"];
  const rows = results.map((result) => {
    const counts = result.analysis?.counts;
    const faultCount = result.events.filter((event) => /^(SIGKILL|SIGSTOP|partition|MemberRemove)/.test(event.text)).length;
    return [
      result.name,
      String(counts?.total ?? "-"),
      String(counts?.ok ?? "-"),
      String(counts?.failed ?? "-"),
      String(counts?.unknown ?? "-"),
      String(faultCount),
      result.analysis?.linearizability.status ?? (result.error === undefined ? "-" : "error"),
      String(result.analysis?.lostWrites?.length ?? "-"),
      String(scenarioAnomalies(result).length),
      result.unavailabilityAfterKillMs === undefined ? "-" : result.unavailabilityAfterKillMs.toFixed(0),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const render = (row: readonly string[]): string => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return [render(header), render(widths.map((width) => "-".repeat(width))), ...rows.map(render)].join("\n");
}
