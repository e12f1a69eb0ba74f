/**
 * pods/attach through a real `flotilla server` (node API on) and the test agent
 * (test/harness/test-agent.ts), whose containers' process is `cat` as attach sees it: kubectl
 * attach -i over WebSocket v5 sends stdin, closes it (v5's close signal), and gets the output and
 * a clean exit; the container parameter is checked as for exec.
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

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 45_000;
const nodeName = "attach-node";

describe("kubectl attach through the node API", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-attach-"));
  const dataDir = join(workDir, "server");
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  const environment = { ...process.env, KUBECONFIG: kubeconfig };
  let server: Daemon | undefined;
  let agent: TestAgent | undefined;

  async function kubectl(args: readonly string[], input?: string, extraEnvironment: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return run(kubectlBin, ["-n", "apps", ...args], { timeoutMs: commandTimeoutMs, env: { ...environment, ...extraEnvironment }, ...(input === undefined ? {} : { input }) });
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
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "echo", namespace: "apps" }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1", stdin: true, stdinOnce: true }] } };
    const manifests = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
      bootstrapTokenSecret(token.record.id, token.record.secretSha256Hex, token.record.expiresAtMs),
      pod,
    ];
    const applied = await run(kubectlBin, ["apply", "-f", "-"], { timeoutMs: commandTimeoutMs, env: environment, input: manifests.map((object) => stringify(object)).join("---\n") });
    if (applied.code !== 0) throw new Error(applied.stderr);
    writeFileSync(join(workDir, "pod.log"), "");
    const joinToken = formatJoinToken({ caHashHex: caHashOf(readFileSync(join(dataDir, "ca.crt"), "utf8")), ...token.credential });
    agent = await TestAgent.start({ server: `127.0.0.1:${nodeApi}`, token: joinToken, nodeName, dataDir: join(workDir, "agent"), logFile: join(workDir, "pod.log") });
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("kubectl attach -i sends stdin to the container's process, gets its output, and exits 0 once stdin is closed", async () => {
    // The agent's stream may still be connecting: retry until the session opens.
    const attached = await waitFor(
      async () => {
        const result = await kubectl(["attach", "-i", "echo"], "hello through attach\nsecond line\n");
        return result.code === 0 ? result : undefined;
      },
      { timeoutMs: commandTimeoutMs, description: "kubectl attach -i to succeed" },
    );
    expect(attached.stdout).toBe("hello through attach\nsecond line\n");
    expect(attached.stderr).toBe("If you don't see a command prompt, try pressing enter.\n");
  });

  it("kubectl attach -c with an unknown container is refused before any session opens", async () => {
    const refused = await kubectl(["attach", "-i", "echo", "-c", "nope"], "x\n");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("nope");
  });

  it("a plain attach request without a WebSocket upgrade gets upstream's 400", async () => {
    const plain = await kubectl(["get", "--raw", "/api/v1/namespaces/apps/pods/echo/attach?stdout=true"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("Upgrade request required");
  });
});
