import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, get as httpsGet, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClientProfile, buildKubeconfig, clockSkewBackdateMs, createCa, parseKubeconfig, servingProfile, type ClusterCa } from "../../libs/pki/index.ts";
import {
  CertificateRotator,
  certificateWindow,
  renewalDueMs,
  retryDelayMs,
  servingCertificateRotator,
  startAdminKubeconfigRotation,
  startServingRotation,
  timerDelayMsMax,
  type RotationTimer,
} from "./cert-rotation.ts";
import { servingCertificateFileName } from "./certs.ts";

/** A manual clock: scheduled work runs only when the test advances past its time. */
class ManualTimer implements RotationTimer {
  #nowMs: number;
  #pending: { atMs: number; run: () => Promise<void>; cancelled: boolean }[] = [];

  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  readonly nowMs = (): number => this.#nowMs;

  readonly schedule = (run: () => Promise<void>, delayMs: number): (() => void) => {
    const entry = { atMs: this.#nowMs + delayMs, run, cancelled: false };
    this.#pending.push(entry);
    return () => (entry.cancelled = true);
  };

  get nextAtMs(): number | undefined {
    return this.#pending.filter((entry) => !entry.cancelled).sort((a, b) => a.atMs - b.atMs)[0]?.atMs;
  }

  /** Moves the clock to `toMs`, running what falls due on the way (bounded). */
  async advanceTo(toMs: number): Promise<void> {
    for (let step = 0; step < 1_000; step++) {
      const next = this.#pending.filter((entry) => !entry.cancelled && entry.atMs <= toMs).sort((a, b) => a.atMs - b.atMs)[0];
      if (next === undefined) break;
      next.cancelled = true;
      this.#nowMs = Math.max(this.#nowMs, next.atMs);
      await next.run();
    }
    this.#nowMs = Math.max(this.#nowMs, toMs);
  }
}

const minuteMs = 60_000;

describe("renewalDueMs", () => {
  it("is when a third of the stated lifetime remains", () => {
    expect(renewalDueMs({ notBeforeMs: 0, notAfterMs: 300 })).toBe(200);
  });
});

describe("CertificateRotator", () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = await createCa({ nowMs: Date.now() });
  });

  it("renews only once the due time is reached, then from the new certificate's window", async () => {
    const timer = new ManualTimer(Date.now());
    const validityMs = 10 * minuteMs;
    const applied: number[] = [];
    const rotator = new CertificateRotator({ issue: (nowMs) => ca.issue({ ...servingProfile("x", ["127.0.0.1"]), validityMs }, nowMs), apply: (issued) => void applied.push(issued.notAfterMs), timer });
    const first = await ca.issue({ ...servingProfile("x", ["127.0.0.1"]), validityMs }, timer.nowMs());
    rotator.start(first);
    const dueMs = renewalDueMs(first);
    await timer.advanceTo(dueMs - 1);
    expect(rotator.renewals).toBe(0);
    await timer.advanceTo(dueMs);
    expect(rotator.renewals).toBe(1);
    expect(applied[0]).toBe(dueMs + validityMs);
    // Lifetime 15 min (10 + 5 backdated): the next renewal comes 5 min before the new one expires.
    expect(timer.nextAtMs).toBe(dueMs + validityMs - (validityMs + clockSkewBackdateMs) / 3);
    rotator.stop();
    expect(timer.nextAtMs).toBeUndefined();
  });

  it("retries a failed renewal after retryDelayMs instead of giving up or spinning", async () => {
    const timer = new ManualTimer(0);
    let failures = 0;
    const errors: unknown[] = [];
    const rotator = new CertificateRotator({
      issue: () => (failures++ < 2 ? Promise.reject(new Error("CA unavailable")) : ca.issue(servingProfile("x", ["127.0.0.1"]), Date.now())),
      apply: () => undefined,
      onError: (error) => errors.push(error),
      timer,
    });
    rotator.start({ notBeforeMs: 0, notAfterMs: 3_000 });
    await timer.advanceTo(2_000);
    expect(errors).toHaveLength(1);
    expect(timer.nextAtMs).toBe(2_000 + retryDelayMs);
    await timer.advanceTo(2_000 + 2 * retryDelayMs);
    expect(errors).toHaveLength(2);
    expect(rotator.renewals).toBe(1);
    rotator.stop();
  });

  it("never sets a timer further out than a day, measuring again at each step", async () => {
    const timer = new ManualTimer(0);
    const rotator = new CertificateRotator({ issue: () => Promise.reject(new Error("unused")), apply: () => undefined, timer });
    rotator.start({ notBeforeMs: 0, notAfterMs: 300 * 24 * 60 * minuteMs });
    expect(timer.nextAtMs).toBe(timerDelayMsMax);
    await timer.advanceTo(timerDelayMsMax);
    expect(timer.nextAtMs).toBe(2 * timerDelayMsMax);
    expect(rotator.renewals).toBe(0);
    rotator.stop();
  });
});

