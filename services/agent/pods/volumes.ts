/**
 * Pod volumes on the node's disk under `<podsDir>/<uid>/volumes/<name>`: emptyDir (a directory,
 * or tmpfs for medium Memory), hostPath, configMap, secret, downwardAPI and projected (written
 * with the kubelet's atomic `..data` symlink swap, so a changed ConfigMap reaches running
 * containers whole), and persistentVolumeClaim and generic ephemeral volumes (the claim
 * `<pod>-<volume>`) as the directory of the bound local-path or local volume. Mounts honour subPath.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { promisify } from "node:util";
import { ephemeralClaimName } from "../../../libs/api/index.ts";
import type { Container, DownwardAPIVolumeFile, KeyToPath, Pod, ResourceList, Volume } from "../../../libs/api/index.ts";
import type { Mount } from "../cri/index.ts";
import { ContainerConfigError, fieldRefValue, resourceFieldValue, type EnvSources } from "./env.ts";

const execFileAsync = promisify(execFile);

/** Default file mode of configMap, secret and downwardAPI files (0644), as upstream. */
export const volumeDefaultMode = 0o644;
const mountTimeoutMs = 10_000;
/** Bound on files written into one volume. */
export const volumeFilesMax = 1_000;

/** A volume the node cannot set up yet: the pod waits in ContainerCreating with this message. */
export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VolumeError";
  }
}

export interface VolumeFile {
  readonly content: Buffer;
  readonly mode: number;
}

function safeRelativePath(path: string): string {
  const normalized = normalize(path);
  if (isAbsolute(normalized) || normalized === ".." || normalized.startsWith("../") || normalized === ".") {
    throw new VolumeError(`invalid path ${JSON.stringify(path)}: must be relative and stay inside the volume`);
  }
  return normalized;
}

/**
 * Writes `files` into `directory` as the kubelet's AtomicWriter does: a fresh `..<hash>` directory,
 * then `..data` swapped to it by rename, user-visible names as symlinks through `..data`. Returns
 * false when the content was already in place (nothing written).
 */
export function writeAtomicDirectory(directory: string, files: ReadonlyMap<string, VolumeFile>): boolean {
  if (files.size > volumeFilesMax) throw new VolumeError(`volume at ${directory} would hold ${files.size} files (max ${volumeFilesMax})`);
  const hash = createHash("sha256");
  const sorted = [...files].sort(([left], [right]) => left.localeCompare(right));
  for (const [path, file] of sorted) hash.update(`${path}\0${file.mode}\0`).update(file.content).update("\0");
  const generation = `..${hash.digest("hex").slice(0, 16)}`;
  mkdirSync(directory, { recursive: true });
  const dataLink = join(directory, "..data");
  const current = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
  if (current === generation) return false;
  const generationDir = join(directory, generation);
  rmSync(generationDir, { recursive: true, force: true });
  for (const [path, file] of sorted) {
    const target = join(generationDir, safeRelativePath(path));
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, file.content);
    chmodSync(target, file.mode);
  }
  mkdirSync(generationDir, { recursive: true });
  const temporaryLink = join(directory, "..data_tmp");
  rmSync(temporaryLink, { force: true });
  symlinkSync(generation, temporaryLink);
  renameSync(temporaryLink, dataLink);
  const visible = new Set(sorted.map(([path]) => safeRelativePath(path).split("/")[0] ?? ""));
  for (const name of visible) {
    const link = join(directory, name);
    if (!existsSync(link)) symlinkSync(join("..data", name), link);
  }
  for (const entry of readdirSync(directory)) {
    if (entry === "..data" || entry === generation) continue;
    if (entry.startsWith("..") || !visible.has(entry)) rmSync(join(directory, entry), { recursive: true, force: true });
  }
  return true;
}

