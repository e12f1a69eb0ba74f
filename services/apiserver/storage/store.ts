/**
 * ObjectStore: one resource's objects in the store, over the etcd v3 API only (k8s.io/apiserver
 * pkg/storage/etcd3/store.go is the model). Every write is a transaction guarded by the key's
 * mod revision, so concurrent API servers never overwrite each other:
 *
 * - create: put if mod_revision == 0, else AlreadyExistsError.
 * - update: read, mutate, put if mod_revision is still the one read; on a lost race, retry with
 *   the state the failed transaction returned (GuaranteedUpdate), at most updateAttemptsMax times.
 *   With an expected resourceVersion (or preconditions) a mismatch is a ConflictError at once.
 * - delete: the same guard, with uid / resourceVersion preconditions.
 *
 * metadata.resourceVersion is the key's mod revision, set on every object read or written and
 * never stored.
 */
import type { Compare, RangeRequest, RangeResponse__Output, RequestOp, TxnResponse__Output } from "../../../libs/etcdpb/index.ts";
import { assert } from "../../../libs/assert/index.ts";
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  GoneError,
  InternalError,
  NotFoundError,
  TooLargeResourceVersionError,
  type GroupResource,
  type StorageError,
} from "./errors.ts";
import { checkListPrefix, checkObjectKey, objectKey, resourcePrefix } from "./keys.ts";
import { headerRevision, kvErrorKind, transportError, wireNumber, type KvClient } from "./kv.ts";
import {
  currentRevisionOrZero,
  listDefaults,
  planList,
  readPage,
  toListResult,
  type EntryPage,
  type ListContext,
  type ListEntry,
  type ListOptions,
  type ListResult,
} from "./list.ts";
import {
  decodeObject,
  defaultGetAttrs,
  encodeObject,
  nameOf,
  namespaceOf,
  resourceVersionOf,
  uidOf,
  type GetAttrs,
  type ObjectFilter,
  type StoredObject,
} from "./objects.ts";
import { parseResourceVersion } from "./resource-version.ts";

export const objectStoreDefaults = {
  /** Read-mutate-write rounds one update (or delete) tries before it reports a conflict. */
  updateAttemptsMax: 16,
  /** Items one deleteCollection reads per page. */
  deleteCollectionPageItems: 500,
  /** Pages one deleteCollection call works through (5M objects); a larger collection is left partly deleted. */
  deleteCollectionPagesMax: 10_000,
} as const;

/** upstream's OptimisticLockErrorMsg, which kubectl users know. */
export const optimisticLockMessage = "the object has been modified; please apply your changes to the latest version and try again";

export interface ObjectStoreOptions {
  readonly client: KvClient;
  readonly resource: GroupResource;
  /** Namespaced objects live under <prefix>/<namespace>/<name>, cluster-scoped ones under <prefix>/<name>. */
  readonly namespaced: boolean;
  /** The key of an object; by default from metadata.namespace and metadata.name. */
  readonly keyOf?: ((object: StoredObject) => string) | undefined;
  /** Labels and fields for filters; by default metadata.labels, metadata.name, metadata.namespace. */
  readonly getAttrs?: GetAttrs | undefined;
  readonly updateAttemptsMax?: number | undefined;
  readonly listFetchItemsMax?: number | undefined;
  readonly listRangeCallsMax?: number | undefined;
}

