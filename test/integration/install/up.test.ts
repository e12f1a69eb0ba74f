/**
 * scripts/up.sh (`make up`) on a small testbed (1 server, 1 agent, its own name and state
 * directory): the first run brings the cluster and the demo up; a second run finds it up, applies
 * the demo again, restarts nothing and prints the same instructions; a testbed that exists but
 * does not answer fails at step 1 naming the step and the clean-up command; `down` removes it.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "flotilla-up-"));
const name = "fupt";
const upTimeoutMs = 420_000;

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function upScript(command: "up" | "down", env: Record<string, string> = {}): Promise<RunResult> {
  const environment = { ...process.env, FLOTILLA_UP_NAME: name, FLOTILLA_UP_STATE_DIR: stateDir, FLOTILLA_UP_SERVERS: "1", FLOTILLA_UP_AGENTS: "1", ...env };
  return new Promise((resolve) => {
    execFile(join(repoRoot, "scripts/up.sh"), [command], { encoding: "utf8", env: environment, timeout: upTimeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

/** The instructions printed at the end, from the "Flotilla is running" line. */
function instructions(stdout: string): string {
  const start = stdout.indexOf("Flotilla is running");
  return start < 0 ? "" : stdout.slice(start);
}

function processIds(): string[] {
  return ["s1/flotilla-server.pid", "a1/flotilla-agent.pid"].map((file) => readFileSync(join(stateDir, name, file), "utf8").trim());
}

afterAll(async () => {
  await upScript("down");
  rmSync(stateDir, { recursive: true, force: true });
}, 240_000);

describe("scripts/up.sh", () => {
  let first: RunResult;

  it("fails at step 1 when the testbed exists but does not answer, naming the step and the clean-up", async () => {
    mkdirSync(join(stateDir, name), { recursive: true });
    writeFileSync(join(stateDir, name, "state.json"), "{}");
    const result = await upScript("up");
    rmSync(join(stateDir, name), { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("make up failed at step 1/4 (cluster: 1 control-plane replicas and 1 agent hosts (scripts/testbed)): testbed fupt exists");
    expect(result.stderr).toContain(`Clean up with: FLOTILLA_UP_NAME=${name} FLOTILLA_UP_STATE_DIR=${stateDir} ${repoRoot}scripts/up.sh down`);
  });

  it("brings up the cluster and the demo, and prints the curl that reaches it", async () => {
    first = await upScript("up");
    expect(first.stderr.slice(-2_000) + first.stdout.slice(-2_000)).toContain("Flotilla is running");
    expect(first.code).toBe(0);
    const curl = /curl (http:\/\/[0-9.]+:30080\/)/.exec(first.stdout)?.[1];
    expect(curl).toBeDefined();
    const page = await fetch(curl ?? "").then((response) => response.text());
    expect(page).toContain("Hello from Flotilla");
  }, upTimeoutMs);

  it("runs a second time safely: finds the cluster up, restarts nothing, prints the same instructions", async () => {
    const pidsBefore = processIds();
    const second = await upScript("up");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`testbed ${name} is already running`);
    expect(second.stdout).toMatch(/deployment\.apps\/hello (unchanged|configured)/);
    expect(instructions(second.stdout)).toBe(instructions(first.stdout));
    expect(processIds()).toEqual(pidsBefore);
  }, upTimeoutMs);

  it("down removes the testbed", async () => {
    const result = await upScript("down");
    expect(result.code).toBe(0);
    expect(existsSync(join(stateDir, name))).toBe(false);
  }, 240_000);
});
