import { describe, expect, it } from "vitest";
import { findResource, type Lease } from "../api/index.ts";
import { FakeClient } from "./fake.ts";
import { LeaderElector } from "./leader-election.ts";
import { waitUntil } from "./test-support.ts";
import type { ApiClient } from "./types.ts";

const leases = findResource("coordination.k8s.io", "v1", "leases")!;
// Short timings with upstream's ratios (15 s : 10 s : 2 s) so that a takeover takes a second.
const timings = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 200 };

/** Forwards to `client` until partitioned, then fails every call as an unreachable server. */
function partitionable(client: ApiClient): { client: ApiClient; partition: () => void } {
  let partitioned = false;
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (partitioned ? Promise.reject(new Error("partitioned")) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { client: proxy, partition: () => (partitioned = true) };
}

function candidates(client: FakeClient, clients: Record<string, ApiClient> = {}) {
  const timeline: string[] = [];
  const leading = new Set<string>();
  let overlapped = false;
  const make = (identity: string) =>
    new LeaderElector({
      client: clients[identity] ?? client,
      namespace: "kube-system",
      name: "test",
      identity,
      ...timings,
      onStartedLeading: async (signal) => {
        if (leading.size > 0) overlapped = true;
        leading.add(identity);
        timeline.push(`${identity} leads`);
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        leading.delete(identity);
        timeline.push(`${identity} stops`);
      },
    });
  return { make, timeline, overlapped: () => overlapped };
}

function lease(client: FakeClient): Lease | undefined {
  return client.stored<Lease>(leases, "kube-system", "test");
}

describe("LeaderElector", () => {
  it("creates a missing Lease and keeps it while renewing; a second candidate waits", async () => {
    const client = new FakeClient();
    const { make, timeline } = candidates(client);
    const stop = new AbortController();
    const a = make("a");
    const runA = a.run(stop.signal);
    await waitUntil(() => a.isLeader);
    const b = make("b");
    const runB = b.run(stop.signal);
    const renewals = new Set<string>();
    await waitUntil(() => {
      renewals.add(lease(client)?.spec?.renewTime ?? "");
      // Renewed across more than two lease durations while b kept trying.
      return renewals.size > (2 * timings.leaseDurationMs) / timings.retryPeriodMs;
    }, 10_000);
    expect(b.isLeader).toBe(false);
    expect(b.observedHolder).toBe("a");
    expect(lease(client)?.spec).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 2, leaseTransitions: 0 });
    stop.abort();
    await Promise.all([runA, runB]);
    expect(timeline[0]).toBe("a leads");
  });

  it("stops acting when it cannot renew, before the other candidate takes over", async () => {
    const client = new FakeClient();
    const partitioned = partitionable(client);
    const { make, timeline, overlapped } = candidates(client, { a: partitioned.client });
    const stop = new AbortController();
    const a = make("a");
    const runA = a.run(stop.signal);
    await waitUntil(() => a.isLeader);
    const b = make("b");
    const runB = b.run(stop.signal);
    await waitUntil(() => b.observedHolder === "a");
    partitioned.partition();
    await waitUntil(() => b.isLeader, 10_000);
    stop.abort();
    await Promise.all([runA, runB]);
    expect(timeline.slice(0, 3)).toEqual(["a leads", "a stops", "b leads"]);
    expect(overlapped()).toBe(false);
    expect(lease(client)?.spec?.leaseTransitions).toBe(1);
  });

  it("releases the Lease on a clean stop so that the other candidate takes over at once", async () => {
    const client = new FakeClient();
    const { make } = candidates(client);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = make("a");
    const runA = a.run(stopA.signal);
    await waitUntil(() => a.isLeader);
    const b = make("b");
    const runB = b.run(stopB.signal);
    await waitUntil(() => b.observedHolder === "a");
    const stoppedAtMs = Date.now();
    stopA.abort();
    await runA;
    expect(lease(client)?.spec?.holderIdentity).toBe("");
    await waitUntil(() => b.isLeader, 10_000);
    expect(Date.now() - stoppedAtMs).toBeLessThan(timings.leaseDurationMs);
    stopB.abort();
    await runB;
  });
});
