/**
 * The node API end to end: a `flotilla server` (real process) with its node API, a test agent
 * that joins with a token through the real node client, and the installed kubectl's logs, exec
 * and port-forward going through the API server to that agent over the node API.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildKubeconfig, caHashOf, createToken, formatJoinToken } from "../../../libs/pki/index.ts";
import type { KubeObject } from "../../../libs/api/index.ts";
import type { NodeStreamHandlers, NodeWatchEvent } from "../../../services/agent/control-plane.ts";
import { NodeClient, joinOrLoad } from "../../../services/agent/nodeclient/index.ts";
import { bootstrapTokenSecret } from "../../../services/nodeapi/index.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { NodeView, TestAgent } from "../../harness/test-agent.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 45_000;
const eventTimeoutMs = 15_000;
const nodeName = "test-node";

function pod(name: string, node: string, configMap: string, secret: string): object {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "apps" },
    spec: {
      nodeName: node,
      containers: [{ name: "main", image: "flotilla/busybox:1", env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: configMap, key: "greeting" } } }] }],
      volumes: [{ name: "creds", secret: { secretName: secret } }],
    },
  };
}

const configMap = (name: string): object => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "apps" }, data: { greeting: name } });
const secret = (name: string): object => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "apps" }, data: { key: Buffer.from(name).toString("base64") } });

describe.skipIf(!existsSync(kubectlBin))("node API: join, the node's stream, and kubectl logs/exec/port-forward through a test agent", () => {
  let workDir: string;
  let dataDir: string;
  let kubeconfig: string;
  let daemon: Daemon | undefined;
  let agent: TestAgent | undefined;
  let nodeApiPort = 0;
  let serverFlags: string[] = [];
  let goodToken = "";
  let caHashHex = "";

  async function kubectl(args: readonly string[], input?: string) {
    return run(kubectlBin, ["--kubeconfig", kubeconfig, ...args], { timeoutMs: commandTimeoutMs, ...(input === undefined ? {} : { input }) });
  }
  async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
    const result = await kubectl(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }
  async function applyObjects(objects: readonly object[]): Promise<void> {
    await kubectlOk(["apply", "-f", "-"], objects.map((object) => stringify(object)).join("---\n"));
  }
  function joinOptions(name: string, token: string, dir: string) {
    return { server: `127.0.0.1:${nodeApiPort}`, token, nodeName: name, dataDir: join(workDir, dir) };
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "flotilla-nodeapi-"));
    dataDir = join(workDir, "server");
    kubeconfig = join(dataDir, "admin.kubeconfig");
    const [api, storeClient, storePeer, nodeApi] = await freePorts(4);
    nodeApiPort = nodeApi ?? 0;
    serverFlags = ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApiPort}`];
    daemon = new Daemon(flotillaBin, serverFlags, join(workDir, "server.log"));
    await waitFor(async () => (existsSync(kubeconfig) && (await kubectl(["get", "--raw", "/readyz"])).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "flotilla server to answer /readyz",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    caHashHex = caHashOf(readFileSync(join(dataDir, "ca.crt"), "utf8"));
    const expired = createToken({ usages: ["join"], nowMs: Date.now() - 7_200_000, ttlMs: 3_600_000 });
    writeFileSync(join(workDir, "expired-token"), formatJoinToken({ caHashHex, ...expired.credential }));
    await applyObjects([
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
      bootstrapTokenSecret(expired.record.id, expired.record.secretSha256Hex, expired.record.expiresAtMs),
    ]);
  });

  it("takes the token `flotilla token create --kind agent` prints", async () => {
    const created = await run(flotillaBin, ["token", "create", `--data-dir=${dataDir}`, "--kind=agent", "--ttl-hours=1"], { timeoutMs: commandTimeoutMs });
    expect(created.code).toBe(0);
    goodToken = created.stdout.trim().split("\n").at(-1) ?? "";
    expect(goodToken.startsWith(`K10${caHashHex}::`)).toBe(true);
  });

  afterAll(async () => {
    await agent?.stop();
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses a wrong token and an expired one with a message that says so", async () => {
    const wrong = goodToken.replace(/\.[a-z0-9]{16}$/, ".0000000000000000");
    await expect(joinOrLoad(joinOptions("intruder", wrong, "intruder"))).rejects.toThrow(/join token refused: no such token/);
    const expired = readFileSync(join(workDir, "expired-token"), "utf8");
    await expect(joinOrLoad(joinOptions("late", expired, "late"))).rejects.toThrow(/join token refused: the token has expired/);
    const otherCluster = goodToken.replace(/^K10[0-9a-f]{64}/, `K10${"0".repeat(64)}`);
    await expect(joinOrLoad(joinOptions("lost", otherCluster, "lost"))).rejects.toThrow(/server CA does not match the join token/);
    expect(existsSync(join(workDir, "intruder", "node.crt"))).toBe(false);
  });

  it("joins with a good token: a node certificate in the data directory and a Node object", async () => {
    writeFileSync(join(workDir, "pod.log"), "line one\nline two\nline three\n");
    agent = await TestAgent.start({ ...joinOptions(nodeName, goodToken, "agent"), logFile: join(workDir, "pod.log") });
    expect(readFileSync(join(workDir, "agent", "node.crt"), "utf8")).toContain("BEGIN CERTIFICATE");
    const node = JSON.parse(await kubectlOk(["get", "node", nodeName, "-o", "json"])) as { metadata: { annotations: Record<string, string> } };
    expect(node.metadata.annotations["flotilla.io/node-key-sha256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses the same name to another machine (another key)", async () => {
    await expect(joinOrLoad(joinOptions(nodeName, goodToken, "impostor"))).rejects.toThrow(/held by another machine/);
  });

  it("streams only the node's pods and the configmaps and secrets they reference", async () => {
    await applyObjects([configMap("cm-mine"), configMap("cm-other"), secret("s-mine"), secret("s-other"), pod("mine", nodeName, "cm-mine", "s-mine"), pod("other", "elsewhere", "cm-other", "s-other")]);
    // Created last: once these arrive, anything of the others would have arrived before them.
    await applyObjects([configMap("cm-late"), secret("s-late"), pod("late", nodeName, "cm-late", "s-late")]);
    const view = agent?.view;
    if (view === undefined) throw new Error("no agent");
    await waitFor(() => (view.syncs > 0 && ["late", "mine"].every((name) => view.has("pods", `apps/${name}`)) && view.has("configmaps", "apps/cm-late") && view.has("secrets", "apps/s-late") ? true : undefined), {
      timeoutMs: eventTimeoutMs,
      description: "the node's pods, configmaps and secrets on its stream",
    });
    expect(view.has("configmaps", "apps/cm-mine")).toBe(true);
    expect(view.has("secrets", "apps/s-mine")).toBe(true);
    expect(view.everSeen("pods", "apps/other")).toBe(false);
    expect(view.everSeen("configmaps", "apps/cm-other")).toBe(false);
    expect(view.everSeen("secrets", "apps/s-other")).toBe(false);
    expect(view.has("nodes", `/${nodeName}`)).toBe(true);
  });

  it("streams no Node, EndpointSlice or Ingress to an agent that asks for no optional kind (a hollow node)", async () => {
    const client = new NodeClient(await joinOrLoad(joinOptions(nodeName, goodToken, "agent")));
    const view = new NodeView();
    const stop = new AbortController();
    const record = (kind: string) => (event: NodeWatchEvent<KubeObject>) => view.record(kind, event);
    const handlers: NodeStreamHandlers = {
      optionalKinds: [],
      onPod: record("pods"),
      onConfigMap: record("configmaps"),
      onSecret: record("secrets"),
      onService: record("services"),
      onEndpointSlice: record("endpointslices"),
      onNode: record("nodes"),
      onIngress: record("ingresses"),
      onIngressClass: record("ingressclasses"),
      onSynced: () => view.syncs++,
    };
    const watching = client.watchNode(handlers, stop.signal);
    try {
      await waitFor(() => (view.syncs > 0 ? true : undefined), { timeoutMs: eventTimeoutMs, description: "the filtered stream's first full state" });
      // The full state is complete at SYNCED: whatever is missing now was not sent.
      expect(view.has("pods", "apps/mine")).toBe(true);
      expect(view.has("configmaps", "apps/cm-mine")).toBe(true);
      expect(view.seen.get("nodes")).toBeUndefined();
      expect(view.seen.get("endpointslices")).toBeUndefined();
      expect(agent?.view.has("nodes", `/${nodeName}`)).toBe(true);
    } finally {
      stop.abort();
      await watching;
      client.close();
    }
  });

  it("puts reported status on the pod, and refuses status for a pod bound elsewhere", async () => {
    const client = agent?.client as NodeClient;
    const uid = (await kubectlOk(["get", "pod", "-n", "apps", "mine", "-o", "jsonpath={.metadata.uid}"])).trim();
    await client.reportPodStatus("apps", "mine", uid, { phase: "Running", podIP: "10.244.1.7" });
    expect(await kubectlOk(["get", "pod", "-n", "apps", "mine", "-o", "jsonpath={.status.phase} {.status.podIP}"])).toBe("Running 10.244.1.7");
    await expect(client.reportPodStatus("apps", "other", "", { phase: "Running" })).rejects.toThrow(/not bound to node test-node/);
    await client.renewLease();
    expect(await kubectlOk(["get", "lease", "-n", "kube-node-lease", nodeName, "-o", "jsonpath={.spec.holderIdentity}"])).toBe(nodeName);
  });

  it("serves kubectl logs --tail and -f through the API server", async () => {
    expect(await kubectlOk(["logs", "-n", "apps", "mine", "--tail=2"])).toBe("line two\nline three\n");
    const follower: ChildProcess = spawn(kubectlBin, ["--kubeconfig", kubeconfig, "logs", "-f", "-n", "apps", "mine", "--tail=1"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    follower.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    try {
      await waitFor(() => (output === "line three\n" ? true : undefined), { timeoutMs: eventTimeoutMs, description: "the tail of the log" });
      appendFileSync(join(workDir, "pod.log"), "line four\n");
      await waitFor(() => (output === "line three\nline four\n" ? true : undefined), { timeoutMs: eventTimeoutMs, description: "an appended line while following" });
    } finally {
      follower.kill("SIGKILL");
    }
  });

  it("runs kubectl exec -i with stdin and returns the command's exit code", async () => {
    const result = await kubectl(["exec", "-i", "-n", "apps", "mine", "--", "sh", "-c", "cat; echo oops >&2; exit 3"], "hello through the node API\n");
    expect(result.stdout).toBe("hello through the node API\n");
    expect(result.stderr).toContain("oops");
    expect(result.code).toBe(3);
  });

  it("refuses exec to a user the authorizer does not allow (the node's own certificate)", async () => {
    const credentials = await joinOrLoad(joinOptions(nodeName, "unused", "agent"));
    const serverUrl = `https://127.0.0.1:${serverFlags.find((flag) => flag.startsWith("--api-port="))?.split("=")[1] ?? ""}`;
    const nodeKubeconfig = join(workDir, "node.kubeconfig");
    const credentialsPem = { kind: "client-certificate" as const, certificatePem: credentials.certificatePem, privateKeyPem: credentials.privateKeyPem };
    writeFileSync(nodeKubeconfig, buildKubeconfig({ clusterName: "flotilla", serverUrl, caCertificatePem: credentials.caCertificatePem, userName: "node", credentials: credentialsPem }), { mode: 0o600 });
    const result = await run(kubectlBin, ["--kubeconfig", nodeKubeconfig, "exec", "-n", "apps", "mine", "--", "true"], { timeoutMs: commandTimeoutMs });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/forbidden|Forbidden/);
  });

  /** Runs kubectl port-forward (-v=8, so the log shows which transport it used) and sends a line through it. */
  async function forwardOnce(env: NodeJS.ProcessEnv): Promise<{ reply: string; log: string }> {
    const [localPort] = await freePorts(1);
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const podPort = (echo.address() as AddressInfo).port;
    const args = ["--kubeconfig", kubeconfig, "-v=8", "port-forward", "-n", "apps", "pod/mine", `${localPort}:${podPort}`];
    const forwarder = spawn(kubectlBin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let log = "";
    forwarder.stdout.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
    forwarder.stderr.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
    try {
      await waitFor(() => (log.includes("Forwarding from") ? true : undefined), { timeoutMs: eventTimeoutMs, description: "kubectl port-forward to listen" });
      const message = "ping through the node API";
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(localPort ?? 0, "127.0.0.1", () => socket.write(message));
        let received = "";
        socket.on("data", (chunk: Buffer) => {
          received += chunk.toString("utf8");
          if (received.length >= message.length) {
            socket.end();
            resolve(received);
          }
        });
        socket.on("error", reject);
      });
      return { reply, log };
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${log.slice(-6000)}`, { cause: error });
    } finally {
      forwarder.kill("SIGKILL");
      echo.close();
    }
  }

  it("forwards a port with kubectl port-forward: SPDY tunnelled in a WebSocket", async () => {
    const { reply, log } = await forwardOnce({});
    expect(reply).toBe("ping through the node API");
    expect(log).toContain("Sec-Websocket-Protocol: SPDY/3.1+portforward.k8s.io");
    expect(log.split("\n").filter((line) => line.includes("fallback to secondary dialer"))).toEqual([]);
  });

  it("forwards a port with kubectl port-forward: plain SPDY when kubectl's WebSockets are off", async () => {
    const { reply, log } = await forwardOnce({ KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" });
    expect(reply).toBe("ping through the node API");
    expect(log).not.toContain("SPDY/3.1+portforward.k8s.io");
  });

  it("reuses the saved credentials without a token, and resyncs after the server restarts", async () => {
    const saved = await joinOrLoad({ ...joinOptions(nodeName, "not-a-token-at-all", "agent") });
    expect(saved.replicas).toEqual([`127.0.0.1:${nodeApiPort}`]);
    const view = agent?.view;
    if (view === undefined || daemon === undefined) throw new Error("no agent or server");
    const syncsBefore = view.syncs;
    await daemon.stop();
    daemon = new Daemon(flotillaBin, serverFlags, join(workDir, "server.log"));
    await waitFor(async () => ((await kubectl(["get", "--raw", "/readyz"])).stdout === "ok" ? true : undefined), { timeoutMs: startTimeoutMs, description: "the restarted server" });
    await kubectlOk(["delete", "pod", "-n", "apps", "late", "--wait=false"]);
    await waitFor(() => (view.syncs > syncsBefore && !view.has("pods", "apps/late") && !view.has("configmaps", "apps/cm-late") ? true : undefined), {
      timeoutMs: 30_000,
      description: "the agent to reconnect, resync and drop the deleted pod and its configmap",
    });
    expect(view.has("pods", "apps/mine")).toBe(true);
    await agent?.client.renewLease();
  });
});
