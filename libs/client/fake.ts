/**
 * A fake ApiClient for reconciler unit tests (client-go's fake clientset): objects live in memory,
 * every write gets the next resourceVersion, errors are libs/api's StatusErrors (NotFound,
 * AlreadyExists, Conflict) and every write is recorded as {verb, resource, namespace, name,
 * subresource, object}, so a test asserts `expect(fake.writes).toEqual([...])` and that a second
 * reconcile of a converged object writes nothing.
 *
 * Delete follows upstream's registry: propagationPolicy Foreground or Orphan (or
 * orphanDependents) adds the `foregroundDeletion` or `orphan` finalizer; an object with finalizers
 * then only gets a deletionTimestamp and is removed by the write that clears its last finalizer.
 */
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  builtinSchema,
  deepClone,
  deepEqual,
  newAlreadyExists,
  newBadRequest,
  newConflictModified,
  newNotFound,
  parseSelector,
  Selector,
} from "../api/index.ts";
import type { DeleteOptions, JsonObject, JsonValue, KubeObject, List, WatchEvent } from "../api/index.ts";
import type { ApiClient, ListOptions, PatchType, Resource, WatchOptions, WriteOptions } from "./types.ts";

export type FakeVerb = "create" | "update" | "patch" | "delete" | "createSubresource";

/** One recorded write. `object` is what was sent: the object, the patch body, or the delete options. */
export interface FakeWrite {
  verb: FakeVerb;
  resource: string;
  namespace: string | undefined;
  name: string;
  subresource: string | undefined;
  object: unknown;
}

/** A change to the fake's store, as informers and watches see it. */
export interface FakeChange {
  type: "ADDED" | "MODIFIED" | "DELETED";
  resource: Resource;
  object: KubeObject;
}

/** Returns an error to fail a call with, or undefined to let it through. */
export type FakeReactor = (verb: FakeVerb, resource: Resource, namespace: string | undefined, name: string) => Error | undefined;

const propagationFinalizers: Readonly<Record<string, string>> = { Foreground: "foregroundDeletion", Orphan: "orphan" };

/** The store key of a resource (versions of one group share storage, as autoscaling v1/v2 do). */
export function resourceKey(resource: Resource): string {
  return resource.group === "" ? resource.resource : `${resource.resource}.${resource.group}`;
}

/** `namespace/name`, or `name` for cluster-scoped objects: informers' and queues' key. */
export function objectKey(object: KubeObject): string {
  const namespace = object.metadata.namespace;
  return namespace === undefined || namespace === "" ? (object.metadata.name ?? "") : `${namespace}/${object.metadata.name ?? ""}`;
}

function storeKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

function clone<T>(value: T): T {
  return deepClone(value as unknown as JsonValue) as unknown as T;
}

function groupResource(resource: Resource): { group: string; resource: string } {
  return { group: resource.group, resource: resource.resource };
}

function hasStatusSubresource(resource: Resource): boolean {
  return resource.subresources.some((subresource) => subresource.name === "status");
}

// Everything but metadata and status: a change here bumps metadata.generation, as upstream.
function specOf(object: KubeObject): JsonValue {
  const rest: Record<string, unknown> = { ...(object as unknown as Record<string, unknown>) };
  delete rest.metadata;
  delete rest.status;
  delete rest.kind;
  delete rest.apiVersion;
  return rest as JsonValue;
}

function apiVersionOf(resource: Resource): string {
  return resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
}

/** Suffix characters of generated names: the same alphabet upstream uses, drawn from a counter. */
const generatedAlphabet = "bcdfghjklmnpqrstvwxz2456789";

export class FakeClient implements ApiClient {
  /** Every write, in order. */
  writes: FakeWrite[] = [];
  readonly #stores = new Map<string, Map<string, KubeObject>>();
  readonly #listeners = new Set<(change: FakeChange) => void>();
  readonly #reactors: FakeReactor[] = [];
  #revision = 0;
  #uidCounter = 0;
  #nameCounter = 0;
  readonly #nowMs: () => number;

  constructor(nowMs: () => number = () => 0) {
    this.#nowMs = nowMs;
  }

