/**
 * Static pods: pods the agent runs from manifest files in `--pod-manifest-path`, whether or not
 * the control plane is reachable (how the kubelet runs a control plane's own pods). As upstream:
 * each file holds one Pod (YAML or JSON); its name gets `-<node name>` appended; its uid is a
 * hash of the node, the file and its content, so an edited file is a new pod (the old one is
 * stopped) and an agent restart adopts what runs; a removed file stops the pod. The API server
 * sees each one as a mirror pod (annotation kubernetes.io/config.mirror = that hash) that the
 * agent creates and removes; pod status goes to the mirror.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml } from "yaml";
import type { Pod } from "../../../libs/api/index.ts";
import type { NodeWatchEvent } from "../control-plane.ts";
import type { PodLogger } from "./worker-context.ts";

export const configSourceAnnotation = "kubernetes.io/config.source";
export const configHashAnnotation = "kubernetes.io/config.hash";
export const configMirrorAnnotation = "kubernetes.io/config.mirror";
/** How often the directory is read (the kubelet's file-check frequency is 20 s). */
export const manifestScanIntervalMsDefault = 5_000;
/** Bound on manifest files read per scan. */
export const manifestFilesMax = 100;
/** Bound on one manifest file's size. */
export const manifestBytesMax = 1024 * 1024;
const manifestExtensions = [".yaml", ".yml", ".json"];

/** Builds the static pod of one manifest, or explains why the file is not one. */
export function staticPodFromManifest(text: string, fileName: string, nodeName: string): Pod {
  const parsed: unknown = parseYaml(text);
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${fileName}: not a YAML or JSON object`);
  const manifest = parsed as Pod;
  if (manifest.kind !== "Pod") throw new Error(`${fileName}: kind is ${JSON.stringify(manifest.kind)}, want "Pod"`);
  const baseName = manifest.metadata?.name ?? "";
  if (baseName === "") throw new Error(`${fileName}: metadata.name is required`);
  if ((manifest.spec?.containers ?? []).length === 0) throw new Error(`${fileName}: spec.containers is required`);
  const digest = createHash("sha256").update(nodeName).update("\0").update(fileName).update("\0").update(text).digest("hex");
  const uid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
  const hash = digest.slice(0, 32);
  return {
    ...manifest,
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...manifest.metadata,
      name: `${baseName}-${nodeName}`,
      namespace: manifest.metadata?.namespace ?? "default",
      uid,
      annotations: { ...(manifest.metadata?.annotations ?? {}), [configSourceAnnotation]: "file", [configHashAnnotation]: hash },
    },
    spec: { ...manifest.spec, containers: manifest.spec?.containers ?? [], nodeName },
  };
}

/** The mirror pod the API server keeps for a static pod. */
export function mirrorPodOf(pod: Pod): Pod {
  const annotations = pod.metadata?.annotations ?? {};
  const { uid: _uid, ...metadata } = pod.metadata ?? {};
  return { ...pod, metadata: { ...metadata, annotations: { ...annotations, [configMirrorAnnotation]: annotations[configHashAnnotation] ?? "" } } };
}

export function isMirrorPod(pod: Pod): boolean {
  return (pod.metadata?.annotations?.[configMirrorAnnotation] ?? "") !== "";
}

/** Reads every manifest in `dir` (bounded); bad files are reported and skipped. */
export function readStaticPods(dir: string, nodeName: string, log: PodLogger): Pod[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => !name.startsWith(".") && manifestExtensions.some((extension) => name.endsWith(extension)));
  } catch (error) {
    log.warn({ dir, err: error }, "cannot read the pod manifest directory");
    return [];
  }
  const pods: Pod[] = [];
  for (const name of names.sort().slice(0, manifestFilesMax)) {
    const path = join(dir, name);
    try {
      if (statSync(path).size > manifestBytesMax) throw new Error(`${name}: larger than ${manifestBytesMax} bytes`);
      pods.push(staticPodFromManifest(readFileSync(path, "utf8"), name, nodeName));
    } catch (error) {
      log.warn({ file: path, err: error }, "skipping a pod manifest");
    }
  }
  return pods;
}

export interface StaticPodSourceOptions {
  readonly dir: string;
  readonly nodeName: string;
  /** Where the pods go (PodManager.staticPodHandler()). */
  readonly onPod: (event: NodeWatchEvent<Pod>) => void;
  /** Creates (remove false) or deletes the mirror pod; may fail while the control plane is away. */
  readonly syncMirror?: (mirror: Pod, remove: boolean) => Promise<void>;
  readonly log: PodLogger;
  readonly scanIntervalMs?: number;
}

/** Scans the manifest directory and hands added, changed and removed pods on. */
export class StaticPodSource {
  readonly #options: StaticPodSourceOptions;
  /** The pods handed on, by uid. */
  readonly #pods = new Map<string, Pod>();
  /** Pods of removed files whose mirrors are still to be deleted (bounded). */
  readonly #mirrorRemovals: Pod[] = [];

  constructor(options: StaticPodSourceOptions) {
    this.#options = options;
  }

  /**
   * Reads the directory: new and changed files start pods, removed files stop them. Never waits
   * for the control plane (mirrors are synced apart, by syncMirrors()).
   */
  scan(): void {
    const { dir, nodeName, log, onPod } = this.#options;
    const current = new Map(readStaticPods(dir, nodeName, log).map((pod) => [pod.metadata?.uid ?? "", pod]));
    for (const [uid, pod] of this.#pods) {
      if (current.has(uid)) continue;
      this.#pods.delete(uid);
      onPod({ type: "delete", object: pod });
      // A changed file keeps its pod name: the new mirror replaces the old one instead.
      const renamed = [...current.values()].some((next) => next.metadata?.name === pod.metadata?.name);
      if (!renamed && this.#mirrorRemovals.length < manifestFilesMax) this.#mirrorRemovals.push(pod);
    }
    for (const [uid, pod] of current) {
      if (this.#pods.has(uid)) continue;
      this.#pods.set(uid, pod);
      onPod({ type: "upsert", object: pod });
    }
  }

  /**
   * Every pass: a mirror deleted by hand (or never made while the control plane was away) comes
   * back, and mirrors of removed files go; an unchanged mirror costs the control plane one read.
   */
  async syncMirrors(): Promise<void> {
    for (const pod of this.#mirrorRemovals.splice(0)) {
      if (!(await this.#mirror(pod, true))) this.#mirrorRemovals.push(pod);
    }
    for (const pod of this.#pods.values()) await this.#mirror(pod, false);
  }

  async #mirror(pod: Pod, remove: boolean): Promise<boolean> {
    if (this.#options.syncMirror === undefined) return true;
    try {
      await this.#options.syncMirror(mirrorPodOf(pod), remove);
      return true;
    } catch (error) {
      this.#options.log.debug({ pod: pod.metadata?.name, remove, err: error }, "mirror pod not synced yet");
      return false;
    }
  }

  /** Scans every scanIntervalMs until aborted. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.scan();
      await this.syncMirrors();
      await sleep(this.#options.scanIntervalMs ?? manifestScanIntervalMsDefault, undefined, { signal }).catch(() => undefined);
    }
  }
}
