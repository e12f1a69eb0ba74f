/**
 * `flotilla server --cluster-init`: one process with a store member and the API server writes
 * D/admin.kubeconfig when it is ready, serves kubectl, and keeps its objects across a restart
 * (without --cluster-init). Without --cluster-init on an empty directory it refuses to start.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const commandTimeoutMs = 30_000;
const startTimeoutMs = 60_000;

describe("flotilla server (one replica)", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-server-"));
  const dataDir = join(workDir, "d");
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  let daemon: Daemon | undefined;

  afterAll(async () => {
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function kubectl(...args: string[]) {
    return run("/usr/bin/kubectl", ["--kubeconfig", kubeconfig, ...args], { timeoutMs: commandTimeoutMs });
  }

  async function start(flags: readonly string[], ports: readonly number[]): Promise<Daemon> {
    const [api, client, peer] = ports;
    const started = new Daemon(flotillaBin, ["server", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${client}`, `--store-peer-port=${peer}`, ...flags], join(workDir, "server.log"));
    await waitFor(async () => (existsSync(kubeconfig) && (await kubectl("get", "--raw", "/readyz")).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "flotilla server to write admin.kubeconfig and answer /readyz",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    return started;
  }

  it("refuses to start on an empty data directory without --cluster-init", async () => {
    const result = await run(flotillaBin, ["server", `--data-dir=${dataDir}`], { timeoutMs: commandTimeoutMs });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--cluster-init");
  });

  it("serves kubectl after --cluster-init and keeps its objects across a restart", async () => {
    const ports = await freePorts(3);
    daemon = await start(["--cluster-init"], ports);
    expect((await kubectl("create", "namespace", "kept")).stdout).toContain("namespace/kept created");
    await daemon.stop();
    daemon = await start([], ports);
    expect((await kubectl("get", "namespace", "kept", "-o", "name")).stdout).toBe("namespace/kept\n");
  });
});
