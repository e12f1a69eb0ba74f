import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClientProfile, createCa, servingProfile } from "./ca.ts";
import type { ClusterCa, IssuedCertificate } from "./ca.ts";
import { buildKubeconfig, kubeconfigObject, parseKubeconfig } from "./kubeconfig.ts";
import type { KubeconfigParams } from "./kubeconfig.ts";

const kubectl = "/usr/bin/kubectl";
const kubectlTimeoutMs = 20_000;
const execFileAsync = promisify(execFile);
const nowMs = Date.now();
let ca: ClusterCa;
let admin: IssuedCertificate;
let serving: IssuedCertificate;
let directory: string;
let kubeconfigFiles = 0;

beforeAll(async () => {
  ca = await createCa({ nowMs });
  admin = await ca.issue(adminClientProfile(), nowMs);
  serving = await ca.issue(servingProfile("flotilla-apiserver", ["localhost", "127.0.0.1"]), nowMs);
  directory = await mkdtemp(join(tmpdir(), "flotilla-kubeconfig-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function certificateParams(serverUrl = "https://127.0.0.1:6443"): KubeconfigParams {
  return {
    clusterName: "flotilla",
    serverUrl,
    caCertificatePem: ca.certificatePem,
    userName: "admin",
    credentials: { kind: "client-certificate", certificatePem: admin.certificatePem, privateKeyPem: admin.privateKeyPem },
  };
}

async function runKubectl(kubeconfigText: string, args: readonly string[]): Promise<string> {
  kubeconfigFiles += 1;
  const file = join(directory, `kubeconfig-${kubeconfigFiles}.yaml`);
  await writeFile(file, kubeconfigText, { mode: 0o600 });
  const { stdout } = await execFileAsync(kubectl, [...args, "--kubeconfig", file], {
    timeout: kubectlTimeoutMs,
    env: { ...process.env, HOME: directory },
  });
  return stdout;
}

describe("kubeconfig text", () => {
  it("embeds the CA, the server and the client certificate under one current context", () => {
    const config = kubeconfigObject(certificateParams()) as { users: [{ user: Record<string, string> }]; "current-context": string };
    expect(config["current-context"]).toBe("admin@flotilla");
    expect(Buffer.from(config.users[0].user["client-key-data"] ?? "", "base64").toString()).toBe(admin.privateKeyPem);
  });

  it("parses back to what it was built from", () => {
    const params = { ...certificateParams(), namespace: "kube-system" };
    expect(parseKubeconfig(buildKubeconfig(params))).toEqual({ ...params, contextName: "admin@flotilla" });
    const tokenParams: KubeconfigParams = { ...certificateParams(), credentials: { kind: "token", token: "abc123.secret" } };
    expect(parseKubeconfig(buildKubeconfig(tokenParams)).credentials).toEqual({ kind: "token", token: "abc123.secret" });
  });

  it("refuses a plain-HTTP server URL", () => {
    expect(() => buildKubeconfig(certificateParams("http://127.0.0.1:6443"))).toThrow(/must be https/);
  });
});

describe.skipIf(!existsSync(kubectl))("kubectl reads the kubeconfig", () => {
  let server: Server;
  let serverUrl: string;

  beforeAll(async () => {
    // An API server stand-in: it names the client certificate's subject or echoes the bearer token.
    server = createServer(
      { cert: serving.chainPem, key: serving.privateKeyPem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: false },
      (request, response) => {
        const socket = request.socket as TLSSocket;
        const subject = socket.authorized ? socket.getPeerCertificate().subject : undefined;
        const who = subject === undefined ? `token ${request.headers.authorization ?? "none"}` : `CN=${subject.CN} O=${String(subject.O)}`;
        response.end(`ok ${request.url ?? ""} ${who}`);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("kubectl config view accepts it and shows the server, user and context", async () => {
    const text = buildKubeconfig(certificateParams(serverUrl));
    const view = JSON.parse(await runKubectl(text, ["config", "view", "--raw", "-o", "json"])) as {
      "current-context": string;
      clusters: [{ cluster: { server: string; "certificate-authority-data": string } }];
      users: [{ name: string; user: { "client-certificate-data": string } }];
    };
    expect(view["current-context"]).toBe("admin@flotilla");
    expect(view.clusters[0].cluster.server).toBe(serverUrl);
    expect(Buffer.from(view.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe(ca.certificatePem);
    expect(Buffer.from(view.users[0].user["client-certificate-data"], "base64").toString()).toBe(admin.certificatePem);
  });

  it("kubectl trusts the server through the CA and authenticates with the admin certificate", async () => {
    const output = await runKubectl(buildKubeconfig(certificateParams(serverUrl)), ["get", "--raw", "/healthz"]);
    expect(output.trim()).toBe("ok /healthz CN=admin O=system:masters");
  });

  it("kubectl sends the bearer token of a token kubeconfig", async () => {
    const params: KubeconfigParams = { ...certificateParams(serverUrl), credentials: { kind: "token", token: "abc123.0123456789abcdef" } };
    const output = await runKubectl(buildKubeconfig(params), ["get", "--raw", "/healthz"]);
    expect(output.trim()).toBe("ok /healthz token Bearer abc123.0123456789abcdef");
  });

  it("kubectl refuses the server when the kubeconfig holds another CA", async () => {
    const otherCa = await createCa({ nowMs });
    const text = buildKubeconfig({ ...certificateParams(serverUrl), caCertificatePem: otherCa.certificatePem });
    await expect(runKubectl(text, ["get", "--raw", "/healthz"])).rejects.toThrow(/certificate signed by unknown authority|x509/);
  });
});
