/**
 * The service proxy's nftables rules on a real host namespace: h0 is the node the rules are
 * written on, h1 and h2 stand in for pods (busybox httpd answering with their own name), h3 is a
 * machine outside the node calling a NodePort. Everything lives in namespaces this test creates.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointSlice, Service } from "../../../libs/api/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { ProxySyncer, runNft, tableName } from "../../../services/proxy/index.ts";
import { NetworkLab, type LabHost } from "../../harness/netns.ts";
import { waitFor } from "../../harness/wait.ts";

const clusterIp = "10.96.7.7";
const nodePort = 30080;
let lab: NetworkLab;
let node: LabHost;
let pods: LabHost[];
let client: LabHost;
let syncer: ProxySyncer;
const servers: ChildProcess[] = [];
const webRoot = mkdtempSync(join(tmpdir(), "flotilla-proxy-"));

function inHost(host: LabHost, argv: string[]): string {
  return execFileSync(lab.nsenter(host)[0] ?? "", [...lab.nsenter(host).slice(1), ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** One HTTP GET from `host` with curl (busybox-static's wget crashes on the host); the body, or the error's first line. */
function get(host: LabHost, url: string, sourceIp?: string): string {
  try {
    return inHost(host, ["curl", "-sS", "--max-time", "2", ...(sourceIp === undefined ? [] : ["--interface", sourceIp]), url]).trim();
  } catch (error) {
    return `error: ${String((error as { stderr?: string }).stderr ?? error).split("\n")[0]}`;
  }
}

function answersOf(host: LabHost, url: string, count: number, sourceIp?: string): Set<string> {
  return new Set(Array.from({ length: count }, () => get(host, url, sourceIp)));
}

function service(spec: Partial<NonNullable<Service["spec"]>> = {}): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: { clusterIP: clusterIp, clusterIPs: [clusterIp], type: "NodePort", ports: [{ name: "http", port: 80, protocol: "TCP", nodePort }], ...spec },
  };
}

function slice(ready: Record<string, boolean>): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: pods.filter((pod) => pod.name in ready).map((pod) => ({ addresses: [pod.ip], conditions: { ready: ready[pod.name] ?? false }, nodeName: "other" })),
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  };
}

beforeAll(async () => {
  lab = NetworkLab.create(4);
  [node, , , client] = lab.hosts as [LabHost, LabHost, LabHost, LabHost];
  pods = lab.hosts.slice(1, 3);
  inHost(node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  inHost(node, ["ip", "route", "add", "10.96.0.0/12", "dev", "eth0"]);
  for (const pod of pods) {
    const dir = join(webRoot, pod.name);
    execFileSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "index.html"), `${pod.name}\n`);
    servers.push(spawn(lab.nsenter(pod)[0] ?? "", [...lab.nsenter(pod).slice(1), "busybox", "httpd", "-f", "-p", "8080", "-h", dir], { stdio: "ignore" }));
    await waitFor(() => (get(node, `http://${pod.ip}:8080/`) === pod.name ? true : undefined), { timeoutMs: 10_000, description: `httpd on ${pod.name}` });
  }
  const nft = (script: string): Promise<void> => runNft(script, lab.nsenter(node));
  syncer = new ProxySyncer({ nodeName: "node-0", clusterCidr: "10.244.0.0/16", log: createLogger("proxy-test", { level: "silent" }), nft });
}, 60_000);

afterAll(() => {
  syncer.close();
  for (const server of servers) server.kill("SIGKILL");
  lab.destroy();
  rmSync(webRoot, { recursive: true, force: true });
});

describe("service proxy rules (nftables in a host namespace)", () => {
  it("sends ClusterIP traffic only to ready endpoints", async () => {
    syncer.onService({ type: "upsert", object: service() });
    syncer.onEndpointSlice({ type: "upsert", object: slice({ h1: true, h2: false }) });
    await syncer.syncNow();
    expect(answersOf(node, `http://${clusterIp}/`, 12)).toEqual(new Set(["h1"]));
  });

  it("balances over every ready endpoint once the second turns ready, within 1 s of the change", async () => {
    syncer.onEndpointSlice({ type: "upsert", object: slice({ h1: true, h2: true }) });
    await waitFor(() => (get(node, `http://${clusterIp}/`) === "h2" ? true : undefined), { timeoutMs: 1_000, intervalMs: 20, description: "h2 behind the ClusterIP" });
    expect(answersOf(node, `http://${clusterIp}/`, 30)).toEqual(new Set(["h1", "h2"]));
  });

  it("reaches the endpoints through a NodePort from another machine", () => {
    expect(answersOf(client, `http://${node.ip}:${nodePort}/`, 30)).toEqual(new Set(["h1", "h2"]));
  });

  it("answers a LoadBalancer's port on the node address servicelb lists in its status, from another machine", async () => {
    const balancer: Service = { ...service({ type: "LoadBalancer" }), status: { loadBalancer: { ingress: [{ ip: node.ip }] } } };
    syncer.onService({ type: "upsert", object: balancer });
    await syncer.syncNow();
    expect(answersOf(client, `http://${node.ip}/`, 30)).toEqual(new Set(["h1", "h2"]));
    syncer.onService({ type: "upsert", object: service() });
    await syncer.syncNow();
    expect(get(client, `http://${node.ip}/`)).toMatch(/^error: /);
  });

  it("keeps a client on one endpoint with sessionAffinity ClientIP", async () => {
    syncer.onService({ type: "upsert", object: service({ sessionAffinity: "ClientIP" }) });
    await syncer.syncNow();
    // A client address never used before: earlier tests' connections linger in conntrack
    // (TIME_WAIT), and a reused source port would follow its old NAT mapping, not the affinity.
    const freshClientIp = `${node.ip.split(".").slice(0, 3).join(".")}.250`;
    inHost(node, ["ip", "addr", "add", `${freshClientIp}/24`, "dev", "eth0"]);
    const answers = [...answersOf(node, `http://${clusterIp}/`, 15, freshClientIp)];
    expect(answers, answers.join(" | ")).toHaveLength(1);
  });

  it("refuses connections at once when a service has no ready endpoint", async () => {
    syncer.onService({ type: "upsert", object: service() });
    syncer.onEndpointSlice({ type: "upsert", object: slice({ h1: false, h2: false }) });
    await syncer.syncNow();
    // curl's exit 7 after a few ms: rejected at once, not a 2 s timeout (exit 28).
    expect(get(node, `http://${clusterIp}/`)).toMatch(/^error: curl: \(7\) Failed to connect .* after \d{1,3} ms/);
  });

  it("removes a deleted service's rules and no longer answers for it", async () => {
    syncer.onEndpointSlice({ type: "upsert", object: slice({ h1: true, h2: true }) });
    await syncer.syncNow();
    syncer.onService({ type: "delete", object: service() });
    await syncer.syncNow();
    const ruleset = inHost(node, ["nft", "list", "table", "ip", tableName]);
    expect(ruleset).not.toContain(clusterIp);
    expect(ruleset).not.toMatch(/chain (svc|ep|ext)_/);
  });
});
