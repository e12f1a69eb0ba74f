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

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

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

  it("stop() leaves no shim, container, mount, CNI cache entry or directory of a host with a running pod", async () => {
    const lab = NetworkLab.create(1);
    cleanups.push(() => lab.destroy());
    const imagesDir = mkdtempSync(join(tmpdir(), "fl-images-"));
    cleanups.push(() => rmSync(imagesDir, { recursive: true, force: true }));
    const host = lab.hosts[0];
    if (host === undefined) throw new Error("NetworkLab made no host");
    const containerd = await ContainerdHost.start({ lab, host, podSubnet: "10.244.77.0/24", images: await buildTestImages(imagesDir) });
    let stopped = false;
    cleanups.push(async () => (stopped ? undefined : containerd.stop()));

    const sandboxConfig = { name: `${lab.prefix}-left`, namespace: lab.prefix, uid: randomUUID(), attempt: 0, hostname: "left", logDirectory: join(containerd.paths.baseDir, "logs"), cgroupParent: containerd.cgroupParent };
    const sandboxId = await containerd.runtime.runSandbox(sandboxConfig);
    const containerId = await containerd.runtime.createContainer(sandboxId, { name: "sleeper", attempt: 0, image: "docker.io/flotilla/busybox:1", command: ["sleep", "600"], logPath: "sleeper.log" }, sandboxConfig);
    await containerd.runtime.startContainer(containerId);

    const cgroupDirs = [`/sys/fs/cgroup/memory${containerd.cgroupParent}`, `/sys/fs/cgroup${containerd.cgroupParent}`];
    expect(cgroupDirs.some((dir) => existsSync(dir))).toBe(true);

    await containerd.stop();
    stopped = true;
    const baseDir = containerd.paths.baseDir;
    expect(existsSync(baseDir)).toBe(false);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(baseDir);
    const commandLines = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        return "";
      }
    });
    expect(commandLines.filter((line) => line.includes(baseDir) || line.includes(containerId) || line.includes(sandboxId))).toEqual([]);
    expect(cgroupDirs.filter((dir) => existsSync(dir))).toEqual([]);
    const cniCache = existsSync("/var/lib/cni/results") ? readdirSync("/var/lib/cni/results") : [];
    expect(cniCache.filter((entry) => entry.startsWith(containerd.networkName))).toEqual([]);
  });
});
