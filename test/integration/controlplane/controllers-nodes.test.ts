/**
 * Node failure inside a real `flotilla server`: two nodes run by a fake kubelet; one stops
 * renewing its Lease (a dead machine). After the 40 s node monitor grace period it goes NotReady
 * (Unknown) with the unreachable taints, and its pods, which tolerate unreachable for 1 s, are
 * evicted and replaced on the live node. One server per file; this file takes about 50 s because
 * the server's grace period is upstream's default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Node, Pod } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";
import { ControlPlaneServer, isRunningAndReady } from "../../harness/controlplane-server.ts";
import { run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const convergeTimeoutMs = 30_000;
/** The grace period (40 s) plus a monitor period (5 s), eviction after 1 s, and slack. */
const nodeFailureTimeoutMs = 70_000;
const nodes = findResource("", "v1", "nodes")!;
const kubectlTimeoutMs = 30_000;

const isReady = isRunningAndReady;

describe("node lifecycle in flotilla server", () => {
  let server: ControlPlaneServer;
  let client: HttpApiClient;
  const kubectl = (...args: string[]): Promise<string> => server.kubectl(...args);
  const waitReady = (selector: string, count: number, description: string): Promise<Pod[]> => server.waitReady(selector, count, description, convergeTimeoutMs);

  beforeAll(async () => {
    server = await ControlPlaneServer.start("controllers-nodes");
    client = server.client;
  });

  afterAll(async () => {
    await server?.stop();
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
    const applied = await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const before = await waitReady("app=web", 4, "4 ready web pods");
    const onA = before.filter((pod) => pod.spec?.nodeName === "node-a").map((pod) => pod.metadata.name);
    expect(onA.length).toBeGreaterThan(0);
    server.kubelet.stopNode("node-a");
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
        const matching = await server.podsWith("app=web");
        const ready = matching.filter((pod) => isReady(pod) && pod.spec?.nodeName === "node-b");
        return ready.length === 4 && matching.length === 4 ? matching : undefined;
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 200, description: "4 ready web pods on node-b" },
    );
    expect(after.some((pod) => onA.includes(pod.metadata.name))).toBe(false);
    expect(await kubectl("get", "node", "node-a")).toMatch(/node-a\s+NotReady/);
  });
});
