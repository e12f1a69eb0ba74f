/**
 * Reading `-f` manifests as kubectl does: files, directories (their .yaml, .yml and .json files,
 * sorted; `-R` for subdirectories), `-` for stdin, multi-document YAML, and `kind: List`
 * documents unwrapped into their items.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../../libs/api/index.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./flags.ts";

/** Bounds: a directory walk and a manifest set are typed by people, not generated without end. */
const manifestFilesMax = 10_000;
const manifestObjectsMax = 10_000;

function manifestFiles(path: string, recursive: boolean, into: string[]): void {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) throw new UsageError(`the path "${path}" does not exist`);
  if (!stats.isDirectory()) {
    into.push(path);
    return;
  }
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (into.length > manifestFilesMax) throw new UsageError(`more than ${manifestFilesMax} manifest files under ${path}`);
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      if (recursive) manifestFiles(child, recursive, into);
    } else if (/\.(ya?ml|json)$/.test(entry.name)) {
      into.push(child);
    }
  }
}

/** The objects of one YAML or JSON text, `List`s unwrapped, empty documents skipped. */
export function parseManifest(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new UsageError(`error parsing ${source}: ${document.errors[0]?.message ?? "invalid YAML"}`);
    const value = document.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) throw new UsageError(`error parsing ${source}: a manifest must be a mapping`);
    const object = value as KubeObject & { items?: KubeObject[] };
    if (typeof object.kind === "string" && object.kind.endsWith("List") && Array.isArray(object.items)) objects.push(...object.items);
    else objects.push(object);
  }
  for (const object of objects) {
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") throw new UsageError(`error validating data from ${source}: apiVersion and kind must be set`);
    if (typeof object.metadata !== "object" || object.metadata === null) (object as { metadata: object }).metadata = {};
  }
  return objects;
}

/** Every object named by `-f` (files, directories, `-`), in order. */
export async function readManifests(context: CliContext, paths: readonly string[], recursive: boolean): Promise<KubeObject[]> {
  if (paths.length === 0) throw new UsageError("must specify one of -f and -k");
  const objects: KubeObject[] = [];
  for (const path of paths) {
    if (path === "-") {
      objects.push(...parseManifest(await context.readStdin(), "STDIN"));
      continue;
    }
    const files: string[] = [];
    manifestFiles(path, recursive, files);
    for (const file of files) objects.push(...parseManifest(readFileSync(file, "utf8"), file));
    if (objects.length > manifestObjectsMax) throw new UsageError(`more than ${manifestObjectsMax} objects in the manifests`);
  }
  return objects;
}

/** The namespace an object of a manifest goes to; kubectl refuses a mismatch with -n. */
export function manifestNamespace(context: CliContext, object: KubeObject, namespaced: boolean): string | undefined {
  if (!namespaced) return undefined;
  const own = object.metadata.namespace;
  if (own !== undefined && own !== "" && context.namespaceFromFlag && own !== context.namespace) {
    throw new UsageError(`the namespace from the provided object "${own}" does not match the namespace "${context.namespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  return own !== undefined && own !== "" ? own : context.namespace;
}
