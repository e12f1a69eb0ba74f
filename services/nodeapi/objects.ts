/** Small helpers over the API server's storage layer for the objects the node API reads and writes. */
import { randomUUID } from "node:crypto";
import { findResource, type ResourceInfo } from "../../libs/api/registry.ts";
import type { Storages } from "../apiserver/storages.ts";
import { isStorageError, objectKey, type StoredObject } from "../apiserver/storage/index.ts";

export function resource(group: string, version: string, name: string): ResourceInfo {
  const info = findResource(group, version, name);
  if (info === undefined) throw new Error(`the registry has no ${group}/${version} ${name}`);
  return info;
}

export const podsResource = (): ResourceInfo => resource("", "v1", "pods");
export const nodesResource = (): ResourceInfo => resource("", "v1", "nodes");
export const secretsResource = (): ResourceInfo => resource("", "v1", "secrets");
export const eventsResource = (): ResourceInfo => resource("", "v1", "events");
export const leasesResource = (): ResourceInfo => resource("coordination.k8s.io", "v1", "leases");

export function keyFor(info: ResourceInfo, namespace: string, name: string): string {
  return objectKey({ group: info.group, resource: info.resource }, info.namespaced ? namespace : undefined, name);
}

export async function getIfPresent(storages: Storages, info: ResourceInfo, namespace: string, name: string): Promise<StoredObject | undefined> {
  try {
    return await storages.cacherFor(info).store.get(keyFor(info, namespace, name));
  } catch (error) {
    if (isStorageError(error) && error.reason === "NotFound") return undefined;
    throw error;
  }
}

/** Sets what the REST layer sets on create: uid, creationTimestamp, generation. */
export function newObject(object: StoredObject, nowMs: number): StoredObject {
  const metadata = { ...(object["metadata"] as Record<string, unknown>), uid: randomUUID(), creationTimestamp: isoSeconds(nowMs), generation: 1 };
  return { ...object, metadata };
}

/** RFC 3339 with whole seconds, as metav1.Time serialises. */
export function isoSeconds(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
export function isoMicros(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export function metadataField(object: StoredObject, field: string): string {
  const value = (object["metadata"] as Record<string, unknown> | undefined)?.[field];
  return typeof value === "string" ? value : "";
}
