/**
 * Discovery documents: legacy (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>` from libs/api's
 * registry) and aggregated discovery v2 (`apidiscovery.k8s.io/v2` APIGroupDiscoveryList), which
 * kubectl 1.30+ asks for first with an Accept header naming it; and `/version`.
 */
import { allResources, apiGroupList, servedVersions, type ResourceInfo, type SubresourceInfo } from "../../libs/api/registry.ts";

/** The Content-Type of an aggregated discovery answer; clients check it before decoding. */
export const aggregatedDiscoveryContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** True when the Accept header asks for aggregated discovery v2 (any position in the list). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(",").some((part) => {
    const params = part.split(";").map((piece) => piece.trim());
    return params.includes("g=apidiscovery.k8s.io") && params.includes("v=v2") && params.includes("as=APIGroupDiscoveryList");
  });
}

interface GroupVersionKindRef {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

function subresourceDiscovery(info: ResourceInfo, subresource: SubresourceInfo): Record<string, unknown> {
  const responseKind: GroupVersionKindRef = { group: subresource.group ?? info.group, version: subresource.version ?? info.version, kind: subresource.kind };
  return { subresource: subresource.name, responseKind, verbs: [...subresource.verbs] };
}

function resourceDiscovery(info: ResourceInfo): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    resource: info.resource,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? "Namespaced" : "Cluster",
    singularResource: info.singular,
    verbs: [...info.verbs],
  };
  if (info.shortNames.length > 0) entry["shortNames"] = [...info.shortNames];
  if (info.categories.length > 0) entry["categories"] = [...info.categories];
  if (info.subresources.length > 0) entry["subresources"] = info.subresources.map((subresource) => subresourceDiscovery(info, subresource));
  return entry;
}

function groupDiscovery(group: string): Record<string, unknown> {
  const versions = servedVersions(group).map((version) => {
    const resources = allResources()
      .filter((info) => info.group === group && info.version === version)
      .map(resourceDiscovery)
      .sort((left, right) => String(left["resource"]).localeCompare(String(right["resource"])));
    return { version, resources, freshness: "Current" };
  });
  return { metadata: { name: group, creationTimestamp: null }, versions };
}

/** `/api` (legacy: true, the core group only) or `/apis` (every named group) as aggregated discovery. */
export function aggregatedDiscovery(legacy: boolean): Record<string, unknown> {
  const groups = legacy ? [""] : apiGroupList().groups.map((group) => group.name);
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items: groups.map(groupDiscovery) };
}

/** What `/version` answers: the Kubernetes version Flotilla's API follows, and Flotilla's own. */
export function versionInfo(flotillaVersion: string): Record<string, string> {
  return {
    major: "1",
    minor: "32",
    gitVersion: `v1.32.0-flotilla.${flotillaVersion}`,
    gitCommit: "",
    gitTreeState: "clean",
    buildDate: "1970-01-01T00:00:00Z",
    goVersion: `node${process.versions.node}`,
    compiler: "tsx",
    platform: `${process.platform}/${process.arch}`,
  };
}