describe("servingCertificateRotator on a live HTTPS server", () => {
  let ca: ClusterCa;
  let server: Server;
  let port: number;
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-rotation-"));

  beforeAll(async () => {
    ca = await createCa({ nowMs: Date.now() });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function servedSerial(): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, ca: ca.certificatePem, servername: "localhost" }, () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.destroy();
        resolve(serial.toLowerCase());
      });
      socket.on("error", reject);
    });
  }

  it("serves a renewed certificate to new connections without a restart, and writes it to disk", async () => {
    const timer = new ManualTimer(Date.now());
    const validityMs = 6 * minuteMs;
    const first = await ca.issue({ ...servingProfile("flotilla-apiserver", ["127.0.0.1", "localhost"]), validityMs }, timer.nowMs());
    server = createServer({ cert: first.chainPem, key: first.privateKeyPem }, (_, response) => response.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    const rotator = servingCertificateRotator(ca, ["127.0.0.1", "localhost"], dataDir, (material) => server.setSecureContext(material), { validityMs, timer });
    rotator.start(certificateWindow(first.certificatePem));
    const firstSerial = new X509Certificate(first.certificatePem).serialNumber.toLowerCase();
    expect(await servedSerial()).toBe(firstSerial);
    await timer.advanceTo(renewalDueMs(first));
    expect(rotator.renewals).toBe(1);
    const renewedPem = readFileSync(join(dataDir, servingCertificateFileName), "utf8");
    const renewedSerial = new X509Certificate(renewedPem).serialNumber.toLowerCase();
    expect(renewedSerial).not.toBe(firstSerial);
    expect(await servedSerial()).toBe(renewedSerial);
    rotator.stop();
  });
});

describe("startServingRotation (what `flotilla server` runs)", () => {
  it("renews the serving certificate and still verifies client certificates against the cluster CA", async () => {
    const ca = await createCa({ nowMs: Date.now() });
    const dataDir = mkdtempSync(join(tmpdir(), "flotilla-rotation-"));
    const timer = new ManualTimer(Date.now());
    const validityMs = 6 * minuteMs;
    const names = ["127.0.0.1", "localhost"];
    const first = await ca.issue({ ...servingProfile("flotilla-apiserver", names), validityMs }, timer.nowMs());
    const client = await ca.issue(adminClientProfile(), timer.nowMs());
    const server = createServer({ cert: first.chainPem, key: first.privateKeyPem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      response.end((request.socket as TLSSocket).authorized ? "authorized" : "anonymous");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const renewed: number[] = [];
    const rotator = startServingRotation(server, ca, { names, certificateChainPem: first.chainPem }, dataDir, { validityMs, timer, onRenewed: (window) => renewed.push(window.notAfterMs) });
    const ask = (): Promise<{ serial: string; body: string }> =>
      new Promise((resolve, reject) => {
        const request = httpsGet({ host: "127.0.0.1", port, path: "/", ca: ca.certificatePem, cert: client.certificatePem, key: client.privateKeyPem, servername: "localhost", agent: false }, (response) => {
          const serial = (response.socket as TLSSocket).getPeerCertificate().serialNumber.toLowerCase();
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
          response.on("end", () => resolve({ serial, body }));
        });
        request.on("error", reject);
      });
    try {
      const before = await ask();
      expect(before.body).toBe("authorized");
      await timer.advanceTo(renewalDueMs(first));
      expect(renewed).toHaveLength(1);
      const after = await ask();
      expect(after.serial).not.toBe(before.serial);
      expect(after.body).toBe("authorized");
    } finally {
      rotator.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("startAdminKubeconfigRotation", () => {
  async function kubeconfigWith(ca: ClusterCa, nowMs: number, validityMs: number): Promise<{ path: string; dataDir: string; serial: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), "flotilla-admin-rotation-"));
    const admin = await ca.issue({ ...adminClientProfile(), validityMs }, nowMs);
    const path = join(dataDir, "admin.kubeconfig");
    const credentials = { kind: "client-certificate" as const, certificatePem: admin.certificatePem, privateKeyPem: admin.privateKeyPem };
    writeFileSync(path, buildKubeconfig({ clusterName: "flotilla", serverUrl: "https://10.0.0.5:6443", caCertificatePem: ca.certificatePem, userName: "admin", credentials, namespace: "shop" }));
    return { path, dataDir, serial: new X509Certificate(admin.certificatePem).serialNumber };
  }

  function certificateIn(path: string): X509Certificate {
    const parsed = parseKubeconfig(readFileSync(path, "utf8"));
    if (parsed.credentials.kind !== "client-certificate") throw new Error("no client certificate");
    return new X509Certificate(parsed.credentials.certificatePem);
  }

  it("rewrites the kubeconfig with a new admin certificate when a third of its lifetime remains, keeping its server and namespace", async () => {
    const ca = await createCa({ nowMs: Date.now() });
    const timer = new ManualTimer(Date.now());
    const validityMs = 9 * minuteMs;
    const { path, dataDir, serial } = await kubeconfigWith(ca, timer.nowMs(), validityMs);
    const rotator = await startAdminKubeconfigRotation(path, ca, { validityMs, timer });
    try {
      expect(rotator).toBeDefined();
      await timer.advanceTo(timer.nowMs() + minuteMs);
      expect(certificateIn(path).serialNumber).toBe(serial);
      await timer.advanceTo(renewalDueMs(certificateWindow(certificateIn(path).toString())));
      const renewed = certificateIn(path);
      expect(renewed.serialNumber).not.toBe(serial);
      expect(renewed.subject).toContain("CN=admin");
      expect(renewed.subject).toContain("O=system:masters");
      expect(renewed.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
      const parsed = parseKubeconfig(readFileSync(path, "utf8"));
      expect(parsed.serverUrl).toBe("https://10.0.0.5:6443");
      expect(parsed.namespace).toBe("shop");
    } finally {
      rotator?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("leaves a kubeconfig whose certificate another CA signed alone", async () => {
    const ca = await createCa({ nowMs: Date.now() });
    const other = await createCa({ nowMs: Date.now(), commonName: "someone-else" });
    const { path, dataDir } = await kubeconfigWith(other, Date.now(), 9 * minuteMs);
    try {
      expect(await startAdminKubeconfigRotation(path, ca, { timer: new ManualTimer(Date.now()) })).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
