/**
 * kubectl's resource arguments: `pods`, `deploy/web`, `deployment web other`, `pods,svc`,
 * `all` (the "all" category), resolved through libs/api's registry as kubectl's RESTMapper does.
 */
import { resolveResource, resourceForObject, resourcesInCategory } from "../../../libs/api/index.ts";
import type { KubeObject, ResourceInfo } from "../../../libs/api/index.ts";
import { UsageError } from "./flags.ts";

export interface ResourceRequest {
  readonly resource: ResourceInfo;
  /** Empty: every object (of the namespace, or matching the selector). */
  readonly names: string[];
}

export function resolveOne(name: string): ResourceInfo {
  const resource = resolveResource(name);
  if (resource === undefined) throw new UsageError(`the server doesn't have a resource type "${name}"`);
  return resource;
}

function resolveList(types: string): ResourceInfo[] {
  return types.split(",").flatMap((type) => (type === "all" ? resourcesInCategory("all") : [resolveOne(type)]));
}

/** The resources and names of `get`/`delete`/... positional arguments. */
export function parseResourceArgs(args: readonly string[]): ResourceRequest[] {
  if (args.length === 0) throw new UsageError("You must specify the type of resource to get.");
  if (args.some((arg) => arg.includes("/"))) {
    return args.map((arg) => {
      const slash = arg.indexOf("/");
      if (slash <= 0 || slash === arg.length - 1) throw new UsageError(`arguments in resource/name form must have a single resource and name: ${arg}`);
      return { resource: resolveOne(arg.slice(0, slash)), names: [arg.slice(slash + 1)] };
    });
  }
  const [types = "", ...names] = args;
  const resources = resolveList(types);
  if (names.length > 0 && resources.length > 1) throw new UsageError("you may only specify a single resource type with names");
  return resources.map((resource) => ({ resource, names: [...names] }));
}

/** The resource of a manifest object; a usage error when the kind is not served. */
export function resourceOf(object: KubeObject): ResourceInfo {
  const resource = resourceForObject(object.apiVersion ?? "", object.kind ?? "");
  if (resource === undefined) throw new UsageError(`resource mapping not found for name: "${object.metadata?.name ?? ""}" kind: "${object.kind ?? ""}": no matches for kind "${object.kind ?? ""}" in version "${object.apiVersion ?? ""}"`);
  return resource;
}
