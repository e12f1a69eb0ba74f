import { describe, expect, it } from "vitest";
import { createPrng } from "../../../libs/prng/index.ts";
import { FakeEtcd } from "../storage/test-support.ts";
import type { StoredObject } from "../storage/index.ts";
import { emptyBitmap, nodePortStaticBandSize, parsePortRange, parseServiceCidr } from "./range.ts";
import { clusterIpRepair, leakedRepairsBeforeRelease, nodePortRepair, RangeRepair, rebuildBitmap, runRepairLoop, type RepairProblem } from "./repair.ts";
import { StoredRange, nodePortsKey, serviceIpsKey } from "./store.ts";

function service(name: string, clusterIP: string, nodePorts: number[] = []): StoredObject {
  const ports = nodePorts.length === 0 ? [{ port: 80 }] : nodePorts.map((nodePort, index) => ({ port: 80 + index, nodePort }));
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { type: nodePorts.length === 0 ? "ClusterIP" : "NodePort", clusterIP, clusterIPs: [clusterIP], ports } };
}

function ranges() {
  const etcd = new FakeEtcd();
  return {
    ips: new StoredRange(etcd, serviceIpsKey, parseServiceCidr("10.96.0.0/24"), createPrng(1)),
    ports: new StoredRange(etcd, nodePortsKey, parsePortRange("30000-30099"), createPrng(2), nodePortStaticBandSize),
  };
}

const reasons = (problems: RepairProblem[]) => problems.map((problem) => `${problem.reason} ${problem.value}`);

