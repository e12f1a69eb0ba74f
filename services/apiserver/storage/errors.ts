/**
 * The storage layer's operating errors. Each carries the data the API layer needs to build the
 * upstream Status (reason, code, details, causes, retry-after) and nothing about HTTP: the mapping
 * to a status code happens at the edge. Messages follow k8s.io/apiserver's storage texts where
 * clients or people read them ("too old resource version: 5 (9)").
 */

/** The group ("" for the legacy core group) and resource (plural, lower case) an error is about. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** The upstream StatusReason each error class stands for (metav1.StatusReason names). */
export type StorageErrorReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Expired"
  | "Timeout"
  | "ServiceUnavailable"
  | "BadRequest"
  | "InternalError";

export abstract class StorageError extends Error {
  abstract readonly reason: StorageErrorReason;
}

/** The object at `key` does not exist (at the revision read). */
export class NotFoundError extends StorageError {
  readonly reason = "NotFound";
  readonly key: string;
  readonly resource: GroupResource;
  readonly objectName: string;

  constructor(resource: GroupResource, key: string) {
    const name = nameOfKey(key);
    super(`${resource.resource} "${name}" not found`);
    this.name = "NotFoundError";
    this.key = key;
    this.resource = resource;
    this.objectName = name;
  }
}

/** create() found an object at `key` already. */
export class AlreadyExistsError extends StorageError {
  readonly reason = "AlreadyExists";
  readonly key: string;
  readonly resource: GroupResource;
  readonly objectName: string;

  constructor(resource: GroupResource, key: string) {
    const name = nameOfKey(key);
    super(`${resource.resource} "${name}" already exists`);
    this.name = "AlreadyExistsError";
    this.key = key;
    this.resource = resource;
    this.objectName = name;
  }
}

/** Why a write was refused as a conflict. */
export type ConflictCause = "resourceVersion" | "uid" | "retriesExhausted";

/** An optimistic-concurrency precondition failed; `currentResourceVersion` is what the store holds. */
export class ConflictError extends StorageError {
  readonly reason = "Conflict";
  readonly key: string;
  readonly resource: GroupResource;
  readonly objectName: string;
  readonly conflictCause: ConflictCause;
  readonly currentResourceVersion: string;

  constructor(resource: GroupResource, key: string, cause: ConflictCause, currentResourceVersion: string, detail: string) {
    const name = nameOfKey(key);
    super(`Operation cannot be fulfilled on ${resource.resource} "${name}": ${detail}`);
    this.name = "ConflictError";
    this.key = key;
    this.resource = resource;
    this.objectName = name;
    this.conflictCause = cause;
    this.currentResourceVersion = currentResourceVersion;
  }
}

/**
 * 410 Gone (reason Expired): the requested resourceVersion or continue token is older than the
 * store or the watch cache still holds. `continueToken` is set when the client may go on with an
 * inconsistent list (upstream puts it in the Status's ListMeta.continue).
 */
export class GoneError extends StorageError {
  readonly reason = "Expired";
  readonly continueToken: string | undefined;

  constructor(message: string, continueToken?: string) {
    super(message);
    this.name = "GoneError";
    this.continueToken = continueToken;
  }
}

/**
 * The requested resourceVersion is newer than the store (or cache) has reached. Upstream makes this
 * a Timeout with cause ResourceVersionTooLarge and a Retry-After.
 */
export class TooLargeResourceVersionError extends StorageError {
  readonly reason = "Timeout";
  readonly requestedResourceVersion: number;
  readonly currentResourceVersion: number;
  readonly retryAfterSeconds: number;

  constructor(requestedResourceVersion: number, currentResourceVersion: number, retryAfterSeconds = 1) {
    super(`Too large resource version: ${requestedResourceVersion}, current: ${currentResourceVersion}`);
    this.name = "TooLargeResourceVersionError";
    this.requestedResourceVersion = requestedResourceVersion;
    this.currentResourceVersion = currentResourceVersion;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The store did not answer in time; the outcome of a write is unknown. */
export class TimeoutError extends StorageError {
  readonly reason = "Timeout";
  readonly retryAfterSeconds: number;

  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TimeoutError";
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

/** The store cannot serve now (no connection, no leader, cache (re)initializing). */
export class StorageUnavailableError extends StorageError {
  readonly reason = "ServiceUnavailable";
  readonly retryAfterSeconds: number;

  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StorageUnavailableError";
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

/** The request itself is malformed (resourceVersion, continue token, key). */
export class BadRequestError extends StorageError {
  readonly reason = "BadRequest";

  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

/** Something the caller cannot fix: undecodable stored data, an unexpected store answer. */
export class InternalError extends StorageError {
  readonly reason = "InternalError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InternalError";
  }
}

export function isStorageError(error: unknown): error is StorageError {
  return error instanceof StorageError;
}

/** The last path segment of a storage key: the object's name. */
export function nameOfKey(key: string): string {
  const slash = key.lastIndexOf("/");
  return slash === -1 ? key : key.slice(slash + 1);
}