function itemsOrAll(data: Readonly<Record<string, Buffer>>, items: readonly KeyToPath[] | undefined, defaultMode: number, what: string, optional: boolean): Map<string, VolumeFile> {
  const files = new Map<string, VolumeFile>();
  if (items === undefined || items.length === 0) {
    for (const [key, content] of Object.entries(data)) files.set(key, { content, mode: defaultMode });
    return files;
  }
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new VolumeError(`configmap or secret ${what}: couldn't find key ${item.key}`);
    }
    files.set(item.path, { content, mode: item.mode ?? defaultMode });
  }
  return files;
}

/** A ConfigMap's data and binaryData, or undefined when it does not exist. */
function configMapData(sources: EnvSources, namespace: string, name: string): Record<string, Buffer> | undefined {
  const configMap = sources.configMap(namespace, name);
  if (configMap === undefined) return undefined;
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(configMap.data ?? {})) data[key] = Buffer.from(value, "utf8");
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data[key] = Buffer.from(value, "base64");
  return data;
}

function secretData(sources: EnvSources, namespace: string, name: string): Record<string, Buffer> | undefined {
  const secret = sources.secret(namespace, name);
  if (secret === undefined) return undefined;
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, "base64");
  return data;
}

function downwardFiles(pod: Pod, items: readonly DownwardAPIVolumeFile[], defaultMode: number, sources: EnvSources, allocatable: ResourceList): Map<string, VolumeFile> {
  const files = new Map<string, VolumeFile>();
  for (const item of items) {
    let value = "";
    if (item.fieldRef !== undefined) value = fieldRefValue(pod, item.fieldRef.fieldPath, sources.nodeIp, sources.podIp);
    else if (item.resourceFieldRef !== undefined) {
      const reference = item.resourceFieldRef;
      const container = pod.spec?.containers.find((candidate) => candidate.name === reference.containerName);
      value = resourceFieldValue(container, reference.resource, reference.divisor, allocatable);
    }
    files.set(item.path, { content: Buffer.from(value, "utf8"), mode: item.mode ?? defaultMode });
  }
  return files;
}

/** The files of a configMap, secret, downwardAPI or projected volume; undefined for other kinds. */
export function volumeFiles(pod: Pod, volume: Volume, sources: EnvSources): Map<string, VolumeFile> | undefined {
  const namespace = pod.metadata?.namespace ?? "default";
  const allocatable = sources.nodeAllocatable;
  if (volume.configMap !== undefined) {
    const { name = "", items, defaultMode = volumeDefaultMode, optional = false } = volume.configMap;
    const data = configMapData(sources, namespace, name);
    if (data === undefined && !optional) throw new VolumeError(`configmap "${name}" not found`);
    return itemsOrAll(data ?? {}, items, defaultMode, `${namespace}/${name}`, optional);
  }
  if (volume.secret !== undefined) {
    const { secretName = "", items, defaultMode = volumeDefaultMode, optional = false } = volume.secret;
    const data = secretData(sources, namespace, secretName);
    if (data === undefined && !optional) throw new VolumeError(`secret "${secretName}" not found`);
    return itemsOrAll(data ?? {}, items, defaultMode, `${namespace}/${secretName}`, optional);
  }
  if (volume.downwardAPI !== undefined) return downwardFiles(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? volumeDefaultMode, sources, allocatable);
  if (volume.projected !== undefined) return projectedFiles(pod, volume.projected, sources);
  return undefined;
}

