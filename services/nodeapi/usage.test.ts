import { status as GrpcStatus } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { memoryUsageStore } from "../apiserver/metrics/samples.ts";
import { NodeApiError } from "./errors.ts";
import { reportUsage } from "./usage.ts";

describe("ReportUsage", () => {
  test("keeps the sample under the certificate's node name, whatever the sample says", async () => {
    const store = memoryUsageStore();
    await reportUsage(store, "node-a", { nodeName: "node-b", timestampMs: 5, windowSeconds: 15, cpuNanoCores: 7, memoryWorkingSetBytes: 9, pods: [] });
    expect([...store.samples.keys()]).toEqual(["node-a"]);
    expect(store.samples.get("node-a")?.cpuNanoCores).toBe(7);
  });

  test("refuses a malformed sample with INVALID_ARGUMENT and stores nothing", async () => {
    const store = memoryUsageStore();
    const refused = reportUsage(store, "node-a", { timestampMs: 5, windowSeconds: 15, cpuNanoCores: "lots", memoryWorkingSetBytes: 9, pods: [] });
    await expect(refused).rejects.toBeInstanceOf(NodeApiError);
    await expect(refused).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    expect(store.samples.size).toBe(0);
  });
});
