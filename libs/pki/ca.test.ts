import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterCa, adminClientProfile, caValidityMsDefault, clockSkewBackdateMs, createCa, leafValidityMsDefault, nodeClientProfile, servingProfile } from "./ca.ts";
import { certificateInfo, certificateSha256Hex, needsRenewal } from "./certificate.ts";
import { createCertificateRequest } from "./csr.ts";
import { caCertificateFileName, caKeyFileName, loadCa, loadOrCreateCa, saveCa } from "./files.ts";
import { generateKeyPairPem } from "./keys.ts";

const dayMs = 24 * 60 * 60 * 1000;
// A fixed clock: whole seconds, because certificates keep no milliseconds.
const nowMs = Date.UTC(2030, 0, 15, 12, 0, 0);
let ca: ClusterCa;
let otherCa: ClusterCa;

beforeAll(async () => {
  ca = await createCa({ nowMs });
  otherCa = await createCa({ nowMs, commonName: "someone-else" });
});

describe("createCa", () => {
  it("makes a self-signed CA certificate valid for ten years from now", () => {
    const info = certificateInfo(ca.certificatePem);
    expect(info.isCa).toBe(true);
    expect(info.subjectCommonName).toBe(`flotilla-ca@${nowMs / 1000}`);
    expect(info.issuerCommonName).toBe(info.subjectCommonName);
    expect(info.notAfterMs).toBe(nowMs + caValidityMsDefault);
    expect(info.notBeforeMs).toBe(nowMs - clockSkewBackdateMs);
    expect(ca.notAfterMs).toBe(info.notAfterMs);
    const certificate = new X509Certificate(ca.certificatePem);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
  });

  it("reports the SHA-256 of the certificate's DER as its hash", () => {
    const der = new X509Certificate(ca.certificatePem).raw;
    expect(ca.hashHex).toBe(createHash("sha256").update(der).digest("hex"));
    expect(ca.hashHex).toBe(certificateSha256Hex(ca.certificatePem));
    expect(ca.hashHex).not.toBe(otherCa.hashHex);
  });

  it("does not show its private key when logged", () => {
    const shown = JSON.stringify(ca) + String(Object.values(ca));
    expect(shown).not.toContain("PRIVATE KEY");
    expect(ca.exportPrivateKeyPem()).toContain("BEGIN PRIVATE KEY");
  });
});

describe("ClusterCa.fromPem", () => {
  it("loads a CA from its own certificate and key", async () => {
    const loaded = await ClusterCa.fromPem(ca.certificatePem, ca.exportPrivateKeyPem());
    expect(loaded.hashHex).toBe(ca.hashHex);
  });

  it("refuses a key that is not the CA's", async () => {
    await expect(ClusterCa.fromPem(ca.certificatePem, otherCa.exportPrivateKeyPem())).rejects.toThrow(/does not match/);
  });

  it("refuses a leaf certificate as a CA", async () => {
    const leaf = await ca.issue(adminClientProfile(), nowMs);
    await expect(ClusterCa.fromPem(leaf.certificatePem, leaf.privateKeyPem)).rejects.toThrow(/CA:TRUE/);
  });

  it("refuses text that is not a certificate", async () => {
    await expect(ClusterCa.fromPem("hello", ca.exportPrivateKeyPem())).rejects.toThrow(/expected one PEM certificate, found 0/);
  });
});