function projectedFiles(pod: Pod, projected: NonNullable<Volume["projected"]>, sources: EnvSources): Map<string, VolumeFile> {
  const namespace = pod.metadata?.namespace ?? "default";
  const defaultMode = projected.defaultMode ?? volumeDefaultMode;
  const files = new Map<string, VolumeFile>();
  for (const source of projected.sources) {
    let part = new Map<string, VolumeFile>();
    if (source.configMap !== undefined) {
      const data = configMapData(sources, namespace, source.configMap.name ?? "");
      if (data === undefined && source.configMap.optional !== true) throw new VolumeError(`configmap "${source.configMap.name ?? ""}" not found`);
      part = itemsOrAll(data ?? {}, source.configMap.items, defaultMode, source.configMap.name ?? "", source.configMap.optional === true);
    } else if (source.secret !== undefined) {
      const data = secretData(sources, namespace, source.secret.name ?? "");
      if (data === undefined && source.secret.optional !== true) throw new VolumeError(`secret "${source.secret.name ?? ""}" not found`);
      part = itemsOrAll(data ?? {}, source.secret.items, defaultMode, source.secret.name ?? "", source.secret.optional === true);
    } else if (source.downwardAPI !== undefined) {
      part = downwardFiles(pod, source.downwardAPI.items ?? [], defaultMode, sources, sources.nodeAllocatable);
    }
    // serviceAccountToken sources are skipped: the node API hands out no tokens yet.
    for (const [path, file] of part) files.set(path, file);
  }
  return files;
}

export interface VolumeManagerOptions {
  /** Root of per-pod directories: `<dataDir>/pods`. */
  readonly podsDir: string;
  /** Root of local-path persistent volumes: `<localPathDir>/<namespace>/<claimName>`. */
  readonly localPathDir: string;
  /** Mount tmpfs for emptyDir medium Memory (false in unit tests that cannot mount). */
  readonly mountTmpfs: boolean;
}

export class VolumeManager {
  readonly #options: VolumeManagerOptions;

  constructor(options: VolumeManagerOptions) {
    this.#options = options;
  }

  podDirectory(uid: string): string {
    return join(this.#options.podsDir, uid);
  }

  volumeDirectory(uid: string, volumeName: string): string {
    return join(this.podDirectory(uid), "volumes", volumeName);
  }

  /** Sets up (or refreshes) every volume of the pod; returns the host path of each by name. */
  async prepare(pod: Pod, sources: EnvSources): Promise<Map<string, string>> {
    const uid = pod.metadata?.uid ?? "";
    const paths = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) paths.set(volume.name, await this.#prepareVolume(pod, uid, volume, sources));
    return paths;
  }

  async #prepareVolume(pod: Pod, uid: string, volume: Volume, sources: EnvSources): Promise<string> {
    if (volume.hostPath !== undefined) return prepareHostPath(volume.hostPath.path, volume.hostPath.type ?? "");
    if (volume.persistentVolumeClaim !== undefined) return this.#prepareClaim(pod.metadata?.namespace ?? "default", volume.persistentVolumeClaim.claimName, sources);
    // A generic ephemeral volume is the claim the ephemeral volume controller made for this pod.
    if (volume.ephemeral !== undefined) return this.#prepareClaim(pod.metadata?.namespace ?? "default", ephemeralClaimName(pod, volume), sources);
    const directory = this.volumeDirectory(uid, volume.name);
    if (volume.emptyDir !== undefined) {
      if (!existsSync(directory)) {
        mkdirSync(directory, { recursive: true, mode: 0o777 });
        chmodSync(directory, 0o777);
      }
      if (volume.emptyDir.medium === "Memory" && this.#options.mountTmpfs && !(await isMountPoint(directory))) {
        const sizeOption = volume.emptyDir.sizeLimit === undefined ? [] : ["-o", `size=${volume.emptyDir.sizeLimit}`.replace(/i$/, "")];
        await execFileAsync("mount", ["-t", "tmpfs", ...sizeOption, "tmpfs", directory], { timeout: mountTimeoutMs });
      }
      return directory;
    }
    const files = volumeFiles(pod, volume, sources);
    if (files === undefined) throw new VolumeError(`volume ${volume.name}: this volume type is not supported by flotilla's agent`);
    writeAtomicDirectory(directory, files);
    return directory;
  }

