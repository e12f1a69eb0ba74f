/**
 * Turns per-implementation results into the comparison: one row per metric with both values,
 * the ratio flotilla/etcd and which direction is better, and the targets as met or not.
 */
import type { StoreImplementation } from "../../harness/store-cluster.ts";
import type { FailoverRound } from "./failover.ts";
import type { PhaseCost } from "./meter.ts";
import type { MemberMemory } from "./proc.ts";
import type { WatchResult } from "./watch.ts";
import type { ThroughputResult } from "./workloads.ts";

export type Outcome<T> = ({ readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }) & { readonly cost: PhaseCost };

export interface ImplementationResult {
  readonly implementation: StoreImplementation;
  /** "not runnable": the implementation cannot be started at all yet (no such command). */
  readonly status: "ran" | "not runnable" | "failed to start";
  readonly error?: string;
  readonly sequentialPut?: Outcome<ThroughputResult>;
  readonly concurrentPut?: Outcome<ThroughputResult>;
  readonly linearizableGet?: Outcome<ThroughputResult>;
  readonly watch?: Outcome<WatchResult>;
  readonly memory?: Outcome<MemberMemory[]>;
  readonly failover?: Outcome<FailoverRound[]>;
  readonly durationMs: number;
}

export type Better = "higher" | "lower";
/** A number, or why there is none ("not runnable", "error", "not run", "not resumed"). */
export type Cell = { readonly value: number } | { readonly absent: string };

interface MetricDefinition {
  readonly id: string;
  readonly label: string;
  readonly unit: "ms" | "ops/s" | "events/s" | "MiB" | "CPU ms";
  readonly better: Better;
  readonly cell: (result: ImplementationResult) => Cell;
}

export interface MetricRow {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly better: Better;
  readonly flotilla: Cell;
  readonly etcd: Cell;
  /** flotilla / etcd when both have a value. */
  readonly ratio: number | undefined;
}

export interface TargetCheck {
  readonly target: string;
  readonly status: "met" | "not met" | "not measured";
  readonly detail: string;
}

/** Writes must resume within this long after a leader kill (issue 3). */
export const failoverTargetMs = 2000;
export const throughputTargetRatio = 0.8;
export const sequentialP50TargetRatio = 1.5;

function fromOutcome<T>(result: ImplementationResult, outcome: Outcome<T> | undefined, pick: (value: T) => number | undefined, missing = "n/a"): Cell {
  if (result.status !== "ran") return { absent: result.status };
  if (outcome === undefined) return { absent: "not run" };
  if (!outcome.ok) return { absent: "error" };
  const value = pick(outcome.value);
  return value === undefined || !Number.isFinite(value) ? { absent: missing } : { value };
}

const resumeMissing = "not resumed";

function failoverRoundCell(round: number): (result: ImplementationResult) => Cell {
  return (result) => fromOutcome(result, result.failover, (rounds) => rounds[round]?.unavailableMs, rounds(result) > round ? resumeMissing : "not run");
}

function rounds(result: ImplementationResult): number {
  return result.failover?.ok === true ? result.failover.value.length : 0;
}

/** CPU the three members spent per 1000 completed operations of the measured loop. */
function membersCpuPerThousand(value: ThroughputResult): number | undefined {
  if (value.cost.membersCpuMs === undefined || value.completed === 0) return undefined;
  return (value.cost.membersCpuMs * 1000) / value.completed;
}

function failoverMax(values: readonly FailoverRound[]): number | undefined {
  if (values.length === 0 || values.some((round) => round.unavailableMs === undefined)) return undefined;
  return Math.max(...values.map((round) => round.unavailableMs as number));
}

function memoryStat(members: readonly MemberMemory[], statistic: "max" | "mean"): number | undefined {
  if (members.length === 0) return undefined;
  const values = members.map((member) => member.residentMiB);
  return statistic === "max" ? Math.max(...values) : values.reduce((total, value) => total + value, 0) / values.length;
}

