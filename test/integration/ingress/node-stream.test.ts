/**
 * What a node receives for its ingress proxy, against a real `flotilla server`: its node stream
 * carries every Ingress and exactly the TLS secrets Ingresses name (following the Ingress as it
 * changes), and the node authorizer lets the node's certificate `get` those secrets and no other.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../libs/api/index.ts";
import type { NodeStreamHandlers, NodeWatchEvent } from "../../../services/agent/control-plane.ts";
import { NodeClient, joinOrLoad } from "../../../services/agent/nodeclient/index.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run, type RunResult } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const nodeName = "edge-1";

/** Every stream event of the kinds the ingress proxy uses, as "kind type namespace/name". */
class StreamView {
  readonly events: string[] = [];
  readonly #present = new Map<string, Set<string>>();

  handlers(): NodeStreamHandlers {
    const record = (kind: string) => (event: NodeWatchEvent<KubeObject>) => {
      const key = `${event.object.metadata.namespace ?? ""}/${event.object.metadata.name ?? ""}`;
      this.events.push(`${kind} ${event.type} ${key}`);
      const present = this.#present.get(kind) ?? new Set<string>();
      if (event.type === "upsert") present.add(key);
      else present.delete(key);
      this.#present.set(kind, present);
    };
    const ignore = (): void => undefined;
    return { onPod: ignore, onConfigMap: ignore, onService: ignore, onEndpointSlice: ignore, onNode: ignore, onSynced: ignore, onSecret: record("secret"), onIngress: record("ingress"), onIngressClass: record("ingressclass") };
  }

  present(kind: string): string[] {
    return [...(this.#present.get(kind) ?? [])].sort();
  }
}

const tlsSecret = (name: string): object => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "shop" }, type: "kubernetes.io/tls", data: { "tls.crt": Buffer.from(`${name} cert`).toString("base64"), "tls.key": Buffer.from(`${name} key`).toString("base64") } });
const ingress = (secretName: string): object => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: "front", namespace: "shop" },
  spec: { tls: [{ hosts: ["shop.test"], secretName }], rules: [{ host: "shop.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
});

describe.skipIf(!existsSync(kubectlBin))("the node stream and the node authorizer for the ingress proxy", () => {
  let workDir = "";
  let dataDir = "";
  let apiPort = 0;
  let daemon: Daemon | undefined;
  let client: NodeClient | undefined;
  const stop = new AbortController();
  const view = new StreamView();

  async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
    const result = await run(kubectlBin, ["--kubeconfig", join(dataDir, "admin.kubeconfig"), ...args], { timeoutMs: commandTimeoutMs, ...(input === undefined ? {} : { input }) });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }
  const apply = (objects: readonly object[]): Promise<string> => kubectlOk(["apply", "-f", "-"], objects.map((object) => stringify(object)).join("---\n"));

  /** `kubectl get secret` with the node's own certificate: the exit code and stderr. */
  async function getAsNode(secretName: string): Promise<RunResult> {
    const agentDir = join(workDir, "agent");
    const emptyConfig = join(workDir, "empty.kubeconfig");
    writeFileSync(emptyConfig, "apiVersion: v1\nkind: Config\n");
    const flags = [`--kubeconfig=${emptyConfig}`, `--server=https://127.0.0.1:${apiPort}`, `--certificate-authority=${join(agentDir, "ca.crt")}`, `--client-certificate=${join(agentDir, "node.crt")}`, `--client-key=${join(agentDir, "node.key")}`];
    return run(kubectlBin, [...flags, "get", "secret", "-n", "shop", secretName], { timeoutMs: commandTimeoutMs });
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "flotilla-ingress-stream-"));
    dataDir = join(workDir, "server");
    const [api, storeClient, storePeer, nodeApi] = await freePorts(4);
    apiPort = api ?? 0;
    const flags = ["server", "--cluster-init", "--disable-controllers", "--disable-scheduler", `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`, `--node-api-port=${nodeApi}`];
    daemon = new Daemon(flotillaBin, flags, join(workDir, "server.log"));
    const kubeconfig = join(dataDir, "admin.kubeconfig");
    await waitFor(async () => (existsSync(kubeconfig) && (await run(kubectlBin, ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], { timeoutMs: commandTimeoutMs })).stdout === "ok" ? true : undefined), {
      timeoutMs: 45_000,
      description: "flotilla server to answer /readyz",
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, "server.log"), "utf8").slice(-4000)}`);
    });
    const created = await run(flotillaBin, ["token", "create", `--data-dir=${dataDir}`, "--kind=agent", "--ttl-hours=1"], { timeoutMs: commandTimeoutMs });
    const token = created.stdout.trim().split("\n").at(-1) ?? "";
    await apply([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } }, tlsSecret("cert-a"), tlsSecret("cert-b"), tlsSecret("unrelated"), ingress("cert-a")]);
    const credentials = await joinOrLoad({ server: `127.0.0.1:${nodeApi}`, token, nodeName, dataDir: join(workDir, "agent") });
    client = new NodeClient(credentials);
    client.watchNode(view.handlers(), stop.signal).catch(() => undefined);
  }, 90_000);

  afterAll(async () => {
    stop.abort();
    client?.close();
    await daemon?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("carries the Ingress and only the TLS secret it names", async () => {
    await waitFor(() => (view.present("ingress").includes("shop/front") && view.present("secret").includes("shop/cert-a") ? true : undefined), { timeoutMs: 15_000, description: "the Ingress and cert-a" });
    expect(view.present("secret")).toEqual(["shop/cert-a"]);
  });

  it("follows the Ingress to another secret and deletes the one no longer named", async () => {
    await apply([ingress("cert-b")]);
    await waitFor(() => (view.present("secret").join(",") === "shop/cert-b" ? true : undefined), { timeoutMs: 15_000, description: "cert-b in place of cert-a" });
    expect(view.events).toContain("secret delete shop/cert-a");
    expect(view.events.filter((event) => event.includes("unrelated"))).toEqual([]);
  });

  it("lets the node's certificate read the secret an Ingress names and no other", async () => {
    expect((await getAsNode("cert-b")).code).toBe(0);
    const refused = await getAsNode("unrelated");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("forbidden");
  });
});
