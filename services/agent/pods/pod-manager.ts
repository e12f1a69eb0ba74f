/**
 * The agent's pod half: keeps the node's desired state from the control plane's stream (pods,
 * configMaps, secrets, services), runs one PodWorker per pod, resyncs every pod on an interval
 * (the runtime has no events we read, so exits and ConfigMap changes are found by looking), and
 * once the first full state has arrived removes sandboxes of pods this node no longer has.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type { ConfigMap, PersistentVolume, Pod, ResourceList, Secret, Service } from "../../../libs/api/index.ts";
import type { ContainerRuntime } from "../cri/index.ts";
import type { ControlPlane, NodeStreamHandlers, NodeWatchEvent } from "../control-plane.ts";
import { CrashLoopBackoff } from "./backoff.ts";
import type { EnvSources } from "./env.ts";
import { PodWorker } from "./pod-worker.ts";
import type { ProbeRunner } from "./probes.ts";
import { labelNode, labelPodUid } from "./runtime-config.ts";
import { isMirrorPod } from "./static-pods.ts";
import { serveStream } from "./streams.ts";
import type { StreamSession } from "../control-plane.ts";
import { VolumeManager } from "./volumes.ts";
import { silentLogger, type PodLogger, type WorkerContext } from "./worker-context.ts";

export const clusterDnsDefault = "10.96.0.10";
export const clusterDomainDefault = "cluster.local";
export const resyncIntervalMsDefault = 2_000;
/** Bound on pods one node runs (upstream's default max-pods, with room for terminating ones). */
export const podsPerNodeMax = 1_000;
/** Bound on orphan sandboxes removed in one pass. */
export const orphansPerPassMax = 100;

