/**
 * The API server (`flotilla apiserver`, a real process) over a 1-member store, Flotilla's and
 * etcd 3.4 (STORE_IMPL picks), driven by the installed kubectl with the admin kubeconfig it wrote:
 * namespaces, a multi-document apply (default strict validation), wide/yaml/selector output,
 * labels, a bounded watch that sees a change, deletes, a stale resourceVersion, an oversized
 * body, and anonymous requests.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { StoreCluster, storeImplementations } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 30_000;
const watchTimeoutMs = 20_000;

const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web, tier: config}
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
`;

describe.each(storeImplementations())("kubectl against the API server over a 1-member %s store", (implementation) => {
  let cluster: StoreCluster;
  let apiServer: Daemon;
  let workDir: string;
  let kubeconfig: string;
  let serverUrl: string;

  async function kubectl(...args: string[]): Promise<RunResult> {
    return run(kubectlBin, ["--kubeconfig", kubeconfig, ...args], { timeoutMs: commandTimeoutMs });
  }
  async function kubectlOk(...args: string[]): Promise<string> {
    const result = await kubectl(...args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1 });
    workDir = mkdtempSync(join(tmpdir(), "flotilla-apiserver-"));
    const port = await freePort();
    serverUrl = `https://127.0.0.1:${port}`;
    const dataDir = join(workDir, "data");
    apiServer = new Daemon(flotillaBin, ["apiserver", `--store-endpoints=${cluster.members[0]?.clientUrl ?? ""}`, "--listen-address=127.0.0.1", `--port=${port}`, `--data-dir=${dataDir}`], join(workDir, "apiserver.log"));
    kubeconfig = join(dataDir, "admin.kubeconfig");
    await waitFor(async () => (existsSync(kubeconfig) && (await kubectl("get", "--raw", "/readyz")).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "the API server to write admin.kubeconfig and answer /readyz",
    }).catch((error: unknown) => {
      const log = existsSync(join(workDir, "apiserver.log")) ? readFileSync(join(workDir, "apiserver.log"), "utf8") : "";
      throw new Error(`${(error as Error).message}\n${log.slice(-4000)}`);
    });
  });

  afterAll(async () => {
    await apiServer?.stop();
    await cluster?.destroy();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses anonymous requests with 401 but answers health and version", async () => {
    const status = async (path: string) => (await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", `${serverUrl}${path}`], { timeoutMs: commandTimeoutMs })).stdout;
    expect(await status("/api/v1/namespaces")).toBe("401");
    expect(await status("/apis")).toBe("401");
    expect(await status("/healthz")).toBe("200");
    expect(await status("/version")).toBe("200");
  });

  it("creates a namespace and lists it", async () => {
    expect(await kubectlOk("get", "ns", "-o", "name")).toBe("namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n");
    expect(await kubectlOk("create", "namespace", "demo")).toContain("namespace/demo created");
    const table = await kubectlOk("get", "ns");
    expect(table).toMatch(/NAME\s+STATUS\s+AGE/);
    expect(table).toMatch(/demo\s+Active/);
    const duplicate = await kubectl("create", "namespace", "demo");
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stderr).toContain('namespaces "demo" already exists');
  });

  it("applies a multi-document manifest, then finds it unchanged on a second apply", async () => {
    const file = join(workDir, "app.yaml");
    writeFileSync(file, manifest);
    const first = await kubectlOk("apply", "-n", "demo", "-f", file);
    expect(first).toContain("configmap/web-config created");
    expect(first).toContain("deployment.apps/web created");
    expect(first).toContain("service/web created");
    const second = await kubectlOk("apply", "-n", "demo", "-f", file);
    expect(second).toContain("deployment.apps/web unchanged");
    writeFileSync(file, manifest.replace("replicas: 2", "replicas: 3"));
    expect(await kubectlOk("apply", "-n", "demo", "-f", file)).toContain("deployment.apps/web configured");
    expect(await kubectlOk("get", "-n", "demo", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation}")).toBe("3 2");
  });

  it("prints upstream's columns with -o wide, the objects with -o yaml, and filters with -l", async () => {
    const wide = await kubectlOk("get", "-n", "demo", "deploy,svc,cm", "-o", "wide");
    expect(wide).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(wide).toMatch(/deployment\.apps\/web\s+0\/3\s+0\s+0\s+\S+\s+web\s+nginx:1\.27\s+app=web/);
    expect(wide).toMatch(/service\/web\s+ClusterIP/);
    expect(wide).toMatch(/configmap\/web-config\s+1\s/);
    const yaml = await kubectlOk("get", "-n", "demo", "cm", "web-config", "-o", "yaml");
    expect(yaml).toContain("greeting: hello");
    expect(yaml).toMatch(/uid: [0-9a-f-]{36}/);
    expect(yaml).toContain("namespace: demo");
    expect(await kubectlOk("get", "-n", "demo", "all,cm", "-l", "tier=config", "-o", "name")).toBe("configmap/web-config\n");
    expect(await kubectlOk("get", "-n", "demo", "cm,svc", "-l", "app=web,tier notin (config)", "-o", "name")).toBe("service/web\n");
  });

  it("labels an object, and refuses a label change based on a stale resourceVersion with a Conflict", async () => {
    expect(await kubectlOk("label", "-n", "demo", "svc", "web", "exposed=yes")).toContain("service/web labeled");
    expect(await kubectlOk("get", "-n", "demo", "svc", "-l", "exposed=yes", "-o", "name")).toBe("service/web\n");
    const stale = await kubectl("label", "-n", "demo", "svc", "web", "stale=yes", "--resource-version=1");
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain("Conflict");
    expect(await kubectlOk("label", "-n", "demo", "svc", "web", "exposed-")).toContain("service/web unlabeled");
  });

  it("shows a change to a watcher of kubectl get -w", async () => {
    const watcher = spawn(kubectlBin, ["--kubeconfig", kubeconfig, "get", "cm", "-n", "demo", "-w"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    watcher.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const killer = setTimeout(() => watcher.kill("SIGKILL"), watchTimeoutMs);
    try {
      await waitFor(() => (output.includes("web-config") ? true : undefined), { timeoutMs: watchTimeoutMs, description: "the initial list in kubectl get -w" });
      await kubectlOk("create", "configmap", "watched", "-n", "demo", "--from-literal=a=b");
      await waitFor(() => (/watched\s+1\s/.test(output) ? true : undefined), { timeoutMs: watchTimeoutMs, description: "kubectl get -w to print the new configmap" });
    } finally {
      clearTimeout(killer);
      watcher.kill("SIGTERM");
    }
  });

  it("refuses a body over 3 MiB with 413 and stores nothing", async () => {
    const big = join(workDir, "big.txt");
    writeFileSync(big, "x".repeat(4 * 1024 * 1024));
    const result = await kubectl("create", "configmap", "big", "-n", "demo", `--from-file=${big}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/too large|RequestEntityTooLarge/);
    expect((await kubectl("get", "cm", "big", "-n", "demo")).stderr).toContain('configmaps "big" not found');
  });

  it("applies server-side, then refuses to take over a field another manager set unless forced", async () => {
    const file = join(workDir, "ssa.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: demo\ndata:\n  k: applied\n");
    expect(await kubectlOk("apply", "--server-side", "-f", file)).toContain("configmap/ssa serverside-applied");
    await kubectlOk("patch", "-n", "demo", "cm", "ssa", "--type=merge", "-p", '{"data":{"k":"patched"}}');
    const conflict = await kubectl("apply", "--server-side", "-f", file);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.k');
    await kubectlOk("apply", "--server-side", "--force-conflicts", "-f", file);
    expect(await kubectlOk("get", "-n", "demo", "cm", "ssa", "-o", "jsonpath={.data.k}")).toBe("applied");
    await kubectlOk("delete", "-n", "demo", "cm", "ssa");
  });

  it("keeps an object with a finalizer, marked for deletion, until the finalizer is removed", async () => {
    await kubectlOk("create", "configmap", "held", "-n", "demo");
    await kubectlOk("patch", "-n", "demo", "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}');
    await kubectlOk("delete", "-n", "demo", "cm", "held", "--wait=false");
    expect(await kubectlOk("get", "-n", "demo", "cm", "held", "-o", "jsonpath={.metadata.deletionTimestamp}")).toMatch(/^\d{4}-\d\d-\d\dT/);
    await kubectlOk("patch", "-n", "demo", "cm", "held", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]');
    expect((await kubectl("get", "-n", "demo", "cm", "held")).stderr).toContain('configmaps "held" not found');
  });

  it("scales a deployment through its scale subresource", async () => {
    expect(await kubectlOk("scale", "-n", "demo", "deploy", "web", "--replicas=1")).toContain("deployment.apps/web scaled");
    expect(await kubectlOk("get", "-n", "demo", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation}")).toBe("1 3");
  });

  it("deletes objects and then reports them not found", async () => {
    expect(await kubectlOk("delete", "-n", "demo", "deploy", "web")).toContain('deployment.apps "web" deleted');
    expect(await kubectlOk("delete", "-n", "demo", "cm", "-l", "app=web")).toContain('configmap "web-config" deleted');
    const gone = await kubectl("get", "-n", "demo", "deploy", "web");
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('deployments.apps "web" not found');
    expect(await kubectlOk("get", "-n", "demo", "cm", "-o", "name")).toBe("configmap/watched\n");
  });

  it("re-applies with a three-way strategic merge: a removed port goes, a field set by someone else stays", async () => {
    const file = join(workDir, "ports.yaml");
    const deployment = (ports: number[]) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ports, namespace: demo}\nspec:\n  selector: {matchLabels: {app: ports}}\n  template:\n    metadata: {labels: {app: ports}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n        ports:\n${ports.map((port) => `        - containerPort: ${port}\n`).join("")}`;
    writeFileSync(file, deployment([80, 443]));
    await kubectlOk("apply", "-f", file);
    await kubectlOk("patch", "-n", "demo", "deploy", "ports", "--type=strategic", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"SET_BY","value":"other"}]}]}}}}');
    writeFileSync(file, deployment([80]));
    expect(await kubectlOk("apply", "-f", file)).toContain("deployment.apps/ports configured");
    const container = "{.spec.template.spec.containers[0]}";
    const applied = JSON.parse(await kubectlOk("get", "-n", "demo", "deploy", "ports", "-o", `jsonpath=${container}`)) as { ports: unknown; env: unknown };
    expect(applied.ports).toEqual([{ containerPort: 80, protocol: "TCP" }]);
    expect(applied.env).toEqual([{ name: "SET_BY", value: "other" }]);
  });

  // Emptying and removing it is the namespace controller's job, which a lone `flotilla apiserver`
  // does not run (test/integration/apiserver/namespace-lifecycle.test.ts drives a whole server).
  it("deleting a namespace marks it Terminating and refuses new content in it", async () => {
    expect(await kubectlOk("delete", "namespace", "demo", "--wait=false")).toContain('namespace "demo" deleted');
    expect(await kubectlOk("get", "ns", "demo", "-o", "jsonpath={.status.phase}")).toBe("Terminating");
    expect((await kubectl("create", "configmap", "late", "-n", "demo")).stderr).toContain("unable to create new content in namespace demo because it is being terminated");
  });
});
