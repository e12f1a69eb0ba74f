/**
 * Issue 6 (chaos scenario 6) against a real `flotilla server`: another writer (as the node
 * lifecycle controller does while a node is NotReady) sets a running pod's Ready condition to
 * False through the API; the agent (`--runtime fake`, the real run()) writes its own Ready=True
 * again within seconds, because the pod on its stream no longer carries the status it reported.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../libs/api/index.ts";
import { parseAgentFlags } from "../../../services/agent/config.ts";
import { run as runAgent } from "../../../services/agent/main.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const commandTimeoutMs = 30_000;
const startTimeoutMs = 45_000;
const podTimeoutMs = 30_000;
/** "within a few seconds": the stream delivers the changed pod at once, the write follows. */
const restoreTimeoutMs = 10_000;
const nodeName = "reassert-node";

let workDir = "";
let kubeconfig = "";
let daemon: Daemon | undefined;
const agentStop = new AbortController();
let agentDone: Promise<void> | undefined;

async function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeoutMs: commandTimeoutMs, ...(input === undefined ? {} : { input }) });
}

async function getPod(): Promise<Pod | undefined> {
  const got = await kubectl(["get", "pod", "web", "-o", "json"]);
  return got.code === 0 ? (JSON.parse(got.stdout) as Pod) : undefined;
}

function readyOf(pod: Pod | undefined): string | undefined {
  return pod?.status?.conditions?.find((condition) => condition.type === "Ready")?.status;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "flotilla-reassert-"));
  const dataDir = join(workDir, "server");
  kubeconfig = join(dataDir, "admin.kubeconfig");
  const [api, storeClient, storePeer, nodeApiPort] = await freePorts(4);
  // Controllers off: the test is the other writer, so nothing else touches the pod's status.
  const flags = ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApiPort}`];
  daemon = new Daemon(flotillaBin, flags, join(workDir, "server.log"));
  await waitFor(async () => (existsSync(kubeconfig) && (await kubectl(["get", "--raw", "/readyz"])).stdout === "ok" ? true : undefined), { timeoutMs: startTimeoutMs, description: "flotilla server ready" });
  const created = await run(flotillaBin, ["token", "create", `--data-dir=${dataDir}`, "--kind=agent"], { timeoutMs: commandTimeoutMs });
  const token = created.stdout.trim().split("\n").at(-1) ?? "";
  const parsed = parseAgentFlags(["--server", `127.0.0.1:${nodeApiPort ?? 0}`, "--token", token, "--node-name", nodeName, "--node-ip", "10.9.9.10", "--data-dir", join(workDir, "agent"), "--runtime", "fake"]);
  if (!("config" in parsed)) throw new Error("agent flags");
  agentDone = runAgent(parsed.config, agentStop.signal);
}, 60_000);

afterAll(async () => {
  agentStop.abort();
  await agentDone?.catch(() => undefined);
  await daemon?.stop();
  rmSync(workDir, { recursive: true, force: true });
}, 30_000);

describe("pod status reassertion", () => {
  it("a pod marked Ready=False through the API is set back to Ready=True by its agent", async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default" }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1", imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }] } };
    expect((await kubectl(["create", "-f", "-"], JSON.stringify(pod))).code).toBe(0);
    const running = await waitFor(async () => {
      const current = await getPod();
      return readyOf(current) === "True" ? current : undefined;
    }, { timeoutMs: podTimeoutMs, description: "the pod Ready" });
    // What the node lifecycle controller writes for a NotReady node's pods.
    const conditions = (running.status?.conditions ?? []).map((condition) => (condition.type === "Ready" ? { ...condition, status: "False" as const, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") } : condition));
    const marked = await kubectl(["replace", "--subresource=status", "-o", "json", "-f", "-"], JSON.stringify({ ...running, status: { ...running.status, conditions } }));
    expect(marked.code, marked.stderr).toBe(0);
    expect(readyOf(JSON.parse(marked.stdout) as Pod)).toBe("False");
    await waitFor(async () => (readyOf(await getPod()) === "True" ? true : undefined), { timeoutMs: restoreTimeoutMs, description: "the agent restoring Ready=True" });
  });
});
