import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../../libs/lincheck/index.ts";
import { emptyOutcome, formatTable, longestWriteGapMs, type ScenarioOutcome } from "./run.ts";

function put(invokeTime: number, completeTime: number | undefined): HistoryEntry {
  const operation = { kind: "put", key: "k", value: `v${invokeTime}` } as const;
  return completeTime === undefined
    ? { client: 0, operation, invokeTime, outcome: { status: "unknown" } }
    : { client: 0, operation, invokeTime, outcome: { status: "ok", completeTime, result: { kind: "put" } } };
}

describe("longestWriteGapMs", () => {
  it("measures the longest stretch between acknowledged writes, ignoring unknown ones", () => {
    expect(longestWriteGapMs([put(0, 100), put(150, undefined), put(5_000, 5_100), put(5_200, 5_300)], 5_400)).toBe(5_000);
  });

  it("counts the time from the last acknowledged write to the load's stop", () => {
    expect(longestWriteGapMs([put(0, 100)], 9_100)).toBe(9_000);
  });

  it("is the whole run when no write was acknowledged", () => {
    expect(longestWriteGapMs([put(0, undefined)], 7_000)).toBe(7_000);
  });
});

describe("formatTable", () => {
  it("prints one row per scenario with its violation count", () => {
    const outcome: ScenarioOutcome = {
      id: "1/kill-store-leader", faults: 3, storeRecoveryMs: 8_000, writeGapMs: 5_000, recoverMs: 100, writes: 90, writesFailed: 4, slowFailures: 2,
      slowestFailedMs: 5_004, keysChecked: 6, lincheck: "linearizable", probe: { probes: 100, failed: 1, longestGapMs: 300 }, faultRecoveryMs: 2_500,
      identities: { polls: 40, identitiesSeenMax: 2 }, violations: ["x"],
    };
    const lines = formatTable([outcome]).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^1\/kill-store-leader\s+3\s+8\.0\s+2\.5\s+5\.0\s+0\.1\s+90\s+4\s+2\s+5004\s+6\s+linearizable\s+100\s+1\s+0\.3\s+40\s+1$/);
  });
});

describe("formatTable without a scenario recovery check", () => {
  it("prints a dash where the scenario has no recovery check of its own", () => {
    const row = formatTable([emptyOutcome("5/partition-2-1")]).split("\n")[2] ?? "";
    expect(row.split(/\s+/)[3]).toBe("-");
  });
});
