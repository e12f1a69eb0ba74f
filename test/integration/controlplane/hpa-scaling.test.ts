/**
 * The autoscaler end to end against a real `flotilla server`: node-a is run by the fake kubelet
 * (pods Running and Ready) and joined over the node API with a token, so its usage goes through
 * ReportUsage exactly as an agent's does (the agent's own NodeClient.reportUsage). High CPU
 * scales the Deployment up; low CPU scales it down once the HPA's short scale-down
 * stabilization window has passed; `kubectl top` prints the reported figures.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Deployment, HorizontalPodAutoscaler, Pod } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import type { NodeUsageSample } from "../../../services/apiserver/metrics/samples.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { joinOrLoad, NodeClient } from "../../../services/agent/nodeclient/index.ts";
import { FakeKubelet } from "../../harness/fake-kubelet.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const startTimeoutMs = 60_000;
const commandTimeoutMs = 30_000;
/** Two HPA syncs (15 s apart) and the controller lease, on a loaded machine. */
const scaleTimeoutMs = 50_000;
/** How often the test reports usage (an agent: every 15 s; faster here so samples are fresh). */
const reportIntervalMs = 1_000;
const nodeName = "node-a";
const deployments = findResource("apps", "v1", "deployments")!;
const pods = findResource("", "v1", "pods")!;
const autoscalers = findResource("autoscaling", "v2", "horizontalpodautoscalers")!;
const configMaps = findResource("", "v1", "configmaps")!;

function deployment(): Deployment {
  const labels = { app: "web" };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "flotilla/busybox:1", resources: { requests: { cpu: "100m" } } }] } },
    },
  };
}

function autoscaler(): HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "default" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 3 } },
    },
  };
}

