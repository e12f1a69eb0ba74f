/**
 * What the API server sets on objects it stores, as upstream's generic registry and
 * BeforeCreate/BeforeUpdate do: uid, creationTimestamp, generation (1 on create, +1 when anything
 * but metadata and status changes), names from generateName, the namespace from the path, and
 * what clients may not set or change.
 */
import { randomInt, randomUUID } from "node:crypto";
import { defaultObject } from "../../libs/api/defaults/index.ts";
import { apiVersionOf, type ResourceInfo } from "../../libs/api/registry.ts";
import { newBadRequest, newInvalid } from "../../libs/api/status-errors.ts";
import type { KubeObject, ObjectMeta } from "../../libs/api/types/meta.ts";
import { nameValidatorFor, validateObjectMeta, validateObjectMetaUpdate } from "../../libs/api/validation.ts";
import { validateObject, validateObjectUpdate } from "../../libs/api/validate/index.ts";
import type { FieldError } from "../../libs/api/field-errors.ts";
import type { StoredObject } from "./storage/index.ts";

/** upstream's SimpleNameGenerator: 5 characters from an alphabet without vowels or look-alikes. */
const generatedNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
export const generatedNameSuffixLength = 5;
/** Longest generateName prefix kept, so that the name stays within 63 characters. */
const generateNamePrefixMax = 63 - generatedNameSuffixLength;

export type ObjectRecord = Record<string, unknown>;

export const recordOf = (value: unknown): ObjectRecord =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as ObjectRecord) : {};

export function metadataOf(object: StoredObject): ObjectMeta {
  return recordOf(object["metadata"]) as ObjectMeta;
}

export function generateName(prefix: string, pickIndex: (alphabetLength: number) => number = (length) => randomInt(length)): string {
  let suffix = "";
  for (let i = 0; i < generatedNameSuffixLength; i++) suffix += generatedNameAlphabet[pickIndex(generatedNameAlphabet.length)] ?? "x";
  return `${prefix.slice(0, generateNamePrefixMax)}${suffix}`;
}

/**
 * Checks the body's apiVersion and kind against the resource addressed (filling them in when
 * absent) and the body's namespace against the path's; 400 on a mismatch, as upstream.
 */
export function checkTypeAndNamespace(info: ResourceInfo, object: StoredObject, pathNamespace: string): StoredObject {
  const apiVersion = object["apiVersion"] ?? apiVersionOf(info);
  const kind = object["kind"] ?? info.kind;
  if (apiVersion !== apiVersionOf(info) || kind !== info.kind) {
    throw newBadRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(info)}) or kind (${String(kind)}) is not ${info.kind}`);
  }
  const metadata = { ...metadataOf(object) };
  if (info.namespaced) {
    const bodyNamespace = metadata.namespace ?? "";
    if (bodyNamespace !== "" && bodyNamespace !== pathNamespace) {
      throw newBadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    metadata.namespace = pathNamespace;
  } else {
    delete metadata.namespace;
  }
  return { ...object, apiVersion, kind, metadata };
}

function groupKind(info: ResourceInfo): { group: string; kind: string } {
  return { group: info.group, kind: info.kind };
}

/** libs/api's upstream defaulting (a copy; kinds without defaults come back unchanged). */
export function withDefaults(object: StoredObject): StoredObject {
  return defaultObject(object as unknown as KubeObject) as unknown as StoredObject;
}

/** A new object as it will be stored: system fields set, metadata validated (422 when invalid). */
export function prepareForCreate(info: ResourceInfo, given: StoredObject, nowIso: string): StoredObject {
  const object = withDefaults(given);
  const metadata: ObjectMeta = { ...metadataOf(object) };
  if ((metadata.name ?? "") === "" && (metadata.generateName ?? "") !== "") metadata.name = generateName(metadata.generateName ?? "");
  const errors = [
    ...validateObjectMeta(metadata, { namespaced: info.namespaced, nameValidator: nameValidatorFor(info.group, info.resource) }),
    ...kindErrors(validateObject({ ...(object as unknown as KubeObject), metadata })),
  ];
  if (errors.length > 0) throw newInvalid(groupKind(info), metadata.name ?? metadata.generateName ?? "", errors);
  metadata.uid = randomUUID();
  metadata.creationTimestamp = nowIso;
  metadata.generation = 1;
  delete metadata.resourceVersion;
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  delete metadata.selfLink;
  const prepared: StoredObject = { ...object, metadata };
  if (info.resource === "namespaces" && info.group === "") prepared["status"] = { phase: "Active" };
  return prepared;
}

/** Everything but metadata and status: a change there bumps the generation. */
export function specPart(object: StoredObject): string {
  const rest: ObjectRecord = {};
  for (const [key, value] of Object.entries(object)) if (key !== "metadata" && key !== "status" && key !== "apiVersion" && key !== "kind") rest[key] = value;
  return JSON.stringify(rest);
}

/**
 * The updated object as it will be stored: identity and timestamps from `current`, the generation
 * bumped when the spec changed, status kept from `current` when the resource has a status
 * subresource (status changes go through it), and metadata update rules checked (422).
 */
export function prepareForUpdate(info: ResourceInfo, given: StoredObject, current: StoredObject, statusSubresource: boolean): StoredObject {
  const next = withDefaults(given);
  const previous = metadataOf(current);
  const metadata: ObjectMeta = { ...metadataOf(next) };
  if ((metadata.resourceVersion ?? "") === "") metadata.resourceVersion = previous.resourceVersion ?? "";
  const errors = [
    ...validateObjectMeta(metadata, { namespaced: info.namespaced, nameValidator: nameValidatorFor(info.group, info.resource) }),
    ...validateObjectMetaUpdate(withSystemFields(metadata, previous), previous),
    ...kindErrors(validateObjectUpdate({ ...(next as unknown as KubeObject), metadata: withSystemFields(metadata, previous) }, withDefaults(current) as unknown as KubeObject)),
  ];
  if (errors.length > 0) throw newInvalid(groupKind(info), metadata.name ?? "", errors);
  const merged: StoredObject = { ...next, metadata: withSystemFields(metadata, previous) };
  if (statusSubresource) {
    if (current["status"] === undefined) delete merged["status"];
    else merged["status"] = current["status"];
  }
  const generation = previous.generation ?? 1;
  // Compared with the defaulted current object: defaults alone are not a spec change.
  (merged["metadata"] as ObjectMeta).generation = specPart(merged) === specPart(withDefaults(current)) ? generation : generation + 1;
  delete (merged["metadata"] as ObjectMeta).resourceVersion;
  return merged;
}

// Fields clients cannot change on update: taken from the stored object.
function withSystemFields(metadata: ObjectMeta, previous: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = { ...metadata };
  for (const key of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
    if (previous[key] === undefined) delete out[key];
    else (out as Record<string, unknown>)[key] = previous[key];
  }
  return out;
}

/** A status update: the new status on the stored object, everything else unchanged. */
export function prepareStatusUpdate(next: StoredObject, current: StoredObject): StoredObject {
  const merged: StoredObject = { ...current };
  if (next["status"] === undefined) delete merged["status"];
  else merged["status"] = next["status"];
  const metadata = { ...metadataOf(current) };
  delete metadata.resourceVersion;
  merged["metadata"] = metadata;
  return merged;
}

/**
 * The kind's own rules (libs/api/validate: containers, ports, selectors matching templates,
 * quantities, probes, service ports...); metadata errors are reported once, by the caller.
 */
function kindErrors(errors: readonly FieldError[]): FieldError[] {
  return errors.filter((error) => error.field !== "metadata" && !error.field.startsWith("metadata."));
}
