/**
 * scripts/install.sh and scripts/uninstall.sh on this machine in `--no-systemd` mode (the mode
 * the testbed's hosts use; systemd is not PID 1 here): a first server replica comes up and
 * answers kubectl, a second run is harmless, and uninstall stops it and removes its data.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { freePorts } from "../../harness/ports.ts";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const dataDir = join(mkdtempSync(join(tmpdir(), "flotilla-install-")), "data");
const execFileAsync = promisify(execFile);

async function install(ports: number[]): Promise<string> {
  const [api, client, peer, nodeApi] = ports.map(String);
  const args = ["--cluster-init", "--no-systemd", "--skip-preflight", "--prefix", repoRoot, "--data-dir", dataDir, "--", "--api-port", api ?? "", "--store-client-port", client ?? "", "--store-peer-port", peer ?? "", "--node-api-port", nodeApi ?? ""];
  const { stdout } = await execFileAsync(join(repoRoot, "scripts/install.sh"), args, { encoding: "utf8", timeout: 150_000 });
  return stdout;
}

afterAll(() => {
  const pidFile = join(dataDir, "flotilla-server.pid");
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // Already stopped by the uninstall test.
    }
  }
  rmSync(join(dataDir, ".."), { recursive: true, force: true });
});

describe("scripts/install.sh --no-systemd", () => {
  let ports: number[] = [];

  it("installs a first server replica that kubectl can use", async () => {
    ports = await freePorts(4);
    const output = await install(ports);
    expect(output).toContain(`ready: KUBECONFIG=${dataDir}/admin.kubeconfig`);
    const namespaces = execFileSync("kubectl", ["--kubeconfig", join(dataDir, "admin.kubeconfig"), "get", "namespaces", "-o", "name"], { encoding: "utf8" });
    expect(namespaces).toContain("namespace/default");
  }, 180_000);

  it("is safe to run twice: the running replica is kept", async () => {
    const pidBefore = readFileSync(join(dataDir, "flotilla-server.pid"), "utf8");
    const output = await install(ports);
    expect(output).toContain("already running");
    expect(readFileSync(join(dataDir, "flotilla-server.pid"), "utf8")).toBe(pidBefore);
  }, 180_000);

  it("uninstalls: the process stops and the data directory is gone", async () => {
    const pid = Number(readFileSync(join(dataDir, "flotilla-server.pid"), "utf8"));
    const { stdout } = await execFileAsync(join(repoRoot, "scripts/uninstall.sh"), ["--prefix", repoRoot, "--data-dir", dataDir], { encoding: "utf8", timeout: 60_000 });
    expect(stdout).toContain("stopped flotilla server");
    expect(existsSync(dataDir)).toBe(false);
    // Gone, or a zombie nobody reaps (its parent, install.sh, has exited; PID 1 here may not reap).
    expect(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] === "Z").toBe(true);
  }, 90_000);

  it("refuses contradictory roles with a message naming the flags", async () => {
    const outcome = await execFileAsync(join(repoRoot, "scripts/install.sh"), ["--server", "https://10.0.0.1:6443", "--cluster-init", "--token", "x"], { encoding: "utf8" }).catch((error: { stderr: string }) => error);
    expect("stderr" in outcome ? outcome.stderr : "").toContain("--server (agent) cannot be combined with --cluster-init or --join (server)");
  });
});
