import { describe, expect, it } from "vitest";
import { createPrng } from "../../../libs/prng/index.ts";
import { FakeEtcd } from "../storage/test-support.ts";
import { parsePortRange, parseServiceCidr } from "./range.ts";
import { AlreadyAllocatedError, OutOfRangeError, RangeFullError, StoredRange, nodePortsKey, serviceIpsKey } from "./store.ts";

describe("StoredRange", () => {
  it("hands out a requested value once and takes it back on release", async () => {
    const etcd = new FakeEtcd();
    const ips = new StoredRange(etcd, serviceIpsKey, parseServiceCidr("10.96.0.0/12"), createPrng(1));
    await ips.allocate("10.96.0.10");
    await expect(ips.allocate("10.96.0.10")).rejects.toBeInstanceOf(AlreadyAllocatedError);
    await expect(ips.allocate("10.200.0.1")).rejects.toBeInstanceOf(OutOfRangeError);
    await ips.release("10.96.0.10");
    expect(await ips.isAllocated("10.96.0.10")).toBe(false);
    await ips.allocate("10.96.0.10");
    expect(await ips.isAllocated("10.96.0.10")).toBe(true);
  });

  it("never gives one value to two replicas allocating at once, and reports a full range", async () => {
    const etcd = new FakeEtcd();
    const range = parsePortRange("30000-30039");
    const replicas = [new StoredRange(etcd, nodePortsKey, range, createPrng(1)), new StoredRange(etcd, nodePortsKey, range, createPrng(2))];
    const ports = await Promise.all(Array.from({ length: 40 }, async (_, index) => replicas[index % 2]?.allocateNext()));
    expect(new Set(ports).size).toBe(40);
    await expect(replicas[0]?.allocateNext()).rejects.toBeInstanceOf(RangeFullError);
  });

  it("stores nothing on a dry run", async () => {
    const etcd = new FakeEtcd();
    const ips = new StoredRange(etcd, serviceIpsKey, parseServiceCidr("10.96.0.0/24"), createPrng(3));
    const picked = await ips.allocateNext(true);
    expect(await ips.isAllocated(picked)).toBe(false);
    await ips.allocate("10.96.0.5", true);
    expect(await ips.isAllocated("10.96.0.5")).toBe(false);
  });

  it("refuses to work on a range stored with other bounds", async () => {
    const etcd = new FakeEtcd();
    await new StoredRange(etcd, serviceIpsKey, parseServiceCidr("10.96.0.0/24"), createPrng(3)).allocate("10.96.0.7");
    await expect(new StoredRange(etcd, serviceIpsKey, parseServiceCidr("10.0.0.0/24"), createPrng(3)).allocate("10.0.0.7")).rejects.toThrow("holds the range 10.96.0.0/24");
  });
});