  /**
   * A claim's directory: the hostPath (local-path's) or local path of the PersistentVolume bound
   * to it. Until that volume has reached this node the pod waits in ContainerCreating.
   */
  #prepareClaim(namespace: string, claimName: string, sources: EnvSources): string {
    if (sources.persistentVolume === undefined) {
      const path = join(this.#options.localPathDir, namespace, claimName);
      mkdirSync(path, { recursive: true, mode: 0o777 });
      return path;
    }
    const volume = sources.persistentVolume(namespace, claimName);
    if (volume === undefined) throw new VolumeError(`persistentvolumeclaim "${claimName}" is not bound to a volume on this node yet`);
    const spec = volume.spec ?? {};
    if (spec.hostPath !== undefined) {
      const path = prepareHostPath(spec.hostPath.path, spec.hostPath.type ?? "DirectoryOrCreate");
      // local-path volumes are written by whatever user the pod runs as, as upstream's provisioner allows.
      if (volume.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"] !== undefined) chmodSync(path, 0o777);
      return path;
    }
    if (spec.local !== undefined) return prepareHostPath(spec.local.path, "Directory");
    throw new VolumeError(`persistentvolume "${volume.metadata?.name ?? ""}": only hostPath and local volumes are supported by flotilla's agent`);
  }

  /** Unmounts tmpfs volumes and deletes the pod's directory (host paths and local-path volumes stay). */
  async cleanup(uid: string): Promise<void> {
    const volumesDir = join(this.podDirectory(uid), "volumes");
    if (existsSync(volumesDir)) {
      for (const name of readdirSync(volumesDir)) {
        const path = join(volumesDir, name);
        if (await isMountPoint(path)) await execFileAsync("umount", ["-l", path], { timeout: mountTimeoutMs });
      }
    }
    rmSync(this.podDirectory(uid), { recursive: true, force: true });
  }
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    await execFileAsync("mountpoint", ["-q", path], { timeout: mountTimeoutMs });
    return true;
  } catch {
    return false;
  }
}

function prepareHostPath(path: string, type: string): string {
  const exists = existsSync(path);
  switch (type) {
    case "DirectoryOrCreate":
      if (!exists) mkdirSync(path, { recursive: true, mode: 0o755 });
      return path;
    case "FileOrCreate":
      if (!exists) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, "", { mode: 0o644 });
      }
      return path;
    case "Directory":
      if (!exists || !lstatSync(path).isDirectory()) throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      return path;
    case "File":
      if (!exists || !lstatSync(path).isFile()) throw new VolumeError(`hostPath type check failed: ${path} is not a file`);
      return path;
    default:
      return path;
  }
}

/** The CRI mounts of a container: each volumeMount's host path (joined with subPath), read-only as asked. */
export function containerMounts(pod: Pod, container: Container, volumePaths: ReadonlyMap<string, string>): Mount[] {
  const mounts: Mount[] = [];
  for (const volumeMount of container.volumeMounts ?? []) {
    const base = volumePaths.get(volumeMount.name);
    if (base === undefined) throw new ContainerConfigError(`volume ${JSON.stringify(volumeMount.name)} of container ${container.name} is not defined in the pod`);
    let hostPath = base;
    if (volumeMount.subPath !== undefined && volumeMount.subPath !== "") {
      hostPath = join(base, safeRelativePath(volumeMount.subPath));
      if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o777 });
    }
    const volume = pod.spec?.volumes?.find((candidate) => candidate.name === volumeMount.name);
    const forcedReadOnly = volume?.configMap !== undefined || volume?.secret !== undefined || volume?.downwardAPI !== undefined || volume?.projected !== undefined;
    const propagation = volumeMount.mountPropagation === "HostToContainer" ? "HostToContainer" : volumeMount.mountPropagation === "Bidirectional" ? "Bidirectional" : "Private";
    mounts.push({ containerPath: volumeMount.mountPath, hostPath, readOnly: volumeMount.readOnly === true || forcedReadOnly, propagation });
  }
  return mounts;
}
