import { describe, expect, it } from "vitest";
import { parseCpuMs, parseStatusKiB, parseVmRssKiB } from "./proc.ts";

describe("/proc parsing", () => {
  it("reads VmRSS in KiB from /proc/PID/status", () => {
    const status = "Name:\tetcd\nVmPeak:\t  900000 kB\nVmRSS:\t   55432 kB\nRssAnon:\t   30000 kB\n";
    expect(parseVmRssKiB(status)).toBe(55_432);
  });

  it("reads RssAnon and RssFile lines, and not a line whose name only starts the same", () => {
    const status = "VmRSS:\t   55432 kB\nRssAnon:\t   30000 kB\nRssFile:\t   25000 kB\nRssFileX:\t 1 kB\n";
    expect(parseStatusKiB(status, "RssAnon")).toBe(30_000);
    expect(parseStatusKiB(status, "RssFile")).toBe(25_000);
  });

  it("fails on a status without VmRSS (a kernel thread)", () => {
    expect(() => parseVmRssKiB("Name:\tkthreadd\nState:\tS (sleeping)\n")).toThrow(/VmRSS/);
  });

  it("reads utime + stime from /proc/PID/stat even when the name holds spaces and parentheses", () => {
    // utime 250 ticks and stime 50 ticks at 100 ticks per second: 3000 ms.
    const stat = "4242 (node (a) b) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 12345 1000000 2000";
    expect(parseCpuMs(stat)).toBe(3000);
  });
});
