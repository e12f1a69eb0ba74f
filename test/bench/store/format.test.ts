import { describe, expect, it } from "vitest";
import { formatCell, formatCost, formatNumber, formatRatio, formatTable } from "./format.ts";

describe("report formatting", () => {
  it("pads every column to its widest cell", () => {
    const table = formatTable(["metric", "etcd"], [["put", "12345"], ["sequential put p50", "1.5"]]);
    expect(table.split("\n")).toEqual([
      "| metric             | etcd  |",
      "|--------------------|-------|",
      "| put                | 12345 |",
      "| sequential put p50 | 1.5   |",
    ]);
  });

  it("rounds rates to whole numbers and small latencies to hundredths", () => {
    expect(formatNumber(1789.6, "ops/s")).toBe("1790");
    expect(formatNumber(1.234, "ms")).toBe("1.23");
    expect(formatNumber(121.26, "ms")).toBe("121.3");
  });

  it("prints the reason for a missing figure and a dash for a missing ratio", () => {
    expect(formatCell({ absent: "not runnable" }, "ms")).toBe("not runnable");
    expect(formatRatio(undefined)).toBe("-");
    expect(formatRatio(0.8)).toBe("0.80x");
  });

  it("states CPU as cores busy over the phase's wall time", () => {
    expect(formatCost({ wallMs: 2000, clientCpuMs: 1000, membersCpuMs: 3000 })).toBe("CPU: client 0.50 cores, members 1.50 cores");
    expect(formatCost({ wallMs: 2000, clientCpuMs: 1000, membersCpuMs: undefined })).toBe("CPU: client 0.50 cores, members -");
  });
});
