/**
 * `flotilla edit TYPE NAME` / `TYPE/NAME`: the object as YAML (or `-o json`) in a temporary file,
 * opened in $KUBE_EDITOR, else $EDITOR, else vi; on save the change goes back as kubectl sends it,
 * a two-way strategic merge patch (a JSON merge patch for kinds without a strategic schema). A
 * failed save reopens the file with the error on top, as kubectl does; saving it unchanged again
 * cancels and keeps the file (its path is printed). At most `editRoundsMax` rounds.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinSchema, createMergePatch, createTwoWayMergePatch, deepEqual, kubectlApplyPreconditions } from "../../../libs/api/index.ts";
import type { JsonObject, KubeObject } from "../../../libs/api/index.ts";
import { formatError, objectName, runVerb, type CliContext } from "./context.ts";
import { flagList, flagValue, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { parseManifestValue } from "./patch-body.ts";
import { printJson, printYaml } from "./printers.ts";
import { namedTargets, type Target } from "./targets.ts";

export const editFlags: FlagSpec = {
  booleans: ["show-managed-fields", "windows-line-endings", "save-config"],
  values: ["output", "filename", "field-manager", "subresource", "validate"],
  shorts: { o: "output", f: "filename" },
};

/** A person fixing a rejected edit gets this many tries before the edit gives up. */
export const editRoundsMax = 5;

const header = [
  "# Please edit the object below. Lines beginning with a '#' will be ignored,",
  "# and an empty file will abort the edit. If an error occurs while saving this file will be",
  "# reopened with the relevant failures.",
  "#",
].join("\n");

/** Opens the file in the user's editor and returns once it exits. */
export type Editor = (path: string) => void;

export function systemEditor(path: string): void {
  const command = process.env["KUBE_EDITOR"] ?? process.env["EDITOR"] ?? "vi";
  const quoted = `'${path.replace(/'/g, "'\\''")}'`;
  const result = spawnSync("/bin/sh", ["-c", `${command} ${quoted}`], { stdio: "inherit" });
  if (result.error !== undefined) throw new Error(`unable to launch the editor "${command}": ${result.error.message}`);
  if (result.status !== 0) throw new Error(`there was a problem with the editor "${command}"`);
}

/** The text without comment lines; undefined when nothing is left. */
export function editedObject(text: string): KubeObject | undefined {
  const body = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  if (body.trim() === "") return undefined;
  const value = parseManifestValue(body, "error parsing the edited object");
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError("the edited file must hold one object");
  return value as KubeObject;
}

/** The patch kubectl edit sends and its type. */
export function editPatch(original: KubeObject, edited: KubeObject): { type: "strategic" | "merge"; body: JsonObject } {
  const schema = builtinSchema(original.apiVersion ?? "", original.kind ?? "");
  const before = original as unknown as JsonObject;
  const after = edited as unknown as JsonObject;
  if (schema === undefined) {
    const body = createMergePatch(before, after) as JsonObject;
    if ("apiVersion" in body || "kind" in body || (typeof body["metadata"] === "object" && body["metadata"] !== null && "name" in body["metadata"])) throw new Error("At least one of apiVersion, kind and name was changed");
    return { type: "merge", body };
  }
  try {
    return { type: "strategic", body: createTwoWayMergePatch(before, after, schema, kubectlApplyPreconditions) };
  } catch {
    throw new Error("At least one of apiVersion, kind and name was changed");
  }
}

function shownObject(object: KubeObject, parsed: ParsedArgs): KubeObject {
  const copy = structuredClone(object);
  if (flagValue(parsed, "show-managed-fields") !== "true") delete (copy.metadata as { managedFields?: unknown }).managedFields;
  return copy;
}

function errorHeader(error: unknown): string {
  return `${header}\n# ${formatError(error).replace(/\n/g, "\n# ")}\n#\n`;
}

const withoutComments = (text: string) =>
  text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");

/** One edit: the result is the exit code; the file stays only when the edit failed. */
async function editOne(context: CliContext, target: Target, parsed: ParsedArgs, editor: Editor): Promise<number> {
  const json = flagValue(parsed, "output") === "json";
  const original = await context.client.get(target.resource, target.namespace, target.name);
  const shown = shownObject(original, parsed);
  const directory = mkdtempSync(join(tmpdir(), "flotilla-edit-"));
  const path = join(directory, `${target.name}.${json ? "json" : "yaml"}`);
  let written = `${header}\n${json ? printJson(shown) : printYaml(shown)}`;
  writeFileSync(path, written, { mode: 0o600 });
  for (let round = 0; round < editRoundsMax; round++) {
    editor(path);
    const saved = readFileSync(path, "utf8");
    if (round > 0 && withoutComments(saved) === withoutComments(written)) break;
    let edited: KubeObject | undefined;
    try {
      edited = editedObject(saved);
      if (edited === undefined) {
        rmSync(directory, { recursive: true, force: true });
        throw new Error("Edit cancelled, saved file was empty.");
      }
      if (round === 0 && deepEqual(edited as unknown as JsonObject, shown as unknown as JsonObject)) {
        rmSync(directory, { recursive: true, force: true });
        context.stderr.write("Edit cancelled, no changes made.\n");
        return 0;
      }
      const { type, body } = editPatch(shown, edited);
      const subresource = flagValue(parsed, "subresource");
      await context.client.patch(target.resource, target.namespace, target.name, type, body, { fieldManager: flagValue(parsed, "field-manager") ?? "kubectl-edit", ...(subresource === undefined ? {} : { subresource }) });
    } catch (error) {
      if (edited === undefined && !(error instanceof UsageError)) throw error;
      written = `${errorHeader(error)}${withoutComments(saved).replace(/^\n+/, "")}`;
      writeFileSync(path, written, { mode: 0o600 });
      continue;
    }
    rmSync(directory, { recursive: true, force: true });
    context.stdout.write(`${objectName(target.resource, target.name)} edited\n`);
    return 0;
  }
  context.stderr.write(`A copy of your changes has been stored to "${path}"\n`);
  context.stderr.write("error: Edit cancelled, no valid changes were saved.\n");
  return 1;
}

export async function edit(context: CliContext, parsed: ParsedArgs, editor: Editor = systemEditor): Promise<number> {
  const targets = await namedTargets(context, parsed.positionals, flagList(parsed, "filename", false));
  let code = 0;
  for (const target of targets) code = Math.max(code, await editOne(context, target, parsed, editor));
  return code;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, editFlags, async (context, parsed) => edit(context, parsed));
}
