/**
 * `flotilla apply -f`: kubectl's client-side apply. Each object carries the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation; a re-apply sends the three-way
 * strategic merge patch of (last applied, new manifest, live object) from libs/api/patch, so a
 * field removed from the manifest goes and a field someone else set stays. `--server-side` sends
 * an apply patch (field manager "kubectl", `--force-conflicts`).
 */
import {
  builtinSchema,
  createThreeWayJsonMergePatch,
  createThreeWayMergePatch,
  deepEqual,
  isStatusError,
  kubectlApplyPreconditions,
} from "../../../libs/api/index.ts";
import type { JsonObject, KubeObject, ResourceInfo } from "../../../libs/api/index.ts";
import { formatError, objectName, runVerb, type CliContext } from "./context.ts";
import { flagBool, flagList, flagValue, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { manifestNamespace, readManifests } from "./manifests.ts";
import { sortKeys } from "./printers.ts";
import { resourceOf } from "./resources.ts";

export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
const fieldManager = "kubectl-client-side-apply";

export const applyFlags: FlagSpec = {
  booleans: ["recursive", "server-side", "force-conflicts", "dry-run-client"],
  values: ["filename", "output", "field-manager", "validate"],
  shorts: { f: "filename", R: "recursive", o: "output" },
};

/** The object as applied: namespace filled in, its own JSON in the annotation (without that annotation). */
export function withLastApplied(object: KubeObject): KubeObject {
  const annotations = { ...(object.metadata.annotations ?? {}) };
  delete annotations[lastAppliedAnnotation];
  const clean: KubeObject = { ...object, metadata: { ...object.metadata, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) } };
  if (Object.keys(annotations).length === 0) delete clean.metadata.annotations;
  const text = `${JSON.stringify(sortKeys(clean))}\n`;
  return { ...clean, metadata: { ...clean.metadata, annotations: { ...annotations, [lastAppliedAnnotation]: text } } };
}

function lastApplied(live: KubeObject): JsonObject {
  const text = live.metadata.annotations?.[lastAppliedAnnotation];
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as JsonObject;
  } catch {
    return {};
  }
}

type ApplyResult = "created" | "configured" | "unchanged" | "serverside-applied";

/** Client-side apply of one object; the result word kubectl prints. */
export async function applyOne(context: CliContext, resource: ResourceInfo, namespace: string | undefined, object: KubeObject, warn: (text: string) => void): Promise<ApplyResult> {
  const modified = withLastApplied({ ...object, metadata: { ...object.metadata, ...(namespace === undefined ? {} : { namespace }) } });
  const name = modified.metadata.name ?? "";
  let live: KubeObject;
  try {
    live = await context.client.get(resource, namespace, name);
  } catch (error) {
    if (!isStatusError(error, "NotFound")) throw error;
    await context.client.create(resource, modified, { fieldManager });
    return "created";
  }
  if (live.metadata.annotations?.[lastAppliedAnnotation] === undefined) {
    warn(
      `Warning: resource ${resource.resource} ${resource.group === "" ? "" : `(${resource.group}) `}/${name} is missing the ${lastAppliedAnnotation} annotation which is required by flotilla apply. flotilla apply should only be used on resources created declaratively by either flotilla create --save-config or flotilla apply. The missing annotation will be patched automatically.\n`,
    );
  }
  const original = lastApplied(live);
  const schema = builtinSchema(modified.apiVersion ?? "", modified.kind ?? "");
  const patch =
    schema === undefined
      ? createThreeWayJsonMergePatch(original, modified as unknown as JsonObject, live as unknown as JsonObject)
      : createThreeWayMergePatch(original, modified as unknown as JsonObject, live as unknown as JsonObject, schema, kubectlApplyPreconditions);
  if (deepEqual(patch, {})) return "unchanged";
  await context.client.patch(resource, namespace, name, schema === undefined ? "merge" : "strategic", patch, { fieldManager });
  return "configured";
}

async function apply(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const objects = await readManifests(context, flagList(parsed, "filename", false), flagBool(parsed, "recursive"));
  const serverSide = flagBool(parsed, "server-side");
  const outputName = flagValue(parsed, "output") === "name";
  let failures = 0;
  for (const object of objects) {
    const resource = resourceOf(object);
    const namespace = manifestNamespace(context, object, resource.namespaced);
    const name = object.metadata.name ?? "";
    try {
      let result: ApplyResult;
      if (serverSide) {
        const body = { ...object, metadata: { ...object.metadata, ...(namespace === undefined ? {} : { namespace }) } };
        await context.client.patch(resource, namespace, name, "apply", body, { fieldManager: flagValue(parsed, "field-manager") ?? "kubectl", force: flagBool(parsed, "force-conflicts") });
        result = "serverside-applied";
      } else {
        result = await applyOne(context, resource, namespace, object, (text) => context.stderr.write(text));
      }
      context.stdout.write(outputName ? `${objectName(resource, name)}\n` : `${objectName(resource, name)} ${result}\n`);
    } catch (error) {
      failures++;
      context.stderr.write(`${formatError(error)}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, applyFlags, apply);
}

export { apply };
