/**
 * The contract of libs/client, written first so that the controllers, the scheduler, the agent
 * and the CLI can be built against it while the implementation lands. Everything here is a type:
 * the HTTP client, informers and work queues implement it in this folder; unit tests of
 * reconcilers use a fake that records writes (fake.ts).
 *
 * Errors: every call rejects with libs/api's StatusError (reason NotFound, AlreadyExists,
 * Conflict, Invalid, Forbidden, ...) when the server answers with a Status, so callers test
 * `isStatusError(error, "NotFound")` exactly as they would against upstream.
 */
import type { DeleteOptions, KubeObject, List, ResourceInfo, WatchEvent } from "../api/index.ts";

/** Names a resource: use libs/api's registry (`findResource("apps", "v1", "deployments")`). */
export type Resource = ResourceInfo;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  /** Start after this resourceVersion (a list's metadata.resourceVersion). */
  resourceVersion: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

export interface WriteOptions {
  /** A subresource: "status", "scale", "binding", "eviction". */
  subresource?: string;
  /** Server-side apply's field manager; also recorded for other writes. */
  fieldManager?: string;
  force?: boolean;
  dryRun?: boolean;
}

/** One REST call per method; `namespace` is undefined for cluster-scoped resources. */
export interface ApiClient {
  get<T extends KubeObject>(resource: Resource, namespace: string | undefined, name: string): Promise<T>;
  list<T extends KubeObject>(resource: Resource, namespace: string | undefined, options?: ListOptions): Promise<List<T>>;
  create<T extends KubeObject>(resource: Resource, object: T, options?: WriteOptions): Promise<T>;
  /** PUT; with `subresource: "status"` writes only the status. Conflict on a stale resourceVersion. */
  update<T extends KubeObject>(resource: Resource, object: T, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject>(
    resource: Resource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    options?: WriteOptions,
  ): Promise<T>;
  delete(resource: Resource, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<void>;
  /** A watch stream; ends when the server ends it or `signal` aborts. ERROR events carry a Status. */
  watch<T extends KubeObject>(
    resource: Resource,
    namespace: string | undefined,
    options: WatchOptions,
    signal: AbortSignal,
  ): AsyncIterable<WatchEvent<T>>;
  /**
   * POST to a subresource of a named object whose body is not the object itself
   * (pods/binding with a Binding, pods/eviction with an Eviction).
   */
  createSubresource<R>(resource: Resource, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<R>;
}

/** What an informer tells its handlers; handlers only enqueue keys. */
export interface InformerHandlers<T extends KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, current: T): void;
  /** `object` is the last state seen (possibly a tombstone after a relist). */
  onDelete?(object: T): void;
}

/** A list+watch cache of one resource (optionally narrowed by namespace and selectors). */
export interface Informer<T extends KubeObject> {
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;
  addHandlers(handlers: InformerHandlers<T>): void;
  /** Key is `namespace/name`, or `name` for cluster-scoped objects. */
  get(key: string): T | undefined;
  list(): T[];
  /** Objects in one namespace whose labels match the selector (libs/api's label syntax). */
  listMatching(namespace: string | undefined, labelSelector: string): T[];
  /** An index, e.g. pods by spec.nodeName; `indexer` returns the values an object is filed under. */
  addIndex(name: string, indexer: (object: T) => string[]): void;
  byIndex(name: string, value: string): T[];
}

/** Shares one informer per resource among the controllers of a process. */
export interface InformerFactory {
  informerFor<T extends KubeObject>(resource: Resource, options?: { namespace?: string; fieldSelector?: string; labelSelector?: string }): Informer<T>;
  /** Starts every informer asked for so far (and any asked for later), until `signal` aborts. */
  start(signal: AbortSignal): void;
}

/**
 * A deduplicating, rate-limited queue of keys (client-go's workqueue): a key is never processed
 * by two workers at once; `requeueWithBackoff` delays a key exponentially (bounded), `forget`
 * resets its backoff, `addAfter` schedules it.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  requeueWithBackoff(key: string): void;
  forget(key: string): void;
  /** Resolves with the next key, or undefined once shut down. Call `done(key)` after processing. */
  get(): Promise<string | undefined>;
  done(key: string): void;
  shutDown(): void;
  readonly length: number;
}

/** A controller as the controller manager runs it. */
export interface Controller {
  readonly name: string;
  /** Registers informer handlers; called before the factory starts. */
  setup(context: ControllerContext): void;
  /** Converges one key; throwing requeues it with backoff. */
  reconcile(key: string): Promise<void>;
}

export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  queue: WorkQueue;
  /** Records a Kubernetes Event (deduplicated with counts by the recorder). */
  events: EventRecorder;
  /** Milliseconds since the epoch; injected so tests control time. */
  nowMs(): number;
}

export interface EventRecorder {
  record(object: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}
