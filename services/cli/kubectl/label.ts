/**
 * `flotilla label` and `flotilla annotate`: `key=value` adds (refused when the key has another
 * value unless `--overwrite`), `key-` removes; objects by name, `-l` selector or `--all`; sent as
 * a JSON merge patch of metadata, as kubectl does.
 */
import type { KubeObject, ResourceInfo } from "../../../libs/api/index.ts";
import { objectName, runVerb, type CliContext, type Verb } from "./context.ts";
import { flagBool, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { parseResourceArgs } from "./resources.ts";

export const labelFlags: FlagSpec = {
  booleans: ["overwrite", "all", "all-namespaces", "list"],
  values: ["selector", "resource-version", "output"],
  shorts: { l: "selector", A: "all-namespaces", o: "output" },
};

export interface MetadataChanges {
  readonly set: Record<string, string>;
  readonly remove: string[];
}

/** Splits `a=b c-` arguments from the resource arguments before them. */
export function parseChanges(args: readonly string[]): { resourceArgs: string[]; changes: MetadataChanges } {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  const resourceArgs: string[] = [];
  for (const arg of args) {
    const equals = arg.indexOf("=");
    if (equals > 0) set[arg.slice(0, equals)] = arg.slice(equals + 1);
    else if (arg.endsWith("-") && arg.length > 1 && resourceArgs.length > 0) remove.push(arg.slice(0, -1));
    else resourceArgs.push(arg);
  }
  if (Object.keys(set).length === 0 && remove.length === 0) throw new UsageError("at least one label update is required");
  for (const key of remove) if (key in set) throw new UsageError(`can not both modify and remove the following label(s) in the same command: ${key}`);
  return { resourceArgs, changes: { set, remove } };
}

/** The merge patch, or an error naming a key that would be overwritten without --overwrite. */
export function metadataPatch(field: "labels" | "annotations", current: Record<string, string> | undefined, changes: MetadataChanges, overwrite: boolean): Record<string, unknown> {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(changes.set)) {
    const existing = current?.[key];
    if (existing !== undefined && existing !== value && !overwrite) throw new UsageError(`'${key}' already has a value (${existing}), and --overwrite is false`);
    patch[key] = value;
  }
  for (const key of changes.remove) patch[key] = null;
  return { metadata: { [field]: patch } };
}

async function targets(context: CliContext, parsed: ParsedArgs, resourceArgs: string[]): Promise<{ resource: ResourceInfo; object: KubeObject }[]> {
  const selector = flagValue(parsed, "selector");
  const namespace = flagBool(parsed, "all-namespaces") ? undefined : context.namespace;
  const found: { resource: ResourceInfo; object: KubeObject }[] = [];
  for (const request of parseResourceArgs(resourceArgs)) {
    const scope = request.resource.namespaced ? namespace : undefined;
    if (request.names.length > 0) {
      for (const name of request.names) found.push({ resource: request.resource, object: await context.client.get(request.resource, scope, name) });
    } else if (selector !== undefined || flagBool(parsed, "all")) {
      const list = await context.client.list(request.resource, scope, selector === undefined ? {} : { labelSelector: selector });
      found.push(...list.items.map((object) => ({ resource: request.resource, object })));
    } else {
      throw new UsageError("resource(s) were provided, but no name was specified");
    }
  }
  return found;
}

function metadataVerb(field: "labels" | "annotations", past: string): Verb {
  return async (context, parsed) => {
    const { resourceArgs, changes } = parseChanges(parsed.positionals);
    for (const { resource, object } of await targets(context, parsed, resourceArgs)) {
      const current = object.metadata[field];
      const patch = metadataPatch(field, current, changes, flagBool(parsed, "overwrite"));
      const unchanged = Object.entries(changes.set).every(([key, value]) => current?.[key] === value) && changes.remove.every((key) => current?.[key] === undefined);
      const name = object.metadata.name ?? "";
      if (!unchanged) await context.client.patch(resource, resource.namespaced ? object.metadata.namespace : undefined, name, "merge", patch);
      context.stdout.write(`${objectName(resource, name)} ${unchanged ? "not " : ""}${past}\n`);
    }
    return 0;
  };
}

export const label = metadataVerb("labels", "labeled");
export const annotate = metadataVerb("annotations", "annotated");

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, labelFlags, label);
}