export const metricDefinitions: readonly MetricDefinition[] = [
  { id: "sequentialPut.p50Ms", label: "sequential put p50", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.sequentialPut, (v) => v.latency?.p50Ms) },
  { id: "sequentialPut.p99Ms", label: "sequential put p99", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.sequentialPut, (v) => v.latency?.p99Ms) },
  { id: "sequentialPut.meanMs", label: "sequential put mean", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.sequentialPut, (v) => v.latency?.meanMs) },
  { id: "concurrentPut.opsPerSecond", label: "put throughput (128 in flight)", unit: "ops/s", better: "higher", cell: (r) => fromOutcome(r, r.concurrentPut, (v) => v.opsPerSecond) },
  { id: "concurrentPut.p50Ms", label: "put p50 (128 in flight)", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.concurrentPut, (v) => v.latency?.p50Ms) },
  { id: "concurrentPut.p99Ms", label: "put p99 (128 in flight)", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.concurrentPut, (v) => v.latency?.p99Ms) },
  { id: "concurrentPut.membersCpuMsPer1000", label: "members' CPU per 1000 puts (128 in flight)", unit: "CPU ms", better: "lower", cell: (r) => fromOutcome(r, r.concurrentPut, membersCpuPerThousand) },
  { id: "linearizableGet.opsPerSecond", label: "linearizable get throughput (128 in flight)", unit: "ops/s", better: "higher", cell: (r) => fromOutcome(r, r.linearizableGet, (v) => v.opsPerSecond) },
  { id: "linearizableGet.p50Ms", label: "linearizable get p50", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.linearizableGet, (v) => v.latency?.p50Ms) },
  { id: "linearizableGet.p99Ms", label: "linearizable get p99", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.linearizableGet, (v) => v.latency?.p99Ms) },
  { id: "linearizableGet.membersCpuMsPer1000", label: "members' CPU per 1000 gets", unit: "CPU ms", better: "lower", cell: (r) => fromOutcome(r, r.linearizableGet, membersCpuPerThousand) },
  { id: "watch.eventsPerSecondPerWatcher", label: "watch events/s per watcher (mean)", unit: "events/s", better: "higher", cell: (r) => fromOutcome(r, r.watch, (v) => v.eventsPerSecondPerWatcherMean) },
  { id: "watch.p99Ms", label: "watch delivery p99", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.watch, (v) => v.latency?.p99Ms) },
  { id: "failover.round1Ms", label: "write unavailability, leader kill 1", unit: "ms", better: "lower", cell: failoverRoundCell(0) },
  { id: "failover.round2Ms", label: "write unavailability, leader kill 2", unit: "ms", better: "lower", cell: failoverRoundCell(1) },
  { id: "failover.round3Ms", label: "write unavailability, leader kill 3", unit: "ms", better: "lower", cell: failoverRoundCell(2) },
  { id: "failover.maxMs", label: "write unavailability, max", unit: "ms", better: "lower", cell: (r) => fromOutcome(r, r.failover, failoverMax, resumeMissing) },
  { id: "memory.maxMiB", label: "RSS per member, max (after load)", unit: "MiB", better: "lower", cell: (r) => fromOutcome(r, r.memory, (v) => memoryStat(v, "max")) },
  { id: "memory.meanMiB", label: "RSS per member, mean (after load)", unit: "MiB", better: "lower", cell: (r) => fromOutcome(r, r.memory, (v) => memoryStat(v, "mean")) },
];

export function metricRows(flotilla: ImplementationResult | undefined, etcd: ImplementationResult | undefined): MetricRow[] {
  return metricDefinitions.map((definition) => {
    const flotillaCell: Cell = flotilla === undefined ? { absent: "not requested" } : definition.cell(flotilla);
    const etcdCell: Cell = etcd === undefined ? { absent: "not requested" } : definition.cell(etcd);
    const ratio = "value" in flotillaCell && "value" in etcdCell && etcdCell.value > 0 ? flotillaCell.value / etcdCell.value : undefined;
    return { id: definition.id, label: definition.label, unit: definition.unit, better: definition.better, flotilla: flotillaCell, etcd: etcdCell, ratio };
  });
}

function rowById(rows: readonly MetricRow[], id: string): MetricRow | undefined {
  return rows.find((row) => row.id === id);
}

function ratioTarget(rows: readonly MetricRow[], id: string, target: string, bound: number, atLeast: boolean): TargetCheck {
  const ratio = rowById(rows, id)?.ratio;
  if (ratio === undefined) return { target, status: "not measured", detail: "needs both flotilla and etcd figures" };
  const met = atLeast ? ratio >= bound : ratio <= bound;
  return { target, status: met ? "met" : "not met", detail: `ratio ${ratio.toFixed(2)}x` };
}

export function targetChecks(rows: readonly MetricRow[]): TargetCheck[] {
  const failover = rowById(rows, "failover.maxMs")?.flotilla;
  const failoverTarget = `flotilla writes resume within ${failoverTargetMs / 1000} s of a leader kill (every round)`;
  let failoverCheck: TargetCheck;
  if (failover === undefined || !("value" in failover)) {
    const absent = failover === undefined ? "no figure" : failover.absent;
    failoverCheck = { target: failoverTarget, status: absent === resumeMissing ? "not met" : "not measured", detail: absent };
  } else {
    failoverCheck = { target: failoverTarget, status: failover.value <= failoverTargetMs ? "met" : "not met", detail: `max ${Math.round(failover.value)} ms` };
  }
  return [
    ratioTarget(rows, "concurrentPut.opsPerSecond", `put throughput >= ${throughputTargetRatio}x etcd`, throughputTargetRatio, true),
    ratioTarget(rows, "linearizableGet.opsPerSecond", `linearizable get throughput >= ${throughputTargetRatio}x etcd`, throughputTargetRatio, true),
    ratioTarget(rows, "sequentialPut.p50Ms", `sequential put p50 <= ${sequentialP50TargetRatio}x etcd`, sequentialP50TargetRatio, false),
    failoverCheck,
  ];
}