  /** Puts an object without recording a write (the test's starting world). Returns the stored copy. */
  seed<T extends KubeObject>(resource: Resource, object: T): T {
    const stored = this.#prepareNew(resource, clone(object));
    this.#put(resource, stored, "ADDED");
    return clone(stored) as T;
  }

  /**
   * Changes a stored object as another actor would (an agent reporting status, a user relabelling)
   * without recording a write; the informers see a MODIFIED event. Returns the stored copy.
   */
  mutate<T extends KubeObject>(resource: Resource, namespace: string | undefined, name: string, change: (object: T) => T): T {
    const current = this.#store(resource).get(storeKey(namespace, name));
    if (current === undefined) throw newNotFound(groupResource(resource), name);
    const next = change(clone(current) as T);
    this.#bump(next);
    this.#put(resource, next, "MODIFIED");
    return clone(next);
  }

  /** Removes a stored object as another actor would, without recording a write. */
  remove(resource: Resource, namespace: string | undefined, name: string): void {
    const current = this.#store(resource).get(storeKey(namespace, name));
    if (current !== undefined) this.#remove(resource, current);
  }

  /** The stored object, or undefined. */
  stored<T extends KubeObject>(resource: Resource, namespace: string | undefined, name: string): T | undefined {
    const object = this.#store(resource).get(storeKey(namespace, name));
    return object === undefined ? undefined : (clone(object) as T);
  }

