import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa, nodeClientProfile, servingProfile, type ClusterCa } from "../../../libs/pki/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { renewalDueMs, type RotationTimer } from "../../apiserver/cert-rotation.ts";
import { startNodeApi, type NodeApiServer } from "../../nodeapi/server.ts";
import { NodeClient } from "./client.ts";
import { loadCredentials, saveCredentials, type NodeCredentials } from "./credentials.ts";
import { startNodeCertificateRenewal } from "./renewal.ts";

// RenewCertificate touches no storage: a store nobody answers on is enough.
const unreachableStore = ["http://127.0.0.1:1"];
const validityMs = 6 * 60_000;
const silent = createLogger("renewal-test", { level: "silent" });

/** A clock the test moves; the one scheduled renewal runs when the test says so. */
class SteppedTimer implements RotationTimer {
  currentMs = Date.now();
  scheduled: { atMs: number; run: () => Promise<void> } | undefined;
  readonly nowMs = (): number => this.currentMs;
  readonly schedule = (run: () => Promise<void>, delayMs: number): (() => void) => {
    const entry = { atMs: this.currentMs + delayMs, run };
    this.scheduled = entry;
    return () => {
      if (this.scheduled === entry) this.scheduled = undefined;
    };
  };

  async runDue(): Promise<void> {
    const entry = this.scheduled;
    if (entry === undefined) throw new Error("nothing scheduled");
    this.scheduled = undefined;
    this.currentMs = Math.max(this.currentMs, entry.atMs);
    await entry.run();
  }
}

describe("node certificate renewal", () => {
  let ca: ClusterCa;
  let server: NodeApiServer;
  let dataDir: string;

  beforeAll(async () => {
    ca = await createCa({ nowMs: Date.now() });
    const serving = await ca.issue(servingProfile("nodeapi", ["127.0.0.1"]), Date.now());
    server = await startNodeApi(
      { storeEndpoints: unreachableStore, ca, servingCertificateChainPem: serving.chainPem, servingPrivateKeyPem: serving.privateKeyPem, listenAddress: "127.0.0.1", port: 0, advertiseAddress: "127.0.0.1:0", replicaName: "test", nodeCertificateValidityMs: validityMs },
      silent,
    );
    dataDir = mkdtempSync(join(tmpdir(), "fl-renewal-"));
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("renews when a third of the lifetime remains, saves the new certificate and calls with it", async () => {
    const issued = await ca.issue({ ...nodeClientProfile("node-a"), validityMs }, Date.now());
    const credentials: NodeCredentials = { nodeName: "node-a", certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, caCertificatePem: ca.certificatePem, replicas: [`127.0.0.1:${server.port}`] };
    await saveCredentials(dataDir, credentials);
    const client = new NodeClient(credentials, silent);
    const timer = new SteppedTimer();
    const rotator = startNodeCertificateRenewal(client, dataDir, { timer, logger: silent });
    try {
      expect(timer.scheduled?.atMs).toBe(renewalDueMs(issued));
      await timer.runDue();
      expect(rotator.renewals).toBe(1);
      const renewed = new X509Certificate(client.credentials.certificatePem);
      expect(renewed.serialNumber.toLowerCase()).not.toBe(issued.serialHex.toLowerCase());
      expect(renewed.subject.split("\n")).toContain("CN=system:node:node-a");
      expect(loadCredentials(dataDir, "node-a")?.certificatePem).toBe(client.credentials.certificatePem);
      // The next renewal is planned from the new certificate's window.
      expect(timer.scheduled?.atMs).toBe(renewalDueMs({ notBeforeMs: Date.parse(renewed.validFrom), notAfterMs: Date.parse(renewed.validTo) }));
      // A call after the switch is made with the new certificate, which the node API accepts.
      const again = await client.renewCertificate();
      expect(again.certificatePem).not.toBe(client.credentials.certificatePem);
    } finally {
      rotator.stop();
      client.close();
    }
  });

  it("useCredentials() refuses another node's credentials", async () => {
    const issued = await ca.issue(nodeClientProfile("node-a"), Date.now());
    const credentials: NodeCredentials = { nodeName: "node-a", certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, caCertificatePem: ca.certificatePem, replicas: [`127.0.0.1:${server.port}`] };
    const client = new NodeClient(credentials, silent);
    expect(() => client.useCredentials({ ...credentials, nodeName: "node-b" })).toThrow(/node-b/);
    client.close();
  });
});
