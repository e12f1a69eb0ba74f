/**
 * `flotilla delete`: by name (`deploy web`, `deploy/web`), `-f` manifests, `-l` selector or
 * `--all`; `--cascade=background|foreground|orphan` becomes DeleteOptions.propagationPolicy
 * (`--cascade=true|false` as older kubectl); `--grace-period`; `--ignore-not-found`.
 */
import { isStatusError } from "../../../libs/api/index.ts";
import type { DeleteOptions, DeletionPropagation, ResourceInfo } from "../../../libs/api/index.ts";
import { formatError, objectName, runVerb, type CliContext } from "./context.ts";
import { flagBool, flagInt, flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { manifestNamespace, readManifests } from "./manifests.ts";
import { parseResourceArgs, resourceOf } from "./resources.ts";

export const deleteFlags: FlagSpec = {
  booleans: ["all", "ignore-not-found", "recursive", "all-namespaces", "wait", "now"],
  values: ["filename", "selector", "cascade", "grace-period", "output", "field-selector"],
  shorts: { f: "filename", l: "selector", R: "recursive", A: "all-namespaces", o: "output" },
};

function propagationOf(cascade: string | undefined): DeletionPropagation {
  switch (cascade ?? "background") {
    case "background":
    case "true":
      return "Background";
    case "foreground":
      return "Foreground";
    case "orphan":
    case "false":
      return "Orphan";
    default:
      throw new UsageError(`invalid cascade value (${cascade ?? ""}). Must be "background", "foreground", or "orphan".`);
  }
}

interface Target {
  readonly resource: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string;
}

async function targetsOf(context: CliContext, parsed: ParsedArgs): Promise<{ targets: Target[]; explicit: boolean }> {
  const files = flagList(parsed, "filename", false);
  if (files.length > 0) {
    const objects = await readManifests(context, files, flagBool(parsed, "recursive"));
    const targets = objects.map((object) => {
      const resource = resourceOf(object);
      return { resource, namespace: manifestNamespace(context, object, resource.namespaced), name: object.metadata.name ?? "" };
    });
    return { targets, explicit: true };
  }
  const selector = flagValue(parsed, "selector");
  const fieldSelector = flagValue(parsed, "field-selector");
  const all = flagBool(parsed, "all");
  const namespace = flagBool(parsed, "all-namespaces") ? undefined : context.namespace;
  const targets: Target[] = [];
  let explicit = false;
  for (const request of parseResourceArgs(parsed.positionals)) {
    const scope = request.resource.namespaced ? namespace : undefined;
    if (request.names.length > 0) {
      explicit = true;
      targets.push(...request.names.map((name) => ({ resource: request.resource, namespace: scope, name })));
      continue;
    }
    if (selector === undefined && fieldSelector === undefined && !all) throw new UsageError('resource(s) were provided, but no name was specified');
    const list = await context.client.list(request.resource, scope, { ...(selector === undefined ? {} : { labelSelector: selector }), ...(fieldSelector === undefined ? {} : { fieldSelector }) });
    targets.push(...list.items.map((item) => ({ resource: request.resource, namespace: item.metadata.namespace ?? scope, name: item.metadata.name ?? "" })));
  }
  return { targets, explicit };
}

async function deleteVerb(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const propagationPolicy = propagationOf(flagValue(parsed, "cascade"));
  const gracePeriodSeconds = flagBool(parsed, "now") ? 1 : flagInt(parsed, "grace-period");
  const options: DeleteOptions = { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy, ...(gracePeriodSeconds === undefined || gracePeriodSeconds < 0 ? {} : { gracePeriodSeconds }) };
  const { targets, explicit } = await targetsOf(context, parsed);
  if (targets.length === 0 && !explicit) {
    context.stderr.write(context.namespace === "" ? "No resources found\n" : `No resources found in ${context.namespace} namespace.\n`);
    return 0;
  }
  const ignoreNotFound = flagBool(parsed, "ignore-not-found");
  const outputName = flagValue(parsed, "output") === "name";
  let failures = 0;
  for (const target of targets) {
    try {
      await context.client.delete(target.resource, target.namespace, target.name, options);
      const name = objectName(target.resource, target.name);
      const [kind = "", ...rest] = name.split("/");
      context.stdout.write(outputName ? `${name}\n` : `${kind} "${rest.join("/")}" deleted\n`);
    } catch (error) {
      if (ignoreNotFound && isStatusError(error, "NotFound")) continue;
      failures++;
      context.stderr.write(`${formatError(error)}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, deleteFlags, deleteVerb);
}

export { deleteVerb };
