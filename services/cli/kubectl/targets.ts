/**
 * The objects a verb acts on: `TYPE NAME...`, `TYPE/NAME...` or `-f` manifests, each with the
 * namespace it lives in (undefined for cluster-scoped kinds). Shared by patch, wait and edit.
 */
import type { ResourceInfo } from "../../../libs/api/index.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./flags.ts";
import { manifestNamespace, readManifests } from "./manifests.ts";
import { parseResourceArgs, resourceOf } from "./resources.ts";

export interface Target {
  readonly resource: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string;
}

/** Named objects from the arguments or `-f` files. */
export async function namedTargets(context: CliContext, positionals: readonly string[], files: readonly string[]): Promise<Target[]> {
  if (files.length > 0) {
    return (await readManifests(context, files, false)).map((object) => {
      const resource = resourceOf(object);
      return { resource, namespace: manifestNamespace(context, object, resource.namespaced), name: object.metadata.name ?? "" };
    });
  }
  return parseResourceArgs(positionals).flatMap((request) => {
    if (request.names.length === 0) throw new UsageError("resource(s) were provided, but no name was specified");
    return request.names.map((name) => ({ resource: request.resource, namespace: request.resource.namespaced ? context.namespace : undefined, name }));
  });
}
