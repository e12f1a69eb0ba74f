import { describe, expect, it } from "vitest";
import { apply, applyMergePatch, updateManagedFields, type JsonObject, type JsonValue } from "../../libs/api/patch/index.ts";
import { keepManagedFieldsTimes } from "./managed-fields-times.ts";
import { encodeObject, type StoredObject } from "./storage/index.ts";

const firstSecond = "2026-11-22T08:00:00Z";
const nextSecond = "2026-11-22T08:00:01Z";

const createdBody = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "default", uid: "u1", resourceVersion: "7" }, data: { a: "1" } };
/** Created by kubectl-create, so the object's fields are tracked from the start. */
const created = updateManagedFields(undefined, createdBody, "kubectl-create", "Update", { time: firstSecond });

/** What rest-write's patch step produces: the merge patch applied, then managedFields tracked at `time`. */
function mergePatched(live: JsonObject, patch: JsonValue, time: string): StoredObject {
  const patched = applyMergePatch(live, patch) as JsonObject;
  return updateManagedFields(live, patched, "kubectl-patch", "Update", { time }) as StoredObject;
}

function timesOf(object: StoredObject): unknown[] {
  const managedFields = (object["metadata"] as { managedFields?: { time?: string }[] }).managedFields ?? [];
  return managedFields.map((entry) => entry.time);
}

describe("keepManagedFieldsTimes", () => {
  it("a repeated patch a second later keeps the live managedFields, so the stored bytes do not change", () => {
    const live = mergePatched(created, { data: { b: "2" } }, firstSecond);
    const again = mergePatched(live as JsonObject, { data: { b: "2" } }, nextSecond);
    // The bug: the field manager stamps the new second although nothing else changed.
    expect(timesOf(again)).toEqual([firstSecond, nextSecond]);
    const kept = keepManagedFieldsTimes(live, again);
    expect(timesOf(kept)).toEqual([firstSecond, firstSecond]);
    expect(encodeObject(kept)).toBe(encodeObject(live));
  });

  it("a patch that changes a field keeps its new timestamp", () => {
    const live = mergePatched(created, { data: { b: "2" } }, firstSecond);
    const changed = mergePatched(live as JsonObject, { data: { b: "3" } }, nextSecond);
    expect(timesOf(keepManagedFieldsTimes(live, changed))).toEqual([firstSecond, nextSecond]);
  });

  it("a change of ownership alone is not a no-op", () => {
    const live = mergePatched(created, { data: { b: "2" } }, firstSecond);
    // The same object, but the patch's entry now names another manager (and a later time).
    const entries = (live["metadata"] as { managedFields: Record<string, unknown>[] }).managedFields;
    const renamed = entries.map((entry, index) => (index === entries.length - 1 ? { ...entry, manager: "other", time: nextSecond } : entry));
    const next = { ...live, metadata: { ...(live["metadata"] as object), managedFields: renamed } };
    expect(keepManagedFieldsTimes(live, next)).toBe(next);
  });

  it("a server-side apply of the same configuration a second later is a no-op too", () => {
    const configuration = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "default" }, data: { a: "1" } };
    const live = apply(created, configuration, "kubectl", false, { time: firstSecond }) as StoredObject;
    const again = apply(live as JsonObject, configuration, "kubectl", false, { time: nextSecond }) as StoredObject;
    expect(timesOf(again)).not.toEqual(timesOf(live));
    expect(encodeObject(keepManagedFieldsTimes(live, again))).toBe(encodeObject(live));
  });

  it("objects without managedFields are left alone", () => {
    const plain = createdBody as StoredObject;
    const next = { ...plain, data: { a: "2" } };
    expect(keepManagedFieldsTimes(plain, next)).toBe(next);
  });
});
