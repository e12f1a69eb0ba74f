/**
 * Human-readable reports. A violation prints the tail of the longest order that worked, the
 * operation that could not be placed in time, and why each candidate for the next place failed:
 * enough to find the bad read in a test log without a debugger.
 */
import { unreachable } from "../assert/index.ts";
import type { KeyVerdict, LinearizabilityReport, OperationRef, ViolationExplanation } from "./report.ts";
import { formatValue } from "./model.ts";
import type { HistoryEntry } from "./types.ts";

/** Only the last operations of a long prefix matter for spotting the fault. */
export const reportPrefixOpsShown = 12;
/** Bound on candidates listed (they are at most the concurrent operations, usually a handful). */
export const reportCandidatesShown = 24;
/** Bound on keys listed in a whole-history report; violations are listed first. */
export const reportKeysShown = 16;

/** One line: `#12 client 3 cas "k" expect "a" set "b" -> false  [10, 15]`. */
export function formatOperation(historyIndex: number, entry: HistoryEntry): string {
  const operation = entry.operation;
  const outcome = entry.outcome;
  let request: string;
  switch (operation.kind) {
    case "put":
      request = `put ${JSON.stringify(operation.key)} = ${formatValue(operation.value)}`;
      break;
    case "get":
      request = `get ${JSON.stringify(operation.key)}`;
      break;
    case "delete":
      request = `delete ${JSON.stringify(operation.key)}`;
      break;
    case "cas":
      request = `cas ${JSON.stringify(operation.key)} expect ${formatValue(operation.expected)} set ${formatValue(operation.value)}`;
      break;
    default:
      return unreachable(operation, "operation kind");
  }
  const invoked = `#${historyIndex} client ${entry.client} ${request}`;
  switch (outcome.status) {
    case "unknown":
      return `${invoked} -> ? (outcome unknown)  [${entry.invokeTime}, inf)`;
    case "failed":
      return `${invoked} -> failed  [${entry.invokeTime}, ${outcome.completeTime}]`;
    case "ok":
      return `${invoked} -> ${formatResult(outcome.result)}  [${entry.invokeTime}, ${outcome.completeTime}]`;
    default:
      return unreachable(outcome, "outcome status");
  }
}

function formatResult(result: Extract<HistoryEntry["outcome"], { status: "ok" }>["result"]): string {
  switch (result.kind) {
    case "put":
      return "ok";
    case "get":
      return formatValue(result.value);
    case "delete":
      return result.deleted === undefined ? "ok" : `deleted ${result.deleted}`;
    case "cas":
      return String(result.succeeded);
    default:
      return unreachable(result, "result kind");
  }
}

function line(ref: OperationRef): string {
  return formatOperation(ref.historyIndex, ref.entry);
}

export function formatExplanation(explanation: ViolationExplanation): string[] {
  const prefix = explanation.linearizedPrefix;
  const shown = prefix.slice(-reportPrefixOpsShown);
  const lines = [
    `  ${explanation.summary}`,
    `  longest linearizable prefix: ${prefix.length} operations${prefix.length > shown.length ? `, last ${shown.length} shown` : ""}`,
  ];
  if (prefix.length > shown.length) lines.push("    ...");
  for (const placed of shown) lines.push(`    ${line(placed)}    => ${formatValue(placed.valueAfter)}`);
  lines.push(`  value after the prefix: ${formatValue(explanation.valueAfterPrefix)}`);
  lines.push(`  could not be placed before it completed: ${line(explanation.blocking)}`);
  lines.push("  candidates for the next place:");
  for (const unplaced of explanation.unplaced.slice(0, reportCandidatesShown)) {
    lines.push(`    ${line(unplaced)}: ${unplaced.reason}`);
  }
  if (explanation.unplaced.length > reportCandidatesShown) {
    lines.push(`    ... ${explanation.unplaced.length - reportCandidatesShown} more`);
  }
  return lines;
}

export function formatKeyVerdict(verdict: KeyVerdict): string {
  const head = `key ${JSON.stringify(verdict.key)}: `;
  const counts = `${verdict.operations} operations, ${verdict.statesExplored} states explored`;
  switch (verdict.status) {
    case "linearizable":
      return `${head}linearizable (${counts})`;
    case "unknown": {
      const line = `${head}unknown (${verdict.reason}; ${counts})`;
      return verdict.deepestSoFar === undefined ? line : [line, ...formatExplanation(verdict.deepestSoFar)].join("\n");
    }
    case "violation":
      return [`${head}NOT linearizable (${counts})`, ...formatExplanation(verdict.explanation)].join("\n");
    default:
      return unreachable(verdict, "verdict status");
  }
}

export function formatLinearizabilityReport(report: LinearizabilityReport): string {
  const rank = { violation: 0, unknown: 1, linearizable: 2 } as const;
  const ordered = [...report.keys].sort((a, b) => rank[a.status] - rank[b.status]);
  const lines = [`history ${report.status} (${report.keys.length} keys)`];
  for (const verdict of ordered.slice(0, reportKeysShown)) lines.push(formatKeyVerdict(verdict));
  if (ordered.length > reportKeysShown) lines.push(`... ${ordered.length - reportKeysShown} more keys`);
  return lines.join("\n");
}
