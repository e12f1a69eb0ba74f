/** test/harness/containerd.ts: the generated config, and a stop() that leaves nothing behind. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestImages, containerdConfig, containerdPaths, ContainerdHost, setTomlKey } from "../../harness/containerd.ts";
import { NetworkLab } from "../../harness/netns.ts";

const cleanups: (() => Promise<void> | void)[] = [];
let lab: NetworkLab | undefined;
let imagesDir: string | undefined;

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  lab?.destroy();
  if (imagesDir !== undefined) rmSync(imagesDir, { recursive: true, force: true });
});

/** A containerd in a fresh lab host running one sleeping container; stop() is registered as cleanup. */
async function startHostWithPod(name: string): Promise<{ containerd: ContainerdHost; sandboxId: string; containerId: string }> {
  lab ??= NetworkLab.create(0);
  imagesDir ??= mkdtempSync(join(tmpdir(), "fl-images-"));
  const host = lab.addHost(name);
  const containerd = await ContainerdHost.start({ lab, host, podSubnet: "10.244.77.0/24", images: await buildTestImages(imagesDir) });
  cleanups.push(() => containerd.stop());
  const sandboxConfig = { name: `${lab.prefix}-${name}`, namespace: lab.prefix, uid: randomUUID(), attempt: 0, hostname: name, logDirectory: join(containerd.paths.baseDir, "logs"), cgroupParent: containerd.cgroupParent };
  const sandboxId = await containerd.runtime.runSandbox(sandboxConfig);
  const container = { name: "sleeper", attempt: 0, image: "docker.io/flotilla/busybox:1", command: ["sleep", "600"], logPath: "sleeper.log" };
  const containerId = await containerd.runtime.createContainer(sandboxId, container, sandboxConfig);
  await containerd.runtime.startContainer(containerId);
  return { containerd, sandboxId, containerId };
}

function commandLinesMentioning(needles: readonly string[]): string[] {
  const lines = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        return ""; // Exited while we looked.
      }
    });
  return lines.filter((line) => needles.some((needle) => line.includes(needle)));
}

/** The cni-* network namespaces joined to `host` by a veth pair: that host's pods. */
function podNetworkNamespaces(hostNamespace: string): string[] {
  const peers = JSON.parse(execFileSync("ip", ["-n", hostNamespace, "-j", "netns", "list-id"], { encoding: "utf8" }) || "[]") as { name?: string }[];
  return peers.map((peer) => peer.name ?? "").filter((name) => name.startsWith("cni-"));
}

describe("containerd harness", () => {
  it("sets paths, CNI, sandbox image and restrict_oom_score_adj in containerd's own default config", () => {
    const paths = containerdPaths("/tmp/fl-ctd-example");
    const toml = containerdConfig(execFileSync("containerd", ["config", "default"], { encoding: "utf8" }), paths);
    expect(toml).toMatch(/^root = "\/tmp\/fl-ctd-example\/root"$/m);
    expect(toml).toMatch(/^state = "\/tmp\/fl-ctd-example\/state"$/m);
    expect(toml).toMatch(/^\s+address = "\/tmp\/fl-ctd-example\/containerd.sock"$/m);
    expect(toml).toMatch(/^\s+restrict_oom_score_adj = true$/m);
    expect(toml).toMatch(/^\s+sandbox_image = "docker.io\/flotilla\/pause:1"$/m);
    expect(toml).toMatch(/^\s+bin_dir = "\/usr\/lib\/cni"$/m);
    expect(toml).toMatch(/^\s+conf_dir = "\/tmp\/fl-ctd-example\/cni\/net.d"$/m);
    expect(toml).toMatch(/^\s+Root = "\/tmp\/fl-ctd-example\/runc"$/m);
    expect(toml).not.toContain("/var/lib/containerd");
  });

  it("setTomlKey refuses a key its section does not have", () => {
    expect(() => setTomlKey("[a]\n  x = 1\n[b]\n  y = 2\n", "a", "y", "3")).toThrow(/no key y in \[a\]/);
    expect(setTomlKey("[a]\n  x = 1\n", "a", "x", "2")).toBe("[a]\n  x = 2\n");
  });

  it("stop() leaves no shim, container, mount, cgroup, CNI cache entry or directory of a host with a running pod", async () => {
    const { containerd, sandboxId, containerId } = await startHostWithPod("clean");
    const cgroupDirs = [`/sys/fs/cgroup/memory${containerd.cgroupParent}`, `/sys/fs/cgroup${containerd.cgroupParent}`];
    expect(cgroupDirs.some((dir) => existsSync(dir))).toBe(true);

    await containerd.stop();
    const baseDir = containerd.paths.baseDir;
    expect(existsSync(baseDir)).toBe(false);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(baseDir);
    expect(commandLinesMentioning([baseDir, containerId, sandboxId])).toEqual([]);
    expect(cgroupDirs.filter((dir) => existsSync(dir))).toEqual([]);
    const cniCache = existsSync("/var/lib/cni/results") ? readdirSync("/var/lib/cni/results") : [];
    expect(cniCache.filter((entry) => entry.startsWith(containerd.networkName))).toEqual([]);
  });

  it("stop() after containerd was killed still removes the pod's network namespace, containers and shims", async () => {
    const { containerd, sandboxId, containerId } = await startHostWithPod("crash");
    const podNamespaces = podNetworkNamespaces(containerd.host.namespace);
    expect(podNamespaces.length).toBe(1);

    await containerd.kill();
    await containerd.stop();
    expect(existsSync(`/var/run/netns/${podNamespaces[0]}`)).toBe(false);
    expect(commandLinesMentioning([containerd.paths.baseDir, containerId, sandboxId])).toEqual([]);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(containerd.paths.baseDir);
    expect(existsSync(containerd.paths.baseDir)).toBe(false);
  });
});
