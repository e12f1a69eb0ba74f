import { describe, expect, test } from "vitest";
import { createLogger } from "../../libs/log/index.ts";
import type { NodeUsageSample } from "../apiserver/metrics/samples.ts";
import type { ContainerRuntime, ContainerStats } from "./cri/index.ts";
import { labelNode, labelPodName, labelPodNamespace, labelPodUid } from "./pods/runtime-config.ts";
import { reportUsageOnce } from "./stats-report.ts";
import { UsageRates } from "./stats-usage.ts";

/** A runtime whose only answer is ListContainerStats: one container whose CPU counter we set. */
function statsRuntime(reading: { cpuNanoseconds: bigint; timestampMs: number }, filters: unknown[]): ContainerRuntime {
  const labels = { [labelNode]: "n1", [labelPodNamespace]: "shop", [labelPodName]: "web-1", [labelPodUid]: "uid-1" };
  return {
    listContainerStats: async (filter: unknown): Promise<ContainerStats[]> => {
      filters.push(filter);
      return [{ id: "c1", name: "app", labels, timestampMs: reading.timestampMs, cpuUsageCoreNanoseconds: reading.cpuNanoseconds, memoryWorkingSetBytes: 4096, writableLayerUsedBytes: 0 }];
    },
  } as unknown as ContainerRuntime;
}

describe("usage reporting", () => {
  test("reads this node's containers, sends nothing the first time, then rates for the node and its pods", async () => {
    const reading = { cpuNanoseconds: 1_000_000_000n, timestampMs: 1_000 };
    const filters: unknown[] = [];
    const sent: NodeUsageSample[] = [];
    let nodeCpu = 0n;
    const options = {
      runtime: statsRuntime(reading, filters),
      nodeName: "n1",
      send: async (sample: NodeUsageSample) => void sent.push(sample),
      log: createLogger("test"),
      readNode: (nowMs: number) => ({ timestampMs: nowMs, cpuUsageCoreNanoseconds: nodeCpu, memoryWorkingSetBytes: 1 << 30 }),
    };
    const rates = new UsageRates();
    expect(await reportUsageOnce(options, rates, 1_000)).toBeUndefined();
    Object.assign(reading, { cpuNanoseconds: 2_500_000_000n, timestampMs: 16_000 });
    nodeCpu = 30_000_000_000n;
    await reportUsageOnce(options, rates, 16_000);
    expect(filters).toEqual([{ labels: { [labelNode]: "n1" } }, { labels: { [labelNode]: "n1" } }]);
    expect(sent).toEqual([
      {
        nodeName: "n1",
        timestampMs: 16_000,
        windowSeconds: 15,
        cpuNanoCores: 2_000_000_000,
        memoryWorkingSetBytes: 1 << 30,
        pods: [{ namespace: "shop", name: "web-1", timestampMs: 16_000, windowSeconds: 15, containers: [{ name: "app", cpuNanoCores: 100_000_000, memoryWorkingSetBytes: 4096 }] }],
      },
    ]);
  });
});
