/**
 * The scheduler inside three real `flotilla server` replicas joined into one cluster (the first
 * with --cluster-init, the others with --join and a server token); each runs the scheduler under
 * the kube-system/kube-scheduler Lease (controllers off, so only the scheduler acts). The test
 * creates Node objects itself (Ready, allocatable), then checks that pods are bound without
 * overcommitting any node, that an unschedulable pod gets PodScheduled=False and a
 * FailedScheduling event in upstream's words, that a cluster change makes it schedulable, and
 * that killing (SIGKILL) the replica holding the Lease hands scheduling to another one. The test's
 * client lists all three API servers and fails over itself when the killed one stops answering.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, isStatusError, parseQuantity, type Event, type Lease, type Node, type Pod } from "../../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig } from "../../../libs/client/index.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const startTimeoutMs = 90_000;
const settleTimeoutMs = 30_000;
/** Lease duration 15 s after the last renewal, two jittered retries, slack for a busy machine. */
const failoverTimeoutMs = 30_000;

const pods = findResource("", "v1", "pods")!;
const nodes = findResource("", "v1", "nodes")!;
const events = findResource("", "v1", "events")!;
const leases = findResource("coordination.k8s.io", "v1", "leases")!;

const nodeCount = 5;
const nodeCpuMilli = 2_000;
const podCount = 50;
const podCpuMilli = 300;
/** 6 pods of 300m fit in 2 cpu: 30 of the 50 are bound and 20 wait. */
const fittingPods = nodeCount * Math.floor(nodeCpuMilli / podCpuMilli);

const insufficientCpuMessage = `0/${nodeCount} nodes are available: ${nodeCount} Insufficient cpu. preemption: 0/${nodeCount} nodes are available: ${nodeCount} No preemption victims found for incoming pod.`;
const selectorMessage = `0/${nodeCount} nodes are available: ${nodeCount} node(s) didn't match Pod's node affinity/selector. preemption: 0/${nodeCount} nodes are available: ${nodeCount} Preemption is not helpful for scheduling.`;

function node(name: string): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    status: {
      allocatable: { cpu: `${nodeCpuMilli}m`, memory: "4Gi", pods: "110" },
      capacity: { cpu: `${nodeCpuMilli}m`, memory: "4Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

function pod(name: string, cpuMilli: number, nodeSelector?: Record<string, string>): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      containers: [{ name: "app", image: "busybox", resources: { requests: { cpu: `${cpuMilli}m` } } }],
      ...(nodeSelector === undefined ? {} : { nodeSelector }),
    },
  };
}

function scheduledCondition(object: Pod | undefined) {
  return object?.status?.conditions?.find((condition) => condition.type === "PodScheduled");
}