describe.skipIf(!existsSync(kubectlBin))("HPA: usage reported over the node API scales a Deployment up and down; kubectl top shows it", () => {
  let workDir = "";
  let daemon: Daemon | undefined;
  let client: HttpApiClient | undefined;
  let kubelet: FakeKubelet | undefined;
  let nodeClient: NodeClient | undefined;
  let reporter: NodeJS.Timeout | undefined;
  /** CPU per pod the reporter claims, in millicores. */
  let podCpuMilli = 90;
  let kubeconfig = "";

  async function kubectl(...args: string[]): Promise<string> {
    const result = await run(kubectlBin, [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: commandTimeoutMs });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${String(result.code)}: ${result.stderr}`);
    return result.stdout;
  }

  async function flotilla(...args: string[]): Promise<string> {
    const result = await run(flotillaBin, [...args, `--kubeconfig=${kubeconfig}`], { timeoutMs: commandTimeoutMs });
    if (result.code !== 0) throw new Error(`flotilla ${args.join(" ")} exited ${String(result.code)}: ${result.stderr}`);
    return result.stdout;
  }

  function serverLog(): string {
    const path = join(workDir, "server.log");
    return existsSync(path) ? readFileSync(path, "utf8").slice(-6000) : "";
  }

  async function report(): Promise<void> {
    const listed = await client!.list<Pod>(pods, "default", { labelSelector: "app=web" });
    const nowMs = Date.now();
    const sample: NodeUsageSample = {
      nodeName,
      timestampMs: nowMs,
      windowSeconds: 1,
      cpuNanoCores: 1_500_000_000,
      memoryWorkingSetBytes: 2 * 1024 * 1024 * 1024,
      pods: listed.items
        .filter((pod) => pod.spec?.nodeName === nodeName)
        .map((pod) => ({ namespace: "default", name: pod.metadata.name ?? "", timestampMs: nowMs, windowSeconds: 1, containers: [{ name: "app", cpuNanoCores: podCpuMilli * 1_000_000, memoryWorkingSetBytes: 20 * 1024 * 1024 }] })),
    };
    await nodeClient!.reportUsage(sample);
  }

  async function specReplicas(): Promise<number | undefined> {
    return (await client!.get<Deployment>(deployments, "default", "web")).spec?.replicas;
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "flotilla-hpa-"));
    const dataDir = join(workDir, "d");
    kubeconfig = join(dataDir, "admin.kubeconfig");
    const [api, storeClient, storePeer, nodeApi] = await freePorts(4);
    const args = ["server", "--cluster-init", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApi}`];
    daemon = new Daemon(flotillaBin, args, join(workDir, "server.log"));
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
    await kubelet.addNodes([{ name: nodeName }]);
    kubelet.start();
    const created = await run(flotillaBin, ["token", "create", `--data-dir=${dataDir}`, "--kind=agent", "--ttl-hours=1"], { timeoutMs: commandTimeoutMs });
    const token = created.stdout.trim().split("\n").at(-1) ?? "";
    const credentials = await joinOrLoad({ server: `127.0.0.1:${String(nodeApi)}`, token, nodeName, dataDir: join(workDir, "agent") });
    nodeClient = new NodeClient(credentials, createLogger("nodeclient"));
    reporter = setInterval(() => void report().catch(() => undefined), reportIntervalMs);
  });

  afterAll(async () => {
    if (reporter !== undefined) clearInterval(reporter);
    nodeClient?.close();
    kubelet?.stop();
    client?.close();
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("scales up on high CPU, shows the figures in kubectl top, and scales down after the window", async () => {
    await client!.create(deployments, deployment());
    await waitFor(async () => {
      const listed = await client!.list<Pod>(pods, "default", { labelSelector: "app=web" });
      return listed.items.filter((pod) => pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True")).length === 2 ? true : undefined;
    }, { timeoutMs: startTimeoutMs, description: "2 ready pods of web" });
    // The metrics API answers once a sample taken after the pods were bound has arrived.
    await waitFor(async () => ((await kubectl("top", "pods", "-l", "app=web", "--no-headers")).trim().split("\n").length === 2 ? true : undefined), {
      timeoutMs: 15_000,
      description: "kubectl top pods to list both pods",
    });
    const top = await kubectl("top", "pods", "-l", "app=web");
    expect(top.trim().split("\n").map((line) => line.trim().split(/\s+/).slice(1).join(" "))).toEqual(["CPU(cores) MEMORY(bytes)", "90m 20Mi", "90m 20Mi"]);
    const topNodes = await kubectl("top", "nodes");
    expect(topNodes.trim().split("\n")[1]?.trim().split(/\s+/)).toEqual([nodeName, "1500m", "37%", "2048Mi", "25%"]);
    // flotilla top prints what kubectl top prints, byte for byte.
    expect(await flotilla("top", "pods", "-l", "app=web")).toBe(top);
    expect(await flotilla("top", "nodes")).toBe(topNodes);

    // 2 pods at 90 % of a 50 % target: ceil(2 * 1.8) = 4 (the max).
    await client!.create(autoscalers, autoscaler());
    await waitFor(async () => ((await specReplicas()) === 4 ? true : undefined), { timeoutMs: scaleTimeoutMs, description: "the HPA to scale web to 4" }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${serverLog()}`);
    });
    const scaledUp = await client!.get<HorizontalPodAutoscaler>(autoscalers, "default", "web");
    expect(scaledUp.status?.desiredReplicas).toBe(4);
    expect(scaledUp.status?.currentMetrics?.[0]?.resource?.current.averageUtilization).toBe(90);
    const events = await kubectl("get", "events", "--field-selector", "involvedObject.kind=HorizontalPodAutoscaler", "-o", "jsonpath={.items[*].reason}");
    expect(events.split(" ")).toContain("SuccessfulRescale");

    // 10 % of the request: ceil(4 * 0.2) = 1, once the 3 s window holds no higher recommendation.
    podCpuMilli = 10;
    await waitFor(async () => ((await specReplicas()) === 1 ? true : undefined), { timeoutMs: scaleTimeoutMs, description: "the HPA to scale web down to 1" }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${serverLog()}`);
    });
    const conditions = (await client!.get<HorizontalPodAutoscaler>(autoscalers, "default", "web")).status?.conditions?.map((condition) => condition.type);
    expect(conditions).toEqual(["AbleToScale", "ScalingActive", "ScalingLimited"]);
  });
});