export interface Preconditions {
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

export interface GetOptions {
  /** "" or absent: linearizable read; "0": any (serializable); N: the object as of revision N. */
  readonly resourceVersion?: string | undefined;
}

export type UpdateFunction = (current: StoredObject) => StoredObject | Promise<StoredObject>;

export interface UpdateOptions {
  /** The resourceVersion the caller's change was based on; a different current one is a conflict. */
  readonly expectedResourceVersion?: string | undefined;
  readonly preconditions?: Preconditions | undefined;
}

export interface DeleteOptions {
  readonly preconditions?: Preconditions | undefined;
  /** Runs on the current object before each delete attempt; throw to refuse the deletion. */
  readonly validateDeletion?: ((current: StoredObject) => void | Promise<void>) | undefined;
}

export interface DeleteCollectionOptions {
  readonly filter?: ObjectFilter | undefined;
  readonly preconditions?: Preconditions | undefined;
}

/** A key's stored state: the raw JSON (without resourceVersion) and its mod revision. */
interface KeyState {
  readonly data: string;
  readonly modRevision: number;
  readonly object: StoredObject;
}

const modRevisionIs = (key: string, revision: number): Compare => ({ key: Buffer.from(key), target: "MOD", result: "EQUAL", mod_revision: revision });
const rangeOp = (key: string): RequestOp => ({ request_range: { key: Buffer.from(key) } });

export class ObjectStore {
  readonly client: KvClient;
  readonly resource: GroupResource;
  /** Every key of this resource starts with it; it ends in "/". */
  readonly resourcePrefix: string;
  readonly getAttrs: GetAttrs;
  readonly #keyOf: (object: StoredObject) => string;
  readonly #updateAttemptsMax: number;
  readonly #listContext: ListContext;

  constructor(options: ObjectStoreOptions) {
    this.client = options.client;
    this.resource = options.resource;
    this.resourcePrefix = resourcePrefix(options.resource);
    this.getAttrs = options.getAttrs ?? defaultGetAttrs;
    const namespaced = options.namespaced;
    this.#keyOf = options.keyOf ?? ((object) => objectKey(options.resource, namespaced ? namespaceOf(object) : undefined, nameOf(object)));
    this.#updateAttemptsMax = options.updateAttemptsMax ?? objectStoreDefaults.updateAttemptsMax;
    assert(this.#updateAttemptsMax > 0, "updateAttemptsMax is positive");
    this.#listContext = {
      client: options.client,
      getAttrs: this.getAttrs,
      listFetchItemsMax: options.listFetchItemsMax ?? listDefaults.listFetchItemsMax,
      listRangeCallsMax: options.listRangeCallsMax ?? listDefaults.listRangeCallsMax,
    };
  }

  keyOf(object: StoredObject): string {
    const key = this.#keyOf(object);
    checkObjectKey(this.resourcePrefix, key);
    return key;
  }

