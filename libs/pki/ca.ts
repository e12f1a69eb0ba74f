/**
 * The cluster CA: made once at `flotilla server --cluster-init`, kept as PEM files, and used to
 * sign serving certificates (servers' names and addresses) and client certificates (nodes,
 * admin). Every certificate it issues is checked against the CA key before it is handed out.
 */
import { X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { assert } from "../assert/index.ts";
import { normalizePem, parseCertificatePem, sha256Hex } from "./certificate.ts";
import {
  cryptoProvider,
  generateKeyPairPem,
  importSigningKey,
  keyAlgorithmOf,
  parsePrivateKeyPem,
  parsePublicKeyPem,
  randomSerialHex,
  signatureParams,
  x509,
} from "./keys.ts";
import type { CryptoKey, KeyAlgorithm } from "./keys.ts";

const dayMs = 24 * 60 * 60 * 1000;
export const caValidityMsDefault = 10 * 365 * dayMs;
export const leafValidityMsDefault = 365 * dayMs;
/** notBefore is set this far in the past so a machine whose clock lags a little accepts a fresh certificate. */
export const clockSkewBackdateMs = 5 * 60 * 1000;
export const subjectAlternativeNamesMax = 100;
export const organizationsMax = 16;
export const nameLengthMax = 253;

export type CertificateUsage = "server" | "client" | "server-and-client";

/** What a certificate says and may be used for; the CA decides it, never the requester. */
export interface CertificateProfile {
  readonly usage: CertificateUsage;
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Defaults to `leafValidityMsDefault`; never beyond the CA's own notAfter. */
  readonly validityMs?: number;
}

export interface SignedCertificate {
  readonly certificatePem: string;
  /** The certificate followed by the CA's: what a server sends, so joiners can find the root. */
  readonly chainPem: string;
  readonly serialHex: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface IssuedCertificate extends SignedCertificate {
  readonly privateKeyPem: string;
}

export interface CreateCaOptions {
  readonly nowMs: number;
  readonly commonName?: string;
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly validityMs?: number;
}

/** Subject `CN=system:node:<name>, O=system:nodes`: the identity Kubernetes' node authorizer expects. */
export function nodeClientProfile(nodeName: string): CertificateProfile {
  return { usage: "client", commonName: `system:node:${nodeName}`, organizations: ["system:nodes"] };
}

/** Subject `CN=admin, O=system:masters`: the group that the admin role is bound to. */
export function adminClientProfile(): CertificateProfile {
  return { usage: "client", commonName: "admin", organizations: ["system:masters"] };
}

/** A serving profile for `names`, each a DNS name or an IP address. */
export function servingProfile(commonName: string, names: readonly string[]): CertificateProfile {
  return {
    usage: "server",
    commonName,
    dnsNames: names.filter((name) => isIP(name) === 0),
    ipAddresses: names.filter((name) => isIP(name) !== 0),
  };
}

/** Makes a new self-signed CA (EC P-256 unless told otherwise, 10 years by default). */
export async function createCa(options: CreateCaOptions): Promise<ClusterCa> {
  const keyAlgorithm = options.keyAlgorithm ?? "ecdsa-p256";
  const validityMs = options.validityMs ?? caValidityMsDefault;
  checkValidity(validityMs);
  const commonName = options.commonName ?? `flotilla-ca@${Math.floor(options.nowMs / 1000)}`;
  checkPrintable(commonName, "CA common name");
  const keys = await generateKeyPairPem(keyAlgorithm);
  const privateKey = parsePrivateKeyPem(keys.privateKeyPem, "new CA key");
  const publicKeyDer = parsePublicKeyPem(keys.publicKeyPem, "new CA key").export({ type: "spki", format: "der" });
  const name: x509.JsonName = [{ CN: [commonName] }];
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: name,
      issuer: name,
      notBefore: new Date(options.nowMs - clockSkewBackdateMs),
      notAfter: new Date(options.nowMs + validityMs),
      publicKey: publicKeyDer,
      signingKey: await importSigningKey(privateKey),
      signingAlgorithm: signatureParams(keyAlgorithm),
      extensions: [
        // pathLength 0: this CA signs leaves only, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(publicKeyDer, false, cryptoProvider),
      ],
    },
    cryptoProvider,
  );
  return await ClusterCa.fromPem(certificate.toString("pem"), keys.privateKeyPem);
}

/**
 * A loaded CA: its certificate (public) and its key (kept in private fields so that logging the
 * object never prints it).
 */
