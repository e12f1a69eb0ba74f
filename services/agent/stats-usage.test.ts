import { describe, expect, test } from "vitest";
import type { PodUsage } from "./pods/stats.ts";
import { parseMeminfoWorkingSetBytes, parseProcStatCpuNanoseconds, UsageRates } from "./stats-usage.ts";

const procStat = (user: number, system: number, idle: number): string => `cpu  ${user} 0 ${system} ${idle} 5 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n`;

function pod(uid: string, timestampMs: number, containers: [string, bigint, number][]): PodUsage {
  return {
    namespace: "a",
    name: `pod-${uid}`,
    uid,
    timestampMs,
    cpuUsageCoreNanoseconds: containers.reduce((sum, [, cpu]) => sum + cpu, 0n),
    memoryWorkingSetBytes: containers.reduce((sum, [, , memory]) => sum + memory, 0),
    containers: containers.map(([name, cpuUsageCoreNanoseconds, memoryWorkingSetBytes]) => ({ name, cpuUsageCoreNanoseconds, memoryWorkingSetBytes })),
  };
}

describe("usage rates", () => {
  test("/proc/stat busy time counts user, nice, system, irq, softirq and steal, not idle or iowait", () => {
    expect(parseProcStatCpuNanoseconds(procStat(300, 200, 10_000))).toBe(5_000_000_000n);
    expect(() => parseProcStatCpuNanoseconds("intr 1\n")).toThrow(/no cpu line/);
  });

  test("/proc/meminfo working set is MemTotal minus MemAvailable", () => {
    expect(parseMeminfoWorkingSetBytes("MemTotal:       2048 kB\nMemFree:  100 kB\nMemAvailable:   1024 kB\n")).toBe(1024 * 1024);
  });

  test("the first reading gives no sample; the second gives nanocores over the window", () => {
    const rates = new UsageRates();
    const first = rates.next("n1", { timestampMs: 0, cpuUsageCoreNanoseconds: 0n, memoryWorkingSetBytes: 10 }, [pod("u1", 0, [["c", 1_000_000_000n, 50]])]);
    expect(first).toBeUndefined();
    const second = rates.next("n1", { timestampMs: 15_000, cpuUsageCoreNanoseconds: 15_000_000_000n, memoryWorkingSetBytes: 20 }, [pod("u1", 15_000, [["c", 4_000_000_000n, 70]])]);
    expect(second).toEqual({
      nodeName: "n1",
      timestampMs: 15_000,
      windowSeconds: 15,
      cpuNanoCores: 1_000_000_000,
      memoryWorkingSetBytes: 20,
      pods: [{ namespace: "a", name: "pod-u1", timestampMs: 15_000, windowSeconds: 15, containers: [{ name: "c", cpuNanoCores: 200_000_000, memoryWorkingSetBytes: 70 }] }],
    });
  });

  test("a pod with a new or restarted container is left out until every container has a rate", () => {
    const rates = new UsageRates();
    rates.next("n1", { timestampMs: 0, cpuUsageCoreNanoseconds: 0n, memoryWorkingSetBytes: 0 }, [pod("u1", 0, [["c", 5_000_000_000n, 1]])]);
    const restarted = rates.next("n1", { timestampMs: 15_000, cpuUsageCoreNanoseconds: 0n, memoryWorkingSetBytes: 0 }, [pod("u1", 15_000, [["c", 1_000n, 1], ["sidecar", 7n, 1]])]);
    expect(restarted?.pods).toEqual([]);
    const after = rates.next("n1", { timestampMs: 30_000, cpuUsageCoreNanoseconds: 0n, memoryWorkingSetBytes: 0 }, [pod("u1", 30_000, [["c", 15_001_000n, 1], ["sidecar", 7n, 1]])]);
    expect(after?.pods[0]?.containers.map((container) => [container.name, container.cpuNanoCores])).toEqual([
      ["c", 1_000_000],
      ["sidecar", 0],
    ]);
  });
});
