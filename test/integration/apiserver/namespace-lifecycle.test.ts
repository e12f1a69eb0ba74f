/**
 * A namespace's life against a whole `flotilla server` (API server, controller manager with the
 * namespace controller, a fake kubelet) driven by kubectl: `kubectl delete ns` removes its
 * Deployments, pods, Services and ConfigMaps and gives the Service's node port back; while content
 * held by a finalizer keeps it Terminating, creates in it are refused with upstream's 403 and the
 * conditions say what remains; the built-in namespaces cannot be deleted.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findResource, isStatusError } from "../../../libs/api/index.ts";
import type { Namespace, Pod } from "../../../libs/api/index.ts";
import { ControlPlaneServer } from "../../harness/controlplane-server.ts";
import { run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const startTimeoutMs = 90_000;
const convergeTimeoutMs = 30_000;
const commandTimeoutMs = 45_000;
const namespaces = findResource("", "v1", "namespaces")!;
const pods = findResource("", "v1", "pods")!;

const workload = (namespace: string, nodePort: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${namespace}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx:1.27}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${namespace}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: ${nodePort}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ${namespace}}
data: {mode: test}
`;

describe("namespace lifecycle on a flotilla server", () => {
  let server: ControlPlaneServer;
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-namespace-"));

  async function kubectl(...args: string[]): Promise<RunResult> {
    return run("kubectl", [`--kubeconfig=${server.kubeconfig}`, ...args], { timeoutMs: commandTimeoutMs });
  }
  function manifest(name: string, text: string): string {
    const path = join(workDir, name);
    writeFileSync(path, text);
    return path;
  }
  async function gone(name: string): Promise<boolean> {
    try {
      await server.client.get<Namespace>(namespaces, undefined, name);
      return false;
    } catch (error) {
      if (isStatusError(error, "NotFound")) return true;
      throw error;
    }
  }

  beforeAll(async () => {
    server = await ControlPlaneServer.start("namespace");
  }, startTimeoutMs);

  afterAll(async () => {
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("kubectl delete ns removes its deployments, pods, services and configmaps, and frees the node port", async () => {
    await server.kubectl("create", "namespace", "shop");
    await server.kubectl("apply", "-f", manifest("shop.yaml", workload("shop", 30123)));
    await waitFor(async () => ((await server.client.list<Pod>(pods, "shop")).items.length === 2 ? true : undefined), {
      timeoutMs: convergeTimeoutMs,
      intervalMs: 200,
      description: "the Deployment's 2 pods in shop",
    });
    const deleted = await kubectl("delete", "namespace", "shop", "--timeout=40s");
    expect(deleted.stderr + deleted.stdout).toContain('namespace "shop" deleted');
    expect(deleted.code).toBe(0);
    expect(await gone("shop")).toBe(true);
    for (const kind of ["deployments", "replicasets", "pods", "services", "configmaps"]) {
      expect((await kubectl("get", kind, "-n", "shop", "-o", "name")).stdout.trim()).toBe("");
    }
    // The Service's node port went back with it: a new namespace can ask for the same one.
    await server.kubectl("create", "namespace", "shop-2");
    await server.kubectl("apply", "-f", manifest("shop-2.yaml", workload("shop-2", 30123)));
  });

  it("a Terminating namespace refuses new content until what holds it is released", async () => {
    await server.kubectl("create", "namespace", "held");
    await server.kubectl("apply", "-f", manifest("held.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: held, finalizers: [example.com/hold]}\n"));
    await server.kubectl("delete", "namespace", "held", "--wait=false");
    const reported = await waitFor(
      async () => {
        const namespace = await server.client.get<Namespace>(namespaces, undefined, "held");
        const finalizers = namespace.status?.conditions?.find((condition) => condition.type === "NamespaceFinalizersRemaining");
        return finalizers?.status === "True" ? namespace : undefined;
      },
      { timeoutMs: convergeTimeoutMs, intervalMs: 200, description: "held's NamespaceFinalizersRemaining condition" },
    );
    expect(reported.status?.phase).toBe("Terminating");
    expect(reported.metadata.deletionTimestamp).toBeTruthy();
    expect(reported.status?.conditions?.find((condition) => condition.type === "NamespaceContentRemaining")?.message).toBe("Some resources are remaining: configmaps has 1 resource instances");
    const refused = await kubectl("create", "configmap", "late", "-n", "held");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('configmaps "late" is forbidden: unable to create new content in namespace held because it is being terminated');
    await server.kubectl("patch", "configmap", "keep", "-n", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}');
    await waitFor(async () => ((await gone("held")) ? true : undefined), { timeoutMs: convergeTimeoutMs, intervalMs: 200, description: "held to be removed" });
  });

  it("refuses to delete the built-in namespaces", async () => {
    for (const name of ["default", "kube-system"]) {
      const refused = await kubectl("delete", "namespace", name, "--wait=false");
      expect(refused.stderr).toContain(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
      expect((await server.client.get<Namespace>(namespaces, undefined, name)).status?.phase).toBe("Active");
    }
  });

  it("changes spec.finalizers only through namespaces/finalize, which validates them", async () => {
    await server.kubectl("create", "namespace", "tokens");
    const created = await server.client.get<Namespace>(namespaces, undefined, "tokens");
    expect(created.spec?.finalizers).toEqual(["kubernetes"]);
    const updated = await server.client.update<Namespace>(namespaces, { ...created, spec: { finalizers: [] } });
    expect(updated.spec?.finalizers).toEqual(["kubernetes"]);
    const invalid = await server.client.update<Namespace>(namespaces, { ...updated, spec: { finalizers: ["not a name!"] } }, { subresource: "finalize" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isStatusError(invalid, "Invalid")).toBe(true);
    const finalized = await server.client.update<Namespace>(namespaces, { ...updated, spec: { finalizers: ["example.com/audit"] } }, { subresource: "finalize" });
    expect(finalized.spec?.finalizers).toEqual(["example.com/audit"]);
    expect(finalized.metadata.labels?.["kubernetes.io/metadata.name"]).toBe("tokens");
    // Without the kubernetes token nobody empties it; removing the last token removes it.
    await server.kubectl("delete", "namespace", "tokens", "--wait=false");
    await server.client.update<Namespace>(namespaces, { ...finalized, metadata: { ...finalized.metadata, resourceVersion: "" }, spec: { finalizers: [] } }, { subresource: "finalize" });
    expect(await gone("tokens")).toBe(true);
  });
});
