/**
 * patch, wait, cordon, uncordon and drain of the flotilla CLI against a real `flotilla server`
 * (test/harness/controlplane-server.ts, two nodes whose pods a fake kubelet marks Running), with
 * the installed kubectl side by side: the same command on the same state must print the same.
 * The drain is first refused by a PodDisruptionBudget whose status the server's disruption
 * controller keeps, and finishes once the Deployment is scaled up and the budget allows.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource } from "../../../libs/api/index.ts";
import type { ConfigMap, Deployment, Node, Pod, PodDisruptionBudget } from "../../../libs/api/index.ts";
import { ControlPlaneServer } from "../../harness/controlplane-server.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const commandTimeoutMs = 30_000;
const rolloutTimeoutMs = 40_000;
const drainTimeoutMs = 40_000;
const configMaps = findResource("", "v1", "configmaps")!;
const deployments = findResource("apps", "v1", "deployments")!;
const nodes = findResource("", "v1", "nodes")!;
const budgets = findResource("policy", "v1", "poddisruptionbudgets")!;

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "flotilla/busybox:1", command: ["sleep", "3600"] }] } },
  },
} as Deployment;

describe("patch, wait, cordon, uncordon and drain against flotilla server", () => {
  let server: ControlPlaneServer;
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-cli-nodes-"));
  let drainer: Daemon | undefined;

  async function flotilla(...args: string[]): Promise<RunResult> {
    return run(flotillaBin, [...args, `--kubeconfig=${server.kubeconfig}`], { timeoutMs: commandTimeoutMs });
  }
  async function kubectl(...args: string[]): Promise<RunResult> {
    return run("kubectl", [...args, `--kubeconfig=${server.kubeconfig}`], { timeoutMs: commandTimeoutMs });
  }

  beforeAll(async () => {
    server = await ControlPlaneServer.start("cli-nodes");
  });

  afterAll(async () => {
    await drainer?.stop();
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("cordons and uncordons as kubectl does", async () => {
    expect((await flotilla("cordon", "node-a")).stdout).toBe("node/node-a cordoned\n");
    expect((await server.client.get<Node>(nodes, undefined, "node-a")).spec?.unschedulable).toBe(true);
    const kubectlAgain = await kubectl("cordon", "node-a");
    expect(kubectlAgain.stdout).toBe("node/node-a already cordoned\n");
    expect((await flotilla("cordon", "node-a")).stdout).toBe(kubectlAgain.stdout);
    expect((await flotilla("uncordon", "node-a")).stdout).toBe("node/node-a uncordoned\n");
    expect((await flotilla("uncordon", "node-a")).stdout).toBe((await kubectl("uncordon", "node-a")).stdout);
    expect((await server.client.get<Node>(nodes, undefined, "node-a")).spec?.unschedulable ?? false).toBe(false);
  });

  it("patches with each --type and says (no change) as kubectl does", async () => {
    await server.client.create(configMaps, { metadata: { name: "settings", namespace: "default" }, data: { a: "1" } } as ConfigMap);
    expect((await flotilla("patch", "configmap", "settings", "-p", '{"data":{"b":"2"}}')).stdout).toBe("configmap/settings patched\n");
    // A patch that changes nothing is not saved even when the managedFields timestamp would move
    // to the next second (the server keeps the old times), so both print "(no change)".
    for (const command of [kubectl, flotilla]) {
      const before = (await server.client.get<ConfigMap>(configMaps, "default", "settings")).metadata.resourceVersion;
      const again = await command("patch", "cm/settings", "--type=merge", "-p", '{"data":{"b":"2"}}');
      const after = (await server.client.get<ConfigMap>(configMaps, "default", "settings")).metadata.resourceVersion;
      expect([again.stdout, after]).toEqual(["configmap/settings patched (no change)\n", before]);
    }
    expect((await flotilla("patch", "cm", "settings", "--type", "json", "-p", '[{"op":"remove","path":"/data/a"}]')).code).toBe(0);
    expect((await server.client.get<ConfigMap>(configMaps, "default", "settings")).data).toEqual({ b: "2" });
    const refused = await flotilla("patch", "cm", "missing", "-p", "{}");
    expect([refused.code, refused.stderr]).toEqual([1, (await kubectl("patch", "cm", "missing", "-p", "{}")).stderr]);
  });

  it("edits through $KUBE_EDITOR as kubectl does, and cancels an edit that changes nothing", async () => {
    async function editWith(command: "flotilla" | "kubectl", editor: string): Promise<RunResult> {
      const binary = command === "flotilla" ? flotillaBin : "kubectl";
      return run(binary, ["edit", "cm/settings", `--kubeconfig=${server.kubeconfig}`], { timeoutMs: commandTimeoutMs, env: { ...process.env, KUBE_EDITOR: editor } });
    }
    const ours = await editWith("flotilla", "sed -i -e 's/b: \"2\"/b: \"3\"/'");
    expect([ours.code, ours.stdout]).toEqual([0, "configmap/settings edited\n"]);
    expect((await server.client.get<ConfigMap>(configMaps, "default", "settings")).data).toEqual({ b: "3" });
    const theirs = await editWith("kubectl", "sed -i -e 's/b: \"3\"/b: \"4\"/'");
    expect(theirs.stdout).toBe(ours.stdout);
    const unchanged = await editWith("flotilla", "true");
    const kubectlUnchanged = await editWith("kubectl", "true");
    expect([unchanged.code, unchanged.stdout, unchanged.stderr]).toEqual([kubectlUnchanged.code, kubectlUnchanged.stdout, kubectlUnchanged.stderr]);
    expect(unchanged.stderr).toBe("Edit cancelled, no changes made.\n");
  });

  it("waits for a condition and a jsonpath value, and times out with kubectl's message", async () => {
    await server.client.create(deployments, deployment);
    const waited = await flotilla("wait", "--for=condition=Available", "deploy/web", `--timeout=${rolloutTimeoutMs / 1000}s`);
    expect(waited.stdout).toBe("deployment.apps/web condition met\n");
    expect(waited.stdout).toBe((await kubectl("wait", "--for=condition=Available", "deploy/web", "--timeout=5s")).stdout);
    await server.waitReady("app=web", 2, "the web pods", rolloutTimeoutMs);
    expect((await flotilla("wait", "--for=jsonpath={.status.readyReplicas}=2", "deployment/web")).stdout).toBe("deployment.apps/web condition met\n");
    const pods = await flotilla("wait", "--for=condition=Ready", "pods", "-l", "app=web");
    expect(pods.stdout).toBe((await kubectl("wait", "--for=condition=Ready", "pods", "-l", "app=web")).stdout);
    const missing = await flotilla("wait", "--for=condition=Ready", "pod/missing", "--timeout=1s");
    expect([missing.code, missing.stderr]).toEqual([1, (await kubectl("wait", "--for=condition=Ready", "pod/missing", "--timeout=1s")).stderr]);
    const late = await flotilla("wait", "--for=condition=Nonexistent", "deploy/web", "--timeout=1s");
    expect([late.code, late.stderr]).toEqual([1, (await kubectl("wait", "--for=condition=Nonexistent", "deploy/web", "--timeout=1s")).stderr]);
  });
  it("drains a node: refused by a PodDisruptionBudget, retried, done once the budget allows", async () => {
    const webPods = await server.podsWith("app=web");
    const nodeName = webPods[0]?.spec?.nodeName ?? "";
    const onNode = webPods.filter((pod) => pod.spec?.nodeName === nodeName).map((pod) => pod.metadata.name ?? "");
    const budget = await server.client.create<PodDisruptionBudget>(budgets, { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "default" }, spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } } });
    const budgetStatus = async () => (await server.client.get<PodDisruptionBudget>(budgets, "default", "web")).status;
    // The disruption controller observes the budget: 2 healthy of 2 expected, 2 needed, none to spare.
    const first = await waitFor(async () => {
      const status = await budgetStatus();
      return status !== undefined && status.observedGeneration === budget.metadata.generation && status.currentHealthy === 2 ? status : undefined;
    }, { timeoutMs: commandTimeoutMs, description: "the disruption controller to observe the budget" });
    expect(first).toMatchObject({ expectedPods: 2, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    const log = join(workDir, "drain.log");
    drainer = new Daemon(flotillaBin, ["drain", nodeName, "--ignore-daemonsets", `--timeout=${drainTimeoutMs / 1000}s`, `--kubeconfig=${server.kubeconfig}`], log);
    const logText = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
    await waitFor(() => (logText().includes("(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.") ? true : undefined), {
      timeoutMs: commandTimeoutMs,
      description: `drain to be refused by the budget; log: ${logText()}`,
    });
    expect(logText()).not.toContain("drained");
    expect((await budgetStatus())?.disruptionsAllowed).toBe(0);
    // A third replica lands on the other (uncordoned) node; once it is Ready the budget has one to spare.
    await server.client.patch(deployments, "default", "web", "merge", { spec: { replicas: 3 } });
    await waitFor(() => (drainer?.running === false ? true : undefined), { timeoutMs: drainTimeoutMs, description: `drain to finish; log: ${logText()}` });
    const lines = logText().split("\n");
    expect(lines).toContain(`node/${nodeName} cordoned`);
    for (const name of onNode) {
      expect(lines).toContain(`evicting pod default/${name}`);
      expect(lines).toContain(`pod/${name} evicted`);
    }
    expect(lines.at(-2)).toBe(`node/${nodeName} drained`);
    const left = (await server.podsWith("app=web")).filter((pod: Pod) => onNode.includes(pod.metadata.name ?? ""));
    expect(left).toEqual([]);
    // Every eviction was confirmed: the replacements are Ready and nothing waits in disruptedPods.
    const settled = await waitFor(async () => {
      const status = await budgetStatus();
      return status?.currentHealthy === 3 && status.disruptedPods === undefined ? status : undefined;
    }, { timeoutMs: rolloutTimeoutMs, description: "the budget to see 3 healthy pods again" });
    expect(settled).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    expect((await flotilla("uncordon", nodeName)).stdout).toBe(`node/${nodeName} uncordoned\n`);
  });

  it("refuses to drain a node with a pod that declares no controller, in kubectl's words", async () => {
    const pods = findResource("", "v1", "pods")!;
    await server.client.create<Pod>(pods, { metadata: { name: "lonely", namespace: "default" }, spec: { nodeName: "node-b", containers: [{ name: "c", image: "flotilla/busybox:1" }] } } as Pod);
    const ours = await flotilla("drain", "node-b", "--ignore-daemonsets");
    await flotilla("uncordon", "node-b");
    const theirs = await kubectl("drain", "node-b", "--ignore-daemonsets");
    await flotilla("uncordon", "node-b");
    expect([ours.code, ours.stdout, ours.stderr]).toEqual([theirs.code, theirs.stdout, theirs.stderr]);
    expect(ours.stderr).toContain("cannot delete Pods that declare no controller (use --force to override): default/lonely\n");
  });
});
