/**
 * Key pairs and the bridge to @peculiar/x509. Keys live as PEM (PKCS#8 private, SPKI public)
 * because node:tls, kubectl and the files on disk all take PEM; WebCrypto keys are made from them
 * only where @peculiar/x509 signs.
 */
// @peculiar/x509 resolves its ASN.1 serializers through tsyringe, which needs the Reflect
// metadata API at load time. ESM evaluates imports in order, so this must stay first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto } from "node:crypto";
import type { KeyObject } from "node:crypto";

export type CryptoKey = webcrypto.CryptoKey;

/**
 * The key algorithms Flotilla issues: EC P-256 (the default: small and fast) or RSA 2048. A
 * loaded RSA key of more than 2048 bits is accepted and also reported as "rsa-2048".
 */
export type KeyAlgorithm = "ecdsa-p256" | "rsa-2048";

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** Serial numbers: 16 random bytes, well above the 64 bits of entropy CAs are asked for. */
const serialNumberBytes = 16;
const rsaModulusBits = 2048;

// Every @peculiar/x509 call below is handed Node's WebCrypto explicitly; the provider is set too
// so that parsing paths that take no provider argument use the same implementation.
const cryptoProvider = webcrypto;
x509.cryptoProvider.set(cryptoProvider);

export { x509, cryptoProvider };

export async function generateKeyPairPem(algorithm: KeyAlgorithm): Promise<KeyPairPem> {
  const encoding = {
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  } as const;
  return await new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKeyPem: string, privateKeyPem: string): void => {
      if (error === null) resolve({ privateKeyPem, publicKeyPem });
      else reject(new Error(`generate ${algorithm} key pair`, { cause: error }));
    };
    if (algorithm === "ecdsa-p256") generateKeyPair("ec", { namedCurve: "prime256v1", ...encoding }, done);
    else generateKeyPair("rsa", { modulusLength: rsaModulusBits, ...encoding }, done);
  });
}

/** Names the algorithm of a key, or throws for one Flotilla does not issue or accept. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1") return "ecdsa-p256";
  if (key.asymmetricKeyType === "rsa" && (details?.modulusLength ?? 0) >= rsaModulusBits) return "rsa-2048";
  throw new Error(
    `unsupported key: ${key.asymmetricKeyType ?? "unknown"} ${details?.namedCurve ?? details?.modulusLength ?? ""} ` +
      "(Flotilla uses EC P-256 or RSA >= 2048)",
  );
}

/** Parses a PEM private key, with an error that says which key could not be read. */
export function parsePrivateKeyPem(privateKeyPem: string, what: string): KeyObject {
  try {
    return createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new Error(`${what}: not a PEM private key`, { cause });
  }
}

export function parsePublicKeyPem(publicKeyPem: string, what: string): KeyObject {
  try {
    return createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new Error(`${what}: not a PEM public key`, { cause });
  }
}

function webCryptoParams(algorithm: KeyAlgorithm): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  return algorithm === "ecdsa-p256"
    ? { name: "ECDSA", namedCurve: "P-256" }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

/** The signature algorithm certificates and requests are signed with: SHA-256 with the key's own scheme. */
export function signatureParams(algorithm: KeyAlgorithm): webcrypto.EcdsaParams | webcrypto.Algorithm {
  return algorithm === "ecdsa-p256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
}

/** A non-extractable WebCrypto signing key made from a PEM private key. */
export async function importSigningKey(key: KeyObject): Promise<CryptoKey> {
  const algorithm = keyAlgorithmOf(key);
  const der = key.export({ type: "pkcs8", format: "der" });
  return await cryptoProvider.subtle.importKey("pkcs8", der, webCryptoParams(algorithm), false, ["sign"]);
}

export async function importVerifyingKey(key: KeyObject): Promise<CryptoKey> {
  const algorithm = keyAlgorithmOf(key);
  const der = key.export({ type: "spki", format: "der" });
  return await cryptoProvider.subtle.importKey("spki", der, webCryptoParams(algorithm), true, ["verify"]);
}

/** A positive serial number in hex: the top bit is cleared (DER integers are signed) and the
 * next one set, so the encoding is always exactly `serialNumberBytes` long. */
export function randomSerialHex(): string {
  const bytes = randomBytes(serialNumberBytes);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString("hex");
}
