/**
 * The CA on disk: `ca.crt` (0644) and `ca.key` (0600) in a directory of mode 0700. Files are
 * written whole or not at all (a temporary file, synced, then linked into place), and an existing
 * CA is never overwritten: replacing it would orphan every certificate and token in the cluster.
 */
import { constants } from "node:fs";
import { link, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { ClusterCa, createCa } from "./ca.ts";
import type { CreateCaOptions } from "./ca.ts";

export const caCertificateFileName = "ca.crt";
export const caKeyFileName = "ca.key";
export const secretFileMode = 0o600;
export const publicFileMode = 0o644;
export const secretDirectoryMode = 0o700;
/** Files this library reads are PEM of a few kilobytes; anything larger is not ours. */
export const pemFileBytesMax = 256 * 1024;

export interface WriteFileOptions {
  readonly mode: number;
  /** false: fail with EEXIST if the file is there (checked atomically by link(2)). */
  readonly overwrite: boolean;
}

/** Writes `contents` to `path` atomically with `mode`; a crash leaves the old file or the new one. */
export async function writeFileAtomic(path: string, contents: string, options: WriteFileOptions): Promise<void> {
  const temporaryPath = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temporaryPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode);
  try {
    await handle.writeFile(contents);
    // open() applies the umask; chmod makes the mode exactly what was asked for.
    await handle.chmod(options.mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (options.overwrite) await rename(temporaryPath, path);
    else await link(temporaryPath, path);
  } catch (error) {
    await unlink(temporaryPath);
    throw error;
  }
  if (!options.overwrite) await unlink(temporaryPath);
  await syncDirectory(dirname(path));
}

/** The new directory entry survives a power loss only once the directory itself is synced. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a PEM file, refusing files that are too large or (when `secret`) readable by others. */
export async function readPemFile(path: string, secret: boolean): Promise<string> {
  const info = await stat(path);
  if (info.size > pemFileBytesMax) throw new Error(`${path}: ${info.size} bytes is too large for a PEM file`);
  if (secret && (info.mode & 0o077) !== 0) {
    throw new Error(`${path}: private key is accessible to other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return await readFile(path, "utf8");
}

/** Saves a CA into `directory` (created 0700 if missing); fails if a CA is already there. */
export async function saveCa(ca: ClusterCa, directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: secretDirectoryMode });
  // Key first: a crash between the two leaves a key without a certificate, which loadCa reports,
  // rather than a certificate whose key is lost.
  await writeFileAtomic(join(directory, caKeyFileName), ca.exportPrivateKeyPem(), { mode: secretFileMode, overwrite: false });
  await writeFileAtomic(join(directory, caCertificateFileName), ca.certificatePem, { mode: publicFileMode, overwrite: false });
}

export async function loadCa(directory: string): Promise<ClusterCa> {
  const certificatePath = join(directory, caCertificateFileName);
  const keyPath = join(directory, caKeyFileName);
  let certificatePem: string;
  let privateKeyPem: string;
  try {
    certificatePem = await readPemFile(certificatePath, false);
    privateKeyPem = await readPemFile(keyPath, true);
  } catch (cause) {
    throw new Error(`load cluster CA from ${directory}`, { cause });
  }
  try {
    return await ClusterCa.fromPem(certificatePem, privateKeyPem);
  } catch (cause) {
    throw new Error(`load cluster CA from ${directory}`, { cause });
  }
}

/** Loads the CA in `directory`, or makes and saves one if there is none (`--cluster-init`). */
export async function loadOrCreateCa(directory: string, options: CreateCaOptions): Promise<{ ca: ClusterCa; created: boolean }> {
  const present = await fileExists(join(directory, caCertificateFileName));
  const keyPresent = await fileExists(join(directory, caKeyFileName));
  if (present || keyPresent) return { ca: await loadCa(directory), created: false };
  const ca = await createCa(options);
  await saveCa(ca, directory);
  return { ca, created: true };
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
