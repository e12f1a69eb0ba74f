/**
 * Upstream's IgnoreManagedFieldsTimestampsTransformer: an update, patch or apply whose only
 * change is the `time` of managedFields entries (the same request a second later) keeps the live
 * object's managedFields, so the store sees identical bytes and writes nothing: the object keeps
 * its resourceVersion, no watch event goes out, and kubectl prints "(no change)".
 */
import { deepEqual, type JsonObject, type JsonValue } from "../../libs/api/patch/index.ts";
import type { StoredObject } from "./storage/index.ts";

function managedFieldsOf(object: StoredObject): unknown[] | undefined {
  const metadata = object["metadata"];
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const managedFields = (metadata as Record<string, unknown>)["managedFields"];
  return Array.isArray(managedFields) ? managedFields : undefined;
}

function withoutTime(entry: unknown): JsonValue {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return entry as JsonValue;
  const { time: _time, ...rest } = entry as JsonObject;
  return rest;
}

/** The object without resourceVersion (the store does not keep it) and with `managedFields` in place. */
function comparable(object: StoredObject, managedFields: unknown[]): JsonValue {
  const { resourceVersion: _resourceVersion, ...metadata } = object["metadata"] as Record<string, unknown>;
  return { ...object, metadata: { ...metadata, managedFields } } as unknown as JsonValue;
}

/**
 * `next` with `current`'s managedFields when the two differ in nothing but managedFields
 * timestamps; otherwise `next` unchanged. Entries are compared in order, as upstream does.
 */
export function keepManagedFieldsTimes(current: StoredObject, next: StoredObject): StoredObject {
  const currentFields = managedFieldsOf(current);
  const nextFields = managedFieldsOf(next);
  if (currentFields === undefined || nextFields === undefined || currentFields.length === 0 || currentFields.length !== nextFields.length) return next;
  if (!currentFields.every((entry, index) => deepEqual(withoutTime(entry), withoutTime(nextFields[index])))) return next;
  if (!deepEqual(comparable(current, currentFields), comparable(next, currentFields))) return next;
  return { ...next, metadata: { ...(next["metadata"] as Record<string, unknown>), managedFields: currentFields } };
}
