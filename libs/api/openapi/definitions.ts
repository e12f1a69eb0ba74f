/**
 * The table of every definition, the definition of each served kind, and the strategic merge
 * metadata of their fields, read from libs/api/patch's built-in patch schema so that merge keys
 * have one source of truth.
 */
import { assert } from "../../assert/index.ts";
import { builtinSchema } from "../patch/builtin-schema.ts";
import type { FieldPatchMeta, PatchSchema } from "../patch/schema.ts";
import { allResources, apiVersionOf, type ResourceInfo } from "../registry.ts";
import { clusterDefinitions } from "./defs-cluster.ts";
import { coreDefinitions } from "./defs-core.ts";
import { metaDefinitions } from "./defs-meta.ts";
import { podDefinitions } from "./defs-pod.ts";
import { workloadDefinitions } from "./defs-workloads.ts";
import type { Definition, TypeSpec } from "./dsl.ts";

/** Patch metadata of one field, and whether its value is owned whole (`x-kubernetes-map-type`). */
export interface FieldExtensions {
  readonly meta: FieldPatchMeta;
  readonly atomic: boolean;
}

let table: ReadonlyMap<string, Definition> | undefined;

/** Every definition by name. Duplicate names are a bug in the data. */
export function definitions(): ReadonlyMap<string, Definition> {
  if (table === undefined) {
    const all = [...metaDefinitions, ...podDefinitions, ...coreDefinitions, ...workloadDefinitions, ...clusterDefinitions];
    const byName = new Map<string, Definition>();
    for (const definition of all) {
      assert(!byName.has(definition.name), "definition names are unique", () => definition.name);
      byName.set(definition.name, definition);
    }
    table = byName;
  }
  return table;
}

export function definition(name: string): Definition {
  const found = definitions().get(name);
  assert(found !== undefined, "refs name defined definitions", () => name);
  return found;
}

/** `io.k8s.api.apps.v1.Deployment` for apps/v1 Deployment; the legacy group is `core`. */
export function definitionNameOf(group: string, version: string, kind: string): string {
  const groupPackage = group === "" ? "core" : (group.split(".")[0] ?? group);
  return `io.k8s.api.${groupPackage}.${version}.${kind}`;
}

/** The definition of a served resource's kind, or undefined when none is written. */
export function kindDefinition(info: Pick<ResourceInfo, "group" | "version" | "kind">): Definition | undefined {
  return definitions().get(definitionNameOf(info.group, info.version, info.kind));
}

/** The ref a field type leads to (through lists and maps), if any. */
export function refOf(spec: TypeSpec): string | undefined {
  if (spec.type === "ref") return spec.name;
  if (spec.type === "array") return refOf(spec.items);
  if (spec.type === "map") return refOf(spec.values);
  return undefined;
}

function isEmptyMeta(meta: FieldPatchMeta): boolean {
  return meta.patchStrategies.length === 0 && meta.patchMergeKey === "" && meta.listType === undefined;
}

/** Pairs (definition, patch schema) walked at most; far above the tables' size. */
const patchWalkStepsMax = 20_000;

interface Walk {
  readonly extensions: Map<string, Map<string, FieldExtensions>>;
  readonly conflicts: string[];
  readonly seen: Map<PatchSchema, Set<string>>;
  steps: number;
}

function record(walk: Walk, definitionName: string, field: string, extensions: FieldExtensions): void {
  let fields = walk.extensions.get(definitionName);
  if (fields === undefined) {
    fields = new Map();
    walk.extensions.set(definitionName, fields);
  }
  const previous = fields.get(field);
  if (previous === undefined) fields.set(field, extensions);
  else if (JSON.stringify(previous) !== JSON.stringify(extensions)) walk.conflicts.push(`${definitionName}.${field}`);
}

function walkDefinition(walk: Walk, name: string, schema: PatchSchema): void {
  const seenHere = walk.seen.get(schema) ?? new Set<string>();
  if (seenHere.has(name)) return;
  seenHere.add(name);
  walk.seen.set(schema, seenHere);
  walk.steps += 1;
  assert(walk.steps <= patchWalkStepsMax, "the patch metadata walk is bounded");
  for (const [key, field] of definition(name).fields) {
    const patchField = schema.field(key);
    const isStructOrMap = field.spec.type === "ref" || field.spec.type === "map";
    const atomic = isStructOrMap && patchField.schema.atomic;
    if (!isEmptyMeta(patchField.meta) || atomic) record(walk, name, key, { meta: patchField.meta, atomic });
    const target = refOf(field.spec);
    if (target !== undefined && field.spec.type !== "map" && definition(target).scalar === undefined) walkDefinition(walk, target, patchField.schema);
  }
}

function computeExtensions(): Walk {
  const walk: Walk = { extensions: new Map(), conflicts: [], seen: new Map(), steps: 0 };
  for (const info of allResources()) {
    const kind = kindDefinition(info);
    const schema = builtinSchema(apiVersionOf(info), info.kind);
    if (kind !== undefined && schema !== undefined) walkDefinition(walk, kind.name, schema);
  }
  return walk;
}

let computed: Walk | undefined;

/** The strategic merge metadata of a definition's field, if it has any. */
export function fieldExtensions(definitionName: string, field: string): FieldExtensions | undefined {
  computed ??= computeExtensions();
  return computed.extensions.get(definitionName)?.get(field);
}

/** Fields reached with different metadata from different kinds (should be none; for tests). */
export function patchMetaConflicts(): readonly string[] {
  computed ??= computeExtensions();
  return computed.conflicts;
}

/** Every definition reachable from `roots`, roots first, each once. */
export function closure(roots: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    order.push(name);
    for (const field of definition(name).fields.values()) {
      const target = refOf(field.spec);
      if (target !== undefined && !seen.has(target)) pending.push(target);
    }
  }
  return order;
}
