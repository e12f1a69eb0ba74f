/**
 * The VXLAN overlay between two host namespaces: each gets its device and the other's entries
 * from Node objects; traffic to the peer's subnet crosses the tunnel; stale entries go; the MAC
 * survives a restart. Everything lives in namespaces this test creates.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Node } from "../../../libs/api/index.ts";
import { Overlay, publicIpAnnotation, runnerIn, vtepMacAnnotation, vxlanDeviceName } from "../../../services/network/index.ts";
import { NetworkLab, type LabHost } from "../../harness/netns.ts";
import { waitFor } from "../../harness/wait.ts";

let lab: NetworkLab;
let hosts: [LabHost, LabHost];
const subnets = ["10.244.1.0/24", "10.244.2.0/24"] as const;
const dataDir = mkdtempSync(join(tmpdir(), "flotilla-overlay-"));
let overlays: Overlay[] = [];
let server: ChildProcess | undefined;

function overlayFor(index: 0 | 1): Overlay {
  const host = hosts[index];
  return new Overlay({ nodeName: `n${index}`, publicIp: host.ip, uplink: "eth0", subnet: subnets[index], macFile: join(dataDir, `n${index}`, "vtep-mac"), run: runnerIn(lab.nsenter(host)) });
}

function nodeObject(index: 0 | 1, overlay: Overlay, publicIp = hosts[index].ip): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: `n${index}`, annotations: { [vtepMacAnnotation]: overlay.vtepMac, [publicIpAnnotation]: publicIp } },
    spec: { podCIDR: subnets[index] },
  };
}

function pings(from: LabHost, address: string): boolean {
  return spawnSync(lab.nsenter(from)[0] ?? "", [...lab.nsenter(from).slice(1), "ping", "-c1", "-W1", address]).status === 0;
}

function inHost(host: LabHost, argv: string[]): string {
  return execFileSync(lab.nsenter(host)[0] ?? "", [...lab.nsenter(host).slice(1), ...argv], { encoding: "utf8" });
}

beforeAll(async () => {
  lab = NetworkLab.create(2);
  hosts = lab.hosts as [LabHost, LabHost];
  overlays = [overlayFor(0), overlayFor(1)];
  for (const overlay of overlays) await overlay.ensureDevice();
}, 30_000);

afterAll(() => {
  server?.kill("SIGKILL");
  lab.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("VXLAN overlay between host namespaces", () => {
  it("creates the device with VNI 1, port 8472, no learning and the uplink's MTU minus 50", () => {
    const [link] = JSON.parse(inHost(hosts[0], ["ip", "-j", "-d", "link", "show", vxlanDeviceName])) as { mtu: number; address: string; linkinfo: { info_data: { id: number; port: number; learning: boolean } } }[];
    expect(link?.linkinfo.info_data).toMatchObject({ id: 1, port: 8472, learning: false });
    expect(link?.mtu).toBe(1450);
    expect(link?.address).toBe(overlays[0]?.vtepMac);
  });

  it("carries traffic to the other node's subnet once both have reconciled", async () => {
    const nodes = [nodeObject(0, overlays[0]!), nodeObject(1, overlays[1]!)];
    for (const overlay of overlays) await overlay.reconcile(nodes);
    await waitFor(() => (pings(hosts[0], "10.244.2.0") ? true : undefined), { timeoutMs: 5_000, description: "n0 → n1 over VXLAN" });
    server = spawn(lab.nsenter(hosts[1])[0] ?? "", [...lab.nsenter(hosts[1]).slice(1), "busybox", "httpd", "-f", "-p", "10.244.2.0:8080", "-h", "/etc"], { stdio: "ignore" });
    const status = await waitFor(() => {
      const result = spawnSync(lab.nsenter(hosts[0])[0] ?? "", [...lab.nsenter(hosts[0]).slice(1), "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://10.244.2.0:8080/hostname"], { encoding: "utf8" });
      return result.stdout === "" || result.stdout === "000" ? undefined : result.stdout;
    }, { timeoutMs: 10_000, description: "HTTP from n0 to n1's subnet" });
    expect(status).toBe("200");
    // A second reconcile of a converged overlay changes nothing.
    expect(await overlays[0]!.reconcile(nodes)).toBe(0);
  });

  it("follows a peer that changes address and removes a peer that leaves", async () => {
    const moved = [nodeObject(0, overlays[0]!), nodeObject(1, overlays[1]!, "10.250.250.250")];
    await overlays[0]!.reconcile(moved);
    expect((await overlays[0]!.observe()).fdb.get(overlays[1]!.vtepMac)).toBe("10.250.250.250");
    await overlays[0]!.reconcile([nodeObject(0, overlays[0]!)]);
    const observed = await overlays[0]!.observe();
    expect([observed.neighbours.size, observed.fdb.size, observed.routes.size]).toEqual([0, 0, 0]);
    expect(pings(hosts[0], "10.244.2.0")).toBe(false);
  });

  it("keeps its MAC and device across a restart", async () => {
    const before = overlays[0]!.vtepMac;
    const restarted = overlayFor(0);
    await restarted.ensureDevice();
    expect(restarted.vtepMac).toBe(before);
    const [link] = JSON.parse(inHost(hosts[0], ["ip", "-j", "link", "show", vxlanDeviceName])) as { address: string }[];
    expect(link?.address).toBe(before);
  });
});
