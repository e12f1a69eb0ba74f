/**
 * End to end on the one-machine testbed (1 server, 3 agent hosts, real containerd, VXLAN,
 * nftables, the agents' DNS servers), driven with the installed kubectl, dig, curl and the pods'
 * own busybox: the everyday paths of issues 6 and 7. The testbed's name is unique per run and
 * `scripts/testbed down` removes everything in afterAll.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestbedCluster, type TestbedHost } from "../../harness/testbed.ts";
import { waitFor } from "../../harness/wait.ts";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const execFileAsync = promisify(execFile);
const testbed = new TestbedCluster("e");
const hosts = (): TestbedHost[] => testbed.hosts();
const agents = (): TestbedHost[] => testbed.agents();
const kubectl = async (...args: string[]): Promise<string> => testbed.kubectl(...args);
const kubectlIn = async (input: string, ...args: string[]): Promise<{ code: number; stdout: string }> => testbed.kubectlIn(input, ...args);
const inHost = async (host: TestbedHost, ...argv: string[]): Promise<string> => testbed.inHost(host, ...argv);

interface PodView {
  name: string;
  ip: string;
  node: string;
  ready: boolean;
}

async function pods(selector: string): Promise<PodView[]> {
  const list = JSON.parse(await kubectl("get", "pods", "-l", selector, "-o", "json")) as {
    items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[];
  };
  return list.items
    .filter((item) => item.metadata.deletionTimestamp === undefined)
    .map((item) => ({
      name: item.metadata.name,
      ip: item.status.podIP ?? "",
      node: item.spec.nodeName ?? "",
      ready: item.status.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true,
    }));
}

const manifests = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: web } } }
      containers:
        - name: httpd
          image: flotilla/busybox:1
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "hostname > /tmp/index.html && echo started && exec httpd -f -p 8080 -h /tmp"]
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http, nodePort: 30081 }]
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ name: pg, port: 5432 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers:
        - { name: db, image: flotilla/busybox:1, imagePullPolicy: IfNotPresent, command: ["sleep", "3600"], ports: [{ name: pg, containerPort: 5432 }] }
---
apiVersion: v1
kind: Service
metadata: { name: docs }
spec: { type: ExternalName, externalName: docs.example.test }
`;

beforeAll(async () => {
  await testbed.up({ servers: 1, agents: 3 });
  await kubectlIn(manifests, "apply", "-f", "-");
  await waitFor(async () => ((await pods("app=web")).filter((pod) => pod.ready).length === 3 ? true : undefined), { timeoutMs: 120_000, description: "3 ready web pods" });
  await waitFor(async () => ((await pods("app=db")).filter((pod) => pod.ready).length === 2 ? true : undefined), { timeoutMs: 120_000, description: "db-0 and db-1 ready" });
}, 600_000);

afterAll(async () => {
  await testbed.down();
}, 200_000);

describe("the testbed cluster (1 server, 3 agents)", () => {
  it("runs a Deployment's pods on every node with IPs from their node's pod subnet", async () => {
    const nodes = JSON.parse(await kubectl("get", "nodes", "-o", "json")) as { items: { metadata: { name: string }; spec: { podCIDR?: string } }[] };
    const subnetOf = new Map(nodes.items.map((node) => [node.metadata.name, (node.spec.podCIDR ?? "").replace(/\.0\/24$/, ".")]));
    const web = await pods("app=web");
    expect(new Set(web.map((pod) => pod.node)).size).toBe(3);
    for (const pod of web) expect(pod.ip.startsWith(subnetOf.get(pod.node) ?? "?")).toBe(true);
  });

  it("serves kubectl logs and kubectl exec with stdin and the command's exit code", async () => {
    const [first] = await pods("app=web");
    expect(await kubectl("logs", first?.name ?? "")).toContain("started");
    // `cat` ends only when stdin's end reaches it (the agent's SPDY exec to containerd carries it).
    const result = await kubectlIn("hello from stdin\n", "exec", "-i", first?.name ?? "", "--", "sh", "-c", "cat; exit 3");
    expect(result).toEqual({ code: 3, stdout: "hello from stdin\n" });
  });

  it("carries pod-to-pod HTTP between every pair of nodes", async () => {
    const web = await pods("app=web");
    for (const from of web) {
      for (const to of web) {
        if (from.node === to.node) continue;
        expect((await kubectl("exec", from.name, "--", "wget", "-qO-", `http://${to.ip}:8080/`)).trim()).toBe(to.name);
      }
    }
  });

  it("reaches every ready endpoint through the ClusterIP and through a NodePort", async () => {
    const web = await pods("app=web");
    const names = new Set(web.map((pod) => pod.name));
    const [client] = agents();
    const clusterIp = (await kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")).trim();
    const seenClusterIp = new Set<string>();
    const seenNodePort = new Set<string>();
    for (let attempt = 0; attempt < 60 && (seenClusterIp.size < names.size || seenNodePort.size < names.size); attempt++) {
      if (client === undefined) break;
      seenClusterIp.add((await inHost(client, "curl", "-s", "--max-time", "2", `http://${clusterIp}/`)).trim());
      seenNodePort.add((await execFileAsync("curl", ["-s", "--max-time", "2", `http://${client.ip}:30081/`], { encoding: "utf8" })).stdout.trim());
    }
    expect(seenClusterIp).toEqual(names);
    expect(seenNodePort).toEqual(names);
  });

  it("answers dig on a node and nslookup/wget in pods for services, headless services, StatefulSet pods, SRV and ExternalName", async () => {
    const [host] = agents();
    if (host === undefined) throw new Error("no agent host");
    const dig = async (...args: string[]): Promise<string> => (await inHost(host, "dig", "@10.96.0.10", "+short", "+time=2", "+tries=1", ...args)).trim();
    const clusterIp = (await kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")).trim();
    expect(await dig("web.default.svc.cluster.local")).toBe(clusterIp);
    const db = await pods("app=db");
    expect((await dig("db.default.svc.cluster.local")).split("\n").sort()).toEqual(db.map((pod) => pod.ip).sort());
    expect(await dig("db-0.db.default.svc.cluster.local")).toBe(db.find((pod) => pod.name === "db-0")?.ip);
    expect((await dig("_pg._tcp.db.default.svc.cluster.local", "SRV")).split("\n").sort()).toEqual(["0 50 5432 db-0.db.default.svc.cluster.local.", "0 50 5432 db-1.db.default.svc.cluster.local."]);
    expect(await dig("docs.default.svc.cluster.local", "CNAME")).toBe("docs.example.test.");
    const [pod] = await pods("app=web");
    // busybox's nslookup does not walk the search list; wget (through the resolver) does.
    expect(await kubectl("exec", pod?.name ?? "", "--", "nslookup", "web.default.svc.cluster.local")).toContain(`Address: ${clusterIp}`);
    expect((await kubectl("exec", pod?.name ?? "", "--", "wget", "-qO-", "http://web/")).trim()).toMatch(/^web-/);
  });

  it("drops a deleted pod from DNS answers and proxy rules within 2 s", async () => {
    const [host] = agents();
    if (host === undefined) throw new Error("no agent host");
    const victim = (await pods("app=db")).find((pod) => pod.name === "db-1");
    await kubectl("delete", "pod", "db-1", "--wait=false");
    const deletedAtMs = Date.now();
    await waitFor(async () => (!(await inHost(host, "dig", "@10.96.0.10", "+short", "+time=1", "+tries=1", "db.default.svc.cluster.local")).includes(victim?.ip ?? "?") ? true : undefined), {
      timeoutMs: 2_000,
      intervalMs: 100,
      description: "db-1's address gone from DNS",
    });
    expect(Date.now() - deletedAtMs).toBeLessThan(2_000);
  });

  it("keeps traffic flowing and restarts no container when an agent restarts", async () => {
    const [host] = agents();
    if (host === undefined) throw new Error("no agent host");
    const before = JSON.parse(await kubectl("get", "pods", "-l", "app=web", "-o", "json")) as { items: { metadata: { name: string }; status: { containerStatuses?: { restartCount: number; containerID?: string }[] } }[] };
    const pidFile = join(testbed.hostDir(host), "flotilla-agent.pid");
    const agentPid = Number(readFileSync(pidFile, "utf8"));
    process.kill(agentPid, "SIGKILL");
    // Gone, or a zombie nobody reaps (PID 1 here may not): either way no longer the agent.
    await waitFor(() => (!existsSync(`/proc/${agentPid}`) || readFileSync(`/proc/${agentPid}/stat`, "utf8").split(" ")[2] === "Z" ? true : undefined), { timeoutMs: 10_000, description: "the killed agent to exit" });
    const clusterIp = (await kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")).trim();
    // With the agent down, its node's rules and pods keep serving.
    expect((await inHost(host, "curl", "-s", "--max-time", "2", `http://${clusterIp}/`)).trim()).toMatch(/^web-/);
    await execFileAsync(join(repoRoot, "scripts/install.sh"), ["--server", `https://${hosts().find((candidate) => candidate.role === "server")?.ip ?? ""}:6443`, "--token", "saved-credentials-are-used", "--no-systemd", "--skip-preflight", "--prefix", repoRoot, "--data-dir", testbed.hostDir(host), "--netns", host.namespace, "--node-name", host.namespace, "--node-ip", host.ip, "--containerd-socket", join(testbed.hostDir(host), "containerd", "containerd.sock"), "--", "--cni-conf-dir", join(testbed.hostDir(host), "containerd", "cni", "net.d"), "--cgroup-parent", `/${host.namespace}-pods`, "--no-dns-forward"], { timeout: 60_000 });
    const restartedAtMs = Date.now();
    // The restarted agent is back once it has renewed its node Lease (every 10 s) after the restart.
    await waitFor(async () => (Date.parse(await kubectl("get", "lease", "-n", "kube-node-lease", host.namespace, "-o", "jsonpath={.spec.renewTime}")) > restartedAtMs ? true : undefined), {
      timeoutMs: 40_000,
      intervalMs: 500,
      description: "the restarted agent to renew its Lease",
    });
    await waitFor(async () => ((await pods("app=web")).filter((pod) => pod.ready).length === 3 ? true : undefined), { timeoutMs: 60_000, description: "web ready after the agent restart" });
    const after = JSON.parse(await kubectl("get", "pods", "-l", "app=web", "-o", "json")) as typeof before;
    const ids = (list: typeof before): string[] => list.items.flatMap((item) => (item.status.containerStatuses ?? []).map((status) => `${item.metadata.name}:${status.containerID ?? ""}:${status.restartCount}`)).sort();
    expect(ids(after)).toEqual(ids(before));
  });
});