describe("the scheduler in flotilla server", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-scheduler-"));
  const replicaNames = ["s1", "s2", "s3"] as const;
  const daemons = new Map<string, Daemon>();
  let client: HttpApiClient;

  async function listPods(): Promise<Pod[]> {
    return (await client.list<Pod>(pods, "default")).items;
  }

  function logTail(name: string): string {
    return existsSync(join(workDir, `${name}.log`)) ? readFileSync(join(workDir, `${name}.log`), "utf8").slice(-3000) : "";
  }

  async function serving(apiUrl: string, kubeconfig: string, name: string): Promise<HttpApiClient> {
    return waitFor(
      async () => {
        if (!existsSync(kubeconfig)) return undefined;
        const candidate = new HttpApiClient(optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")));
        const probe = new HttpApiClient({ ...optionsFromKubeconfig(readFileSync(kubeconfig, "utf8")), servers: [apiUrl] });
        try {
          await probe.list(pods, "default", { limit: 1 });
          return candidate;
        } finally {
          probe.close();
        }
      },
      { timeoutMs: startTimeoutMs, description: `replica ${name} to serve` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${logTail(name)}`);
    });
  }

  beforeAll(async () => {
    const ports = await freePorts(4 * replicaNames.length);
    const apiUrls = replicaNames.map((_, index) => `https://127.0.0.1:${ports[index * 4]}`);
    const firstDir = join(workDir, "s1");
    for (const [index, name] of replicaNames.entries()) {
      const [api, storeClient, storePeer, nodeApi] = ports.slice(index * 4, index * 4 + 4);
      const common = ["server", `--name=${name}`, "--disable-controllers", `--data-dir=${join(workDir, name)}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApi}`];
      let extra = ["--cluster-init"];
      if (index > 0) {
        const token = await run(flotillaBin, ["token", "create", `--data-dir=${firstDir}`, "--kind=server"], { timeoutMs: 30_000 });
        if (token.code !== 0) throw new Error(`token create: ${token.stderr}`);
        extra = [`--join=${apiUrls[0] ?? ""}`, `--token=${token.stdout.trim()}`];
      }
      daemons.set(name, new Daemon(flotillaBin, [...common, ...extra], join(workDir, `${name}.log`)));
      const started = await serving(apiUrls[index] ?? "", join(workDir, name, "admin.kubeconfig"), name);
      started.close();
    }
    // One client for the whole test that knows every replica, as a kubeconfig with three servers would.
    const admin = optionsFromKubeconfig(readFileSync(join(firstDir, "admin.kubeconfig"), "utf8"));
    client = new HttpApiClient({ ...admin, servers: apiUrls });
    await waitFor(async () => ((await client.get<Lease>(leases, "kube-system", "kube-scheduler")).spec?.holderIdentity ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "a scheduler to hold the kube-scheduler Lease",
    });
    for (let index = 0; index < nodeCount; index++) await client.create(nodes, node(`node-${index}`));
  }, 3 * startTimeoutMs);

  afterAll(async () => {
    client?.close();
    for (const name of [...replicaNames].reverse()) await daemons.get(name)?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("binds 50 pods created at once without overcommitting any node and marks the rest unschedulable in upstream's words", async () => {
    await Promise.all(Array.from({ length: podCount }, async (_, index) => client.create(pods, pod(`load-${index}`, podCpuMilli))));
    const settled = await waitFor(
      async () => {
        const all = (await listPods()).filter((item) => item.metadata.name?.startsWith("load-"));
        const bound = all.filter((item) => item.spec?.nodeName !== undefined);
        const waiting = all.filter((item) => scheduledCondition(item)?.status === "False");
        return bound.length + waiting.length === podCount ? { bound, waiting } : undefined;
      },
      { timeoutMs: settleTimeoutMs, description: "every pod bound or marked unschedulable" },
    );
    expect(settled.bound.length).toBe(fittingPods);
    const cpuByNode = new Map<string, number>();
    for (const item of settled.bound) {
      const requested = parseQuantity(item.spec?.containers[0]?.resources?.requests?.["cpu"] ?? "0").milliValue();
      cpuByNode.set(item.spec?.nodeName ?? "", (cpuByNode.get(item.spec?.nodeName ?? "") ?? 0) + requested);
    }
    expect([...cpuByNode.values()].every((milli) => milli <= nodeCpuMilli)).toBe(true);
    for (const item of settled.waiting) expect(scheduledCondition(item)).toMatchObject({ reason: "Unschedulable", message: insufficientCpuMessage });
  });

  it("gives a pod no node matches PodScheduled=False and a FailedScheduling event, then binds it once a node is labelled", async () => {
    await client.create(pods, pod("picky", 0, { disk: "ssd" }));
    const condition = await waitFor(async () => scheduledCondition(await client.get<Pod>(pods, "default", "picky")), { timeoutMs: settleTimeoutMs, description: "picky's PodScheduled condition" });
    expect(condition).toMatchObject({ status: "False", reason: "Unschedulable", message: selectorMessage });
    const event = await waitFor(
      async () => (await client.list<Event>(events, "default")).items.find((item) => item.involvedObject.name === "picky" && item.reason === "FailedScheduling"),
      { timeoutMs: settleTimeoutMs, description: "a FailedScheduling event for picky" },
    );
    expect(event).toMatchObject({ type: "Warning", message: selectorMessage, source: { component: "default-scheduler" } });
    await client.patch(nodes, undefined, "node-3", "merge", { metadata: { labels: { disk: "ssd" } } });
    const bound = await waitFor(async () => (await client.get<Pod>(pods, "default", "picky")).spec?.nodeName, { timeoutMs: settleTimeoutMs, description: "picky to be bound" });
    expect(bound).toBe("node-3");
  });

  it("hands scheduling to another replica when the leading one is killed", async () => {
    const before = await client.get<Lease>(leases, "kube-system", "kube-scheduler");
    const holder = before.spec?.holderIdentity ?? "";
    const leaderName = holder.split("_")[1] ?? "";
    expect(replicaNames).toContain(leaderName);
    await daemons.get(leaderName)?.kill();
    // The killed replica may have led the store's Raft group too: writes time out until a new
    // store leader is elected, so the create is retried (a retry after a write that did land
    // meets AlreadyExists).
    await waitFor(
      async () =>
        client.create(pods, pod("after-failover", 100)).then(
          () => true,
          (error: unknown) => (isStatusError(error, "AlreadyExists") ? true : Promise.reject(error as Error)),
        ),
      { timeoutMs: failoverTimeoutMs, intervalMs: 500, description: "the surviving replicas to accept a pod" },
    );
    const boundTo = await waitFor(async () => (await client.get<Pod>(pods, "default", "after-failover")).spec?.nodeName, {
      timeoutMs: failoverTimeoutMs,
      intervalMs: 250,
      description: `another replica than ${leaderName} to take the Lease and bind a new pod`,
    });
    expect(boundTo).toMatch(/^node-\d$/);
    const after = await client.get<Lease>(leases, "kube-system", "kube-scheduler");
    const newLeader = after.spec?.holderIdentity?.split("_")[1];
    expect(replicaNames.filter((name) => name !== leaderName)).toContain(newLeader);
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
  }, 60_000);
});
