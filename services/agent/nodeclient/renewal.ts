/**
 * Keeps the node certificate valid without a restart: when a third of its lifetime remains the
 * agent asks the control plane for a new one (RenewCertificate, same name and key), writes it to
 * --data-dir and reconnects with it. Scheduling, retries after a failure and the bound on timer
 * lengths are the API server's CertificateRotator (the same rule for both certificates).
 */
import { X509Certificate } from "node:crypto";
import { createLogger, type Logger } from "../../../libs/log/index.ts";
import type { IssuedCertificate } from "../../../libs/pki/index.ts";
import { CertificateRotator, certificateWindow, type RotationTimer } from "../../apiserver/cert-rotation.ts";
import type { NodeClient } from "./client.ts";
import { saveCredentials, type NodeCredentials } from "./credentials.ts";

export interface RenewalOptions {
  readonly timer?: RotationTimer;
  readonly logger?: Logger;
}

function issuedFrom(credentials: NodeCredentials): IssuedCertificate {
  const window = certificateWindow(credentials.certificatePem);
  return {
    certificatePem: credentials.certificatePem,
    chainPem: credentials.certificatePem,
    privateKeyPem: credentials.privateKeyPem,
    serialHex: new X509Certificate(credentials.certificatePem).serialNumber.toLowerCase(),
    ...window,
  };
}

/** Starts renewing `client`'s node certificate; stop() the returned rotator when the agent stops. */
export function startNodeCertificateRenewal(client: NodeClient, dataDir: string, options: RenewalOptions = {}): CertificateRotator {
  const logger = options.logger ?? createLogger("nodeclient");
  let pending: NodeCredentials | undefined;
  const rotator = new CertificateRotator({
    issue: async () => {
      pending = await client.renewCertificate();
      return issuedFrom(pending);
    },
    apply: async () => {
      if (pending === undefined) throw new Error("no renewed certificate to apply");
      await saveCredentials(dataDir, pending);
      client.useCredentials(pending);
      logger.info({ notAfter: new Date(certificateWindow(pending.certificatePem).notAfterMs).toISOString() }, "node certificate renewed");
      pending = undefined;
    },
    onError: (error) => logger.warn({ err: error }, "renewing the node certificate failed (retried)"),
    ...(options.timer === undefined ? {} : { timer: options.timer }),
  });
  rotator.start(certificateWindow(client.credentials.certificatePem));
  return rotator;
}
