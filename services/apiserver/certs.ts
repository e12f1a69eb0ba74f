/**
 * The API server's TLS material in its data directory, made on first start: the cluster CA
 * (ca.crt, ca.key), a serving certificate for 127.0.0.1, localhost, the host name and any extra
 * names (apiserver.crt, apiserver.key; issued anew on every start so new names take effect), and
 * `admin.kubeconfig` with an admin client certificate (CN=admin, O=system:masters), and the service
 * account signing key (sa.key).
 */
import { mkdir, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  adminClientProfile,
  buildKubeconfig,
  generateKeyPairPem,
  readPemFile,
  loadOrCreateCa,
  publicFileMode,
  secretFileMode,
  servingProfile,
  writeFileAtomic,
  type ClusterCa,
} from "../../libs/pki/index.ts";

export const adminKubeconfigFileName = "admin.kubeconfig";
export const servingCertificateFileName = "apiserver.crt";
export const servingKeyFileName = "apiserver.key";
/** The service account signing key, shared by every replica (a joining replica copies it). */
export const serviceAccountKeyFileName = "sa.key";

export interface ServingMaterial {
  readonly ca: ClusterCa;
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** The names and addresses the serving certificate holds (a renewal issues the same). */
  readonly names: readonly string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** `validityMs` shortens the serving certificate's lifetime (tests of its renewal). */
export async function prepareServingMaterial(dataDir: string, extraNames: readonly string[], nowMs: number, validityMs?: number): Promise<ServingMaterial> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { ca } = await loadOrCreateCa(dataDir, { nowMs, commonName: "flotilla-ca" });
  const names = [...new Set(["127.0.0.1", "localhost", hostname(), ...extraNames])];
  const serving = await ca.issue({ ...servingProfile("flotilla-apiserver", names), ...(validityMs === undefined ? {} : { validityMs }) }, nowMs);
  await writeFileAtomic(join(dataDir, servingCertificateFileName), serving.chainPem, { mode: publicFileMode, overwrite: true });
  await writeFileAtomic(join(dataDir, servingKeyFileName), serving.privateKeyPem, { mode: secretFileMode, overwrite: true });
  return { ca, certificateChainPem: serving.chainPem, privateKeyPem: serving.privateKeyPem, names };
}

/** Writes D/admin.kubeconfig pointing at `serverUrl` unless it exists; returns its path. */
export async function ensureAdminKubeconfig(dataDir: string, ca: ClusterCa, serverUrl: string, nowMs: number, validityMs?: number): Promise<string> {
  const path = join(dataDir, adminKubeconfigFileName);
  if (await exists(path)) return path;
  // The first certificate has the lifetime its renewals will have (startAdminKubeconfigRotation).
  const admin = await ca.issue({ ...adminClientProfile(), ...(validityMs === undefined ? {} : { validityMs }) }, nowMs);
  const text = buildKubeconfig({
    clusterName: "flotilla",
    serverUrl,
    caCertificatePem: ca.certificatePem,
    userName: "admin",
    credentials: { kind: "client-certificate", certificatePem: admin.certificatePem, privateKeyPem: admin.privateKeyPem },
  });
  await writeFileAtomic(path, text, { mode: secretFileMode, overwrite: false });
  return path;
}

/** D/sa.key: the private key that signs service account tokens, made on first start. */
export async function loadOrCreateServiceAccountKey(dataDir: string): Promise<string> {
  const path = join(dataDir, serviceAccountKeyFileName);
  if (await exists(path)) return await readPemFile(path, true);
  const { privateKeyPem } = await generateKeyPairPem("ecdsa-p256");
  await writeFileAtomic(path, privateKeyPem, { mode: secretFileMode, overwrite: false });
  return privateKeyPem;
}
