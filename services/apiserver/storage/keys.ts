/**
 * Storage keys: `/registry/<group>/<resource>/<namespace>/<name>` for namespaced objects and
 * `/registry/<group>/<resource>/<name>` for cluster-scoped ones, with group "core" for the legacy
 * group. Keys are checked as upstream's prepareKey does: no "." or ".." segment can walk out of
 * the resource's prefix.
 */
import { BadRequestError, type GroupResource } from "./errors.ts";

export const registryRoot = "/registry";
export const coreGroupSegment = "core";

/** The prefix every key of the resource starts with, ending in "/". */
export function resourcePrefix(resource: GroupResource): string {
  const group = resource.group === "" ? coreGroupSegment : resource.group;
  return `${registryRoot}/${group}/${resource.resource}/`;
}

/** The key of one object; `namespace` is undefined (or "") for cluster-scoped objects. */
export function objectKey(resource: GroupResource, namespace: string | undefined, name: string): string {
  const scope = namespace === undefined || namespace === "" ? "" : `${namespace}/`;
  return `${resourcePrefix(resource)}${scope}${name}`;
}

/** The prefix of one namespace's objects (or of all objects when namespace is undefined or ""). */
export function namespacePrefix(resource: GroupResource, namespace: string | undefined): string {
  return namespace === undefined || namespace === "" ? resourcePrefix(resource) : `${resourcePrefix(resource)}${namespace}/`;
}

/** True when a path's segments are all non-empty and none is "." or ".." (path.Clean would keep it). */
export function isCleanPath(path: string): boolean {
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === "" || segment === "." || segment === "..") return false;
  }
  return segments[0] === "";
}

/** Checks an object key under `prefix` (the resource prefix); throws BadRequestError otherwise. */
export function checkObjectKey(prefix: string, key: string): void {
  if (!key.startsWith(prefix) || key.length === prefix.length || !isCleanPath(key)) {
    throw new BadRequestError(`invalid key ${JSON.stringify(key)}: not an object key under ${prefix}`);
  }
}

/**
 * Checks a list or watch prefix under the resource prefix and returns it ending in "/", so that
 * "/registry/core/pods/ns" never matches "/registry/core/pods/ns2/x" (upstream does the same).
 */
export function checkListPrefix(resourcePrefixValue: string, prefix: string): string {
  const normalized = prefix.endsWith("/") ? prefix : `${prefix}/`;
  if (!normalized.startsWith(resourcePrefixValue) || !isCleanPath(normalized.slice(0, -1))) {
    throw new BadRequestError(`invalid list prefix ${JSON.stringify(prefix)}: not under ${resourcePrefixValue}`);
  }
  return normalized;
}
