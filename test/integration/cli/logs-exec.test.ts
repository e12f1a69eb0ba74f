/**
 * `flotilla logs` and `flotilla exec` through a real `flotilla server` (node API on) and the test
 * agent (test/harness/test-agent.ts), which serves every container's log from a file and runs
 * exec commands on this machine: the CLI's output must match kubectl's for the same requests.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caHashOf, createToken, formatJoinToken } from "../../../libs/pki/index.ts";
import { bootstrapTokenSecret } from "../../../services/nodeapi/index.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { TestAgent } from "../../harness/test-agent.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 45_000;
const nodeName = "cli-node";

describe("flotilla logs and exec through the node API", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-cli-streams-"));
  const dataDir = join(workDir, "server");
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  const environment = { ...process.env, KUBECONFIG: kubeconfig };
  let server: Daemon | undefined;
  let agent: TestAgent | undefined;

  async function flotilla(args: readonly string[], input?: string): Promise<RunResult> {
    const [verb = "", ...rest] = args;
    return run(flotillaBin, [verb, "-n", "apps", ...rest], { timeoutMs: commandTimeoutMs, env: environment, ...(input === undefined ? {} : { input }) });
  }
  async function kubectl(args: readonly string[], input?: string): Promise<RunResult> {
    return run(kubectlBin, ["-n", "apps", ...args], { timeoutMs: commandTimeoutMs, env: environment, ...(input === undefined ? {} : { input }) });
  }

  beforeAll(async () => {
    const [api, storeClient, storePeer, nodeApi] = await freePorts(4);
    const flags = ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApi}`];
    server = new Daemon(flotillaBin, flags, join(workDir, "server.log"));
    await waitFor(async () => (existsSync(kubeconfig) && (await run(kubectlBin, ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], { timeoutMs: commandTimeoutMs })).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "flotilla server to answer /readyz",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    const token = createToken({ usages: ["join"], nowMs: Date.now(), ttlMs: 3_600_000 });
    const manifests = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
      bootstrapTokenSecret(token.record.id, token.record.secretSha256Hex, token.record.expiresAtMs),
    ];
    const applied = await run(kubectlBin, ["apply", "-f", "-"], { timeoutMs: commandTimeoutMs, env: environment, input: manifests.map((object) => stringify(object)).join("---\n") });
    if (applied.code !== 0) throw new Error(applied.stderr);
    writeFileSync(join(workDir, "pod.log"), "line one\nline two\nline three\n");
    const joinToken = formatJoinToken({ caHashHex: caHashOf(readFileSync(join(dataDir, "ca.crt"), "utf8")), ...token.credential });
    agent = await TestAgent.start({ server: `127.0.0.1:${nodeApi}`, token: joinToken, nodeName, dataDir: join(workDir, "agent"), logFile: join(workDir, "pod.log") });
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "shell", namespace: "apps", labels: { app: "shell" } }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1" }] } };
    const created = await run(kubectlBin, ["apply", "-f", "-"], { timeoutMs: commandTimeoutMs, env: environment, input: stringify(pod) });
    if (created.code !== 0) throw new Error(created.stderr);
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("prints a pod's log with --tail as kubectl does", async () => {
    const ours = await flotilla(["logs", "shell", "--tail=2"]);
    expect(ours.stderr).toBe("");
    expect(ours.stdout).toBe("line two\nline three\n");
    expect(ours.stdout).toBe((await kubectl(["logs", "shell", "--tail=2"])).stdout);
  });

  it("runs exec -i with stdin, separating stdout and stderr and returning the exit code", async () => {
    const ours = await flotilla(["exec", "-i", "shell", "--", "sh", "-c", "cat; echo oops >&2; exit 3"], "hello through the node API\n");
    expect([ours.code, ours.stdout, ours.stderr]).toEqual([3, "hello through the node API\n", "oops\n"]);
    const theirs = await kubectl(["exec", "-i", "shell", "--", "sh", "-c", "cat; echo oops >&2; exit 3"], "hello through the node API\n");
    expect([theirs.code, theirs.stdout]).toEqual([3, "hello through the node API\n"]);
    const succeeded = await flotilla(["exec", "pod/shell", "--", "echo", "fine"]);
    expect([succeeded.code, succeeded.stdout]).toEqual([0, "fine\n"]);
  });

  it("answers NotFound for a pod that does not exist", async () => {
    const missing = await flotilla(["logs", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
  });
});
