/** Plain-text rendering of the benchmark report: the table, the targets and the footnotes. */
import type { PhaseCost } from "./meter.ts";
import type { Cell, ImplementationResult, MetricRow, Outcome, TargetCheck } from "./report.ts";
import type { ThroughputResult } from "./workloads.ts";

export function formatNumber(value: number, unit: string): string {
  if (unit === "ops/s" || unit === "events/s") return Math.round(value).toString();
  if (unit === "CPU ms") return Math.round(value).toString();
  if (unit === "ms") return value < 10 ? value.toFixed(2) : value.toFixed(1);
  return value.toFixed(1);
}

export function formatCell(cell: Cell, unit: string): string {
  return "value" in cell ? formatNumber(cell.value, unit) : cell.absent;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? "-" : `${ratio.toFixed(2)}x`;
}

/** A pipe table with padded columns (valid Markdown, readable in a terminal). */
export function formatTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

export function formatMetricTable(rows: readonly MetricRow[]): string {
  const body = rows.map((row) => [
    `${row.label} (${row.unit})`,
    formatCell(row.flotilla, row.unit),
    formatCell(row.etcd, row.unit),
    formatRatio(row.ratio),
    `${row.better} is better`,
  ]);
  return formatTable(["metric", "flotilla", "etcd", "ratio flotilla/etcd", "direction"], body);
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  return formatTable(
    ["target (issue 3)", "status", "detail"],
    checks.map((check) => [check.target, check.status, check.detail]),
  );
}

/** "client 0.85 cores, members 1.10 cores": how busy each side was during a phase. */
export function formatCost(cost: PhaseCost): string {
  const cores = (cpuMs: number): string => (cost.wallMs > 0 ? (cpuMs / cost.wallMs).toFixed(2) : "-");
  const members = cost.membersCpuMs === undefined ? "members -" : `members ${cores(cost.membersCpuMs)} cores`;
  return `CPU: client ${cores(cost.clientCpuMs)} cores, ${members}`;
}

function outcomeNotes<T>(name: string, outcome: Outcome<T> | undefined, describe: (value: T) => string[]): string[] {
  if (outcome === undefined) return [];
  if (!outcome.ok) return [`${name}: error: ${outcome.error}`];
  return describe(outcome.value).map((note) => `${name}: ${note}`);
}

function throughputNotes(value: ThroughputResult): string[] {
  const notes = [`${value.completed} ok in ${(value.elapsedMs / 1000).toFixed(1)} s`, formatCost(value.cost)];
  if (value.failed > 0) notes.push(`${value.failed} failed, first: ${value.firstError ?? "?"}`);
  if (value.stoppedBy !== "count") notes.push(`stopped by ${value.stoppedBy} bound before the full count`);
  return [notes.join("; ")];
}

/** Footnotes for one implementation: errors, truncated phases, and the per-member details. */
export function implementationNotes(result: ImplementationResult): string[] {
  const prefix = (note: string): string => `[${result.implementation}] ${note}`;
  if (result.status !== "ran") return [prefix(`${result.status}: ${result.error ?? "no reason given"}`)];
  return [
    ...outcomeNotes("sequential put", result.sequentialPut, throughputNotes),
    ...outcomeNotes("concurrent put", result.concurrentPut, throughputNotes),
    ...outcomeNotes("linearizable get", result.linearizableGet, throughputNotes),
    ...outcomeNotes("watch", result.watch, (watch) => [
      `${watch.watchers} watchers received ${watch.eventsDelivered} of ${watch.eventsWritten * watch.watchers} events; slowest watcher ${Math.round(watch.eventsPerSecondPerWatcherMin)} events/s; writer ${Math.round(watch.writer.opsPerSecond)} puts/s; ${formatCost(watch.cost)}`,
      ...watch.watcherErrors.slice(0, 3).map((error) => `watcher error: ${error}`),
    ]),
    ...outcomeNotes("memory", result.memory, (members) => [members.map((member) => `${member.member} ${member.processName}[${member.pid}] ${member.residentMiB.toFixed(1)} MiB (anon ${member.anonymousMiB.toFixed(0)}, file ${member.fileMiB.toFixed(0)})`).join(", ")]),
    ...outcomeNotes("failover", result.failover, (rounds) =>
      rounds.map((round, index) => `kill ${index + 1} of ${round.killedMember}: ${round.unavailableMs === undefined ? "writes did not resume" : `${Math.round(round.unavailableMs)} ms`} (${round.probesSent} probes, ${round.probesFailed} failed${round.electedMs === undefined ? "" : `; a survivor named the new leader after ${Math.round(round.electedMs)} ms`})`),
    ),
    `total ${(result.durationMs / 1000).toFixed(1)} s`,
  ].map(prefix);
}