export class ClusterCa {
  readonly certificatePem: string;
  /** SHA-256 of the CA certificate's DER: what join tokens carry. */
  readonly hashHex: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly #privateKeyPem: string;
  readonly #publicKey: KeyObject;
  readonly #signingKey: CryptoKey;
  readonly #certificate: x509.X509Certificate;

  private constructor(
    certificatePem: string,
    privateKeyPem: string,
    checked: X509Certificate,
    signingKey: CryptoKey,
    keyAlgorithm: KeyAlgorithm,
  ) {
    this.certificatePem = normalizePem(certificatePem);
    this.hashHex = sha256Hex(checked.raw);
    this.keyAlgorithm = keyAlgorithm;
    this.#certificate = new x509.X509Certificate(checked.raw);
    this.notBeforeMs = this.#certificate.notBefore.getTime();
    this.notAfterMs = this.#certificate.notAfter.getTime();
    this.#privateKeyPem = normalizePem(privateKeyPem);
    this.#publicKey = checked.publicKey;
    this.#signingKey = signingKey;
  }

  /** Loads a CA from PEM, checking that it is a self-signed CA certificate and that the key is its own. */
  static async fromPem(certificatePem: string, privateKeyPem: string): Promise<ClusterCa> {
    const checked = parseCertificatePem(certificatePem, "CA certificate");
    if (!checked.ca) throw new Error("CA certificate: basicConstraints does not say CA:TRUE");
    if (!checked.verify(checked.publicKey)) throw new Error("CA certificate: not self-signed");
    const privateKey = parsePrivateKeyPem(privateKeyPem, "CA key");
    if (!checked.checkPrivateKey(privateKey)) throw new Error("CA key does not match the CA certificate");
    const keyAlgorithm = keyAlgorithmOf(privateKey);
    const signingKey = await importSigningKey(privateKey);
    return new ClusterCa(certificatePem, privateKeyPem, checked, signingKey, keyAlgorithm);
  }

  /** The CA key as PEM, for writing it to disk; never log it. */
  exportPrivateKeyPem(): string {
    return this.#privateKeyPem;
  }

  /** Issues a certificate with a fresh key pair (the CA's key algorithm unless told otherwise). */
  async issue(profile: CertificateProfile, nowMs: number, keyAlgorithm?: KeyAlgorithm): Promise<IssuedCertificate> {
    const keys = await generateKeyPairPem(keyAlgorithm ?? this.keyAlgorithm);
    const signed = await this.signPublicKey(profile, keys.publicKeyPem, nowMs);
    return { ...signed, privateKeyPem: keys.privateKeyPem };
  }

