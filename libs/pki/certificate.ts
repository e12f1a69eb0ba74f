/**
 * Reading certificates: what a rotation job, an authenticator or the trust bootstrap needs to
 * know about one (names, validity, hash), without trusting it.
 */
import { X509Certificate } from "node:crypto";
import { createHash } from "node:crypto";
import { x509 } from "./keys.ts";

export interface CertificateInfo {
  readonly subjectCommonName: string | null;
  readonly subjectOrganizations: readonly string[];
  readonly issuerCommonName: string | null;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly serialHex: string;
  /** SHA-256 of the DER encoding: the certificate's fingerprint, and the join token's CA hash. */
  readonly sha256Hex: string;
  readonly isCa: boolean;
}

const pemCertificatePattern = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** A bundle longer than this is not something Flotilla wrote (a CA plus a few intermediates). */
const bundleCertificatesMax = 16;

/** Splits a PEM bundle into its certificates, in order. */
export function splitPemCertificates(pem: string): string[] {
  const blocks = pem.match(pemCertificatePattern) ?? [];
  if (blocks.length > bundleCertificatesMax) {
    throw new Error(`PEM bundle holds ${blocks.length} certificates (at most ${bundleCertificatesMax})`);
  }
  return blocks.map((block) => `${block}\n`);
}

/** Parses exactly one PEM certificate; `what` names it in the error. */
export function parseCertificatePem(pem: string, what: string): X509Certificate {
  const blocks = splitPemCertificates(pem);
  if (blocks.length !== 1) throw new Error(`${what}: expected one PEM certificate, found ${blocks.length}`);
  try {
    return new X509Certificate(blocks[0] ?? "");
  } catch (cause) {
    throw new Error(`${what}: not a valid certificate`, { cause });
  }
}

/** PEM text with one trailing newline, so that blocks can be concatenated into a bundle. */
export function normalizePem(pem: string): string {
  return `${pem.trim()}\n`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 over the DER encoding of a PEM certificate (what `openssl x509 -fingerprint -sha256` prints). */
export function certificateSha256Hex(certificatePem: string): string {
  return sha256Hex(parseCertificatePem(certificatePem, "certificate").raw);
}

export function certificateInfo(certificatePem: string): CertificateInfo {
  const checked = parseCertificatePem(certificatePem, "certificate");
  const parsed = new x509.X509Certificate(checked.raw);
  const names = parsed.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  return {
    subjectCommonName: parsed.subjectName.getField("CN")[0] ?? null,
    subjectOrganizations: parsed.subjectName.getField("O"),
    issuerCommonName: parsed.issuerName.getField("CN")[0] ?? null,
    dnsNames: names.filter((name) => name.type === "dns").map((name) => name.value),
    ipAddresses: names.filter((name) => name.type === "ip").map((name) => name.value),
    notBeforeMs: parsed.notBefore.getTime(),
    notAfterMs: parsed.notAfter.getTime(),
    serialHex: parsed.serialNumber.toLowerCase(),
    sha256Hex: sha256Hex(checked.raw),
    isCa: checked.ca,
  };
}

/**
 * True once `nowMs` is within `marginMs` of the certificate's notAfter (or past it), so a
 * rotation job renews before expiry rather than after.
 */
export function needsRenewal(certificatePem: string, nowMs: number, marginMs: number): boolean {
  if (!Number.isFinite(nowMs) || !Number.isFinite(marginMs) || marginMs < 0) {
    throw new RangeError(`needsRenewal: bad clock or margin (now ${nowMs} ms, margin ${marginMs} ms)`);
  }
  return nowMs >= certificateInfo(certificatePem).notAfterMs - marginMs;
}
