/**
 * RenewCertificate: a node that holds a valid node certificate gets a fresh one for the same name
 * and the same key before the old one expires. The name comes from the verified certificate the
 * call is made with, never from the request, so a node can only renew itself; keeping the key
 * keeps the Node object's key binding (flotilla.io/node-key-sha256) true without a store write.
 */
import { X509Certificate } from "node:crypto";
import { nodeClientProfile, type ClusterCa } from "../../libs/pki/index.ts";
import { invalidArgument, permissionDenied, unauthenticated } from "./errors.ts";
import type { CertificateRenewal, CertificateRenewalResponse } from "./wire.ts";

const certificateRequestBytesMax = 16 * 1024;

export interface RenewDeps {
  readonly ca: ClusterCa;
  readonly nowMs: () => number;
  /** Lifetime of issued node certificates (default: libs/pki's leaf default, a year). */
  readonly validityMs?: number | undefined;
}

function publicKeyDer(certificate: X509Certificate): Buffer {
  return certificate.publicKey.export({ type: "spki", format: "der" });
}

/** `callerCertificateDer`: the verified client certificate of the call (its `raw` bytes). */
export async function renewNodeCertificate(deps: RenewDeps, nodeName: string, callerCertificateDer: Buffer | undefined, request: CertificateRenewal): Promise<CertificateRenewalResponse> {
  if (callerCertificateDer === undefined) throw unauthenticated("a renewal needs the node certificate it renews");
  if (request.certificate_request_pem.length === 0 || request.certificate_request_pem.length > certificateRequestBytesMax) {
    throw invalidArgument(`a renewal needs a certificate request (PEM, at most ${certificateRequestBytesMax} bytes)`);
  }
  const profile = { ...nodeClientProfile(nodeName), ...(deps.validityMs === undefined ? {} : { validityMs: deps.validityMs }) };
  let signed;
  try {
    signed = await deps.ca.signCsr(request.certificate_request_pem, profile, deps.nowMs());
  } catch (error) {
    throw invalidArgument(`certificate request refused: ${error instanceof Error ? error.message : String(error)}`);
  }
  const callerKey = publicKeyDer(new X509Certificate(callerCertificateDer));
  if (!publicKeyDer(new X509Certificate(signed.certificatePem)).equals(callerKey)) {
    throw permissionDenied(`node "${nodeName}" may renew its certificate only for the key it holds`);
  }
  return { certificate_pem: signed.certificatePem, ca_certificate_pem: deps.ca.certificatePem };
}