  /** Every stored object of a resource, in key order. */
  storedAll<T extends KubeObject>(resource: Resource, namespace?: string): T[] {
    const items = [...this.#store(resource).values()].filter((object) => namespace === undefined || object.metadata.namespace === namespace);
    return items.sort((left, right) => (objectKey(left) < objectKey(right) ? -1 : 1)).map((object) => clone(object) as T);
  }

  /** Forgets the recorded writes (after seeding through reconciles). */
  clearWrites(): void {
    this.writes = [];
  }

  /** Fails matching calls: the first reactor returning an error wins. */
  addReactor(reactor: FakeReactor): void {
    this.#reactors.push(reactor);
  }

  subscribe(listener: (change: FakeChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get revision(): number {
    return this.#revision;
  }

  get<T extends KubeObject>(resource: Resource, namespace: string | undefined, name: string): Promise<T> {
    const object = this.stored<T>(resource, namespace, name);
    if (object === undefined) return Promise.reject(newNotFound(groupResource(resource), name));
    return Promise.resolve(object);
  }

  list<T extends KubeObject>(resource: Resource, namespace: string | undefined, options?: ListOptions): Promise<List<T>> {
    const selector = options?.labelSelector === undefined || options.labelSelector === "" ? Selector.everything() : parseSelector(options.labelSelector);
    const items = this.storedAll<T>(resource, namespace).filter((object) => selector.matches(object.metadata.labels));
    return Promise.resolve({ apiVersion: apiVersionOf(resource), kind: `${resource.kind}List`, metadata: { resourceVersion: String(this.#revision) }, items });
  }

  create<T extends KubeObject>(resource: Resource, object: T, options?: WriteOptions): Promise<T> {
    try {
      const namespace = object.metadata.namespace;
      const name = object.metadata.name ?? object.metadata.generateName ?? "";
      this.#record("create", resource, namespace, name, options?.subresource, object);
      this.#react("create", resource, namespace, name);
      const prepared = this.#prepareNew(resource, clone(object));
      if (this.#store(resource).has(storeKey(prepared.metadata.namespace, prepared.metadata.name ?? ""))) {
        throw newAlreadyExists(groupResource(resource), prepared.metadata.name ?? "");
      }
      this.#put(resource, prepared, "ADDED");
      return Promise.resolve(clone(prepared) as T);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  update<T extends KubeObject>(resource: Resource, object: T, options?: WriteOptions): Promise<T> {
    try {
      const namespace = object.metadata.namespace;
      const name = object.metadata.name ?? "";
      this.#record("update", resource, namespace, name, options?.subresource, object);
      this.#react("update", resource, namespace, name);
      return Promise.resolve(this.#replace(resource, clone(object), options?.subresource) as T);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  patch<T extends KubeObject>(
    resource: Resource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    options?: WriteOptions,
  ): Promise<T> {
    try {
      this.#record("patch", resource, namespace, name, options?.subresource, body);
      this.#react("patch", resource, namespace, name);
      const current = this.#store(resource).get(storeKey(namespace, name));
      if (current === undefined) throw newNotFound(groupResource(resource), name);
      const patched = this.#applyPatch(resource, current, type, body as JsonValue);
      patched.metadata.resourceVersion = current.metadata.resourceVersion ?? "";
      return Promise.resolve(this.#replace(resource, patched, options?.subresource) as T);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  delete(resource: Resource, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<void> {
    try {
      this.#record("delete", resource, namespace, name, undefined, options ?? {});
      this.#react("delete", resource, namespace, name);
      const current = this.#store(resource).get(storeKey(namespace, name));
      if (current === undefined) throw newNotFound(groupResource(resource), name);
      const preconditions = options?.preconditions;
      if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) throw newConflictModified(groupResource(resource), name);
      const marked = clone(current);
      const policy = options?.propagationPolicy ?? (options?.orphanDependents === true ? "Orphan" : undefined);
      const added = propagationFinalizers[policy ?? ""];
      if (added !== undefined && !(marked.metadata.finalizers ?? []).includes(added)) marked.metadata.finalizers = [...(marked.metadata.finalizers ?? []), added];
      if ((marked.metadata.finalizers ?? []).length === 0) {
        this.#remove(resource, current);
        return Promise.resolve();
      }
      if ((marked.metadata.deletionTimestamp ?? null) === null) {
        marked.metadata.deletionTimestamp = new Date(Math.floor(this.#nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
        marked.metadata.deletionGracePeriodSeconds = options?.gracePeriodSeconds ?? 0;
      }
      this.#bump(marked);
      this.#put(resource, marked, "MODIFIED");
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  async *watch<T extends KubeObject>(resource: Resource, namespace: string | undefined, _options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent<T>> {
    const pending: WatchEvent<T>[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((change) => {
      if (resourceKey(change.resource) !== resourceKey(resource)) return;
      if (namespace !== undefined && change.object.metadata.namespace !== namespace) return;
      pending.push({ type: change.type, object: clone(change.object) as T });
      wake?.();
    });
    const onAbort = (): void => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const next = pending.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
    }
  }

  createSubresource<R>(resource: Resource, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<R> {
    try {
      this.#record("createSubresource", resource, namespace, name, subresource, body);
      this.#react("createSubresource", resource, namespace, name);
      const current = this.#store(resource).get(storeKey(namespace, name));
      if (current === undefined) throw newNotFound(groupResource(resource), name);
      if (subresource === "binding") return Promise.resolve(this.#bind(resource, current, body) as R);
      if (subresource === "eviction") {
        return this.delete(resource, namespace, name).then(() => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" }) as R);
      }
      throw newBadRequest(`the fake does not serve ${resource.resource}/${subresource}`);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  #bind(resource: Resource, pod: KubeObject, body: unknown): KubeObject {
    const target = (body as { target?: { name?: string } }).target?.name ?? "";
    const bound = clone(pod) as KubeObject & { spec?: { nodeName?: string } };
    bound.spec = { ...(bound.spec ?? {}), nodeName: target };
    this.#bump(bound);
    this.#put(resource, bound, "MODIFIED");
    return clone(bound);
  }

  #react(verb: FakeVerb, resource: Resource, namespace: string | undefined, name: string): void {
    for (const reactor of this.#reactors) {
      const error = reactor(verb, resource, namespace, name);
      if (error !== undefined) throw error;
    }
  }

  #record(verb: FakeVerb, resource: Resource, namespace: string | undefined, name: string, subresource: string | undefined, object: unknown): void {
    this.writes.push({ verb, resource: resource.resource, namespace, name, subresource, object: clone(object) });
  }

  #store(resource: Resource): Map<string, KubeObject> {
    const key = resourceKey(resource);
    let store = this.#stores.get(key);
    if (store === undefined) {
      store = new Map();
      this.#stores.set(key, store);
    }
    return store;
  }

  #prepareNew(resource: Resource, object: KubeObject): KubeObject {
    const metadata = object.metadata;
    if ((metadata.name ?? "") === "" && metadata.generateName !== undefined) metadata.name = metadata.generateName + this.#nextSuffix();
    if ((metadata.name ?? "") === "") throw newBadRequest("name or generateName is required");
    if (!resource.namespaced) delete metadata.namespace;
    metadata.uid ??= `uid-${++this.#uidCounter}`;
    metadata.creationTimestamp ??= new Date(Math.floor(this.#nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
    metadata.generation = 1;
    object.apiVersion ??= apiVersionOf(resource);
    object.kind ??= resource.kind;
    this.#bump(object);
    return object;
  }

  #nextSuffix(): string {
    let value = this.#nameCounter++;
    let suffix = "";
    for (let index = 0; index < 5; index++) {
      suffix = generatedAlphabet.charAt(value % generatedAlphabet.length) + suffix;
      value = Math.floor(value / generatedAlphabet.length);
    }
    return suffix;
  }

  #bump(object: KubeObject): void {
    this.#revision++;
    object.metadata.resourceVersion = String(this.#revision);
  }

  // PUT semantics: resourceVersion precondition, status only through its subresource, generation.
  #replace(resource: Resource, object: KubeObject, subresource: string | undefined): KubeObject {
    const name = object.metadata.name ?? "";
    const current = this.#store(resource).get(storeKey(object.metadata.namespace, name));
    if (current === undefined) throw newNotFound(groupResource(resource), name);
    const requested = object.metadata.resourceVersion ?? "";
    if (requested !== "" && requested !== current.metadata.resourceVersion) throw newConflictModified(groupResource(resource), name);
    let next: KubeObject;
    if (subresource === "status") {
      next = { ...clone(current), status: clone((object as { status?: unknown }).status) } as KubeObject;
    } else {
      next = object;
      next.metadata = { ...object.metadata, uid: current.metadata.uid ?? "", creationTimestamp: current.metadata.creationTimestamp ?? null };
      if (current.metadata.deletionTimestamp !== undefined) next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      if (hasStatusSubresource(resource)) {
        const status = (current as { status?: unknown }).status;
        if (status === undefined) delete (next as { status?: unknown }).status;
        else (next as { status?: unknown }).status = clone(status);
      }
      const generation = current.metadata.generation ?? 1;
      next.metadata.generation = deepEqual(specOf(current), specOf(next)) ? generation : generation + 1;
    }
    if (deepEqual(current as unknown as JsonValue, { ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } } as unknown as JsonValue)) {
      return clone(current);
    }
    this.#bump(next);
    if ((next.metadata.deletionTimestamp ?? null) !== null && (next.metadata.finalizers ?? []).length === 0) {
      this.#remove(resource, next);
      return clone(next);
    }
    this.#put(resource, next, "MODIFIED");
    return clone(next);
  }

  #applyPatch(resource: Resource, current: KubeObject, type: PatchType, body: JsonValue): KubeObject {
    const original = clone(current) as unknown as JsonObject;
    if (type === "json") return applyJsonPatch(original, body) as unknown as KubeObject;
    if (type === "merge") return applyMergePatch(original, body) as unknown as KubeObject;
    if (type === "strategic") {
      const schema = builtinSchema(apiVersionOf(resource), resource.kind);
      if (schema === undefined) throw newBadRequest(`no strategic merge schema for ${resource.kind}`);
      return applyStrategicMergePatch(original, body, schema) as unknown as KubeObject;
    }
    throw newBadRequest("the fake does not implement server-side apply");
  }

  #put(resource: Resource, object: KubeObject, type: "ADDED" | "MODIFIED"): void {
    this.#store(resource).set(storeKey(object.metadata.namespace, object.metadata.name ?? ""), object);
    this.#emit({ type, resource, object: clone(object) });
  }

  #remove(resource: Resource, object: KubeObject): void {
    this.#store(resource).delete(storeKey(object.metadata.namespace, object.metadata.name ?? ""));
    this.#emit({ type: "DELETED", resource, object: clone(object) });
  }

  #emit(change: FakeChange): void {
    for (const listener of [...this.#listeners]) listener(change);
  }
}
