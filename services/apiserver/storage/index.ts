/**
 * The API server's storage layer: a generic object store per resource over the etcd v3 API
 * (ObjectStore) and a watch cache in front of it (Cacher). See README.md.
 */
export {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  GoneError,
  InternalError,
  NotFoundError,
  StorageError,
  StorageUnavailableError,
  TimeoutError,
  TooLargeResourceVersionError,
  isStorageError,
  type ConflictCause,
  type GroupResource,
  type StorageErrorReason,
} from "./errors.ts";
export type { KvClient, KvWatch } from "./kv.ts";
export { checkListPrefix, checkObjectKey, namespacePrefix, objectKey, resourcePrefix } from "./keys.ts";
export { decodeContinue, encodeContinue, latestRevisionMarker, type ContinuePoint } from "./continue.ts";
export { parseResourceVersion, type ResourceVersionMatch } from "./resource-version.ts";
export {
  defaultGetAttrs,
  deepFreeze,
  encodeObject,
  resourceVersionOf,
  uidOf,
  type GetAttrs,
  type ObjectAttrs,
  type ObjectFilter,
  type StoredObject,
} from "./objects.ts";
export { listDefaults, listExpiredMessages, type EntryPage, type ListEntry, type ListOptions, type ListResult } from "./list.ts";
export {
  ObjectStore,
  objectStoreDefaults,
  optimisticLockMessage,
  type DeleteCollectionOptions,
  type DeleteOptions,
  type GetOptions,
  type ObjectStoreOptions,
  type Preconditions,
  type UpdateFunction,
  type UpdateOptions,
} from "./store.ts";
export { CacheWatcher, initialEventsEndAnnotation, type TerminationReason, type WatchEvent, type WatchEventType } from "./watch.ts";
export { Cacher, cacherDefaults, type CacherOptions, type CacherStats, type WatchOptions } from "./cacher.ts";