  /** Stores a new object; AlreadyExistsError when its key is taken. */
  async create(object: StoredObject): Promise<StoredObject> {
    if (resourceVersionOf(object) !== "") throw new BadRequestError("resourceVersion should not be set on objects to be created");
    const key = this.keyOf(object);
    const data = encodeObject(object);
    const response = await this.#txn(key, "create", {
      compare: [modRevisionIs(key, 0)],
      success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(data) } }],
      failure: [],
    });
    if (!response.succeeded) throw new AlreadyExistsError(this.resource, key);
    return decodeObject(Buffer.from(data), key, headerRevision(response.header));
  }

  /** One object; NotFoundError when absent (at the revision read). */
  async get(key: string, options: GetOptions = {}): Promise<StoredObject> {
    checkObjectKey(this.resourcePrefix, key);
    const resourceVersion = parseResourceVersion(options.resourceVersion);
    const request: RangeRequest =
      resourceVersion === undefined ? { key: Buffer.from(key) } : resourceVersion === 0 ? { key: Buffer.from(key), serializable: true } : { key: Buffer.from(key), revision: resourceVersion };
    let response: RangeResponse__Output;
    try {
      response = await this.client.range(request);
    } catch (error) {
      throw await this.#readError(error, key, "get", resourceVersion ?? 0);
    }
    const state = stateOf(response, key);
    if (state === undefined) throw new NotFoundError(this.resource, key);
    return state.object;
  }

  /** Objects under `prefix` (the resource prefix or a namespace's); see list.ts for the semantics. */
  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    return toListResult(await this.listEntries(prefix, options));
  }

  /** list() with each object's key (for the watch cache and deleteCollection). */
  async listEntries(prefix: string, options: ListOptions = {}): Promise<EntryPage> {
    const keyPrefix = checkListPrefix(this.resourcePrefix, prefix);
    return readPage(this.#listContext, planList(keyPrefix, options), options.filter);
  }

  /**
   * Read-mutate-write with optimistic concurrency. `mutate` gets a private copy of the current
   * object and returns the new one (it may throw to abort). An unchanged result writes nothing.
   */
  async update(key: string, mutate: UpdateFunction, options: UpdateOptions = {}): Promise<StoredObject> {
    checkObjectKey(this.resourcePrefix, key);
    const expected = parseResourceVersion(options.expectedResourceVersion);
    let state = await this.#read(key);
    for (let attempt = 1; attempt <= this.#updateAttemptsMax; attempt++) {
      if (state === undefined) throw new NotFoundError(this.resource, key);
      if (expected !== undefined && expected !== state.modRevision) {
        throw new ConflictError(this.resource, key, "resourceVersion", String(state.modRevision), optimisticLockMessage);
      }
      this.#checkPreconditions(key, state, options.preconditions);
      const data = encodeObject(await mutate(copyOf(state, key)));
      // Upstream skips a write that changes nothing: the object keeps its resourceVersion.
      if (data === state.data) return copyOf(state, key);
      const response = await this.#txn(key, "update", {
        compare: [modRevisionIs(key, state.modRevision)],
        success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(data) } }],
        failure: [rangeOp(key)],
      });
      if (response.succeeded) return decodeObject(Buffer.from(data), key, headerRevision(response.header));
      state = failedTxnState(response, key);
    }
    throw this.#retriesExhausted(key, state);
  }

  /** Deletes one object and returns its last state (resourceVersion = the deleting revision). */
  async delete(key: string, options: DeleteOptions = {}): Promise<StoredObject> {
    checkObjectKey(this.resourcePrefix, key);
    let state = await this.#read(key);
    for (let attempt = 1; attempt <= this.#updateAttemptsMax; attempt++) {
      if (state === undefined) throw new NotFoundError(this.resource, key);
      this.#checkPreconditions(key, state, options.preconditions);
      await options.validateDeletion?.(copyOf(state, key));
      const response = await this.#txn(key, "delete", {
        compare: [modRevisionIs(key, state.modRevision)],
        success: [{ request_delete_range: { key: Buffer.from(key) } }],
        failure: [rangeOp(key)],
      });
      if (response.succeeded) return decodeObject(Buffer.from(state.data), key, headerRevision(response.header));
      state = failedTxnState(response, key);
    }
    throw this.#retriesExhausted(key, state);
  }

  /**
   * Deletes the objects under `prefix` that pass `filter`, one by one as upstream's registry does
   * (each with the preconditions), skipping those already gone. Returns the deleted objects.
   */
  async deleteCollection(prefix: string, options: DeleteCollectionOptions = {}): Promise<StoredObject[]> {
    const deleted: StoredObject[] = [];
    let token: string | undefined;
    for (let page = 0; page < objectStoreDefaults.deleteCollectionPagesMax; page++) {
      const listed = await this.listEntries(prefix, { limit: objectStoreDefaults.deleteCollectionPageItems, continue: token, filter: options.filter });
      for (const entry of listed.entries) {
        const object = await this.#deleteIfPresent(entry, options.preconditions);
        if (object !== undefined) deleted.push(object);
      }
      token = listed.continue;
      if (token === undefined) return deleted;
    }
    return deleted;
  }

  async #deleteIfPresent(entry: ListEntry, preconditions: Preconditions | undefined): Promise<StoredObject | undefined> {
    try {
      return await this.delete(entry.key, { preconditions });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * One key's object (if any) with the revision the store was read at, linearizably; at least
   * `minimumRevision` (else TooLargeResourceVersionError). For the watch cache's initial events.
   */
  async readKey(key: string, minimumRevision = 0): Promise<{ entry: ListEntry | undefined; revision: number }> {
    checkObjectKey(this.resourcePrefix, key);
    let response: RangeResponse__Output;
    try {
      response = await this.client.range({ key: Buffer.from(key) });
    } catch (error) {
      throw await this.#readError(error, key, "get", 0);
    }
    const revision = headerRevision(response.header);
    if (minimumRevision > revision) throw new TooLargeResourceVersionError(minimumRevision, revision);
    const state = stateOf(response, key);
    return { entry: state === undefined ? undefined : { key, object: state.object }, revision };
  }

  /** The store's current revision, read linearizably. */
  async currentRevision(): Promise<number> {
    try {
      return headerRevision((await this.client.range({ key: Buffer.from(this.resourcePrefix), count_only: true })).header);
    } catch (error) {
      throw await this.#readError(error, this.resourcePrefix, "read the current revision", 0);
    }
  }

  async #read(key: string): Promise<KeyState | undefined> {
    try {
      return stateOf(await this.client.range({ key: Buffer.from(key) }), key);
    } catch (error) {
      throw await this.#readError(error, key, "get", 0);
    }
  }

  async #txn(key: string, operation: string, request: Parameters<KvClient["txn"]>[0]): Promise<TxnResponse__Output> {
    try {
      return await this.client.txn(request);
    } catch (error) {
      throw transportError(error, `${operation} ${key}`) ?? new InternalError(`${operation} ${key}: ${messageOf(error)}`, { cause: error });
    }
  }

  async #readError(error: unknown, key: string, operation: string, requestedRevision: number): Promise<StorageError> {
    const kind = kvErrorKind(error);
    if (kind === "compacted") return new GoneError(`The resourceVersion for the provided ${operation} is too old.`);
    if (kind === "futureRevision") return new TooLargeResourceVersionError(requestedRevision, await currentRevisionOrZero(this.client, key));
    return transportError(error, `${operation} ${key}`) ?? new InternalError(`${operation} ${key}: ${messageOf(error)}`, { cause: error });
  }

  #checkPreconditions(key: string, state: KeyState, preconditions: Preconditions | undefined): void {
    if (preconditions === undefined) return;
    const current = String(state.modRevision);
    const uid = uidOf(state.object);
    if (preconditions.uid !== undefined && preconditions.uid !== uid) {
      throw new ConflictError(this.resource, key, "uid", current, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${uid}`);
    }
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== current) {
      const detail = `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current}`;
      throw new ConflictError(this.resource, key, "resourceVersion", current, detail);
    }
  }

  #retriesExhausted(key: string, state: KeyState | undefined): ConflictError {
    const current = state === undefined ? "" : String(state.modRevision);
    return new ConflictError(this.resource, key, "retriesExhausted", current, `${optimisticLockMessage} (gave up after ${this.#updateAttemptsMax} attempts)`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stateOf(response: RangeResponse__Output, key: string): KeyState | undefined {
  const kv = response.kvs[0];
  if (kv === undefined) return undefined;
  const modRevision = wireNumber(kv.mod_revision);
  const data = kv.value.toString("utf8");
  return { data, modRevision, object: decodeObject(kv.value, key, modRevision) };
}

/** A failed guarded txn carries the key's current state in its one range response. */
function failedTxnState(response: TxnResponse__Output, key: string): KeyState | undefined {
  const range = response.responses[0]?.response_range;
  assert(range !== undefined && range !== null, "a failed guarded txn answers its range");
  return stateOf(range, key);
}

/** A private, mutable copy of the stored object (decoded afresh, resourceVersion set). */
function copyOf(state: KeyState, key: string): StoredObject {
  return decodeObject(Buffer.from(state.data), key, state.modRevision);
}
