/**
 * Certificate rotation end to end: a real API server whose serving certificate and admin
 * kubeconfig certificate are short-lived renews both before they expire, without a restart, and
 * the installed kubectl keeps working with the rewritten kubeconfig.
 *
 * Why minutes and not seconds: certificates are backdated 5 minutes for clock skew (libs/pki
 * clockSkewBackdateMs; the CA refuses a validity of 5 minutes or less) and renewed when a third
 * of notBefore..notAfter remains. With 301 s the first renewal is due (2 * 301 - 300) / 3 = 101 s
 * after issue, about 200 s before expiry, which is what the test checks; it does not wait out
 * the expiry.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../libs/log/index.ts";
import { parseKubeconfig } from "../../../libs/pki/index.ts";
import { startApiServer, type ApiServer } from "../../../services/apiserver/server.ts";
import { run } from "../../harness/process.ts";
import { StoreCluster } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

const kubectlBin = "/usr/bin/kubectl";
const validityMs = 301_000;
/** The first renewal is due about 101 s after issue (see above); this bounds the wait for it. */
const renewalWaitMs = 150_000;

interface Served {
  readonly serialNumber: string;
  readonly notAfterMs: number;
}

interface AdminCredentials {
  readonly caPem: string;
  readonly certificatePem: string;
  readonly keyPem: string;
}

function adminCredentials(kubeconfigPath: string): AdminCredentials {
  const kubeconfig = parseKubeconfig(readFileSync(kubeconfigPath, "utf8"));
  if (kubeconfig.credentials.kind !== "client-certificate") throw new Error("the admin kubeconfig has no client certificate");
  return { caPem: kubeconfig.caCertificatePem, certificatePem: kubeconfig.credentials.certificatePem, keyPem: kubeconfig.credentials.privateKeyPem };
}

/** The certificate the server presents now, verified against the cluster CA. */
async function servedCertificate(url: string, caPem: string): Promise<Served> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: caPem, servername: "localhost", checkServerIdentity: () => undefined }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve({ serialNumber: peer.serialNumber, notAfterMs: Date.parse(peer.valid_to) });
    });
    socket.on("error", reject);
  });
}

describe("certificate rotation of a running API server", () => {
  let cluster: StoreCluster;
  let server: ApiServer;
  let workDir: string;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation: "flotilla", size: 1 });
    workDir = mkdtempSync(join(tmpdir(), "flotilla-certs-"));
    const config = {
      storeEndpoints: [cluster.members[0]?.clientUrl ?? ""],
      listenAddress: "127.0.0.1",
      port: 0,
      dataDir: join(workDir, "data"),
      certificateNames: [],
      maxRequestsInflight: 400,
      requestTimeoutSeconds: 60,
      servingCertificateValidityMs: validityMs,
    };
    server = await startApiServer(config, createLogger("apiserver", { level: "warn", pretty: false }));
  });

  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it(
    "renews the serving and admin certificates before they expire, and kubectl keeps working",
    async () => {
      const first = adminCredentials(server.kubeconfigPath);
      const firstAdminSerial = new X509Certificate(first.certificatePem).serialNumber;
      const firstServed = await servedCertificate(server.url, first.caPem);
      expect(firstServed.notAfterMs - Date.now()).toBeLessThanOrEqual(validityMs);
      expect((await run(kubectlBin, ["--kubeconfig", server.kubeconfigPath, "get", "namespaces", "-o", "name"], { timeoutMs: 30_000 })).code).toBe(0);

      const renewedServed = await waitFor(
        async () => {
          const served = await servedCertificate(server.url, first.caPem);
          return served.serialNumber === firstServed.serialNumber ? undefined : served;
        },
        { timeoutMs: renewalWaitMs, intervalMs: 500, description: "a renewed serving certificate" },
      );
      const renewedAdmin = await waitFor(
        () => {
          const admin = adminCredentials(server.kubeconfigPath);
          return new X509Certificate(admin.certificatePem).serialNumber === firstAdminSerial ? undefined : admin;
        },
        { timeoutMs: renewalWaitMs, intervalMs: 500, description: "a renewed admin kubeconfig certificate" },
      );

      // Renewed before the old ones expired, with a later expiry, signed by the same CA.
      expect(Date.now()).toBeLessThan(firstServed.notAfterMs);
      expect(renewedServed.notAfterMs).toBeGreaterThan(firstServed.notAfterMs);
      const oldAdminNotAfterMs = Date.parse(new X509Certificate(first.certificatePem).validTo);
      expect(Date.parse(new X509Certificate(renewedAdmin.certificatePem).validTo)).toBeGreaterThan(oldAdminNotAfterMs);
      expect(renewedAdmin.caPem).toBe(first.caPem);
      expect(new X509Certificate(renewedAdmin.certificatePem).verify(new X509Certificate(first.caPem).publicKey)).toBe(true);

      // The server was not restarted: same URL; the rewritten kubeconfig works with kubectl.
      const listed = await run(kubectlBin, ["--kubeconfig", server.kubeconfigPath, "get", "namespaces", "-o", "name"], { timeoutMs: 30_000 });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain("namespace/default");
    },
    renewalWaitMs * 2 + 60_000,
  );
});
