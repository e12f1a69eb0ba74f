/**
 * Static pods against a real `flotilla server`: an agent (`--runtime fake`, the real run()) with
 * --pod-manifest-path runs the manifest's pod and the node API makes its mirror pod, which shows
 * the pod's status; removing the file removes both; a node may not replace a pod that is not its
 * mirror.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAgentFlags } from "../../../services/agent/config.ts";
import { run as runAgent } from "../../../services/agent/main.ts";
import { joinOrLoad, NodeClient } from "../../../services/agent/nodeclient/index.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";
import { createLogger } from "../../../libs/log/index.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const commandTimeoutMs = 30_000;
const startTimeoutMs = 45_000;
const mirrorTimeoutMs = 30_000;
const nodeName = "static-node";

let workDir = "";
let kubeconfig = "";
let nodeApi = "";
let token = "";
let daemon: Daemon | undefined;
const agentStop = new AbortController();
let agentDone: Promise<void> | undefined;

async function kubectl(...args: string[]): Promise<RunResult> {
  return run("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeoutMs: commandTimeoutMs });
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "flotilla-static-"));
  const dataDir = join(workDir, "server");
  kubeconfig = join(dataDir, "admin.kubeconfig");
  const [api, storeClient, storePeer, nodeApiPort] = await freePorts(4);
  nodeApi = `127.0.0.1:${nodeApiPort ?? 0}`;
  const flags = ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApiPort}`];
  daemon = new Daemon(flotillaBin, flags, join(workDir, "server.log"));
  await waitFor(async () => (existsSync(kubeconfig) && (await kubectl("get", "--raw", "/readyz")).stdout === "ok" ? true : undefined), { timeoutMs: startTimeoutMs, description: "flotilla server ready" });
  const created = await run(flotillaBin, ["token", "create", `--data-dir=${dataDir}`, "--kind=agent"], { timeoutMs: commandTimeoutMs });
  token = created.stdout.trim().split("\n").at(-1) ?? "";
}, 60_000);

afterAll(async () => {
  agentStop.abort();
  await agentDone?.catch(() => undefined);
  await daemon?.stop();
  rmSync(workDir, { recursive: true, force: true });
}, 30_000);

const manifest = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: default, labels: { tier: static } }
spec:
  containers: [{ name: main, image: flotilla/busybox:1, imagePullPolicy: IfNotPresent, command: ["sleep", "3600"] }]
`;

interface MirrorView {
  metadata: { annotations?: Record<string, string> };
  spec: { nodeName?: string };
  status?: { phase?: string };
}

describe("static pods and their mirror pods", () => {
  it("runs a manifest's pod and shows it as a mirror pod with its status; removing the file removes it", async () => {
    const manifests = join(workDir, "manifests");
    mkdirSync(manifests);
    writeFileSync(join(manifests, "web.yaml"), manifest);
    const parsed = parseAgentFlags(["--server", nodeApi, "--token", token, "--node-name", nodeName, "--node-ip", "10.9.9.9", "--data-dir", join(workDir, "agent"), "--runtime", "fake", "--pod-manifest-path", manifests]);
    if (!("config" in parsed)) throw new Error("agent flags");
    agentDone = runAgent(parsed.config, agentStop.signal);
    const mirror = await waitFor(
      async () => {
        const got = await kubectl("get", "pod", `web-${nodeName}`, "-o", "json");
        const view = got.code === 0 ? (JSON.parse(got.stdout) as MirrorView) : undefined;
        return view?.status?.phase === "Running" ? view : undefined;
      },
      { timeoutMs: mirrorTimeoutMs, description: "the mirror pod Running" },
    );
    expect(mirror.spec.nodeName).toBe(nodeName);
    expect(mirror.metadata.annotations?.["kubernetes.io/config.mirror"]).toMatch(/^[0-9a-f]{32}$/);
    unlinkSync(join(manifests, "web.yaml"));
    await waitFor(async () => ((await kubectl("get", "pod", `web-${nodeName}`)).code !== 0 ? true : undefined), { timeoutMs: mirrorTimeoutMs, description: "the mirror pod gone" });
  });

  it("refuses to replace a pod that is not this node's mirror", async () => {
    const bare = { apiVersion: "v1", kind: "Pod", metadata: { name: "plain", namespace: "default" }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1" }] } };
    const created = await run("kubectl", ["--kubeconfig", kubeconfig, "create", "-f", "-"], { timeoutMs: commandTimeoutMs, input: JSON.stringify(bare) });
    expect(created.code).toBe(0);
    const client = new NodeClient(await joinOrLoad({ server: nodeApi, token, nodeName, dataDir: join(workDir, "agent") }), createLogger("test", { level: "silent" }));
    try {
      const impostor = { ...bare, metadata: { ...bare.metadata, annotations: { "kubernetes.io/config.mirror": "abc" } } };
      await expect(client.syncMirrorPod(impostor, false)).rejects.toThrow(/is not a mirror pod/);
      await expect(client.syncMirrorPod(impostor, true)).rejects.toThrow(/is not a mirror pod/);
      expect((await kubectl("get", "pod", "plain")).code).toBe(0);
    } finally {
      client.close();
    }
  });
});
