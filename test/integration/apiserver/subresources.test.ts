/**
 * pods/binding and pods/eviction through `flotilla apiserver` (one store member), driven with
 * `kubectl create --raw` as the scheduler and `kubectl drain` would send them: a binding sets the
 * node once and a second one is a 409; an eviction is refused with 429 while the pod's disruption
 * budget allows no disruption, and goes through (counted in the budget) once it allows one.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { StoreCluster } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const commandTimeoutMs = 30_000;
const startTimeoutMs = 60_000;

function pod(name: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { containers: [{ name: "c", image: "busybox" }] } });
}

describe("pods/binding and pods/eviction", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-subresources-"));
  const kubeconfig = join(workDir, "d", "admin.kubeconfig");
  let cluster: StoreCluster;
  let apiServer: Daemon | undefined;

  async function kubectl(...args: string[]): Promise<RunResult> {
    return run("/usr/bin/kubectl", ["--kubeconfig", kubeconfig, ...args], { timeoutMs: commandTimeoutMs });
  }
  async function kubectlOk(...args: string[]): Promise<string> {
    const result = await kubectl(...args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }
  function file(name: string, text: string): string {
    const path = join(workDir, name);
    writeFileSync(path, text);
    return path;
  }
  async function evict(name: string): Promise<RunResult> {
    const eviction = JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } });
    return kubectl("create", "--raw", `/api/v1/namespaces/default/pods/${name}/eviction`, "-f", file(`evict-${name}.json`, eviction));
  }
  async function running(name: string): Promise<void> {
    await kubectlOk("patch", "pod", name, "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Running"}}');
  }
  async function budgetStatus(allowed: number): Promise<void> {
    const status = { status: { observedGeneration: 1, disruptionsAllowed: allowed, desiredHealthy: 1, currentHealthy: 1 + allowed, expectedPods: 1 + allowed } };
    await kubectlOk("patch", "pdb", "web", "--subresource=status", "--type=merge", "-p", JSON.stringify(status));
  }

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation: "flotilla", size: 1 });
    const port = await freePort();
    apiServer = new Daemon(flotillaBin, ["apiserver", `--store-endpoints=${cluster.members[0]?.clientUrl ?? ""}`, "--listen-address=127.0.0.1", `--port=${port}`, `--data-dir=${join(workDir, "d")}`], join(workDir, "apiserver.log"));
    await waitFor(async () => (existsSync(kubeconfig) && (await kubectl("get", "--raw", "/readyz")).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "the API server to answer /readyz",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "apiserver.log"), "utf8").slice(-4000)}`);
    });
  }, startTimeoutMs + 30_000);

  afterAll(async () => {
    await apiServer?.stop();
    await cluster?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("binds a pod to a node once and refuses a second binding with 409", async () => {
    await kubectlOk("create", "-f", file("p1.json", pod("p1")));
    const binding = JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "p1" }, target: { apiVersion: "v1", kind: "Node", name: "n1" } });
    await kubectlOk("create", "--raw", "/api/v1/namespaces/default/pods/p1/binding", "-f", file("binding.json", binding));
    expect(await kubectlOk("get", "pod", "p1", "-o", "jsonpath={.spec.nodeName} {.status.conditions[?(@.type==\"PodScheduled\")].status}")).toBe("n1 True");
    const again = await kubectl("create", "--raw", "/api/v1/namespaces/default/pods/p1/binding", "-f", file("binding2.json", binding.replace('"n1"', '"n2"')));
    expect(again.stderr).toContain('Operation cannot be fulfilled on pods/binding "p1": pod p1 is already assigned to node "n1"');
    expect(await kubectlOk("get", "pod", "p1", "-o", "jsonpath={.spec.nodeName}")).toBe("n1");
  });

  it("evicts a pod without a disruption budget at once", async () => {
    await kubectlOk("create", "-f", file("free.json", pod("free", { app: "free" })));
    await running("free");
    expect((await evict("free")).code).toBe(0);
    expect((await kubectl("get", "pod", "free")).stderr).toContain('pods "free" not found');
  });

  it("refuses an eviction the disruption budget does not allow with 429, and counts an allowed one in the budget", async () => {
    await kubectlOk("create", "-f", file("web-1.json", pod("web-1", { app: "web" })));
    await running("web-1");
    const budget = { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } } };
    await kubectlOk("create", "-f", file("pdb.json", JSON.stringify(budget)));
    const unprocessed = await evict("web-1");
    expect(unprocessed.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    await budgetStatus(0);
    const refused = await evict("web-1");
    expect(refused.stderr).toContain("Error from server (TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget.");
    expect(await kubectlOk("get", "pod", "web-1", "-o", "name")).toBe("pod/web-1\n");
    await budgetStatus(1);
    expect((await evict("web-1")).code).toBe(0);
    expect((await kubectl("get", "pod", "web-1")).stderr).toContain('pods "web-1" not found');
    expect(await kubectlOk("get", "pdb", "web", "-o", "jsonpath={.status.disruptionsAllowed} {.status.disruptedPods}")).toMatch(/^0 \{"web-1":"[^"]+"\}$/);
  });
});
