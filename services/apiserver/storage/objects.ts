/**
 * Objects as the storage layer sees them: plain JSON records with a `metadata` record. The typed
 * model lives elsewhere (libs/api); this layer reads only metadata.resourceVersion, metadata.uid,
 * metadata.name/namespace and metadata.labels, and asks the caller for the rest (getAttrs).
 *
 * resourceVersion is never stored: encodeObject drops it and decodeObject sets it from the key's
 * mod revision, so the store's revision is the one truth (as upstream's APIObjectVersioner does).
 */
import { BadRequestError, InternalError } from "./errors.ts";

export type StoredObject = Record<string, unknown>;

/** What label and field selectors look at (upstream's labels.Set and fields.Set). */
export interface ObjectAttrs {
  readonly labels: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string>>;
}

export type GetAttrs = (object: StoredObject) => ObjectAttrs;

/** A list or watch filter (label and field selectors, built by the API layer). */
export type ObjectFilter = (attrs: ObjectAttrs, object: StoredObject) => boolean;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export function metadataOf(object: StoredObject): Record<string, unknown> | undefined {
  const metadata = object["metadata"];
  return isRecord(metadata) ? metadata : undefined;
}

function metadataString(object: StoredObject, field: string): string {
  const value = metadataOf(object)?.[field];
  return typeof value === "string" ? value : "";
}

export const resourceVersionOf = (object: StoredObject): string => metadataString(object, "resourceVersion");
export const uidOf = (object: StoredObject): string => metadataString(object, "uid");
export const nameOf = (object: StoredObject): string => metadataString(object, "name");
export const namespaceOf = (object: StoredObject): string => metadataString(object, "namespace");

/** Labels plus metadata.name (and metadata.namespace when set), as upstream's default attrs. */
export function defaultGetAttrs(object: StoredObject): ObjectAttrs {
  const labels: Record<string, string> = {};
  const rawLabels = metadataOf(object)?.["labels"];
  if (isRecord(rawLabels)) {
    for (const [name, value] of Object.entries(rawLabels)) if (typeof value === "string") labels[name] = value;
  }
  const fields: Record<string, string> = { "metadata.name": nameOf(object) };
  const namespace = namespaceOf(object);
  if (namespace !== "") fields["metadata.namespace"] = namespace;
  return { labels, fields };
}

/** The bytes to store: the object without metadata.resourceVersion. */
export function encodeObject(object: StoredObject): string {
  const metadata = metadataOf(object);
  if (metadata === undefined) throw new BadRequestError("object has no metadata");
  const { resourceVersion: _dropped, ...storedMetadata } = metadata;
  return JSON.stringify({ ...object, metadata: storedMetadata });
}

/** Parses stored bytes and sets metadata.resourceVersion to the key's mod revision. */
export function decodeObject(value: Uint8Array, key: string, modRevision: number): StoredObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8"));
  } catch (error) {
    throw new InternalError(`unable to decode the object stored at ${key}`, { cause: error });
  }
  if (!isRecord(parsed) || !isRecord(parsed["metadata"])) throw new InternalError(`the value stored at ${key} is not an object with metadata`);
  parsed["metadata"]["resourceVersion"] = String(modRevision);
  return parsed;
}

/**
 * Freezes an object and everything it holds. The watch cache shares one copy of each object
 * among all watchers and list results, so nobody may change it; a frozen object makes a stray
 * write throw instead of corrupting what other clients see.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

/** A frozen copy of a (frozen) object with another metadata.resourceVersion; the rest is shared. */
export function withResourceVersion(object: StoredObject, resourceVersion: number): StoredObject {
  const metadata = metadataOf(object) ?? {};
  return deepFreeze({ ...object, metadata: { ...metadata, resourceVersion: String(resourceVersion) } });
}