describe("issuing certificates", () => {
  it("a serving certificate carries its DNS names and IP addresses and a one-year validity", async () => {
    const issued = await ca.issue(servingProfile("server-1", ["server-1.lan", "localhost", "10.0.0.5", "fd00::5"]), nowMs);
    const info = certificateInfo(issued.certificatePem);
    expect(info.dnsNames).toEqual(["server-1.lan", "localhost"]);
    expect(info.ipAddresses).toEqual(["10.0.0.5", "fd00::5"]);
    expect(info.notAfterMs).toBe(nowMs + leafValidityMsDefault);
    expect(issued.notAfterMs).toBe(info.notAfterMs);
    expect(issued.chainPem).toBe(issued.certificatePem + ca.certificatePem);
    expect(new X509Certificate(issued.certificatePem).verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
  });

  it("a node certificate says CN=system:node:<name>, O=system:nodes", async () => {
    const info = certificateInfo((await ca.issue(nodeClientProfile("rpi-3"), nowMs)).certificatePem);
    expect([info.subjectCommonName, info.subjectOrganizations]).toEqual(["system:node:rpi-3", ["system:nodes"]]);
  });

  it("never issues past the CA's own notAfter", async () => {
    const shortCa = await createCa({ nowMs, validityMs: 30 * dayMs });
    const issued = await shortCa.issue(adminClientProfile(), nowMs);
    expect(issued.notAfterMs).toBe(shortCa.notAfterMs);
  });

  it("refuses to issue once the CA has expired", async () => {
    const shortCa = await createCa({ nowMs, validityMs: 30 * dayMs });
    await expect(shortCa.issue(adminClientProfile(), nowMs + 31 * dayMs)).rejects.toThrow(/cluster CA expired/);
  });

  it("refuses profiles that would make unusable certificates", async () => {
    await expect(ca.issue(servingProfile("no-names", []), nowMs)).rejects.toThrow(/at least one DNS name or IP/);
    await expect(ca.issue(servingProfile("bad", ["Under_Score.lan"]), nowMs)).rejects.toThrow(/not a DNS name/);
    await expect(ca.issue({ usage: "server", commonName: "x", ipAddresses: ["300.1.1.1"] }, nowMs)).rejects.toThrow(/not an IP/);
    await expect(ca.issue({ usage: "client", commonName: "bad\nname" }, nowMs)).rejects.toThrow(/control characters/);
  });
});

describe("certificate requests", () => {
  it("signCsr takes the subject from the profile, never from the request", async () => {
    const keys = await generateKeyPairPem("ecdsa-p256");
    const request = await createCertificateRequest(keys.privateKeyPem, "admin");
    const signed = await ca.signCsr(request, nodeClientProfile("rpi-1"), nowMs);
    const info = certificateInfo(signed.certificatePem);
    expect(info.subjectCommonName).toBe("system:node:rpi-1");
    expect(info.subjectOrganizations).toEqual(["system:nodes"]);
    // The certificate is for the requester's key.
    expect(new X509Certificate(signed.certificatePem).checkPrivateKey(createPrivateKey(keys.privateKeyPem))).toBe(true);
  });

  it("signCsr refuses a request whose signature does not verify", async () => {
    const keys = await generateKeyPairPem("ecdsa-p256");
    const request = await createCertificateRequest(keys.privateKeyPem, "rpi-1");
    const der = Buffer.from(request.replace(/-----[^-]+-----/g, "").replace(/\s/g, ""), "base64");
    // Flip a bit in the last byte: the signature's tail.
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(ca.signCsr(tampered, nodeClientProfile("rpi-1"), nowMs)).rejects.toThrow(/signature does not verify/);
  });
});

describe("needsRenewal", () => {
  it("is false until the margin before notAfter and true from then on", async () => {
    const issued = await ca.issue(adminClientProfile(), nowMs);
    const marginMs = 30 * dayMs;
    expect(needsRenewal(issued.certificatePem, nowMs, marginMs)).toBe(false);
    expect(needsRenewal(issued.certificatePem, issued.notAfterMs - marginMs - 1000, marginMs)).toBe(false);
    expect(needsRenewal(issued.certificatePem, issued.notAfterMs - marginMs, marginMs)).toBe(true);
    expect(needsRenewal(issued.certificatePem, issued.notAfterMs + dayMs, marginMs)).toBe(true);
  });
});

describe("CA files", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "flotilla-pki-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("saveCa writes ca.crt and a ca.key only its owner can read, and loadCa reads them back", async () => {
    const caDirectory = join(directory, "save-load");
    await saveCa(ca, caDirectory);
    expect((await stat(join(caDirectory, caKeyFileName))).mode & 0o777).toBe(0o600);
    expect((await stat(caDirectory)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(caDirectory, caCertificateFileName), "utf8")).toBe(ca.certificatePem);
    const loaded = await loadCa(caDirectory);
    expect(loaded.hashHex).toBe(ca.hashHex);
    expect(loaded.exportPrivateKeyPem()).toBe(ca.exportPrivateKeyPem());
  });

  it("saveCa never overwrites an existing CA", async () => {
    const caDirectory = join(directory, "no-overwrite");
    await saveCa(ca, caDirectory);
    await expect(saveCa(otherCa, caDirectory)).rejects.toMatchObject({ code: "EEXIST" });
    expect((await loadCa(caDirectory)).hashHex).toBe(ca.hashHex);
  });

  it("loadCa refuses a key file that other users can read", async () => {
    const caDirectory = join(directory, "open-key");
    await saveCa(ca, caDirectory);
    await chmod(join(caDirectory, caKeyFileName), 0o644);
    await expect(loadCa(caDirectory)).rejects.toThrow(/load cluster CA/);
    await expect(loadCa(caDirectory)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/chmod 600/) } });
  });

  it("loadCa names what is wrong when the certificate and key do not belong together", async () => {
    const caDirectory = join(directory, "mismatch");
    await saveCa(ca, caDirectory);
    await writeFile(join(caDirectory, caCertificateFileName), otherCa.certificatePem);
    await expect(loadCa(caDirectory)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/does not match/) } });
  });

  it("loadOrCreateCa creates a CA once and loads the same one afterwards", async () => {
    const caDirectory = join(directory, "init");
    const first = await loadOrCreateCa(caDirectory, { nowMs });
    const second = await loadOrCreateCa(caDirectory, { nowMs: nowMs + dayMs });
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.ca.hashHex).toBe(first.ca.hashHex);
  });
});
