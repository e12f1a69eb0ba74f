/**
 * Renewing a certificate before it expires, without a restart: when less than a third of its
 * stated lifetime (notBefore..notAfter) remains, a new one is issued and handed to `apply` (for
 * the API server's serving certificate: `server.setSecureContext(...)`, which new connections use
 * while open ones keep theirs). The clock and the timer are injected so that tests run a year of
 * rotations without waiting. A failed renewal is retried after retryDelayMs, never in a tight loop.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Server } from "node:https";
import { join } from "node:path";
import {
  adminClientProfile,
  buildKubeconfig,
  parseKubeconfig,
  publicFileMode,
  secretFileMode,
  servingProfile,
  writeFileAtomic,
  type ClusterCa,
  type IssuedCertificate,
} from "../../libs/pki/index.ts";
import { servingCertificateFileName, servingKeyFileName } from "./certs.ts";

/** Renew when less than this share of the lifetime remains. */
export const renewRemainingFraction = 1 / 3;
/** A failed renewal is tried again after this. */
export const retryDelayMs = 60_000;
/** Timers are never set further out than this (Node's timers overflow past 2^31-1 ms). */
export const timerDelayMsMax = 24 * 60 * 60_000;

export interface CertificateWindow {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export function certificateWindow(certificatePem: string): CertificateWindow {
  const certificate = new X509Certificate(certificatePem);
  return { notBeforeMs: Date.parse(certificate.validFrom), notAfterMs: Date.parse(certificate.validTo) };
}

/** When a certificate with this window is due for renewal (ms since the epoch). */
export function renewalDueMs(window: CertificateWindow): number {
  return window.notAfterMs - (window.notAfterMs - window.notBeforeMs) * renewRemainingFraction;
}

export interface RotationTimer {
  readonly nowMs: () => number;
  /** Calls `run` after `delayMs` (it settles when the renewal is done); the returned function cancels it. */
  readonly schedule: (run: () => Promise<void>, delayMs: number) => () => void;
}

export const realTimer: RotationTimer = {
  nowMs: () => Date.now(),
  schedule: (run, delayMs) => {
    const timer = setTimeout(() => void run(), delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface RotatorOptions {
  /** Issues a fresh certificate at `nowMs`. */
  readonly issue: (nowMs: number) => Promise<IssuedCertificate>;
  /** Puts the new certificate to use (and on disk); a throw counts as a failed renewal. */
  readonly apply: (issued: IssuedCertificate) => Promise<void> | void;
  readonly onError?: (error: unknown) => void;
  readonly timer?: RotationTimer;
}

/** Keeps one certificate renewed: schedules the next renewal from the current one's window. */
export class CertificateRotator {
  readonly #options: RotatorOptions;
  readonly #timer: RotationTimer;
  #cancel: (() => void) | undefined;
  #stopped = false;
  #renewals = 0;
  /** When the certificate in use is due for renewal. */
  #dueMs = 0;

  constructor(options: RotatorOptions) {
    this.#options = options;
    this.#timer = options.timer ?? realTimer;
  }

  /** How many renewals were applied. */
  get renewals(): number {
    return this.#renewals;
  }

  /** Starts watching the certificate in use now. */
  start(current: CertificateWindow): void {
    this.#scheduleFor(current);
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #scheduleFor(window: CertificateWindow): void {
    this.#dueMs = renewalDueMs(window);
    this.#scheduleIn(this.#dueMs - this.#timer.nowMs());
  }

  #scheduleIn(delayMs: number): void {
    if (this.#stopped) return;
    this.#cancel?.();
    const clamped = Math.min(Math.max(0, delayMs), timerDelayMsMax);
    // A far renewal is reached in steps of at most a day: the next step measures again.
    this.#cancel = this.#timer.schedule(() => this.#tick(), clamped);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    this.#cancel = undefined;
    const nowMs = this.#timer.nowMs();
    if (nowMs < this.#dueMs) {
      this.#scheduleIn(this.#dueMs - nowMs);
      return;
    }
    try {
      const issued = await this.#options.issue(nowMs);
      await this.#options.apply(issued);
      this.#renewals++;
      this.#scheduleFor(issued);
    } catch (error) {
      this.#options.onError?.(error);
      this.#scheduleIn(retryDelayMs);
    }
  }
}

/** The API server's serving certificate, renewed in place: new files on disk and a new TLS context. */
export function servingCertificateRotator(
  ca: ClusterCa,
  names: readonly string[],
  dataDir: string,
  setSecureContext: (material: { cert: string; key: string }) => void,
  options: { validityMs?: number; timer?: RotationTimer; onError?: (error: unknown) => void } = {},
): CertificateRotator {
  const profile = { ...servingProfile("flotilla-apiserver", names), ...(options.validityMs === undefined ? {} : { validityMs: options.validityMs }) };
  return new CertificateRotator({
    issue: (nowMs) => ca.issue(profile, nowMs),
    apply: async (issued) => {
      await writeFileAtomic(join(dataDir, servingCertificateFileName), issued.chainPem, { mode: publicFileMode, overwrite: true });
      await writeFileAtomic(join(dataDir, servingKeyFileName), issued.privateKeyPem, { mode: secretFileMode, overwrite: true });
      setSecureContext({ cert: issued.chainPem, key: issued.privateKeyPem });
    },
    ...(options.timer === undefined ? {} : { timer: options.timer }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
}

/**
 * Starts renewing the serving certificate of a running HTTPS server. The new secure context keeps
 * the cluster CA, so client certificates (admin, nodes, replicas) are still verified against it.
 */
export function startServingRotation(
  server: Server,
  ca: ClusterCa,
  serving: { readonly names: readonly string[]; readonly certificateChainPem: string },
  dataDir: string,
  options: {
    validityMs?: number | undefined;
    timer?: RotationTimer;
    onError?: (error: unknown) => void;
    onRenewed?: (window: CertificateWindow) => void;
    /** The renewed certificate chain and key, for other listeners serving the same identity. */
    onMaterial?: (material: { cert: string; key: string }) => void;
  } = {},
): CertificateRotator {
  const rotator = servingCertificateRotator(
    ca,
    serving.names,
    dataDir,
    (material) => {
      server.setSecureContext({ ...material, ca: ca.certificatePem });
      options.onRenewed?.(certificateWindow(material.cert));
      options.onMaterial?.(material);
    },
    {
      ...(options.validityMs === undefined ? {} : { validityMs: options.validityMs }),
      ...(options.timer === undefined ? {} : { timer: options.timer }),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    },
  );
  rotator.start(certificateWindow(serving.certificateChainPem));
  return rotator;
}

/** Whether `certificatePem` was signed by this cluster CA (a user may have put another one in). */
function issuedBy(certificatePem: string, ca: ClusterCa): boolean {
  return new X509Certificate(certificatePem).checkIssued(new X509Certificate(ca.certificatePem));
}

/**
 * Keeps D/admin.kubeconfig's client certificate renewed as the serving one (k3s renews its admin
 * certificate too): when a third of its lifetime remains the file is rewritten atomically with a
 * new certificate and key, keeping its server URL, names and namespace. A certificate already in
 * its window at start is renewed at once. A kubeconfig holding a token, or a certificate from
 * another CA, is the user's and left alone (undefined).
 */
export async function startAdminKubeconfigRotation(
  path: string,
  ca: ClusterCa,
  options: { validityMs?: number | undefined; timer?: RotationTimer; onError?: (error: unknown) => void; onRenewed?: (window: CertificateWindow) => void } = {},
): Promise<CertificateRotator | undefined> {
  const current = parseKubeconfig(await readFile(path, "utf8"));
  if (current.credentials.kind !== "client-certificate" || !issuedBy(current.credentials.certificatePem, ca)) return undefined;
  const profile = { ...adminClientProfile(), ...(options.validityMs === undefined ? {} : { validityMs: options.validityMs }) };
  const rotator = new CertificateRotator({
    issue: (nowMs) => ca.issue(profile, nowMs),
    apply: async (issued) => {
      // Read again: the URL or namespace may have been edited since the start.
      const latest = parseKubeconfig(await readFile(path, "utf8"));
      const credentials = { kind: "client-certificate" as const, certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem };
      await writeFileAtomic(path, buildKubeconfig({ ...latest, credentials }), { mode: secretFileMode, overwrite: true });
      options.onRenewed?.(certificateWindow(issued.certificatePem));
    },
    ...(options.timer === undefined ? {} : { timer: options.timer }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  rotator.start(certificateWindow(current.credentials.certificatePem));
  return rotator;
}
