/**
 * `flotilla scale`: sets spec.replicas through the scale subresource (deployments, replica sets,
 * stateful sets), `--current-replicas` as a precondition, names or `-f`.
 */
import type { KubeObject, Scale } from "../../../libs/api/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagInt, flagList, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { manifestNamespace, readManifests } from "./manifests.ts";
import { parseResourceArgs, resourceOf } from "./resources.ts";

export const scaleFlags: FlagSpec = {
  values: ["replicas", "current-replicas", "filename", "resource-version", "timeout"],
  shorts: { f: "filename" },
};

async function scale(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const replicas = flagInt(parsed, "replicas");
  if (replicas === undefined || replicas < 0) throw new UsageError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
  const currentReplicas = flagInt(parsed, "current-replicas");
  const files = flagList(parsed, "filename", false);
  const targets =
    files.length > 0
      ? (await readManifests(context, files, false)).map((object) => {
          const resource = resourceOf(object);
          return { resource, namespace: manifestNamespace(context, object, resource.namespaced), name: object.metadata.name ?? "" };
        })
      : parseResourceArgs(parsed.positionals).flatMap((request) => {
          if (request.names.length === 0) throw new UsageError("resource(s) were provided, but no name was specified");
          return request.names.map((name) => ({ resource: request.resource, namespace: request.resource.namespaced ? context.namespace : undefined, name }));
        });
  for (const target of targets) {
    if (!target.resource.subresources.some((subresource) => subresource.name === "scale")) throw new UsageError(`cannot scale ${target.resource.resource}: it has no scale subresource`);
    if (currentReplicas !== undefined) {
      const current = await context.client.get<Scale & KubeObject>(target.resource, target.namespace, target.name);
      const actual = (current as unknown as { spec?: { replicas?: number } }).spec?.replicas ?? 0;
      if (actual !== currentReplicas) throw new UsageError(`Expected replicas to be ${currentReplicas}, was ${actual}`);
    }
    await context.client.patch(target.resource, target.namespace, target.name, "merge", { spec: { replicas } }, { subresource: "scale" });
    context.stdout.write(`${objectName(target.resource, target.name)} scaled\n`);
  }
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, scaleFlags, scale);
}

export { scale };