describe("allocator repair", () => {
  it("releases a value no Service holds only after it looked leaked on several runs in a row", async () => {
    const { ips } = ranges();
    await ips.allocate("10.96.0.10");
    await ips.allocate("10.96.0.20");
    const services = [service("dns", "10.96.0.10")];
    const repair = new RangeRepair(ips, clusterIpRepair);
    for (let run = 1; run < leakedRepairsBeforeRelease; run++) {
      expect(reasons(await repair.run(async () => services))).toEqual(["Leaked 10.96.0.20"]);
      expect(await ips.isAllocated("10.96.0.20")).toBe(true);
    }
    const released = await repair.run(async () => services);
    expect(reasons(released)).toEqual(["LeakReleased 10.96.0.20"]);
    expect(released[0]?.message).toBe("the cluster IP [IPv4]:10.96.0.20 appears to have leaked: cleaning up");
    expect(await ips.isAllocated("10.96.0.20")).toBe(false);
    expect(await ips.isAllocated("10.96.0.10")).toBe(true);
  });

  it("forgets a suspected leak once a Service holds the value (a create that was in flight)", async () => {
    const { ips } = ranges();
    await ips.allocate("10.96.0.30");
    const repair = new RangeRepair(ips, clusterIpRepair);
    expect(reasons(await repair.run(async () => []))).toEqual(["Leaked 10.96.0.30"]);
    for (let run = 0; run < leakedRepairsBeforeRelease; run++) expect(await repair.run(async () => [service("late", "10.96.0.30")])).toEqual([]);
    expect(reasons(await repair.run(async () => []))).toEqual(["Leaked 10.96.0.30"]);
    expect(await ips.isAllocated("10.96.0.30")).toBe(true);
  });

  it("marks again a value a Service uses that the bitmap lost, and reports double and out-of-range use", async () => {
    const { ips } = ranges();
    await ips.allocate("10.96.0.10");
    const services = [service("a", "10.96.0.10"), service("b", "10.96.0.10"), service("c", "10.96.0.40"), service("d", "10.200.0.1")];
    const problems = await new RangeRepair(ips, clusterIpRepair).run(async () => services);
    expect(problems.map((problem) => [problem.reason, problem.value, (problem.service?.["metadata"] as { name: string } | undefined)?.name])).toEqual([
      ["AlreadyAllocated", "10.96.0.10", "b"],
      ["NotAllocated", "10.96.0.40", "c"],
      ["OutOfRange", "10.200.0.1", "d"],
    ]);
    expect(problems[0]?.message).toBe("Cluster IP [IPv4]:10.96.0.10 was assigned to multiple services; please recreate service");
    expect(problems[2]?.message).toBe("Cluster IP [IPv4]:10.200.0.1 is not within the configured Service CIDR 10.96.0.0/24; please recreate service");
    expect(await ips.isAllocated("10.96.0.40")).toBe(true);
  });

  it("repairs node ports: one Service using a port for two protocols holds it once", async () => {
    const { ports } = ranges();
    await ports.allocate("30001");
    await ports.allocate("30050");
    const both: StoredObject = {
      ...service("dns", "10.96.0.10"),
      spec: { type: "NodePort", clusterIP: "10.96.0.10", ports: [{ port: 53, protocol: "UDP", nodePort: 30001 }, { port: 53, protocol: "TCP", nodePort: 30001 }] },
    };
    const repair = new RangeRepair(ports, nodePortRepair);
    const services = [both, service("web", "10.96.0.11", [30002])];
    expect(reasons(await repair.run(async () => services))).toEqual(["NotAllocated 30002", "Leaked 30050"]);
    expect(await ports.isAllocated("30002")).toBe(true);
    expect(await ports.isAllocated("30050")).toBe(true);
  });

  it("starts over when an allocation changes the range between its read and its write", async () => {
    const { ips } = ranges();
    await ips.allocate("10.96.0.20");
    const repair = new RangeRepair(ips, clusterIpRepair);
    let lists = 0;
    const problems = await repair.run(async () => {
      lists++;
      // A create allocates while the first run is listing; its Service is not written yet.
      if (lists === 1) await ips.allocate("10.96.0.21");
      return [service("lost", "10.96.0.40")];
    });
    expect(lists).toBe(2);
    expect(reasons(problems)).toEqual(["NotAllocated 10.96.0.40", "Leaked 10.96.0.20", "Leaked 10.96.0.21"]);
    expect(await ips.isAllocated("10.96.0.21")).toBe(true);
    expect(await ips.isAllocated("10.96.0.40")).toBe(true);
  });

  it("the loop repairs each range, reports, and stops when its signal aborts", async () => {
    const { ips, ports } = ranges();
    await ports.allocate("30009");
    const reported: string[] = [];
    const stop = new AbortController();
    const loop = runRepairLoop(
      {
        repairs: [new RangeRepair(ips, clusterIpRepair), new RangeRepair(ports, nodePortRepair)],
        listServices: async () => [service("web", "10.96.0.5")],
        report: async (repair, problem) => {
          reported.push(`${repair.eventPrefix} ${problem.reason} ${problem.value}`);
          if (reported.length === 2) stop.abort();
        },
        onError: (error) => reported.push(`error ${String(error)}`),
        intervalMs: 60_000,
      },
      stop.signal,
    );
    await loop;
    expect(reported).toEqual(["ClusterIP NotAllocated 10.96.0.5", "Port Leaked 30009"]);
  });

  it("rebuilds a whole /12 from thousands of Services, finding a leak at its last address", () => {
    const range = parseServiceCidr("10.96.0.0/12");
    const services = Array.from({ length: 5000 }, (_, index) => service(`s${index}`, range.valueAt(index * 200)));
    const stored = emptyBitmap(range.size);
    for (const offset of [...Array.from({ length: 5000 }, (_, index) => index * 200), range.size - 1]) stored[offset >> 3] = (stored[offset >> 3] ?? 0) | (1 << (offset & 7));
    const rebuilt = rebuildBitmap(range, stored, services, new Map(), clusterIpRepair);
    expect(reasons(rebuilt.problems)).toEqual(["Leaked 10.111.255.254"]);
    expect(Buffer.compare(Buffer.from(rebuilt.bitmap), Buffer.from(stored))).toBe(0);
    expect([...rebuilt.leaks.entries()]).toEqual([[range.size - 1, 1]]);
  });
});