export interface PodManagerOptions {
  readonly runtime: ContainerRuntime;
  readonly controlPlane: ControlPlane;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** Pod directories, logs and local-path volumes live under here. */
  readonly dataDir: string;
  readonly cgroupParent?: string;
  readonly clusterDns?: string;
  readonly clusterDomain?: string;
  readonly nodeAllocatable?: ResourceList;
  readonly nowMs?: () => number;
  readonly resyncIntervalMs?: number;
  readonly probeRunner?: ProbeRunner;
  /** Mount tmpfs for emptyDir medium Memory (needs root). */
  readonly mountTmpfs?: boolean;
  /**
   * Claims mount the PersistentVolume the node stream delivers (onPersistentVolume); false
   * (control planes that stream no volumes) mounts `<data-dir>/local-path/<ns>/<claim>`.
   */
  readonly claimsFromStream?: boolean;
  readonly log?: PodLogger;
}

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? "default"}/${name ?? ""}`;
}

export class PodManager {
  readonly #options: PodManagerOptions;
  readonly #context: WorkerContext;
  readonly #workers = new Map<string, PodWorker>();
  readonly #configMaps = new Map<string, ConfigMap>();
  readonly #secrets = new Map<string, Secret>();
  readonly #services = new Map<string, Service>();
  /** PersistentVolumes by the claim they are bound to (`<ns>/<claim>` from spec.claimRef). */
  readonly #volumesByClaim = new Map<string, PersistentVolume>();
  /** Context of static pods' workers: status goes to the mirror pod (another uid). */
  readonly #staticContext: WorkerContext;
  #synced = false;
  #wake: (() => void) | undefined;

  constructor(options: PodManagerOptions) {
    this.#options = options;
    const nowMs = options.nowMs ?? Date.now;
    this.#context = {
      runtime: options.runtime,
      controlPlane: options.controlPlane,
      volumes: new VolumeManager({ podsDir: join(options.dataDir, "pods"), localPathDir: join(options.dataDir, "local-path"), mountTmpfs: options.mountTmpfs ?? true }),
      backoff: new CrashLoopBackoff(),
      pullBackoff: new CrashLoopBackoff(),
      settings: {
        nodeName: options.nodeName,
        clusterDns: options.clusterDns ?? clusterDnsDefault,
        clusterDomain: options.clusterDomain ?? clusterDomainDefault,
        logsDir: join(options.dataDir, "logs"),
        ...(options.cgroupParent === undefined ? {} : { cgroupParent: options.cgroupParent }),
      },
      nodeIp: options.nodeIp,
      nowMs,
      log: options.log ?? silentLogger,
      sources: (podIp) => this.#sources(podIp),
      secret: (namespace, name) => this.#secrets.get(key(namespace, name)),
      requestSync: (uid) => this.#requestSync(uid),
      ...(options.probeRunner === undefined ? {} : { probeRunner: options.probeRunner }),
    };
    this.#staticContext = { ...this.#context, controlPlane: mirrorStatusControlPlane(options.controlPlane) };
  }

  /** Where a StaticPodSource hands the pods of the manifest directory. */
  staticPodHandler(): (event: NodeWatchEvent<Pod>) => void {
    return (event) => this.#onPod(event, this.#staticContext);
  }

  #sources(podIp: string): EnvSources {
    return {
      configMap: (namespace, name) => this.#configMaps.get(key(namespace, name)),
      secret: (namespace, name) => this.#secrets.get(key(namespace, name)),
      services: (namespace) => [...this.#services.values()].filter((service) => service.metadata?.namespace === namespace),
      nodeIp: this.#options.nodeIp,
      podIp,
      nodeAllocatable: this.#options.nodeAllocatable ?? {},
      ...(this.#options.claimsFromStream === true ? { persistentVolume: (namespace: string, claimName: string) => this.#volumesByClaim.get(key(namespace, claimName)) } : {}),
    };
  }

  #onPersistentVolume(event: NodeWatchEvent<PersistentVolume>): void {
    const claim = event.object.spec?.claimRef;
    if (claim?.name === undefined) return;
    const claimKey = key(claim.namespace, claim.name);
    const known = this.#volumesByClaim.get(claimKey);
    if (event.type === "delete") {
      if (known?.metadata?.name === event.object.metadata?.name) this.#volumesByClaim.delete(claimKey);
    } else {
      this.#volumesByClaim.set(claimKey, event.object);
    }
  }

  /** The pods this node runs now (for node status and the stream handlers). */
  pods(): Pod[] {
    return [...this.#workers.values()].map((worker) => worker.pod);
  }

  /** The pod with this namespace and name, if this node runs it. */
  pod(namespace: string, name: string): Pod | undefined {
    return this.pods().find((pod) => pod.metadata?.namespace === namespace && pod.metadata.name === name);
  }

  /** Serves logs/exec/port-forward sessions for this node's pods (pass to ControlPlane.serveStreams). */
  streamHandler(): (session: StreamSession) => void {
    return (session) => void serveStream(session, { runtime: this.#options.runtime, pod: (namespace, name) => this.pod(namespace, name) });
  }

  handlers(): NodeStreamHandlers {
    const upsertOrDelete = <T extends ConfigMap | Secret | Service>(map: Map<string, T>, event: NodeWatchEvent<T>): void => {
      const objectKey = key(event.object.metadata?.namespace, event.object.metadata?.name);
      if (event.type === "delete") map.delete(objectKey);
      else map.set(objectKey, event.object);
    };
    return {
      // A mirror pod is the API server's copy of a static pod this agent already runs.
      onPod: (event) => {
        if (!isMirrorPod(event.object)) this.#onPod(event, this.#context);
      },
      onConfigMap: (event) => upsertOrDelete(this.#configMaps, event),
      onSecret: (event) => upsertOrDelete(this.#secrets, event),
      onService: (event) => upsertOrDelete(this.#services, event),
      onEndpointSlice: () => {},
      onNode: () => {},
      onPersistentVolume: (event) => this.#onPersistentVolume(event),
      onSynced: () => {
        this.#synced = true;
        this.#wake?.();
      },
    };
  }

  #onPod(event: NodeWatchEvent<Pod>, context: WorkerContext): void {
    const uid = event.object.metadata?.uid ?? "";
    if (uid === "") return;
    let worker = this.#workers.get(uid);
    if (event.type === "delete") {
      if (worker === undefined) return;
      worker.removed = true;
    } else if (worker === undefined) {
      if (this.#workers.size >= podsPerNodeMax) {
        this.#context.log.warn({ pod: key(event.object.metadata?.namespace, event.object.metadata?.name) }, "node is full: pod ignored");
        return;
      }
      worker = new PodWorker(event.object, context);
      this.#workers.set(uid, worker);
    } else {
      worker.pod = event.object;
    }
    this.#requestSync(uid);
  }

  #requestSync(uid: string): void {
    const worker = this.#workers.get(uid);
    if (worker === undefined) return;
    void worker.sync().then(() => {
      if (worker.done) this.#workers.delete(uid);
    });
  }

  /** One pass: every pod synced, then (after the first full state) orphans removed. */
  async syncAll(): Promise<void> {
    const workers = [...this.#workers.entries()];
    await Promise.all(workers.map(([, worker]) => worker.sync()));
    for (const [uid, worker] of workers) if (worker.done) this.#workers.delete(uid);
    if (this.#synced) await this.removeOrphans();
  }

  /** Stops and removes this node's sandboxes whose pod the node no longer has. */
  async removeOrphans(): Promise<number> {
    const { runtime } = this.#options;
    const sandboxes = await runtime.listSandboxes({ labels: { [labelNode]: this.#options.nodeName } });
    let removed = 0;
    for (const sandbox of sandboxes) {
      const uid = sandbox.labels[labelPodUid] ?? sandbox.uid;
      if (this.#workers.has(uid) || removed >= orphansPerPassMax) continue;
      this.#context.log.info({ sandbox: sandbox.id, pod: `${sandbox.namespace}/${sandbox.name}` }, "removing orphaned sandbox");
      await runtime.stopSandbox(sandbox.id);
      await runtime.removeSandbox(sandbox.id);
      await this.#context.volumes.cleanup(uid);
      removed += 1;
    }
    return removed;
  }

  /** Resyncs every resyncIntervalMs (or when the first full state arrives) until aborted. */
  async run(signal: AbortSignal): Promise<void> {
    const intervalMs = this.#options.resyncIntervalMs ?? resyncIntervalMsDefault;
    while (!signal.aborted) {
      try {
        await this.syncAll();
      } catch (error) {
        this.#context.log.warn({ err: error }, "pod resync failed");
      }
      const wakeController = new AbortController();
      this.#wake = () => wakeController.abort();
      const both = AbortSignal.any([signal, wakeController.signal]);
      await sleep(intervalMs, undefined, { signal: both }).catch(() => undefined);
      this.#wake = undefined;
    }
    for (const worker of this.#workers.values()) worker.close();
  }
}

/**
 * The control plane as a static pod's worker sees it: status is written to the mirror pod by
 * name (the mirror has its own uid), and there is no API object whose deletion to confirm.
 */
function mirrorStatusControlPlane(inner: ControlPlane): ControlPlane {
  return {
    watchNode: (handlers, signal) => inner.watchNode(handlers, signal),
    reportPodStatus: (namespace, name, _uid, status) => inner.reportPodStatus(namespace, name, "", status),
    confirmPodDeleted: () => Promise.resolve(),
    reportNodeStatus: (status) => inner.reportNodeStatus(status),
    renewLease: () => inner.renewLease(),
    recordEvent: (pod, type, reason, message) => inner.recordEvent(pod, type, reason, message),
    serveStreams: (handler, signal) => inner.serveStreams(handler, signal),
  };
}
