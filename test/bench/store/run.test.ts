import { describe, expect, it } from "vitest";
import { scaledSizes } from "./config.ts";
import { benchImplementation, notRunnableReason } from "./run.ts";

// End to end against the real etcd 3.4 at a tiny scale: every phase runs and yields figures.
// Skipped where etcd is not installed (make deps installs it).
const etcdReason = await notRunnableReason("etcd");

describe.skipIf(etcdReason !== undefined)("benchImplementation against etcd", () => {
  it("runs every phase on a 3-member cluster and tears it down", { timeout: 120_000 }, async () => {
    const sizes = { ...scaledSizes(0.02), phaseDurationMsMax: 30_000 };
    const result = await benchImplementation("etcd", sizes, () => {});
    expect(result.status).toBe("ran");
    for (const outcome of [result.sequentialPut, result.concurrentPut, result.linearizableGet]) {
      expect(outcome?.ok && outcome.value.completed).toBeGreaterThan(0);
      expect(outcome?.ok && outcome.value.failed).toBe(0);
      expect(outcome?.ok && outcome.value.cost.membersCpuMs).toBeGreaterThan(0);
    }
    const watch = result.watch;
    expect(watch?.ok && watch.value.eventsDelivered).toBe(sizes.watchers * sizes.watchEvents);
    const memory = result.memory;
    expect(memory?.ok && memory.value.map((member) => member.processName)).toEqual(["etcd", "etcd", "etcd"]);
    const failover = result.failover;
    expect(failover?.ok && failover.value.length).toBe(3);
    // Writes must resume at all within the bound; the 2 s target is the report's business.
    expect(failover?.ok && failover.value.every((round) => round.unavailableMs !== undefined && round.unavailableMs > 0)).toBe(true);
    // And a survivor names the new leader in every round (the election part of the gap).
    expect(failover?.ok && failover.value.every((round) => round.electedMs !== undefined && round.electedMs > 0)).toBe(true);
  });
});
