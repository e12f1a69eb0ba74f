/**
 * End to end on the one-machine testbed (1 server, 3 agent hosts, real containerd, VXLAN and
 * nftables): the agents' ingress proxy (an Ingress with two hosts and two paths, over HTTP and
 * HTTPS with a TLS Secret, route changes from the watch), servicelb (a LoadBalancer Service on
 * the nodes' addresses, following the enablelb label) and the `kubernetes` EndpointSlice (and
 * the API server through its ClusterIP). Driven
 * with the installed kubectl and curl from the machine itself, outside every agent host.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa, servingProfile } from "../../../libs/pki/index.ts";
import { TestbedCluster, type TestbedHost } from "../../harness/testbed.ts";
import { waitFor } from "../../harness/wait.ts";

const execFileAsync = promisify(execFile);
const testbed = new TestbedCluster("n");
const workDir = mkdtempSync(join(tmpdir(), "flotilla-e2e-net-"));
const caFile = join(workDir, "ca.crt");
type Host = TestbedHost;

const agents = (): Host[] => testbed.agents();
const kubectl = async (...args: string[]): Promise<string> => testbed.kubectl(...args);

async function kubectlApply(manifest: string): Promise<void> {
  const applied = await testbed.kubectlIn(manifest, "apply", "-f", "-");
  if (applied.code !== 0) throw new Error(`kubectl apply exited ${String(applied.code)}: ${applied.stdout}`);
}

/** One request with curl from this machine; the body, or `error <curl exit code>`. */
async function curl(...args: string[]): Promise<string> {
  try {
    return (await execFileAsync("curl", ["-sS", "--fail", "--max-time", "3", ...args], { encoding: "utf8" })).stdout.trim();
  } catch (error) {
    return `error ${String((error as { code?: unknown }).code)}`;
  }
}

const viaIngress = (host: Host, site: string, path: string): Promise<string> => curl("-H", `Host: ${site}`, `http://${host.ip}${path}`);
const viaIngressTls = (host: Host, site: string, path: string): Promise<string> => curl("--cacert", caFile, "--resolve", `${site}:443:${host.ip}`, `https://${site}${path}`);

/** A CGI script that streams four lines over about 4 s: a response in flight while routes change. */
const slowScript = ["#!/bin/sh", 'echo "Content-Type: text/plain"', 'echo ""', "for i in 1 2 3 4; do echo part $i; sleep 1; done"].join("\n");

/**
 * A Deployment whose busybox httpd answers every file with the Deployment's name, and streams
 * /cgi-bin/slow from a ConfigMap.
 */
function backend(app: string): string {
  const script = `mkdir -p /w/b /w/docs && for f in /w/index.html /w/b/x /w/docs/exact; do echo ${app} > $f; done && exec httpd -f -p 8080 -h /w`;
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: ${app} } } }
      containers:
        - name: httpd
          image: flotilla/busybox:1
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "${script}"]
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
          volumeMounts: [{ name: cgi, mountPath: /w/cgi-bin }]
      volumes: [{ name: cgi, configMap: { name: ${app}-cgi, defaultMode: 493 } }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: ${app}-cgi }
data:
  slow: ${JSON.stringify(slowScript)}
---
apiVersion: v1
kind: Service
metadata: { name: ${app} }
spec:
  selector: { app: ${app} }
  ports: [{ name: http, port: 80, targetPort: http }]
`;
}

const ingress = (betaPath: string): string => `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: sites }
spec:
  tls: [{ hosts: [shop.test, docs.test], secretName: sites-tls }]
  rules:
    - host: shop.test
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }
          - { path: ${betaPath}, pathType: Prefix, backend: { service: { name: beta, port: { name: http } } } }
    - host: docs.test
      http:
        paths:
          - { path: /docs/exact, pathType: Exact, backend: { service: { name: beta, port: { number: 80 } } } }
          - { path: /, pathType: Prefix, backend: { service: { name: alpha, port: { number: 80 } } } }
`;

const balancer = `
apiVersion: v1
kind: Service
metadata: { name: alpha-lb }
spec:
  type: LoadBalancer
  selector: { app: alpha }
  ports: [{ name: http, port: 8081, targetPort: http }]
