/**
 * Objects every cluster starts with, created at API server start when absent (never overwritten,
 * so an admin's edits stay): upstream's bootstrap ClusterRoles and ClusterRoleBindings and the
 * system namespaces. Replicas starting together race harmlessly: AlreadyExists is success.
 */
import { findResource } from "../../../libs/api/registry.ts";
import { prepareForCreate } from "../object-meta.ts";
import type { Storages } from "../storages.ts";
import { AlreadyExistsError, type StoredObject } from "../storage/index.ts";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "./bootstrap.ts";

/** upstream's system namespaces: default, kube-system, kube-public, kube-node-lease. */
export const systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

function isoSeconds(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Creates `object` of `group`/`resource` unless an object of that name exists. */
export async function createIfAbsent(storages: Storages, group: string, version: string, resource: string, object: StoredObject, nowMs: number): Promise<boolean> {
  const info = findResource(group, version, resource);
  if (info === undefined) throw new Error(`the registry has no ${resource}.${group}`);
  try {
    await storages.cacherFor(info).create(prepareForCreate(info, object, isoSeconds(nowMs)));
    return true;
  } catch (error) {
    if (error instanceof AlreadyExistsError) return false;
    throw error;
  }
}

export async function ensureBootstrapObjects(storages: Storages, nowMs: number): Promise<void> {
  for (const name of systemNamespaces) {
    await createIfAbsent(storages, "", "v1", "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } }, nowMs);
  }
  for (const role of bootstrapClusterRoles) {
    await createIfAbsent(storages, "rbac.authorization.k8s.io", "v1", "clusterroles", structuredClone(role) as unknown as StoredObject, nowMs);
  }
  for (const binding of bootstrapClusterRoleBindings) {
    await createIfAbsent(storages, "rbac.authorization.k8s.io", "v1", "clusterrolebindings", structuredClone(binding) as unknown as StoredObject, nowMs);
  }
}
