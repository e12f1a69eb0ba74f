import { describe, expect, it } from "vitest";
import type { PhaseCost } from "./meter.ts";
import { metricRows, targetChecks, type ImplementationResult, type Outcome } from "./report.ts";
import type { ThroughputResult } from "./workloads.ts";
import type { FailoverRound } from "./failover.ts";

const cost: PhaseCost = { wallMs: 1000, clientCpuMs: 500, membersCpuMs: 800 };

function throughput(opsPerSecond: number, p50Ms: number): Outcome<ThroughputResult> {
  const latency = { count: 1000, meanMs: p50Ms, p50Ms, p99Ms: p50Ms * 3, maxMs: p50Ms * 4 };
  return { ok: true, cost, value: { completed: 1000, failed: 0, elapsedMs: 1000, opsPerSecond, latency, stoppedBy: "count", firstError: undefined, cost } };
}

function kills(...unavailableMs: (number | undefined)[]): Outcome<FailoverRound[]> {
  return { ok: true, cost, value: unavailableMs.map((ms) => ({ killedMember: "m0", unavailableMs: ms, probesSent: 100, probesFailed: 10 })) };
}

function ran(implementation: "flotilla" | "etcd", putsPerSecond: number, getsPerSecond: number, sequentialP50Ms: number, failover: Outcome<FailoverRound[]>): ImplementationResult {
  return {
    implementation,
    status: "ran",
    sequentialPut: throughput(500, sequentialP50Ms),
    concurrentPut: throughput(putsPerSecond, 50),
    linearizableGet: throughput(getsPerSecond, 40),
    failover,
    durationMs: 60_000,
  };
}

const etcd = ran("etcd", 2000, 3000, 2, kills(1200, 1300, 1500));

describe("metricRows", () => {
  it("puts flotilla over etcd in the ratio column", () => {
    const rows = metricRows(ran("flotilla", 1500, 3300, 3, kills(900, 1000, 1100)), etcd);
    const put = rows.find((row) => row.id === "concurrentPut.opsPerSecond");
    expect(put?.ratio).toBeCloseTo(0.75);
    expect(rows.find((row) => row.id === "sequentialPut.p50Ms")?.ratio).toBeCloseTo(1.5);
    expect(rows.find((row) => row.id === "failover.maxMs")?.flotilla).toEqual({ value: 1100 });
  });

  it("derives the members' CPU per 1000 operations from the phase cost", () => {
    const rows = metricRows(undefined, etcd);
    // 800 CPU ms for 1000 puts.
    expect(rows.find((row) => row.id === "concurrentPut.membersCpuMsPer1000")?.etcd).toEqual({ value: 800 });
  });

  it("shows why a column has no figures instead of a number", () => {
    const flotilla: ImplementationResult = { implementation: "flotilla", status: "not runnable", error: "no store command", durationMs: 0 };
    const rows = metricRows(flotilla, etcd);
    expect(rows.every((row) => "absent" in row.flotilla && row.flotilla.absent === "not runnable")).toBe(true);
    expect(rows.every((row) => row.ratio === undefined)).toBe(true);
  });

  it("marks an errored phase as an error, not as zero", () => {
    const broken: ImplementationResult = { ...ran("flotilla", 1, 1, 1, kills(1)), concurrentPut: { ok: false, error: "boom", cost } };
    const put = metricRows(broken, etcd).find((row) => row.id === "concurrentPut.opsPerSecond");
    expect(put?.flotilla).toEqual({ absent: "error" });
    expect(put?.ratio).toBeUndefined();
  });
});

describe("targetChecks", () => {
  const statuses = (flotilla: ImplementationResult): string[] => targetChecks(metricRows(flotilla, etcd)).map((check) => check.status);

  it("meets every target at 0.8x throughput, 1.5x p50 and a 2 s failover", () => {
    expect(statuses(ran("flotilla", 1600, 2400, 3, kills(2000, 1000, 1000)))).toEqual(["met", "met", "met", "met"]);
  });

  it("misses each target just past its bound", () => {
    expect(statuses(ran("flotilla", 1599, 2399, 3.01, kills(1000, 2001, 1000)))).toEqual(["not met", "not met", "not met", "not met"]);
  });

  it("counts a round whose writes never resumed as a missed failover target", () => {
    const checks = targetChecks(metricRows(ran("flotilla", 2000, 3000, 2, kills(1000, undefined, 1000)), etcd));
    expect(checks[3]).toMatchObject({ status: "not met", detail: "not resumed" });
  });

  it("reports targets as not measured when flotilla could not run", () => {
    expect(statuses({ implementation: "flotilla", status: "not runnable", durationMs: 0 })).toEqual(["not measured", "not measured", "not measured", "not measured"]);
  });
});
