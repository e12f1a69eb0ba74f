/**
 * Certificate requests, made where the key lives (an agent joining the cluster), so the private
 * key never crosses the network: the server signs the request's public key under a profile it
 * chooses itself (`ClusterCa.signCsr`).
 */
import { createPublicKey } from "node:crypto";
import { normalizePem } from "./certificate.ts";
import { cryptoProvider, importSigningKey, importVerifyingKey, keyAlgorithmOf, parsePrivateKeyPem, signatureParams, x509 } from "./keys.ts";

/** A PEM PKCS#10 request for `commonName`, signed with `privateKeyPem` (proof of possession). */
export async function createCertificateRequest(privateKeyPem: string, commonName: string): Promise<string> {
  const privateKey = parsePrivateKeyPem(privateKeyPem, "request key");
  const algorithm = keyAlgorithmOf(privateKey);
  const keys = {
    privateKey: await importSigningKey(privateKey),
    publicKey: await importVerifyingKey(createPublicKey(privateKey)),
  };
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: [{ CN: [commonName] }], keys, signingAlgorithm: signatureParams(algorithm) },
    cryptoProvider,
  );
  return normalizePem(request.toString("pem"));
}
