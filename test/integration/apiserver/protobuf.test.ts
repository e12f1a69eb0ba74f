/**
 * kubectl's typed clients send protobuf bodies (`application/vnd.kubernetes.protobuf`): `kubectl
 * create deployment|service|job|cronjob|serviceaccount|role|rolebinding|ingress|pdb|quota|
 * clusterrole`, `kubectl run`, `kubectl expose`, `kubectl autoscale`. One `flotilla server
 * --cluster-init` (store member + API server in one process) is driven by the installed kubectl;
 * each test reads back what was stored as JSON.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const startTimeoutMs = 30_000;

type Json = Record<string, unknown>;
const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((current, key) => (current === null || typeof current !== "object" ? undefined : (current as Json)[key as string]), value);

describe("protobuf request bodies from kubectl's typed clients", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-protobuf-"));
  const dataDir = join(workDir, "d");
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  let server: Daemon | undefined;

  async function kubectlOk(...args: string[]): Promise<string> {
    const result = await run(kubectlBin, ["--kubeconfig", kubeconfig, "-n", "typed", ...args], { timeoutMs: commandTimeoutMs });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }
  const stored = async (resource: string, name: string): Promise<Json> => JSON.parse(await kubectlOk("get", resource, name, "-o", "json")) as Json;

  beforeAll(async () => {
    const [api, client, peer] = await freePorts(3);
    const flags = ["server", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${client}`, `--store-peer-port=${peer}`, "--cluster-init"];
    server = new Daemon(flotillaBin, flags, join(workDir, "server.log"));
    await waitFor(
      async () => {
        if (!existsSync(kubeconfig)) return undefined;
        const ready = await run(kubectlBin, ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], { timeoutMs: commandTimeoutMs });
        return ready.stdout === "ok" ? true : undefined;
      },
      { timeoutMs: startTimeoutMs, description: "flotilla server to answer /readyz" },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    await kubectlOk("create", "namespace", "typed");
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("kubectl create deployment stores replicas, selector and the container", async () => {
    expect(await kubectlOk("create", "deployment", "web", "--image=flotilla/busybox:1", "--replicas=2", "--port=8080")).toContain("deployment.apps/web created");
    const deployment = await stored("deployment", "web");
    expect(at(deployment, "spec", "replicas")).toBe(2);
    expect(at(deployment, "spec", "selector")).toEqual({ matchLabels: { app: "web" } });
    expect(at(deployment, "spec", "template", "metadata", "labels")).toEqual({ app: "web" });
    expect(at(deployment, "spec", "template", "spec", "containers", 0, "image")).toBe("flotilla/busybox:1");
    expect(at(deployment, "spec", "template", "spec", "containers", 0, "ports")).toEqual([{ containerPort: 8080, protocol: "TCP" }]);
    expect(at(deployment, "spec", "strategy", "rollingUpdate")).toEqual({ maxSurge: "25%", maxUnavailable: "25%" });
  });

  it("kubectl create deployment --replicas=0 keeps the zero (a pointer field)", async () => {
    await kubectlOk("create", "deployment", "idle", "--image=flotilla/busybox:1", "--replicas=0");
    expect(at(await stored("deployment", "idle"), "spec", "replicas")).toBe(0);
  });

  it("kubectl create service clusterip stores the port with a numeric targetPort", async () => {
    await kubectlOk("create", "service", "clusterip", "web", "--tcp=80:8080");
    const service = await stored("service", "web");
    expect(at(service, "spec", "type")).toBe("ClusterIP");
    expect(at(service, "spec", "ports")).toEqual([{ name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 }]);
    expect(at(service, "spec", "selector")).toEqual({ app: "web" });
  });

  it("kubectl expose deployment makes a service from the deployment's selector", async () => {
    expect(await kubectlOk("expose", "deployment", "web", "--name=web-exposed", "--port=9090", "--target-port=8080")).toContain("service/web-exposed exposed");
    const service = await stored("service", "web-exposed");
    expect(at(service, "spec", "selector")).toEqual({ app: "web" });
    expect(at(service, "spec", "ports", 0, "port")).toBe(9090);
    expect(at(service, "spec", "ports", 0, "targetPort")).toBe(8080);
  });

  it("kubectl create job and cronjob store the command and the schedule", async () => {
    await kubectlOk("create", "job", "once", "--image=flotilla/busybox:1", "--", "echo", "hello");
    const job = await stored("job", "once");
    expect(at(job, "spec", "template", "spec", "containers", 0, "command")).toEqual(["echo", "hello"]);
    expect(at(job, "spec", "template", "spec", "restartPolicy")).toBe("Never");
    await kubectlOk("create", "cronjob", "tick", "--image=flotilla/busybox:1", "--schedule=*/5 * * * *", "--", "date");
    const cronJob = await stored("cronjob", "tick");
    expect(at(cronJob, "spec", "schedule")).toBe("*/5 * * * *");
    expect(at(cronJob, "spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "command")).toEqual(["date"]);
    expect(at(cronJob, "spec", "jobTemplate", "metadata", "name")).toBe("tick");
  });

  it("kubectl run stores a pod with labels, args and env", async () => {
    expect(await kubectlOk("run", "shell", "--image=flotilla/busybox:1", "--labels=app=shell,tier=debug", "--env=A=1", "--", "sleep", "3600")).toContain("pod/shell created");
    const pod = await stored("pod", "shell");
    expect(at(pod, "metadata", "labels")).toEqual({ app: "shell", tier: "debug" });
    expect(at(pod, "spec", "containers", 0, "args")).toEqual(["sleep", "3600"]);
    expect(at(pod, "spec", "containers", 0, "env")).toEqual([{ name: "A", value: "1" }]);
  });

  it("kubectl create serviceaccount, role and rolebinding store RBAC objects", async () => {
    await kubectlOk("create", "serviceaccount", "robot");
    expect(at(await stored("serviceaccount", "robot"), "metadata", "name")).toBe("robot");
    await kubectlOk("create", "role", "reader", "--verb=get,list", "--resource=pods,deployments.apps");
    expect(at(await stored("role", "reader"), "rules")).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
    ]);
    await kubectlOk("create", "rolebinding", "robot-reads", "--role=reader", "--serviceaccount=typed:robot");
    const binding = await stored("rolebinding", "robot-reads");
    expect(at(binding, "roleRef")).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" });
    expect(at(binding, "subjects")).toEqual([{ kind: "ServiceAccount", name: "robot", namespace: "typed" }]);
  });

  it("kubectl create ingress, pdb, quota, clusterrole and autoscale store their specs", async () => {
    await kubectlOk("create", "ingress", "web", "--rule=a.example/*=web:80");
    expect(at(await stored("ingress", "web"), "spec", "rules", 0)).toEqual({ host: "a.example", http: { paths: [{ backend: { service: { name: "web", port: { number: 80 } } }, path: "/", pathType: "Prefix" }] } });
    await kubectlOk("create", "pdb", "web", "--selector=app=web", "--max-unavailable=0");
    expect(at(await stored("pdb", "web"), "spec", "maxUnavailable")).toBe(0);
    await kubectlOk("create", "quota", "small", "--hard=pods=10,requests.cpu=2");
    expect(at(await stored("quota", "small"), "spec", "hard")).toEqual({ pods: "10", "requests.cpu": "2" });
    await kubectlOk("create", "clusterrole", "pod-reader", "--verb=get", "--resource=pods");
    expect(at(await stored("clusterrole", "pod-reader"), "rules")).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]);
    expect(await kubectlOk("autoscale", "deployment", "web", "--min=1", "--max=3", "--cpu-percent=50")).toContain("autoscaled");
    expect(at(await stored("hpa", "web"), "spec", "scaleTargetRef")).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "web" });
  });

  it("kubectl create secret stores bytes as base64", async () => {
    await kubectlOk("create", "secret", "generic", "creds", "--from-literal=password=s3cr\u00e9t");
    expect(at(await stored("secret", "creds"), "data")).toEqual({ password: Buffer.from("s3cr\u00e9t").toString("base64") });
  });
});
