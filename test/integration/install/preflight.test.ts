/**
 * scripts/preflight.sh against made-up machines: each broken condition fails with its fix named,
 * a healthy machine passes. The script reads /proc, /sys, /etc and /boot through overridable
 * roots, and iptables/modprobe through overridable commands, so nothing on this machine changes.
 */
import { execFile, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../../scripts/preflight.sh", import.meta.url));
const roots: string[] = [];

interface Machine {
  cgroupV2Controllers?: string;
  swaps?: string;
  machineId?: string;
  hostname?: string;
  piModel?: boolean;
  vxlanModule?: boolean;
  iptablesVersion?: string;
}

/** A fake machine's files; defaults are a healthy amd64 box. */
function machine(spec: Machine = {}): { env: NodeJS.ProcessEnv; root: string } {
  const root = mkdtempSync(join(tmpdir(), "flotilla-preflight-"));
  roots.push(root);
  const file = (path: string, text: string): void => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  file("sys/fs/cgroup/cgroup.controllers", `${spec.cgroupV2Controllers ?? "cpuset cpu io memory pids"}\n`);
  file("proc/swaps", `Filename\tType\tSize\tUsed\tPriority\n${spec.swaps ?? ""}`);
  file("proc/cpuinfo", spec.piModel === true ? "Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n" : "model name\t: Some CPU\n");
  file("etc/machine-id", `${spec.machineId ?? "0123456789abcdef0123456789abcdef"}\n`);
  file("etc/hostname", `${spec.hostname ?? "node-a"}\n`);
  file("boot/firmware/cmdline.txt", "console=serial0 root=PARTUUID=1 rootwait\n");
  if (spec.vxlanModule !== false) mkdirSync(join(root, "sys/module/vxlan"), { recursive: true });
  file("bin/iptables", `#!/bin/sh\necho '${spec.iptablesVersion ?? "iptables v1.8.9 (nf_tables)"}'\n`);
  file("bin/modprobe", "#!/bin/sh\nexit 1\n");
  chmodSync(join(root, "bin/iptables"), 0o755);
  chmodSync(join(root, "bin/modprobe"), 0o755);
  const env = {
    ...process.env,
    FLOTILLA_PROC_ROOT: join(root, "proc"),
    FLOTILLA_SYS_ROOT: join(root, "sys"),
    FLOTILLA_ETC_ROOT: join(root, "etc"),
    FLOTILLA_BOOT_ROOT: join(root, "boot"),
    FLOTILLA_IPTABLES: join(root, "bin/iptables"),
    FLOTILLA_MODPROBE: join(root, "bin/modprobe"),
  };
  return { env, root };
}

function preflight(spec: Machine, ...args: string[]): { code: number | null; output: string } {
  const { env } = machine(spec);
  const result = spawnSync(script, ["--role", "agent", ...args], { env, encoding: "utf8" });
  return { code: result.status, output: result.stdout + result.stderr };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("scripts/preflight.sh", () => {
  it("passes a healthy machine", () => {
    const result = preflight({});
    expect(result.output).toContain("preflight: all checks passed");
    expect(result.code).toBe(0);
  });

  it("names the Raspberry Pi cmdline fix when the memory cgroup is off", () => {
    const result = preflight({ cgroupV2Controllers: "cpuset cpu io pids", piModel: true });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/FAIL\s+memory cgroup is disabled \(Raspberry Pi/);
    expect(result.output).toMatch(/cgroup_enable=memory cgroup_memory=1.*\/boot\/firmware\/cmdline\.txt/);
  });

  it("fails without the vxlan module, naming how to get it", () => {
    const result = preflight({ vxlanModule: false });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/FAIL\s+the vxlan kernel module is missing/);
    expect(result.output).toContain("modprobe vxlan");
  });

  it("fails on the iptables legacy backend", () => {
    const result = preflight({ iptablesVersion: "iptables v1.8.7 (legacy)" });
    expect(result.code).toBe(1);
    expect(result.output).toContain("update-alternatives --set iptables /usr/sbin/iptables-nft");
  });

  it("fails when swap is on, with the Pi's dphys-swapfile fix on a Pi", () => {
    const generic = preflight({ swaps: "/swapfile\tfile\t1048572\t0\t-2\n" });
    expect(generic.code).toBe(1);
    expect(generic.output).toContain("swapoff -a");
    const pi = preflight({ swaps: "/var/swap\tfile\t102396\t0\t-2\n", piModel: true });
    expect(pi.output).toContain("dphys-swapfile swapoff");
  });

  it("fails on a malformed machine id and warns on an image-default hostname", () => {
    const result = preflight({ machineId: "uninitialized", hostname: "raspberrypi" });
    expect(result.code).toBe(1);
    expect(result.output).toContain("systemd-machine-id-setup");
    expect(result.output).toMatch(/warn\s+hostname 'raspberrypi' is an image default/);
  });

  it("fails a server whose disk syncs too slowly for the store", () => {
    const { env, root } = machine({});
    // A limit no disk can meet (0 ms per synced write) stands in for a slow SD card.
    const result = spawnSync(script, ["--role", "server", "--data-dir", join(root, "data")], { env: { ...env, FLOTILLA_FSYNC_MEAN_MS_MAX: "-1" }, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+disk under .* ms per synced write/);
    expect(result.stdout).toContain("SSD");
  });

  it("fails when the clock is far from the server's", async () => {
    const skewMs = 60_000;
    const server = createServer((_request, response) => {
      response.setHeader("Date", new Date(Date.now() - skewMs).toUTCString());
      response.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { env } = machine({});
    // Asynchronous: the server answers from this process's event loop.
    const outcome = await promisify(execFile)(script, ["--role", "agent", "--server", url], { env, encoding: "utf8" }).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    server.close();
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/FAIL\s+clock is (59|60|61) s away/);
    expect(outcome.stdout).toContain("timedatectl set-ntp true");
  });

  it("rejects an unknown flag by name", () => {
    const result = preflight({}, "--bogus");
    expect(result.code).toBe(2);
    expect(result.output).toContain("unknown flag --bogus");
  });
});