`;

async function readyPods(app: string): Promise<number> {
  const list = JSON.parse(await kubectl("get", "pods", "-l", `app=${app}`, "-o", "json")) as { items: { status: { conditions?: { type: string; status: string }[] } }[] };
  return list.items.filter((item) => item.status.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true).length;
}

async function loadBalancerIps(): Promise<string[]> {
  return (await kubectl("get", "service", "alpha-lb", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")).trim().split(" ").filter((ip) => ip !== "").sort();
}

beforeAll(async () => {
  const nowMs = Date.now();
  const ca = await createCa({ nowMs, commonName: "e2e-ingress-ca" });
  const certificate = await ca.issue(servingProfile("shop.test", ["shop.test", "docs.test"]), nowMs);
  writeFileSync(caFile, ca.certificatePem);
  writeFileSync(join(workDir, "tls.crt"), certificate.certificatePem);
  writeFileSync(join(workDir, "tls.key"), certificate.privateKeyPem);
  // Three agents and two replicas per backend: one node holds no pod of a backend, so its ingress
  // reaches them across the overlay.
  await testbed.up({ servers: 1, agents: 3 });
  await kubectl("create", "secret", "tls", "sites-tls", "--cert", join(workDir, "tls.crt"), "--key", join(workDir, "tls.key"));
  await kubectlApply([backend("alpha"), backend("beta"), ingress("/b"), balancer].join("\n---\n"));
  for (const app of ["alpha", "beta"]) await waitFor(async () => ((await readyPods(app)) === 2 ? true : undefined), { timeoutMs: 120_000, description: `2 ready ${app} pods` });
}, 600_000);

afterAll(async () => {
  await testbed.down();
  rmSync(workDir, { recursive: true, force: true });
}, 200_000);

describe("the agents' ingress proxy on the testbed", () => {
  it("routes two hosts and two paths to the right Service on every node over HTTP", async () => {
    for (const host of agents()) {
      await waitFor(async () => ((await viaIngress(host, "shop.test", "/b/x")) === "beta" ? true : undefined), { timeoutMs: 20_000, description: `the route on ${host.name}` });
      expect(await viaIngress(host, "shop.test", "/")).toBe("alpha");
      expect(await viaIngress(host, "shop.test", "/b/x")).toBe("beta");
      expect(await viaIngress(host, "docs.test", "/docs/exact")).toBe("beta");
      expect(await viaIngress(host, "docs.test", "/")).toBe("alpha");
      // An unknown host has no route: 404 (curl --fail exits 22).
      expect(await viaIngress(host, "other.test", "/")).toBe("error 22");
    }
  });

  it("terminates TLS with the certificate of the Secret the Ingress names", async () => {
    for (const host of agents()) {
      await waitFor(async () => ((await viaIngressTls(host, "shop.test", "/")) === "alpha" ? true : undefined), { timeoutMs: 20_000, description: `HTTPS on ${host.name}` });
      expect(await viaIngressTls(host, "shop.test", "/b/x")).toBe("beta");
      expect(await viaIngressTls(host, "docs.test", "/docs/exact")).toBe("beta");
    }
  });

  it("lists the nodes' addresses in the Ingress status and keeps the default IngressClass flotilla", async () => {
    const addresses = agents().map((host) => host.ip).sort();
    await waitFor(async () => ((await kubectl("get", "ingress", "sites", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")).trim().split(" ").sort().join(",") === addresses.join(",") ? true : undefined), {
      timeoutMs: 20_000,
      description: "the Ingress status",
    });
    expect((await kubectl("get", "ingressclass", "flotilla", "-o", "jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}")).trim()).toBe("true");
  });

  it("follows a changed Ingress from the watch", async () => {
    const [host] = agents();
    if (host === undefined) throw new Error("no agent host");
    await kubectlApply(ingress("/docs"));
    await waitFor(async () => ((await viaIngress(host, "shop.test", "/docs/exact")) === "beta" ? true : undefined), { timeoutMs: 10_000, intervalMs: 200, description: "the new path" });
    expect(await viaIngress(host, "shop.test", "/b/x")).toBe("alpha");
  });
});

/** Streams one request through the ingress; resolves at the first line and again at the end. */
function streamThroughIngress(host: Host, site: string, path: string): { firstLine: Promise<void>; done: Promise<{ body: string; endedAtMs: number }> } {
  const child = spawn("curl", ["-sS", "-N", "--max-time", "20", "-H", `Host: ${site}`, `http://${host.ip}${path}`], { stdio: ["ignore", "pipe", "inherit"] });
  let body = "";
  let markFirst: () => void = () => undefined;
  const firstLine = new Promise<void>((resolve) => (markFirst = resolve));
  child.stdout.on("data", (chunk: Buffer) => {
    body += chunk.toString();
    if (body.includes("\n")) markFirst();
  });
  const done = new Promise<{ body: string; endedAtMs: number }>((resolve) => child.on("close", () => {
    markFirst();
    resolve({ body, endedAtMs: Date.now() });
  }));
  return { firstLine, done };
}

