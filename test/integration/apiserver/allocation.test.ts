/**
 * ClusterIP and NodePort allocation with two API servers (`flotilla apiserver` processes) over one
 * store and deliberately small ranges: services created at the same time through both never
 * share an IP or a node port; requested values are honoured or refused with upstream's 422; a
 * deleted service's values come back; the `kubernetes` Service has the range's first address and
 * both servers in its Endpoints.
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
const commandTimeoutMs = 60_000;
const startTimeoutMs = 60_000;
const servicesPerReplica = 10;

interface Replica {
  readonly daemon: Daemon;
  readonly kubeconfig: string;
  readonly port: number;
}

function serviceManifest(name: string, extra: Record<string, unknown> = {}, port: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { type: "NodePort", selector: { app: name }, ports: [{ port: 80, ...port }], ...extra } });
}

describe("service IP and node port allocation across two API servers", () => {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-allocation-"));
  let cluster: StoreCluster;
  const replicas: Replica[] = [];

  async function kubectl(replica: Replica | undefined, ...args: string[]): Promise<RunResult> {
    return run("/usr/bin/kubectl", ["--kubeconfig", replica?.kubeconfig ?? "", ...args], { timeoutMs: commandTimeoutMs });
  }
  async function kubectlOk(replica: Replica | undefined, ...args: string[]): Promise<string> {
    const result = await kubectl(replica, ...args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }
  function writeManifest(name: string, text: string): string {
    const path = join(workDir, name);
    writeFileSync(path, text);
    return path;
  }

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation: "flotilla", size: 1 });
    for (const name of ["a", "b"]) {
      const port = await freePort();
      const dataDir = join(workDir, name);
      const args = ["apiserver", `--store-endpoints=${cluster.members[0]?.clientUrl ?? ""}`, "--listen-address=127.0.0.1", `--port=${port}`, `--data-dir=${dataDir}`];
      const daemon = new Daemon(flotillaBin, [...args, "--service-cluster-ip-range=10.96.0.0/26", "--service-node-port-range=30000-30049"], join(workDir, `${name}.log`));
      const replica = { daemon, kubeconfig: join(dataDir, "admin.kubeconfig"), port };
      replicas.push(replica);
      await waitFor(async () => (existsSync(replica.kubeconfig) && (await kubectl(replica, "get", "--raw", "/readyz")).stdout === "ok" ? true : undefined), {
        timeoutMs: startTimeoutMs,
        description: `API server ${name} to answer /readyz`,
      }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${readFileSync(join(workDir, `${name}.log`), "utf8").slice(-4000)}`);
      });
    }
  }, 2 * startTimeoutMs + 30_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.daemon.stop();
    await cluster?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("gives the kubernetes Service the range's first address and lists both servers in its Endpoints", async () => {
    expect(await kubectlOk(replicas[0], "get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].port}")).toBe("10.96.0.1 443");
    const ports = await kubectlOk(replicas[1], "get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[*].ports[*].port}");
    expect(ports.split(" ").map(Number).sort()).toEqual(replicas.map((replica) => replica.port).sort());
  });

  it("never gives two services created at once through both servers the same IP or node port", async () => {
    const batches = replicas.map((replica, index) => {
      const documents = Array.from({ length: servicesPerReplica }, (_, item) => serviceManifest(`svc-${index}-${item}`));
      return kubectlOk(replica, "create", "-f", writeManifest(`batch-${index}.yaml`, `# services\n${documents.join("\n---\n")}`));
    });
    await Promise.all(batches).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${(await cluster.etcdctl(["get", "/registry/ranges/servicenodeports"])).stdout}\n${await kubectlOk(replicas[0], "get", "svc")}`);
    });
    const listed = JSON.parse(await kubectlOk(replicas[0], "get", "services", "-l", "!component", "-o", "json")) as { items: { spec: { clusterIP: string; ports: { nodePort: number }[] } }[] };
    const created = listed.items.filter((item) => item.spec.ports[0]?.nodePort !== undefined);
    expect(created).toHaveLength(2 * servicesPerReplica);
    const ips = created.map((item) => item.spec.clusterIP);
    const nodePorts = created.map((item) => item.spec.ports[0]?.nodePort);
    expect(new Set(ips).size).toBe(ips.length);
    expect(new Set(nodePorts).size).toBe(nodePorts.length);
    expect(ips).not.toContain("10.96.0.1");
    for (const port of nodePorts) expect(port).toBeGreaterThanOrEqual(30000);
  });

  it("honours requested values and refuses taken ones in upstream's words", async () => {
    await kubectlOk(replicas[0], "create", "-f", writeManifest("dns.json", serviceManifest("dns", { type: "ClusterIP", clusterIP: "10.96.0.10" })));
    const takenIp = await kubectl(replicas[1], "create", "-f", writeManifest("dns2.json", serviceManifest("dns2", { type: "ClusterIP", clusterIP: "10.96.0.10" })));
    expect(takenIp.stderr).toContain('spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated');
    const outside = await kubectl(replicas[1], "create", "-f", writeManifest("far.json", serviceManifest("far", { type: "ClusterIP", clusterIP: "10.200.0.1" })));
    expect(outside.stderr).toContain("The range of valid IPs is 10.96.0.0/26");
    await kubectlOk(replicas[0], "create", "-f", writeManifest("fixed.json", serviceManifest("fixed", {}, { nodePort: 30005 })));
    const takenPort = await kubectl(replicas[1], "create", "-f", writeManifest("fixed2.json", serviceManifest("fixed2", {}, { nodePort: 30005 })));
    expect(takenPort.stderr).toContain("spec.ports[0].nodePort: Invalid value: 30005: provided port is already allocated");
    expect((await kubectl(replicas[0], "get", "service", "dns2")).stderr).toContain('services "dns2" not found');
  });

  it("takes a deleted service's IP and node port back", async () => {
    await kubectlOk(replicas[0], "delete", "service", "fixed");
    await kubectlOk(replicas[1], "create", "-f", writeManifest("fixed3.json", serviceManifest("fixed3", {}, { nodePort: 30005 })));
    await kubectlOk(replicas[1], "delete", "service", "dns");
    await kubectlOk(replicas[0], "create", "-f", writeManifest("dns3.json", serviceManifest("dns3", { type: "ClusterIP", clusterIP: "10.96.0.10" })));
  });

  it("keeps a service's IP and node port through a replace that leaves them out", async () => {
    const before = await kubectlOk(replicas[0], "get", "service", "svc-0-0", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}");
    await kubectlOk(replicas[1], "replace", "-f", writeManifest("replace.json", serviceManifest("svc-0-0")));
    expect(await kubectlOk(replicas[0], "get", "service", "svc-0-0", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}")).toBe(before);
  });

  it("changing a service's type allocates and releases its node ports and IP, and refuses a taken port", async () => {
    const [first, second] = replicas;
    const field = async (name: string, path: string) => kubectlOk(first, "get", "service", name, "-o", `jsonpath={${path}}`);
    await kubectlOk(first, "create", "-f", writeManifest("switch.json", serviceManifest("switch", { type: "ClusterIP" })));
    await kubectlOk(second, "patch", "service", "switch", "-p", JSON.stringify({ spec: { type: "NodePort" } }));
    const nodePort = Number(await field("switch", ".spec.ports[0].nodePort"));
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const wanted = await kubectl(first, "create", "-f", writeManifest("want.json", serviceManifest("want", {}, { nodePort })));
    expect(wanted.stderr).toContain(`spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated`);
    const moved = await kubectl(first, "patch", "service", "switch", "--type=json", "-p", JSON.stringify([{ op: "replace", path: "/spec/ports/0/nodePort", value: 30005 }]));
    expect(moved.stderr).toContain("spec.ports[0].nodePort: Invalid value: 30005: provided port is already allocated");
    await kubectlOk(first, "patch", "service", "switch", "-p", JSON.stringify({ spec: { type: "ClusterIP" } }));
    expect(await field("switch", ".spec.ports[0].nodePort")).toBe("");
    await kubectlOk(second, "create", "-f", writeManifest("want.json", serviceManifest("want", {}, { nodePort })));
    const ip = await field("switch", ".spec.clusterIP");
    await kubectlOk(second, "patch", "service", "switch", "-p", JSON.stringify({ spec: { type: "ExternalName", externalName: "example.com" } }));
    expect(await field("switch", ".spec.clusterIP")).toBe("");
    await kubectlOk(first, "create", "-f", writeManifest("reuse-ip.json", serviceManifest("reuse-ip", { type: "ClusterIP", clusterIP: ip })));
  });
});
