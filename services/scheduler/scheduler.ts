/**
 * The scheduler as a running service around the pure decision core (./core): node, pod and
 * namespace informers feed the core's snapshot and the scheduling queue; one loop takes a pending
 * pod, decides, assumes it onto the chosen node (so the next decision already counts it: no node
 * is overcommitted while binds are in flight) and binds it through pods/<name>/binding in the
 * background. A pod that fits nowhere gets PodScheduled=False and a FailedScheduling event in
 * upstream's words and waits in the queue until a cluster change may help.
 */
import {
  findResource,
  formatTime,
  isStatusError,
  newNotFound,
  type Binding,
  type KubeObject,
  type Namespace,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type StorageClass,
} from "../../libs/api/index.ts";
import { objectKey, SharedInformerFactory, type ApiClient, type EventRecorder, type Informer } from "../../libs/client/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import { createPrng, type Prng } from "../../libs/prng/index.ts";
import { ClusterSnapshot, failedSchedulingEvent, podScheduledFalse, Scheduler, type ClusterEvent } from "./core/index.ts";
import { SchedulingQueue } from "./queue.ts";
import { pickDefaultStorageClass, resolvePodVolumes, type VolumeLookups } from "./volumes.ts";

export const defaultSchedulerName = "default-scheduler";
/** Binds in flight at once; the loop waits for one to finish beyond this. */
export const bindsInFlightMax = 32;
/** How often backoff and the unschedulable pool are checked (upstream: every second). */
export const queueFlushIntervalMs = 1_000;
/** How long a 405 from pods/binding sends binds straight to the PUT fallback before asking again. */
export const bindingReprobeIntervalMs = 60_000;
/** Read-modify-write rounds for the PodScheduled condition (and the fallback bind) before giving up. */
export const statusWriteAttemptsMax = 3;

const resources = {
  pods: findResource("", "v1", "pods")!,
  nodes: findResource("", "v1", "nodes")!,
  namespaces: findResource("", "v1", "namespaces")!,
  claims: findResource("", "v1", "persistentvolumeclaims")!,
  volumes: findResource("", "v1", "persistentvolumes")!,
  storageClasses: findResource("storage.k8s.io", "v1", "storageclasses")!,
};

export interface SchedulerServiceOptions {
  readonly client: ApiClient;
  readonly events: EventRecorder;
  readonly logger?: Logger;
  readonly schedulerName?: string;
  readonly nowMs?: () => number;
  readonly prng?: Prng;
  /** Called once the informers have synced and the loop runs. */
  readonly onStarted?: () => void;
}

