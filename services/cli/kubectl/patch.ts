/**
 * `flotilla patch TYPE NAME -p PATCH [--type strategic|merge|json]`: one PATCH request, as
 * kubectl sends it. The object is read first so that a patch that changes nothing prints
 * `patched (no change)`, as kubectl does: the server writes nothing for a patch without effect,
 * so the resourceVersion before and after tells.
 */
import { readFileSync } from "node:fs";
import type { KubeObject } from "../../../libs/api/index.ts";
import type { PatchType } from "../../../libs/client/index.ts";
import { objectName, runVerb, type CliContext } from "./context.ts";
import { flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { parseManifestValue } from "./patch-body.ts";
import { printJson, printYaml } from "./printers.ts";
import { namedTargets } from "./targets.ts";

export const patchFlags: FlagSpec = {
  booleans: ["local"],
  values: ["patch", "patch-file", "type", "filename", "output", "subresource", "field-manager", "dry-run"],
  shorts: { p: "patch", f: "filename", o: "output" },
};

const patchTypes: Readonly<Record<string, PatchType>> = { strategic: "strategic", merge: "merge", json: "json" };

/** The patch body: `-p` text or `--patch-file`, YAML or JSON, checked against its type's shape. */
export function patchBody(parsed: ParsedArgs): { type: PatchType; body: unknown } {
  const typeText = flagValue(parsed, "type") ?? "strategic";
  const type = patchTypes[typeText];
  if (type === undefined) throw new UsageError(`--type must be one of [json merge strategic], not "${typeText}"`);
  const inline = flagValue(parsed, "patch");
  const file = flagValue(parsed, "patch-file");
  if (inline !== undefined && file !== undefined) throw new UsageError("--patch and --patch-file are mutually exclusive");
  if (inline === undefined && file === undefined) throw new UsageError("must specify --patch or --patch-file containing the contents of the patch");
  const text = inline ?? readFileSync(file ?? "", "utf8");
  const body = parseManifestValue(text, "unable to parse patch");
  if (type === "json" && !Array.isArray(body)) throw new UsageError(`unable to parse "${text}": a json patch is a list of operations`);
  if (type !== "json" && (typeof body !== "object" || body === null || Array.isArray(body))) throw new UsageError(`unable to parse "${text}": a ${type} patch is an object`);
  return { type, body };
}

function printPatched(context: CliContext, output: string | undefined, name: string, object: KubeObject, changed: boolean): void {
  if (output === undefined || output === "") context.stdout.write(`${name} ${changed ? "patched" : "patched (no change)"}\n`);
  else if (output === "name") context.stdout.write(`${name}\n`);
  else if (output === "json") context.stdout.write(printJson(object));
  else if (output === "yaml") context.stdout.write(printYaml(object));
  else throw new UsageError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,yaml`);
}

async function patch(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const { type, body } = patchBody(parsed);
  const subresource = flagValue(parsed, "subresource");
  const targets = await namedTargets(context, parsed.positionals, flagList(parsed, "filename", false));
  if (targets.length === 0) throw new UsageError("must specify a resource to patch");
  for (const target of targets) {
    const options = { ...(subresource === undefined ? {} : { subresource }), fieldManager: flagValue(parsed, "field-manager") ?? "kubectl-patch" };
    const before = await context.client.get(target.resource, target.namespace, target.name);
    const after = await context.client.patch(target.resource, target.namespace, target.name, type, body, options);
    printPatched(context, flagValue(parsed, "output"), objectName(target.resource, target.name), after, before.metadata.resourceVersion !== after.metadata.resourceVersion);
  }
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, patchFlags, patch);
}

export { patch };
