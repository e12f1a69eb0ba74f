/**
 * The workload controllers inside a real `flotilla server` (controllers and scheduler on), with
 * two Node objects whose pods a fake kubelet marks Running and Ready, driven with the installed
 * kubectl as a user would: a Deployment scales up and down, a pod relabelled out of its
 * ReplicaSet survives and is replaced, a bare pod is adopted, a rolling update never drops below
 * the allowed availability, `kubectl rollout undo` restores the previous template, a StatefulSet
 * starts web-0, web-1, web-2 in order and keeps its PVCs across scale-down and scale-up, and a Job
 * reaches its completions, a CronJob fires on its schedule, a new namespace gets its default
 * ServiceAccount, a Service's Endpoints list its ready pods, and a DaemonSet lands only on
 * labelled nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { Deployment, Endpoints, Job, PersistentVolumeClaim, Pod, ReplicaSet } from "../../../libs/api/index.ts";
import type { HttpApiClient } from "../../../libs/client/index.ts";
import { ControlPlaneServer, isRunningAndReady } from "../../harness/controlplane-server.ts";
import { run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const convergeTimeoutMs = 30_000;
const kubectlTimeoutMs = 30_000;
const pods = findResource("", "v1", "pods")!;
const deployments = findResource("apps", "v1", "deployments")!;
const replicaSets = findResource("apps", "v1", "replicasets")!;
const claims = findResource("", "v1", "persistentvolumeclaims")!;
const jobs = findResource("batch", "v1", "jobs")!;
const namespaces = findResource("", "v1", "namespaces")!;
const serviceAccounts = findResource("", "v1", "serviceaccounts")!;
const endpoints = findResource("", "v1", "endpoints")!;

const isReady = isRunningAndReady;

describe("controllers in flotilla server", () => {
  let server: ControlPlaneServer;
  let client: HttpApiClient;
  const kubectl = (...args: string[]): Promise<string> => server.kubectl(...args);
  const waitReady = (selector: string, count: number, description: string): Promise<Pod[]> => server.waitReady(selector, count, description, convergeTimeoutMs);

  beforeAll(async () => {
    server = await ControlPlaneServer.start("controllers");
    client = server.client;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("a Deployment's pods come up, then scale up and down with kubectl scale", async () => {
    await kubectl("create", "deployment", "web", "--image=nginx:1", "--replicas=2");
    await waitReady("app=web", 2, "2 ready web pods");
    await kubectl("scale", "deployment/web", "--replicas=4");
    await waitReady("app=web", 4, "4 ready web pods after scaling up");
    await kubectl("scale", "deployment/web", "--replicas=3");
    await waitReady("app=web", 3, "3 ready web pods after scaling down");
    const deployment = await waitFor(
      async () => {
        const current = await client.get<Deployment>(deployments, "default", "web");
        return current.status?.availableReplicas === 3 && current.status.updatedReplicas === 3 ? current : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "deployment status to show 3 available" },
    );
    expect(deployment.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(await kubectl("rollout", "status", "deployment/web", "--timeout=20s")).toContain('deployment "web" successfully rolled out');
  });

  it("a pod relabelled out of its ReplicaSet keeps running and is replaced", async () => {
    const [sick] = await server.podsWith("app=web");
    await kubectl("label", "pod", sick!.metadata.name!, "app=debug", "--overwrite");
    await waitReady("app=web", 3, "a replacement for the relabelled pod");
    const released = await client.get<Pod>(pods, "default", sick!.metadata.name!);
    expect(released.metadata.ownerReferences ?? []).toEqual([]);
    expect(isReady(released)).toBe(true);
    await kubectl("delete", "pod", sick!.metadata.name!);
  });

  it("a ReplicaSet adopts a matching bare pod instead of creating one", async () => {
    await kubectl("run", "bare", "--image=nginx:1", "--labels=app=bare");
    await waitReady("app=bare", 1, "the bare pod running");
    const manifest = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "bare", namespace: "default" },
      spec: { replicas: 1, selector: { matchLabels: { app: "bare" } }, template: { metadata: { labels: { app: "bare" } }, spec: { containers: [{ name: "app", image: "nginx:1" }] } } },
    };
    await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    const rs = await waitFor(
      async () => {
        const current = await client.get<ReplicaSet>(replicaSets, "default", "bare");
        return current.status?.readyReplicas === 1 ? current : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "the ReplicaSet to count the adopted pod" },
    );
    const adopted = await client.get<Pod>(pods, "default", "bare");
    expect(adopted.metadata.ownerReferences?.[0]).toMatchObject({ kind: "ReplicaSet", name: "bare", uid: rs.metadata.uid, controller: true });
    expect(await server.podsWith("app=bare")).toHaveLength(1);
  });

  it("a rolling update keeps at least replicas - maxUnavailable pods ready, and rollout undo restores the template", async () => {
    let lowestReady = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        lowestReady = Math.min(lowestReady, (await server.podsWith("app=web")).filter(isReady).length);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await kubectl("set", "image", "deployment/web", "nginx=nginx:2");
    expect(await kubectl("rollout", "status", "deployment/web", "--timeout=30s")).toContain("successfully rolled out");
    watching = false;
    await watcher;
    // 3 replicas, maxUnavailable 25% rounds down to 0: never fewer than 3 ready.
    expect(lowestReady).toBe(3);
    const updated = await waitReady("app=web", 3, "3 ready pods of the new template");
    expect(updated.map((pod) => pod.spec?.containers[0]?.image)).toEqual(["nginx:2", "nginx:2", "nginx:2"]);
    await kubectl("rollout", "undo", "deployment/web");
    expect(await kubectl("rollout", "status", "deployment/web", "--timeout=30s")).toContain("successfully rolled out");
    const restored = await client.get<Deployment>(deployments, "default", "web");
    expect(restored.spec?.template.spec?.containers[0]?.image).toBe("nginx:1");
    expect(restored.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    const back = await waitReady("app=web", 3, "3 ready pods of the restored template");
    expect(back.map((pod) => pod.spec?.containers[0]?.image)).toEqual(["nginx:1", "nginx:1", "nginx:1"]);
  });

  it("kubectl delete rs --cascade=orphan leaves its pods, without owner", async () => {
    await kubectl("delete", "rs", "bare", "--cascade=orphan");
    await waitFor(async () => ((await client.list<ReplicaSet>(replicaSets, "default")).items.some((rs) => rs.metadata.name === "bare") ? undefined : true), {
      timeoutMs: convergeTimeoutMs,
      description: "the ReplicaSet to go",
    });
    const left = await waitFor(
      async () => {
        const current = await client.get<Pod>(pods, "default", "bare");
        return (current.metadata.ownerReferences ?? []).length === 0 ? current : undefined;
      },
      { timeoutMs: convergeTimeoutMs, description: "the orphaned pod to lose its owner reference" },
    );
    expect(isReady(left)).toBe(true);
  });
  it("a StatefulSet starts web-0, web-1, web-2 in order and keeps and reuses its PVCs", async () => {
    const manifest = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        replicas: 3,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "postgres:16" }] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    };
    const applied = await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const started = await waitReady("app=db", 3, "db-0, db-1, db-2 ready");
    // OrderedReady: each pod was created after its predecessor was ready.
    const createdAt = (name: string) => Date.parse(started.find((pod) => pod.metadata.name === name)!.metadata.creationTimestamp!);
    expect(started.map((pod) => pod.metadata.name).sort()).toEqual(["db-0", "db-1", "db-2"]);
    expect(createdAt("db-0")).toBeLessThanOrEqual(createdAt("db-1"));
    expect(createdAt("db-1")).toBeLessThanOrEqual(createdAt("db-2"));
    const claimUids = async () => new Map((await client.list<PersistentVolumeClaim>(claims, "default")).items.map((claim) => [claim.metadata.name, claim.metadata.uid]));
    const before = await claimUids();
    expect([...before.keys()].sort()).toEqual(["data-db-0", "data-db-1", "data-db-2"]);
    await kubectl("scale", "statefulset/db", "--replicas=1");
    await waitReady("app=db", 1, "db scaled down to db-0");
    expect(await claimUids()).toEqual(before);
    await kubectl("scale", "statefulset/db", "--replicas=3");
    const again = await waitReady("app=db", 3, "db scaled back up");
    expect(again.find((pod) => pod.metadata.name === "db-2")?.spec?.volumes?.find((volume) => volume.name === "data")?.persistentVolumeClaim?.claimName).toBe("data-db-2");
    expect(await claimUids()).toEqual(before);
  });

  it("a Job reaches its completions", async () => {
    const manifest = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "count", namespace: "default" },
      spec: { completions: 3, parallelism: 2, template: { spec: { restartPolicy: "Never", containers: [{ name: "count", image: "busybox:1.36", command: ["true"] }] } } },
    };
    const applied = await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const done = await waitFor(
      async () => {
        const job = await client.get<Job>(jobs, "default", "count");
        return (job.status?.conditions ?? []).some((condition) => condition.type === "Complete" && condition.status === "True") ? job : undefined;
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 200, description: "the Job to complete" },
    );
    expect(done.status?.succeeded).toBe(3);
    expect(await kubectl("wait", "--for=condition=complete", "job/count", "--timeout=10s")).toContain("condition met");
  });
  it("a CronJob fires on its schedule and its Job completes", async () => {
    const manifest = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick", namespace: "default" },
      spec: {
        schedule: "@every 5s",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "tick", image: "busybox:1.36", command: ["true"] }] } } } },
      },
    };
    const applied = await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const fired = await waitFor(
      async () => {
        const owned = (await client.list<Job>(jobs, "default")).items.filter((job) => job.metadata.ownerReferences?.[0]?.kind === "CronJob");
        return owned.find((job) => (job.status?.conditions ?? []).some((condition) => condition.type === "Complete" && condition.status === "True"));
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 250, description: "a Job of the CronJob to complete" },
    );
    expect(fired.metadata.name).toMatch(/^tick-\d+$/);
    expect(fired.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toBeDefined();
    await kubectl("patch", "cronjob", "tick", "--type=merge", "-p", JSON.stringify({ spec: { suspend: true } }));
  });

  it("a new namespace gets a default ServiceAccount", async () => {
    await kubectl("create", "namespace", "team-a");
    await waitFor(async () => await client.get(serviceAccounts, "team-a", "default"), { timeoutMs: convergeTimeoutMs, description: "team-a's default ServiceAccount" });
    await client.delete(namespaces, undefined, "team-a");
  });
  it("kubectl expose: the Service's Endpoints list the ready pods' IPs", async () => {
    await kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080");
    const ready = await waitReady("app=web", 3, "3 ready web pods");
    const expected = ready.map((pod) => pod.status?.podIP).sort();
    const listed = await waitFor(
      async () => {
        const current = await client.get<Endpoints>(endpoints, "default", "web");
        const ips = (current.subsets ?? []).flatMap((subset) => (subset.addresses ?? []).map((address) => address.ip)).sort();
        return JSON.stringify(ips) === JSON.stringify(expected) ? current : undefined;
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 200, description: "Endpoints with the 3 pod IPs" },
    );
    expect(listed.subsets?.[0]?.ports).toEqual([{ port: 8080, protocol: "TCP" }]);
  });

  it("a DaemonSet lands only on the labelled node", async () => {
    await kubectl("label", "node", "node-b", "disk=ssd");
    const manifest = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: { metadata: { labels: { app: "agent" } }, spec: { nodeSelector: { disk: "ssd" }, containers: [{ name: "agent", image: "busybox:1.36" }] } },
      },
    };
    const applied = await run("kubectl", [`--kubeconfig=${server.kubeconfig}`, "apply", "-f", "-"], { timeoutMs: kubectlTimeoutMs, input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const placed = await waitReady("app=agent", 1, "the daemon pod ready");
    expect(placed[0]?.spec?.nodeName).toBe("node-b");
    expect(await kubectl("rollout", "status", "daemonset/agent", "--timeout=20s")).toContain("successfully rolled out");
  });
});
