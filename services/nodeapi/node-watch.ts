/**
 * One node's stream: its pods (spec.nodeName), the configmaps and secrets those pods reference,
 * every service, endpointslice and node (the proxy, DNS and overlay need them all), every
 * Ingress and IngressClass and the TLS secrets the Ingresses name (the ingress proxy), as
 * upserts and deletes from the API server's watch caches, then a SYNCED marker once the initial
 * state of every kind has gone out. An agent may name the optional kinds it consumes
 * (`optionalKinds`): one without overlay, proxy, DNS or ingress proxy (a hollow node) then gets
 * no Node, EndpointSlice or Ingress at all, which at 500 nodes is most of what every stream
 * carries. A watcher that ends (fell behind, cache restarted) ends the stream with an error; the agent reconnects and receives the whole state again.
 */
import { findResource, type ResourceInfo } from "../../libs/api/registry.ts";
import type { Storages } from "../apiserver/storages.ts";
import { initialEventsEndAnnotation, isStorageError, namespacePrefix, objectKey, resourceVersionOf, type CacheWatcher, type StoredObject } from "../apiserver/storage/index.ts";
import type { ObjectKindName } from "./wire.ts";
import { ingressSecretReferences, podReferences } from "./references.ts";

export type NodeStreamEmit = (type: "UPSERT" | "DELETE" | "SYNCED", kind: ObjectKindName | undefined, object: StoredObject | undefined) => Promise<void>;

const kindResources: ReadonlyArray<readonly [ObjectKindName, string, string, string]> = [
  ["POD", "", "v1", "pods"],
  ["CONFIG_MAP", "", "v1", "configmaps"],
  ["SECRET", "", "v1", "secrets"],
  ["SERVICE", "", "v1", "services"],
  ["ENDPOINT_SLICE", "discovery.k8s.io", "v1", "endpointslices"],
  ["NODE", "", "v1", "nodes"],
  ["PERSISTENT_VOLUME", "", "v1", "persistentvolumes"],
  ["INGRESS", "networking.k8s.io", "v1", "ingresses"],
  ["INGRESS_CLASS", "networking.k8s.io", "v1", "ingressclasses"],
];

/** Kinds only the overlay, service proxy, DNS or ingress proxy consume; the rest always go out. */
export const optionalStreamKinds: ReadonlySet<ObjectKindName> = new Set<ObjectKindName>(["NODE", "ENDPOINT_SLICE", "INGRESS", "INGRESS_CLASS"]);

/** Ingresses hold secret references under their own keys, apart from pods' `namespace/name`. */
const ingressReferenceKey = (ingress: StoredObject): string => `ingress:${namespacedName(ingress)}`;

export function resourceOf(kind: ObjectKindName): ResourceInfo {
  const entry = kindResources.find(([name]) => name === kind);
  const info = entry === undefined ? undefined : findResource(entry[1], entry[2], entry[3]);
  if (info === undefined) throw new Error(`the registry has no resource for ${kind}`);
  return info;
}

function metadataString(object: StoredObject, field: string): string {
  const metadata = object["metadata"] as Record<string, unknown> | undefined;
  const value = metadata?.[field];
  return typeof value === "string" ? value : "";
}

const namespacedName = (object: StoredObject): string => `${metadataString(object, "namespace")}/${metadataString(object, "name")}`;

/** The configmaps or secrets the node's pods reference, and the versions of them already sent. */
class ReferencedSet {
  readonly #byPod = new Map<string, ReadonlySet<string>>();
  readonly #sentVersions = new Map<string, number>();

  constructor(readonly kind: "CONFIG_MAP" | "SECRET") {}

