/**
 * libs/lincheck: offline checkers for histories recorded against Flotilla's store (or any etcd).
 * Pure: no I/O, no clock, no ambient randomness; a checker sees only the history it is given.
 *
 * - checkLinearizability: Wing & Gong / Lowe search per key, with a state budget.
 * - checkWatchStreams: watch streams against the committed history (order, gaps, duplicates,
 *   values), using streams to reveal unknown-outcome writes that took effect.
 */
export type { HistoryEntry, KvOperation, KvResult, Outcome, RegisterValue } from "./types.ts";
export { checkLinearizability, defaultMaxStatesExploredPerKey, type CheckOptions } from "./check.ts";
export type {
  KeyVerdict,
  LinearizabilityReport,
  OperationRef,
  PlacedOperation,
  UnplacedOperation,
  ViolationExplanation,
} from "./report.ts";
export { formatKeyVerdict, formatLinearizabilityReport, formatOperation } from "./format.ts";
export {
  checkWatchStreams,
  formatWatchReport,
  settleRevealedWrites,
  watchProblemsMax,
  type RevealedWrite,
  type WatchEvent,
  type WatchProblem,
  type WatchProblemKind,
  type WatchReport,
  type WatchStream,
} from "./watch.ts";
export { compareKeys, keyInRange } from "./keys.ts";
