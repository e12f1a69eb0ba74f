import { afterEach, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { NetworkLab } from "../harness/netns.ts";

function reachable(lab: NetworkLab, fromIndex: number, toIndex: number): boolean {
  const from = lab.hosts[fromIndex];
  const to = lab.hosts[toIndex];
  if (from === undefined || to === undefined) throw new Error("no such host");
  const result = spawnSync(lab.nsenter(from)[0] ?? "", [...lab.nsenter(from).slice(1), "ping", "-c1", "-W1", to.ip]);
  return result.status === 0;
}

describe("NetworkLab", () => {
  let lab: NetworkLab | undefined;
  afterEach(() => {
    lab?.destroy();
    lab = undefined;
  });

  it("connects hosts through the bridge, partitions them and heals", () => {
    lab = NetworkLab.create(3);
    expect(reachable(lab, 0, 1)).toBe(true);
    expect(reachable(lab, 1, 2)).toBe(true);
    const [a, b, c] = lab.hosts as [typeof lab.hosts[0], typeof lab.hosts[0], typeof lab.hosts[0]];
    lab.partition([[a, b], [c]]);
    expect(reachable(lab, 0, 1)).toBe(true);
    expect(reachable(lab, 0, 2)).toBe(false);
    expect(reachable(lab, 2, 1)).toBe(false);
    lab.heal();
    expect(reachable(lab, 0, 2)).toBe(true);
  });

  it("removes every namespace and the bridge on destroy", () => {
    lab = NetworkLab.create(2);
    const names = lab.hosts.map((host) => host.namespace);
    const bridge = lab.bridge;
    lab.destroy();
    lab = undefined;
    const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    for (const name of names) expect(namespaces).not.toContain(name);
    expect(spawnSync("ip", ["link", "show", bridge]).status).not.toBe(0);
  });
});