function isAssigned(pod: Pod): boolean {
  return (pod.spec?.nodeName ?? "") !== "";
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** Upstream's isPodUpdated: a change other than status and bookkeeping fields. */
function specOrLabelsChanged(previous: Pod, current: Pod): boolean {
  const strip = (pod: Pod) => JSON.stringify([pod.spec, pod.metadata.labels, pod.metadata.annotations, pod.metadata.deletionTimestamp]);
  return strip(previous) !== strip(current);
}

/** Runs the scheduler until `signal` aborts. */
export async function runScheduler(options: SchedulerServiceOptions, signal: AbortSignal): Promise<void> {
  const service = new SchedulerService(options);
  await service.run(signal);
}

export class SchedulerService {
  readonly snapshot = new ClusterSnapshot();
  readonly queue: SchedulingQueue;
  readonly #options: SchedulerServiceOptions;
  readonly #core: Scheduler;
  readonly #prng: Prng;
  readonly #nowMs: () => number;
  readonly #name: string;
  readonly #binds = new Set<Promise<void>>();
  #pods: Informer<Pod> | undefined;
  /** The PVC, PV and StorageClass caches; no volume is known before run() starts them. */
  #volumes: VolumeLookups = { claim: () => undefined, volume: () => undefined, storageClass: () => undefined, defaultStorageClass: () => undefined };
  /** Until then binds go straight to the PUT fallback (the API server answered 405 to a binding). */
  #bindingUnservedUntilMs = 0;

  constructor(options: SchedulerServiceOptions) {
    this.#options = options;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#prng = options.prng ?? createPrng(this.#nowMs());
    this.#name = options.schedulerName ?? defaultSchedulerName;
    this.#core = new Scheduler(this.snapshot);
    this.queue = new SchedulingQueue(this.#nowMs);
  }

  async run(signal: AbortSignal): Promise<void> {
    const informers = new SharedInformerFactory(this.#options.client, this.#options.logger);
    this.#watchNodes(informers.informerFor<Node>(resources.nodes));
    this.#pods = informers.informerFor<Pod>(resources.pods);
    this.#watchPods(this.#pods);
    this.#watchNamespaces(informers.informerFor<Namespace>(resources.namespaces));
    this.#watchVolumes(informers);
    informers.start(signal);
    const close = () => this.queue.close();
    signal.addEventListener("abort", close, { once: true });
    const flusher = setInterval(() => this.queue.flush(), queueFlushIntervalMs);
    try {
      await informers.waitForSync(signal);
      this.#options.logger?.info({ nodes: this.snapshot.nodeCount, pending: this.queue.size }, "scheduler caches synced");
      this.#options.onStarted?.();
      await this.#loop();
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      clearInterval(flusher);
      signal.removeEventListener("abort", close);
      this.queue.close();
      await Promise.allSettled([...this.#binds]);
      await informers.stopped();
    }
  }

  #responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? defaultSchedulerName) === this.#name && !isAssigned(pod) && !isTerminal(pod) && pod.metadata.deletionTimestamp == null;
  }

  #clusterEvent(event: ClusterEvent): void {
    this.queue.onClusterEvent(event);
  }

  #watchNodes(nodes: Informer<Node>): void {
    nodes.addHandlers({
      onAdd: (node) => {
        this.snapshot.addNode(node);
        this.#clusterEvent({ kind: "NodeAdd", node });
      },
      onUpdate: (oldNode, newNode) => {
        this.snapshot.updateNode(newNode);
        this.#clusterEvent({ kind: "NodeUpdate", oldNode, newNode });
      },
      onDelete: (node) => {
        this.snapshot.removeNode(node.metadata.name ?? "");
        this.#clusterEvent({ kind: "NodeDelete", node });
      },
    });
  }

  #watchNamespaces(namespaces: Informer<Namespace>): void {
    const set = (namespace: Namespace) => this.snapshot.setNamespaceLabels(namespace.metadata.name ?? "", namespace.metadata.labels ?? {});
    namespaces.addHandlers({ onAdd: set, onUpdate: (_, namespace) => set(namespace) });
  }

  /** PVCs, PVs and StorageClasses feed VolumeBinding; any change may help a waiting pod. */
  #watchVolumes(informers: SharedInformerFactory): void {
    const claims = informers.informerFor<PersistentVolumeClaim>(resources.claims);
    const volumes = informers.informerFor<PersistentVolume>(resources.volumes);
    const classes = informers.informerFor<StorageClass>(resources.storageClasses);
    this.#volumes = {
      claim: (namespace, name) => claims.get(`${namespace}/${name}`),
      volume: (name) => volumes.get(name),
      storageClass: (name) => classes.get(name),
      defaultStorageClass: () => pickDefaultStorageClass(classes.list()),
    };
    const changed = (): void => this.#clusterEvent({ kind: "VolumeChange" });
    for (const informer of [claims, volumes, classes] as Informer<KubeObject>[]) {
      informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
    }
  }

  #watchPods(pods: Informer<Pod>): void {
    pods.addHandlers({
      onAdd: (pod) => {
        if (isAssigned(pod)) {
          this.snapshot.addPod(pod);
          this.#clusterEvent({ kind: "PodAdd", pod });
        } else if (this.#responsibleFor(pod)) this.queue.add(objectKey(pod));
      },
      onUpdate: (oldPod, newPod) => this.#podUpdated(oldPod, newPod),
      onDelete: (pod) => {
        this.queue.remove(objectKey(pod));
        const wasPlaced = isAssigned(pod) || this.snapshot.isAssumed(pod);
        this.snapshot.removePod(pod);
        if (wasPlaced) this.#clusterEvent({ kind: "PodDelete", pod });
      },
    });
  }

  #podUpdated(oldPod: Pod, newPod: Pod): void {
    const key = objectKey(newPod);
    if (isAssigned(newPod)) {
      this.queue.remove(key);
      this.snapshot.updatePod(newPod);
      this.#clusterEvent(isAssigned(oldPod) ? { kind: "PodUpdate", oldPod, newPod } : { kind: "PodAdd", pod: newPod });
      return;
    }
    if (!this.#responsibleFor(newPod)) {
      this.queue.remove(key);
      // A terminal or deleting pod that was assumed frees its reservation.
      if (this.snapshot.isAssumed(newPod)) this.snapshot.removePod(newPod);
      return;
    }
    // Our own status writes (PodScheduled=False) must not wake the pod up again.
    if (specOrLabelsChanged(oldPod, newPod) || this.queue.stateOf(key) === undefined) this.queue.add(key);
  }

  async #loop(): Promise<void> {
    for (let key = await this.queue.pop(); key !== undefined; key = await this.queue.pop()) {
      const pod = this.#pods?.get(key);
      if (pod === undefined || !this.#responsibleFor(pod) || this.snapshot.isAssumed(pod)) {
        this.queue.remove(key);
        continue;
      }
      this.#scheduleOne(key, pod);
      while (this.#binds.size >= bindsInFlightMax) await Promise.race(this.#binds);
    }
  }

  #scheduleOne(key: string, pod: Pod): void {
    const result = this.#core.schedule(pod, this.#prng, resolvePodVolumes(pod, this.#volumes));
    if (result.kind === "Unschedulable") {
      this.queue.failedUnschedulable(key, result.diagnosis);
      this.#reportUnschedulable(pod, result.message);
      return;
    }
    this.snapshot.assumePod(pod, result.nodeName);
    this.queue.succeeded(key);
    const bind = this.#bind(pod, result.nodeName).finally(() => this.#binds.delete(bind));
    this.#binds.add(bind);
  }

  async #bind(pod: Pod, nodeName: string): Promise<void> {
    const namespace = pod.metadata.namespace ?? "default";
    const name = pod.metadata.name ?? "";
    try {
      await this.#writeBinding(pod, nodeName);
      this.snapshot.finishBinding(pod, this.#nowMs());
      this.#options.events.record(pod, "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    } catch (error) {
      this.snapshot.forgetPod(pod);
      if (isStatusError(error, "NotFound")) return;
      this.#options.logger?.warn({ err: error, pod: `${namespace}/${name}`, node: nodeName }, "bind failed; retrying with backoff");
      this.#options.events.record(pod, "Warning", "FailedScheduling", `Binding rejected: ${(error as Error).message}`);
      const key = objectKey(pod);
      const current = this.#pods?.get(key);
      if (current !== undefined && this.#responsibleFor(current)) this.queue.addBackoff(key);
    }
  }

  /** POST pods/<name>/binding; until the API server serves it, a PUT of spec.nodeName. */
  async #writeBinding(pod: Pod, nodeName: string): Promise<void> {
    const namespace = pod.metadata.namespace ?? "default";
    const name = pod.metadata.name ?? "";
    if (this.#bindingUnservedUntilMs > this.#nowMs()) {
      await this.#putNodeName(pod, nodeName);
      return;
    }
    const binding: Binding = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name, namespace, ...(pod.metadata.uid === undefined ? {} : { uid: pod.metadata.uid }) },
      target: { apiVersion: "v1", kind: "Node", name: nodeName },
    };
    try {
      await this.#options.client.createSubresource(resources.pods, namespace, name, "binding", binding);
    } catch (error) {
      if (!(await this.#bindingNotServed(error, namespace, name))) throw error;
      this.#bindingUnservedUntilMs = this.#nowMs() + bindingReprobeIntervalMs;
      this.#options.logger?.info({ reprobeMs: bindingReprobeIntervalMs }, "the API server does not serve pods/binding; binding with a PUT of spec.nodeName");
      await this.#putNodeName(pod, nodeName);
    }
  }

  /** The fallback bind: a PUT with the cached pod's resourceVersion, re-read once on a Conflict. */
  async #putNodeName(pod: Pod, nodeName: string): Promise<void> {
    let current = this.#pods?.get(objectKey(pod)) ?? pod;
    for (let attempt = 0; ; attempt++) {
      if (isAssigned(current)) throw new Error(`pod ${objectKey(pod)} is already bound to ${current.spec?.nodeName ?? ""}`);
      if (current.metadata.uid !== pod.metadata.uid) throw newNotFound({ group: "", resource: "pods" }, pod.metadata.name ?? "");
      try {
        await this.#options.client.update<Pod>(resources.pods, { ...current, spec: { containers: [], ...current.spec, nodeName } });
        return;
      } catch (error) {
        if (!isStatusError(error, "Conflict") || attempt + 1 >= statusWriteAttemptsMax) throw error;
        current = await this.#options.client.get<Pod>(resources.pods, pod.metadata.namespace, pod.metadata.name ?? "");
      }
    }
  }

  async #bindingNotServed(error: unknown, namespace: string, name: string): Promise<boolean> {
    if (!isStatusError(error)) return false;
    if (error.code === 405) return true;
    if (error.code !== 404) return false;
    // 404 is also what a deleted pod gets: only a pod that still exists means the route is missing.
    try {
      await this.#options.client.get<Pod>(resources.pods, namespace, name);
      return true;
    } catch {
      return false;
    }
  }

  #reportUnschedulable(pod: Pod, message: string): void {
    const event = failedSchedulingEvent(message);
    this.#options.events.record(pod, event.type, event.reason, event.message);
    void this.#writeUnschedulableCondition(pod, message).catch((error: unknown) => {
      this.#options.logger?.warn({ err: error, pod: objectKey(pod) }, "could not write PodScheduled=False");
    });
  }

  async #writeUnschedulableCondition(pod: Pod, message: string): Promise<void> {
    let current = pod;
    for (let attempt = 0; attempt < statusWriteAttemptsMax; attempt++) {
      const conditions = current.status?.conditions ?? [];
      const existing = conditions.find((condition) => condition.type === "PodScheduled");
      if (existing?.status === "False" && existing.reason === "Unschedulable" && existing.message === message) return;
      const condition = podScheduledFalse(message, existing?.status === "False" ? (existing.lastTransitionTime ?? formatTime(this.#nowMs())) : formatTime(this.#nowMs()));
      const next: Pod = { ...current, status: { ...current.status, conditions: [...conditions.filter((c) => c.type !== "PodScheduled"), condition] } };
      try {
        await this.#options.client.update<Pod>(resources.pods, next, { subresource: "status" });
        return;
      } catch (error) {
        if (!isStatusError(error, "Conflict")) throw error;
        current = await this.#options.client.get<Pod>(resources.pods, current.metadata.namespace, current.metadata.name ?? "");
        if (isAssigned(current)) return;
      }
    }
  }
}
