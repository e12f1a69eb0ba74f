import { describe, expect, it } from "vitest";
import { etcdUsageStore, sampleTtlSeconds, type UsageStoreClient } from "./samples.ts";
import type { NodeUsageSample } from "./samples.ts";

/** A store that records grants, renewals and puts; `expired` leases answer a renewal with TTL 0. */
function recordingClient() {
  const calls: string[] = [];
  const expired = new Set<string>();
  let nextLeaseId = 1;
  const client = {
    leaseGrant: async (ttlSeconds: number) => {
      const id = String(nextLeaseId++);
      calls.push(`grant ${ttlSeconds} -> ${id}`);
      return { ID: id, TTL: String(ttlSeconds) };
    },
    leaseKeepAliveOnce: async (id: string) => {
      calls.push(`renew ${id}`);
      return { ID: id, TTL: expired.has(id) ? "0" : String(sampleTtlSeconds) };
    },
    put: async (request: { key: Buffer; lease?: string }) => {
      calls.push(`put ${request.key.toString()} lease ${request.lease ?? ""}`);
      return {};
    },
    range: async () => ({ kvs: [] }),
  };
  return { client: client as unknown as UsageStoreClient, calls, expired };
}

const sampleOf = (nodeName: string): NodeUsageSample => ({ nodeName, timestampMs: 1, windowSeconds: 15, cpuNanoCores: 1, memoryWorkingSetBytes: 1, pods: [] });

describe("etcdUsageStore", () => {
  it("keeps one lease per node, renewing it with each sample, and grants a new one once it has run out", async () => {
    const { client, calls, expired } = recordingClient();
    const store = etcdUsageStore(client);
    await store.write(sampleOf("a"));
    await store.write(sampleOf("a"));
    await store.write(sampleOf("b"));
    expired.add("1");
    await store.write(sampleOf("a"));
    expect(calls).toEqual([
      `grant ${sampleTtlSeconds} -> 1`,
      "put /flotilla/metrics/nodes/a lease 1",
      "renew 1",
      "put /flotilla/metrics/nodes/a lease 1",
      `grant ${sampleTtlSeconds} -> 2`,
      "put /flotilla/metrics/nodes/b lease 2",
      "renew 1",
      `grant ${sampleTtlSeconds} -> 3`,
      "put /flotilla/metrics/nodes/a lease 3",
    ]);
  });
});
