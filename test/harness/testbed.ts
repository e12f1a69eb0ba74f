/**
 * One `scripts/testbed` cluster for an end-to-end file: brought up under a name unique to the run,
 * its hosts read from the testbed's state file, and kubectl and nsenter pointed at it.
 */
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const testbedScript = join(repoRoot, "scripts/testbed");
const stateDir = "/var/lib/flotilla-testbed";
const upTimeoutMs = 400_000;
const downTimeoutMs = 180_000;
const kubectlTimeoutMs = 60_000;
const inHostTimeoutMs = 30_000;

export interface TestbedHost {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly role: string;
  readonly containerd?: { readonly pidFile: string };
}

export interface TestbedShape {
  readonly servers: number;
  readonly agents: number;
  /** More `scripts/testbed up` arguments, e.g. `--server-flags=...`. */
  readonly extraArgs?: readonly string[];
}

export class TestbedCluster {
  readonly name: string;
  #kubeconfig = "";

  /** `prefix` is one letter per test file, so that a left-over testbed names its file. */
  constructor(prefix: string) {
    this.name = `${prefix}${randomInt(0, 36 ** 4).toString(36).padStart(4, "0")}`;
  }

  get kubeconfig(): string {
    return this.#kubeconfig;
  }

  /** Starts it and waits for every node Ready (scripts/testbed does); its last line names the kubeconfig. */
  async up(shape: TestbedShape): Promise<void> {
    const argv = ["up", "--servers", String(shape.servers), "--agents", String(shape.agents), "--name", this.name, ...(shape.extraArgs ?? [])];
    const { stdout } = await execFileAsync(testbedScript, argv, { encoding: "utf8", timeout: upTimeoutMs });
    this.#kubeconfig = (stdout.trim().split("\n").pop() ?? "").replace(/^KUBECONFIG=/, "");
  }

  /** Removes all it made; a testbed that never came up is not an error here. */
  async down(): Promise<void> {
    await execFileAsync(testbedScript, ["down", "--name", this.name], { timeout: downTimeoutMs }).catch(() => undefined);
  }

  hosts(): TestbedHost[] {
    return (JSON.parse(readFileSync(join(stateDir, this.name, "state.json"), "utf8")) as { hosts: TestbedHost[] }).hosts;
  }

  /** Where the testbed keeps a host's files (pid files, logs, data). */
  hostDir(host: TestbedHost): string {
    return join(stateDir, this.name, host.name);
  }

  agents(): TestbedHost[] {
    return this.hosts().filter((host) => host.role === "agent");
  }

  async kubectl(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync("kubectl", ["--kubeconfig", this.#kubeconfig, ...args], { encoding: "utf8", timeout: kubectlTimeoutMs });
    return stdout;
  }

  /** kubectl with `input` on stdin; its exit code instead of a throw, for tests of exit codes. */
  async kubectlIn(input: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve) => {
      const child = execFile("kubectl", ["--kubeconfig", this.#kubeconfig, ...args], { encoding: "utf8", timeout: kubectlTimeoutMs }, (error, stdout) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout });
      });
      child.stdin?.end(input);
    });
  }

  /** A command run in a host's network namespace. */
  async inHost(host: TestbedHost, ...argv: string[]): Promise<string> {
    const { stdout } = await execFileAsync("nsenter", [`--net=/var/run/netns/${host.namespace}`, ...argv], { encoding: "utf8", timeout: inHostTimeoutMs });
    return stdout;
  }
}