describe("route changes with a response in flight", () => {
  it("finish the response whole while the new routes already serve other requests", async () => {
    const [host] = agents();
    if (host === undefined) throw new Error("no agent host");
    const stream = streamThroughIngress(host, "shop.test", "/cgi-bin/slow");
    await stream.firstLine;
    await kubectlApply(ingress("/b"));
    await waitFor(async () => ((await viaIngress(host, "shop.test", "/b/x")) === "beta" ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, description: "the changed route" });
    const routeChangedAtMs = Date.now();
    const { body, endedAtMs } = await stream.done;
    expect(body).toBe("part 1\npart 2\npart 3\npart 4\n");
    // The change was live before the stream ended: it really was in flight across the change.
    expect(routeChangedAtMs).toBeLessThan(endedAtMs);
  });
});

describe("servicelb on the testbed", () => {
  it("answers a LoadBalancer Service on every node's address and lists them in its status", async () => {
    const addresses = agents().map((host) => host.ip).sort();
    await waitFor(async () => ((await loadBalancerIps()).join(",") === addresses.join(",") ? true : undefined), { timeoutMs: 20_000, description: "the LoadBalancer status" });
    for (const ip of addresses) {
      await waitFor(async () => ((await curl(`http://${ip}:8081/`)) === "alpha" ? true : undefined), { timeoutMs: 10_000, description: `alpha-lb on ${ip}` });
    }
  });

  it("narrows to the nodes labelled svccontroller.k3s.cattle.io/enablelb=true", async () => {
    const [chosen] = agents();
    if (chosen === undefined) throw new Error("no agent host");
    await kubectl("label", "node", chosen.namespace, "svccontroller.k3s.cattle.io/enablelb=true");
    await waitFor(async () => ((await loadBalancerIps()).join(",") === chosen.ip ? true : undefined), { timeoutMs: 20_000, description: "the status with the labelled node only" });
  });
});

describe("the kubernetes Service", () => {
  it("has an EndpointSlice mirrored from its Endpoints", async () => {
    const endpoints = (await kubectl("get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[0].addresses[*].ip}")).trim();
    const slice = JSON.parse(await kubectl("get", "endpointslice", "kubernetes", "-o", "json")) as { metadata: { labels?: Record<string, string> }; endpoints: { addresses: string[] }[]; ports: { port: number }[] };
    expect(slice.metadata.labels?.["kubernetes.io/service-name"]).toBe("kubernetes");
    expect(slice.endpoints.flatMap((endpoint) => endpoint.addresses).join(" ")).toBe(endpoints);
    expect(endpoints).not.toBe("");
  });

  it("reaches the API server through its ClusterIP from an agent host (the proxy follows the slice)", async () => {
    const [host] = agents();
    if (host === undefined) throw new Error("no agent host");
    const clusterIp = (await kubectl("get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP}")).trim();
    // Any HTTP status proves the TLS connection reached an API server; 000 would mean it did not.
    const status = await testbed.inHost(host, "curl", "-sk", "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code}", `https://${clusterIp}/readyz`);
    expect(status).toMatch(/^[2-5]\d\d$/);
  });
});
