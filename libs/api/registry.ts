/**
 * The resource table and what is derived from it: lookups by group/version/resource, by kind
 * and by the names kubectl accepts (plural, singular, short name, `name.group`), storage keys
 * (`/registry/<group>/<resource>/<namespace>/<name>`, group "core" for the legacy group) and the
 * discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`).
 */
import { formatApiVersion, parseApiVersion } from "./group-version.ts";
import type { ResourceInfo, SubresourceInfo } from "./registry-data.ts";
import { builtinResources, groupVersions } from "./registry-data.ts";
import type { APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery } from "./types/meta.ts";

export type { ResourceInfo, SubresourceInfo };

/** The storage root every object key starts with. */
export const registryRoot = "/registry";
/** The group segment of keys of the legacy core group. */
export const coreGroupKeySegment = "core";

const byGroupVersionResource = new Map(builtinResources.map((info) => [`${info.group}/${info.version}/${info.resource}`, info]));

export function allResources(): readonly ResourceInfo[] {
  return builtinResources;
}

export function servedVersions(group: string): readonly string[] {
  return groupVersions.get(group) ?? [];
}

export function preferredVersion(group: string): string | undefined {
  return servedVersions(group)[0];
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return byGroupVersionResource.get(`${group}/${version}/${resource}`);
}

/** The resource serving a kind in one group and version (`apps`, `v1`, `Deployment`). */
export function findResourceByKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return builtinResources.find((info) => info.group === group && info.version === version && info.kind === kind);
}

/** The resource of an object's apiVersion and kind, e.g. ("apps/v1", "Deployment"). */
export function resourceForObject(apiVersion: string, kind: string): ResourceInfo | undefined {
  const parsed = parseApiVersion(apiVersion);
  return parsed === undefined ? undefined : findResourceByKind(parsed.group, parsed.version, kind);
}

function isPreferred(info: ResourceInfo): boolean {
  return preferredVersion(info.group) === info.version;
}

// The spellings kubectl accepts for a resource: plural, singular (the kind, any case) or short
// name, alone or followed by `.group` for the preferred version, or by `.version.group` for any.
function acceptedNames(info: ResourceInfo): string[] {
  const accepted: string[] = [];
  for (const name of [info.resource, info.singular, ...info.shortNames]) {
    if (isPreferred(info)) {
      accepted.push(name);
      if (info.group !== "") accepted.push(`${name}.${info.group}`);
    }
    accepted.push(info.group === "" ? `${name}.${info.version}` : `${name}.${info.version}.${info.group}`);
  }
  return accepted;
}

/**
 * Resolves what a user types (`po`, `pod`, `Pod`, `pods`, `deploy.apps`, `deployments.v1.apps`,
 * `hpa`) to a resource, the group's preferred version unless a version is named, as kubectl's
 * RESTMapper does. Undefined when unknown.
 */
export function resolveResource(name: string): ResourceInfo | undefined {
  const lower = name.toLowerCase();
  return builtinResources.find((info) => acceptedNames(info).includes(lower));
}

/** Resources listed by a category (`kubectl get all`), in table order. */
export function resourcesInCategory(category: string): ResourceInfo[] {
  return builtinResources.filter((info) => isPreferred(info) && info.categories.includes(category));
}

export function findSubresource(info: ResourceInfo, name: string): SubresourceInfo | undefined {
  return info.subresources.find((subresource) => subresource.name === name);
}

/** `apps/v1`, `v1`. */
export function apiVersionOf(info: ResourceInfo): string {
  return formatApiVersion(info.group, info.version);
}

/** The kind of a list of the resource: `PodList`. */
export function listKindOf(info: ResourceInfo): string {
  return `${info.kind}List`;
}

/** The prefix of all the resource's keys (or of one namespace's), ending in "/". */
export function storagePrefix(info: ResourceInfo, namespace?: string): string {
  const group = info.group === "" ? coreGroupKeySegment : info.group;
  const base = `${registryRoot}/${group}/${info.resource}/`;
  return info.namespaced && namespace !== undefined && namespace !== "" ? `${base}${namespace}/` : base;
}

/** The key of one object; `namespace` is ignored for cluster-scoped resources. */
export function storageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${storagePrefix(info, info.namespaced ? namespace : undefined)}${name}`;
}

function discoveryEntry(info: ResourceInfo): APIResource {
  const entry: APIResource = { name: info.resource, singularName: info.singular, namespaced: info.namespaced, kind: info.kind, verbs: [...info.verbs] };
  if (info.shortNames.length > 0) entry.shortNames = [...info.shortNames];
  if (info.categories.length > 0) entry.categories = [...info.categories];
  return entry;
}

function subresourceEntry(info: ResourceInfo, subresource: SubresourceInfo): APIResource {
  const entry: APIResource = { name: `${info.resource}/${subresource.name}`, singularName: "", namespaced: info.namespaced, kind: subresource.kind, verbs: [...subresource.verbs] };
  if (subresource.group !== undefined) entry.group = subresource.group;
  if (subresource.version !== undefined) entry.version = subresource.version;
  return entry;
}

/** `/api/v1` or `/apis/<group>/<version>`: resources and subresources sorted by name, as upstream. */
export function apiResourceList(group: string, version: string): APIResourceList | undefined {
  if (!servedVersions(group).includes(version)) return undefined;
  const entries: APIResource[] = [];
  for (const info of builtinResources.filter((candidate) => candidate.group === group && candidate.version === version)) {
    entries.push(discoveryEntry(info), ...info.subresources.map((subresource) => subresourceEntry(info, subresource)));
  }
  entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: formatApiVersion(group, version), resources: entries };
}

function versionEntry(group: string, version: string): GroupVersionForDiscovery {
  return { groupVersion: formatApiVersion(group, version), version };
}

/** One named group as `/apis/<group>` describes it. */
export function apiGroup(group: string): APIGroup | undefined {
  const versions = servedVersions(group);
  const preferred = versions[0];
  if (group === "" || preferred === undefined) return undefined;
  return { name: group, versions: versions.map((version) => versionEntry(group, version)), preferredVersion: versionEntry(group, preferred) };
}

/** `/apis`: every named group, in upstream's order. */
export function apiGroupList(): APIGroupList {
  const groups = [...groupVersions.keys()].filter((group) => group !== "").map((group) => apiGroup(group));
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.filter((group): group is APIGroup => group !== undefined) };
}

/** `/api`: the legacy group's versions, with the address clients should use. */
export function apiVersions(serverAddress: string): APIVersions {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}