  has(name: string): boolean {
    for (const names of this.#byPod.values()) if (names.has(name)) return true;
    return false;
  }

  /** Records a pod's (or an Ingress's) references; returns the names it adds to and removes from the set. */
  setPod(podKey: string, names: ReadonlySet<string>): { added: string[]; removed: string[] } {
    const before = new Set([...this.#byPod.values()].flatMap((set) => [...set]));
    if (names.size === 0) this.#byPod.delete(podKey);
    else this.#byPod.set(podKey, names);
    const after = new Set([...this.#byPod.values()].flatMap((set) => [...set]));
    return { added: [...after].filter((name) => !before.has(name)), removed: [...before].filter((name) => !after.has(name)) };
  }

  /** True when `object` is newer than what the node has (an event and a get may race). */
  accept(object: StoredObject): boolean {
    const version = Number(resourceVersionOf(object));
    const sent = this.#sentVersions.get(namespacedName(object)) ?? -1;
    if (version <= sent) return false;
    this.#sentVersions.set(namespacedName(object), version);
    return true;
  }

  forget(name: string): boolean {
    return this.#sentVersions.delete(name);
  }
}

export interface NodeWatchOptions {
  readonly storages: Storages;
  readonly nodeName: string;
  readonly emit: NodeStreamEmit;
  readonly signal: AbortSignal;
  /** The optional kinds (optionalStreamKinds) to stream; undefined: all of them. */
  readonly optionalKinds?: ReadonlySet<ObjectKindName> | undefined;
}

/** Streams until the signal aborts (resolves) or a watch ends or fails (rejects). */
export async function runNodeWatch(options: NodeWatchOptions): Promise<void> {
  const session = new NodeWatchSession(options);
  await session.run();
}

class NodeWatchSession {
  readonly #options: NodeWatchOptions;
  readonly #configMaps = new ReferencedSet("CONFIG_MAP");
  readonly #secrets = new ReferencedSet("SECRET");
  readonly #watchers: CacheWatcher[] = [];
  /** Set once the configmap and secret watches start: references added later are fetched. */
  #referencedWatchesStarted = false;

  constructor(options: NodeWatchOptions) {
    this.#options = options;
  }

  async run(): Promise<void> {
    const { signal } = this.#options;
    const onAbort = (): void => {
      for (const watcher of this.#watchers) watcher.stop();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Pods and Ingresses first: their references decide which configmaps and secrets the node receives.
      const pods = await this.#watch("POD", (_attrs, object) => ((object["spec"] as { nodeName?: string } | undefined)?.nodeName ?? "") === this.#options.nodeName);
      const podsSynced = this.#pump("POD", pods);
      const ingressesSynced = this.#wanted("INGRESS") ? [this.#pump("INGRESS", await this.#watch("INGRESS", undefined))] : [];
      await Promise.all([podsSynced.initial, ...ingressesSynced.map(async (pump) => pump.initial)]);
      this.#referencedWatchesStarted = true;
      const otherKinds = (["CONFIG_MAP", "SECRET", "SERVICE", "ENDPOINT_SLICE", "NODE", "INGRESS_CLASS"] as const).filter((kind) => this.#wanted(kind));
      const others = otherKinds.map(async (kind) => {
        const set = kind === "CONFIG_MAP" ? this.#configMaps : kind === "SECRET" ? this.#secrets : undefined;
        return this.#pump(kind, await this.#watch(kind, set === undefined ? undefined : (_attrs, object) => set.has(namespacedName(object))));
      });
      const volumes = this.#pump("PERSISTENT_VOLUME", await this.#watch("PERSISTENT_VOLUME", (_attrs, object) => volumePinnedTo(object, this.#options.nodeName)));
      const pumps = [podsSynced, ...ingressesSynced, volumes, ...(await Promise.all(others))];
      await Promise.all(pumps.map(async (pump) => pump.initial));
      await this.#options.emit("SYNCED", undefined, undefined);
      await Promise.race(pumps.map(async (pump) => pump.done));
      if (!signal.aborted) throw new Error("a watch of the node's objects ended; reconnect to resync");
    } finally {
      signal.removeEventListener("abort", onAbort);
      onAbort();
    }
  }

  #wanted(kind: ObjectKindName): boolean {
    const chosen = this.#options.optionalKinds;
    return chosen === undefined || !optionalStreamKinds.has(kind) || chosen.has(kind);
  }

  async #watch(kind: ObjectKindName, filter: ((attrs: unknown, object: StoredObject) => boolean) | undefined): Promise<CacheWatcher> {
    const info = resourceOf(kind);
    const cacher = this.#options.storages.cacherFor(info);
    await cacher.ready();
    const watcher = await cacher.watch(namespacePrefix({ group: info.group, resource: info.resource }, undefined), {
      sendInitialEvents: true,
      allowBookmarks: true,
      ...(filter === undefined ? {} : { filter }),
    });
    this.#watchers.push(watcher);
    if (this.#options.signal.aborted) watcher.stop();
    return watcher;
  }

  /** Reads one watcher: `initial` resolves at its initial-events-end bookmark, `done` when it ends. */
  #pump(kind: ObjectKindName, watcher: CacheWatcher): { initial: Promise<void>; done: Promise<void> } {
    let markInitial: () => void = () => undefined;
    const initial = new Promise<void>((resolve) => (markInitial = resolve));
    const done = (async () => {
      for await (const event of watcher) {
        if (event.type === "BOOKMARK") {
          if (metadataAnnotations(event.object)[initialEventsEndAnnotation] === "true") markInitial();
          continue;
        }
        await this.#onEvent(kind, event.type === "DELETED" ? "DELETE" : "UPSERT", event.object);
      }
      markInitial();
    })();
    return { initial, done };
  }

  async #onEvent(kind: ObjectKindName, type: "UPSERT" | "DELETE", object: StoredObject): Promise<void> {
    if (kind === "CONFIG_MAP" || kind === "SECRET") {
      const set = kind === "CONFIG_MAP" ? this.#configMaps : this.#secrets;
      if (type === "DELETE") set.forget(namespacedName(object));
      else if (!set.accept(object)) return;
    }
    await this.#options.emit(type, kind, object);
    if (kind === "POD") await this.#podChanged(type, object);
    if (kind === "INGRESS") await this.#applyReferences(this.#secrets, ingressReferenceKey(object), type === "DELETE" ? new Set<string>() : ingressSecretReferences(object));
  }

  async #podChanged(type: "UPSERT" | "DELETE", pod: StoredObject): Promise<void> {
    const references = type === "DELETE" ? { configMaps: new Set<string>(), secrets: new Set<string>() } : podReferences(pod);
    await this.#applyReferences(this.#configMaps, namespacedName(pod), references.configMaps);
    await this.#applyReferences(this.#secrets, namespacedName(pod), references.secrets);
  }

  async #applyReferences(set: ReferencedSet, podKey: string, names: ReadonlySet<string>): Promise<void> {
    const { added, removed } = set.setPod(podKey, names);
    const info = resourceOf(set.kind);
    for (const name of removed) {
      if (!set.forget(name)) continue;
      const [namespace = "", objectName = ""] = name.split("/");
      await this.#options.emit("DELETE", set.kind, { apiVersion: "v1", kind: info.kind, metadata: { namespace, name: objectName } });
    }
    // Before the configmap and secret watches start, their initial events carry the references.
    if (!this.#referencedWatchesStarted) return;
    for (const name of added) {
      const [namespace = "", objectName = ""] = name.split("/");
      const object = await this.#getIfPresent(info, namespace, objectName);
      if (object !== undefined && set.has(name) && set.accept(object)) await this.#options.emit("UPSERT", set.kind, object);
    }
  }

  async #getIfPresent(info: ResourceInfo, namespace: string, name: string): Promise<StoredObject | undefined> {
    try {
      return await this.#options.storages.cacherFor(info).get(objectKey({ group: info.group, resource: info.resource }, namespace, name));
    } catch (error) {
      // Not there yet: its creation arrives through the watch, whose filter now lets it pass.
      if (isStorageError(error) && error.reason === "NotFound") return undefined;
      throw error;
    }
  }
}

interface NodeSelectorTermShape {
  matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }>;
}

/** A PersistentVolume whose required node affinity names this node by hostname (local-path's). */
export function volumePinnedTo(volume: StoredObject, nodeName: string): boolean {
  const spec = volume["spec"] as { nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTermShape[] } } } | undefined;
  const terms = spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.some((term) =>
    (term.matchExpressions ?? []).some((expression) => expression.key === "kubernetes.io/hostname" && expression.operator === "In" && (expression.values ?? []).includes(nodeName)),
  );
}

function metadataAnnotations(object: StoredObject): Record<string, string> {
  const metadata = object["metadata"] as { annotations?: Record<string, string> } | undefined;
  return metadata?.annotations ?? {};
}