  /**
   * Signs a certificate request after checking its signature (the requester holds the key). The
   * subject and names come from `profile` alone: what the request asks for is ignored.
   */
  async signCsr(csrPem: string, profile: CertificateProfile, nowMs: number): Promise<SignedCertificate> {
    let request: x509.Pkcs10CertificateRequest;
    try {
      request = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (cause) {
      throw new Error("certificate request: not a PEM PKCS#10 request", { cause });
    }
    if (!(await request.verify(cryptoProvider))) throw new Error("certificate request: signature does not verify");
    return await this.signPublicKey(profile, request.publicKey.toString("pem"), nowMs);
  }

  /** Signs a certificate for a public key the caller already holds the private half of. */
  async signPublicKey(profile: CertificateProfile, publicKeyPem: string, nowMs: number): Promise<SignedCertificate> {
    checkProfile(profile);
    const publicKey = parsePublicKeyPem(publicKeyPem, "certificate public key");
    const leafAlgorithm = keyAlgorithmOf(publicKey);
    const notBeforeMs = Math.max(nowMs - clockSkewBackdateMs, this.notBeforeMs);
    const notAfterMs = Math.min(nowMs + (profile.validityMs ?? leafValidityMsDefault), this.notAfterMs);
    if (notAfterMs <= nowMs) throw new Error(`cluster CA expired at ${new Date(this.notAfterMs).toISOString()}`);
    const serialHex = randomSerialHex();
    const certificate = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialHex,
        subject: subjectName(profile),
        issuer: this.#certificate.subjectName,
        notBefore: new Date(notBeforeMs),
        notAfter: new Date(notAfterMs),
        publicKey: publicKey.export({ type: "spki", format: "der" }),
        signingKey: this.#signingKey,
        signingAlgorithm: signatureParams(this.keyAlgorithm),
        extensions: await this.#leafExtensions(profile, leafAlgorithm, publicKey),
      },
      cryptoProvider,
    );
    const certificatePem = normalizePem(certificate.toString("pem"));
    // Check the result before handing it out: a certificate the CA key does not verify is a bug.
    const issued = parseCertificatePem(certificatePem, "issued certificate");
    assert(issued.verify(this.#publicKey), "issued certificate verifies with the CA key");
    assert(issued.checkIssued(new X509Certificate(this.certificatePem)), "issued certificate names the CA as issuer");
    return {
      certificatePem,
      chainPem: certificatePem + this.certificatePem,
      serialHex,
      // Read back from the encoding, which keeps whole seconds only.
      notBeforeMs: certificate.notBefore.getTime(),
      notAfterMs: certificate.notAfter.getTime(),
    };
  }

  async #leafExtensions(profile: CertificateProfile, algorithm: KeyAlgorithm, publicKey: KeyObject): Promise<x509.Extension[]> {
    const publicKeyDer = publicKey.export({ type: "spki", format: "der" });
    // RSA keys may also carry key exchange (TLS 1.2 RSA key transport); EC keys sign only.
    const keyUsage =
      algorithm === "rsa-2048"
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
        : x509.KeyUsageFlags.digitalSignature;
    const caKeyId = this.#certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(keyUsage, true),
      new x509.ExtendedKeyUsageExtension(extendedKeyUsages(profile.usage), false),
      await x509.SubjectKeyIdentifierExtension.create(publicKeyDer, false, cryptoProvider),
      caKeyId === undefined
        ? await x509.AuthorityKeyIdentifierExtension.create(this.#certificate.publicKey, false, cryptoProvider)
        : new x509.AuthorityKeyIdentifierExtension(caKeyId, false),
    ];
    const names = [
      ...(profile.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
      ...(profile.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
    return extensions;
  }
}

function extendedKeyUsages(usage: CertificateUsage): string[] {
  switch (usage) {
    case "server":
      return [x509.ExtendedKeyUsage.serverAuth];
    case "client":
      return [x509.ExtendedKeyUsage.clientAuth];
    case "server-and-client":
      return [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
  }
}

function subjectName(profile: CertificateProfile): x509.JsonName {
  const organizations = profile.organizations ?? [];
  // Organization before common name, as Kubernetes' own client certificates are written.
  return organizations.length === 0 ? [{ CN: [profile.commonName] }] : [{ O: [...organizations] }, { CN: [profile.commonName] }];
}

const dnsNamePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkPrintable(value: string, what: string): void {
  if (value.length === 0 || value.length > nameLengthMax || hasControlCharacter(value)) {
    throw new Error(`${what} must be 1..${nameLengthMax} characters without control characters, got ${JSON.stringify(value)}`);
  }
}

function checkValidity(validityMs: number): void {
  if (!Number.isSafeInteger(validityMs) || validityMs <= clockSkewBackdateMs) {
    throw new RangeError(`certificate validity must be an integer number of ms above ${clockSkewBackdateMs}, got ${validityMs}`);
  }
}

/** Rejects a profile that would make a certificate nobody can use or that names nonsense. */
function checkProfile(profile: CertificateProfile): void {
  checkPrintable(profile.commonName, "common name");
  const organizations = profile.organizations ?? [];
  if (organizations.length > organizationsMax) throw new Error(`at most ${organizationsMax} organizations, got ${organizations.length}`);
  for (const organization of organizations) checkPrintable(organization, "organization");
  const dnsNames = profile.dnsNames ?? [];
  const ipAddresses = profile.ipAddresses ?? [];
  if (dnsNames.length + ipAddresses.length > subjectAlternativeNamesMax) {
    throw new Error(`at most ${subjectAlternativeNamesMax} subject alternative names, got ${dnsNames.length + ipAddresses.length}`);
  }
  for (const name of dnsNames) {
    if (name.length > nameLengthMax || !dnsNamePattern.test(name)) throw new Error(`not a DNS name: ${JSON.stringify(name)}`);
  }
  for (const address of ipAddresses) {
    if (isIP(address) === 0) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  }
  // Clients verify servers by subject alternative name only (the common name is ignored).
  if (profile.usage !== "client" && dnsNames.length + ipAddresses.length === 0) {
    throw new Error(`a ${profile.usage} certificate needs at least one DNS name or IP address`);
  }
  if (profile.validityMs !== undefined) checkValidity(profile.validityMs);
}
