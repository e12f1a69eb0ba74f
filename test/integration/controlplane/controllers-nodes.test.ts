/**
 * Node failure inside a real `flotilla server`: two nodes run by a fake kubelet; one stops
 * renewing its Lease (a dead machine). After the 40 s node monitor grace period it goes NotReady
 * (Unknown) with the unreachable taints, and its pods, which tolerate unreachable for 1 s, are
 * evicted and replaced on the live node. One server per file; this file takes about 50 s because
 * the server's grace period is upstream's default.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Node, Pod } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import { FakeKubelet } from "../../harness/fake-kubelet.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const startTimeoutMs = 60_000;
const convergeTimeoutMs = 30_000;
/** The grace period (40 s) plus a monitor period (5 s), eviction after 1 s, and slack. */
const nodeFailureTimeoutMs = 70_000;
const nodes = findResource("", "v1", "nodes")!;
const kubectlTimeoutMs = 30_000;
const pods = findResource("", "v1", "pods")!;
const configMaps = findResource("", "v1", "configmaps")!;

function isReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" && (pod.status.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True");
}

describe("node lifecycle in flotilla server", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-controllers-nodes-"));
  const dataDir = join(workDir, "d");
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  let daemon: Daemon | undefined;
  let client: HttpApiClient;
  let kubelet: FakeKubelet | undefined;

  const serverLog = () => (existsSync(join(workDir, "server.log")) ? readFileSync(join(workDir, "server.log"), "utf8").slice(-6000) : "");

  async function kubectl(...args: string[]): Promise<string> {
    const result = await run("kubectl", [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: kubectlTimeoutMs });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${String(result.code)}: ${result.stderr}`);
    return result.stdout;
  }

  async function podsWith(selector: string): Promise<Pod[]> {
    return (await client.list<Pod>(pods, "default", { labelSelector: selector })).items.filter((pod) => (pod.metadata.deletionTimestamp ?? null) === null);
  }

  async function waitReady(selector: string, count: number, description: string): Promise<Pod[]> {
    return await waitFor(
      async () => {
        const matching = await podsWith(selector);
        return matching.length === count && matching.every(isReady) ? matching : undefined;
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 200, description },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- server log ---\n${serverLog()}`);
    });
  }

  beforeAll(async () => {
    const [api, storeClient, storePeer] = await freePorts(3);
    daemon = new Daemon(
      flotillaBin,
      ["server", "--cluster-init", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`],
      join(workDir, "server.log"),
    );
    client = await waitFor(
      async () => {
        if (!existsSync(kubeconfig)) return undefined;
        const candidate = new HttpApiClient(optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")));
        await candidate.list(configMaps, "default", { limit: 1 });
        return candidate;
      },
      { timeoutMs: startTimeoutMs, description: "flotilla server to serve the admin client" },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${serverLog()}`);
    });
    kubelet = new FakeKubelet(client);
    await kubelet.addNodes([{ name: "node-a" }, { name: "node-b" }]);
    kubelet.start();
  });

  afterAll(async () => {
    kubelet?.stop();
    client?.close();
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("a node that stops renewing its Lease goes NotReady and its pods are replaced on the other node", async () => {
    const manifest = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [{ name: "app", image: "nginx:1" }],
            tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 }],
          },
        },
      },
    };
    const applied = await run("kubectl", [`--kubeconfig=${kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const before = await waitReady("app=web", 4, "4 ready web pods");
    const onA = before.filter((pod) => pod.spec?.nodeName === "node-a").map((pod) => pod.metadata.name);
    expect(onA.length).toBeGreaterThan(0);
    kubelet!.stopNode("node-a");
    const dead = await waitFor(
      async () => {
        const node = await client.get<Node>(nodes, undefined, "node-a");
        const ready = node.status?.conditions?.find((condition) => condition.type === "Ready");
        // Conditions and taints are two writes: wait for both.
        return ready?.status === "Unknown" && (node.spec?.taints ?? []).length === 2 ? node : undefined;
      },
      { timeoutMs: nodeFailureTimeoutMs, intervalMs: 500, description: "node-a to go NotReady" },
    );
    expect(dead.spec?.taints?.map((taint) => `${taint.key}:${taint.effect}`).sort()).toEqual(["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]);
    const after = await waitFor(
      async () => {
        const matching = await podsWith("app=web");
        const ready = matching.filter((pod) => isReady(pod) && pod.spec?.nodeName === "node-b");
        return ready.length === 4 && matching.length === 4 ? matching : undefined;
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 200, description: "4 ready web pods on node-b" },
    );
    expect(after.some((pod) => onA.includes(pod.metadata.name))).toBe(false);
    expect(await kubectl("get", "node", "node-a")).toMatch(/node-a\s+NotReady/);
  });
});
