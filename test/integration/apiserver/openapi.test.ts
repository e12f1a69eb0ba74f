/**
 * OpenAPI and field validation against a real `flotilla apiserver` over a 1-member store, driven
 * by the installed kubectl: strict validation refuses unknown, duplicate and mistyped fields and
 * stores nothing, `--validate=warn` warns, `kubectl explain` prints fields from the v3 schemas,
 * and `kubectl apply`/`edit` compute strategic merge patches from them (a removed container port
 * disappears, a port someone else added survives).
 */
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

function deploymentManifest(name: string, specExtra: string, containerExtra: string, ports: readonly number[]): string {
  const portLines = ports.map((port) => `        - containerPort: ${port}`).join("\n");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1${specExtra}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: nginx:1.27${containerExtra}
        ports:
${portLines}
`;
}

// One store implementation is enough here: storage is covered by kubectl.test.ts.
const implementation = storeImplementations()[0] ?? "flotilla";

describe(`OpenAPI and field validation with kubectl (${implementation} store)`, () => {
  let cluster: StoreCluster;
  let apiServer: Daemon;
  let workDir: string;
  let kubeconfig: string;

  async function kubectl(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    const fullArgs = ["--kubeconfig", kubeconfig, `--cache-dir=${join(workDir, "cache")}`, "-n", "demo", ...args];
    return run(kubectlBin, fullArgs, { timeoutMs: commandTimeoutMs, env: { ...process.env, ...env } });
  }
  async function kubectlOk(...args: string[]): Promise<string> {
    const result = await kubectl(args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }
  function manifestFile(name: string, text: string): string {
    const file = join(workDir, name);
    writeFileSync(file, text);
    return file;
  }

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 1 });
    workDir = mkdtempSync(join(tmpdir(), "flotilla-openapi-"));
    const port = await freePort();
    const dataDir = join(workDir, "data");
    const args = ["apiserver", `--store-endpoints=${cluster.members[0]?.clientUrl ?? ""}`, "--listen-address=127.0.0.1", `--port=${port}`, `--data-dir=${dataDir}`];
    apiServer = new Daemon(flotillaBin, args, join(workDir, "apiserver.log"));
    kubeconfig = join(dataDir, "admin.kubeconfig");
    await waitFor(async () => (existsSync(kubeconfig) && (await kubectl(["get", "--raw", "/readyz"])).stdout === "ok" ? true : undefined), {
      timeoutMs: startTimeoutMs,
      description: "the API server to write admin.kubeconfig and answer /readyz",
    }).catch((error: unknown) => {
      const log = existsSync(join(workDir, "apiserver.log")) ? readFileSync(join(workDir, "apiserver.log"), "utf8") : "";
      throw new Error(`${(error as Error).message}\n${log.slice(-4000)}`);
    });
    await kubectlOk("create", "namespace", "demo");
  });

  afterAll(async () => {
    await apiServer?.stop();
    await cluster?.destroy();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses an unknown field under kubectl's default strict validation, and stores nothing", async () => {
    const file = manifestFile("unknown.yaml", deploymentManifest("strict", "\n  foo: bar", "\n        bogus: 1", [80]));
    const result = await kubectl(["apply", "-f", file]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bogus"',
    );
    const get = await kubectl(["get", "deployment", "strict"]);
    expect(get.stderr).toContain('deployments.apps "strict" not found');
  });

  it("warns about an unknown field with --validate=warn, and stores the object without it", async () => {
    const file = manifestFile("warn.yaml", deploymentManifest("warned", "\n  foo: bar", "", [80]));
    const result = await kubectl(["apply", "--validate=warn", "-f", file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Warning: unknown field "spec.foo"');
    expect(result.stdout).toContain("deployment.apps/warned created");
    expect(JSON.parse(await kubectlOk("get", "deployment", "warned", "-o", "json")).spec).not.toHaveProperty("foo");
  });

  it("refuses a value of the wrong type naming the field, and duplicate fields under Strict", async () => {
    const mistyped = manifestFile("typed.yaml", deploymentManifest("typed", "", "", [80]).replace("replicas: 1", 'replicas: "two"'));
    const typed = await kubectl(["apply", "-f", mistyped]);
    expect(typed.stderr).toContain("json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32");
    const duplicate = manifestFile("duplicate.json", '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}');
    const strict = await kubectl(["create", "--raw", "/api/v1/namespaces/demo/configmaps?fieldValidation=Strict", "-f", duplicate]);
    expect(strict.stderr).toContain('strict decoding error: duplicate field "data.a"');
    expect((await kubectl(["get", "configmap", "dup"])).code).not.toBe(0);
    expect((await kubectl(["get", "deployment", "typed"])).code).not.toBe(0);
  });

  it("explains a nested field and a kind from the OpenAPI v3 schemas", async () => {
    const containers = await kubectlOk("explain", "deployment.spec.template.spec.containers");
    expect(containers).toMatch(/KIND:\s+Deployment/);
    expect(containers).toMatch(/FIELD:\s+containers\s+<\[\]Container>/);
    expect(containers).toMatch(/name\s+<string> -required-/);
    expect(containers).toMatch(/ports\s+<\[\]ContainerPort>/);
    const pods = await kubectlOk("explain", "pods");
    expect(pods).toMatch(/KIND:\s+Pod/);
    expect(pods).toMatch(/spec\s+<PodSpec>/);
    expect(pods).toMatch(/status\s+<PodStatus>/);
  });

  it("applies and edits with strategic merge: a removed port goes, a port someone else added stays", async () => {
    const file = manifestFile("smp.yaml", deploymentManifest("smp", "", "", [80, 443]));
    await kubectlOk("apply", "-f", file);
    await kubectlOk("patch", "deployment", "smp", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":8080}]}]}}}}');
    writeFileSync(file, deploymentManifest("smp", "", "", [80]));
    const applied = await kubectl(["apply", "-f", file, "-v=6"]);
    expect(applied.code).toBe(0);
    expect(applied.stderr).not.toContain("does not support strategic merge patch");
    const portsOf = async (): Promise<number[]> => {
      const ports = JSON.parse(await kubectlOk("get", "deployment", "smp", "-o", "jsonpath={.spec.template.spec.containers[0].ports}")) as Array<{ containerPort: number }>;
      return ports.map((port) => port.containerPort).sort((left, right) => left - right);
    };
    expect(await portsOf()).toEqual([80, 8080]);
    const edited = await kubectl(["edit", "deployment", "smp", "-v=6"], { KUBE_EDITOR: "sed -i s/containerPort:\\ 8080/containerPort:\\ 9090/", EDITOR: "" });
    expect(edited.code).toBe(0);
    expect(edited.stderr).toMatch(/PATCH https:\S+\/deployments\/smp\?fieldManager=kubectl-edit&fieldValidation=Strict/);
    expect(await portsOf()).toEqual([80, 9090]);
  });

  it("serves Swagger 2.0 JSON at /openapi/v2 with upstream's definition names", async () => {
    const swagger = JSON.parse(await kubectlOk("get", "--raw", "/openapi/v2")) as { swagger: string; definitions: Record<string, unknown> };
    expect(swagger.swagger).toBe("2.0");
    expect(swagger.definitions).toHaveProperty("io.k8s.api.apps.v1.Deployment");
  });
});
