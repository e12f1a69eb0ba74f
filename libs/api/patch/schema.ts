/**
 * What the patch algorithms need to know about a kind's fields: upstream's Go struct tags
 * (`patchStrategy`, `patchMergeKey`) for strategic merge patch, and the `+listType`,
 * `+listMapKey`, `+structType`/`+mapType` markers for server-side apply. A PatchSchema is walked
 * field by field like upstream's LookupPatchMeta: `field("spec").schema.field("containers")`.
 *
 * Fields a schema does not describe fall back to merge patch behaviour: objects merge, lists are
 * replaced whole (strategic merge) and owned whole (server-side apply, "atomic").
 */
import { assert } from "../../assert/index.ts";
import { PatchFormatError } from "./errors.ts";
import type { JsonPrimitive } from "./json.ts";

/** A strategic merge patch strategy as written in a `patchStrategy` tag ("merge,retainKeys"). */
export type PatchStrategy = "merge" | "replace" | "retainKeys";

/** How server-side apply treats a list: whole ("atomic"), a set of scalars, or keyed items. */
export type ListType = "atomic" | "set" | "map";

export interface FieldPatchMeta {
  /** The field's `patchStrategy` tag split on ","; empty when the field has none. */
  readonly patchStrategies: readonly PatchStrategy[];
  /** The field's `patchMergeKey` tag; "" when it has none (lists of scalars, untagged lists). */
  readonly patchMergeKey: string;
  /** The field's `+listType`; undefined for lists without one (server-side apply: atomic). */
  readonly listType: ListType | undefined;
  /** The `+listMapKey`s of a listType=map list, in declaration order. */
  readonly listMapKeys: readonly string[];
  /** Defaults of key fields (ports' protocol is "TCP"), used when an item omits them. */
  readonly listMapKeyDefaults: Readonly<Record<string, JsonPrimitive>>;
}

export interface FieldSchema {
  readonly meta: FieldPatchMeta;
  /** The field value's schema; for a list-valued field, the schema of its items. */
  readonly schema: PatchSchema;
}

export interface PatchSchema {
  /** The type's name, for error messages. */
  readonly name: string;
  /**
   * True for Kubernetes structs, whose keys are declared fields; false for maps whose keys are
   * data (labels, objects of unknown kinds). Server-side apply owns a nested object under a map
   * key as a whole, but only the leaves under a struct field.
   */
  readonly namedFields: boolean;
  /** Server-side apply owns the value whole (`+structType=atomic`, `+mapType=atomic`). */
  readonly atomic: boolean;
  /** Field `key` of this object. Never fails: unknown fields get the fallback behaviour. */
  field(key: string): FieldSchema;
}

export const emptyPatchMeta: FieldPatchMeta = Object.freeze({
  patchStrategies: [],
  patchMergeKey: "",
  listType: undefined,
  listMapKeys: [],
  listMapKeyDefaults: {},
});

/** Every field of every object is unknown: strategic merge degrades to merge patch semantics. */
class DeducedSchema implements PatchSchema {
  readonly atomic = false;
  readonly #field: FieldSchema;

  constructor(
    readonly name: string,
    readonly namedFields: boolean,
  ) {
    this.#field = { meta: emptyPatchMeta, schema: this };
  }

  field(): FieldSchema {
    return this.#field;
  }
}

/** The schema of objects nothing is known about (custom resources): keys are data. */
export const deducedSchema: PatchSchema = new DeducedSchema("deduced", false);

/** The schema of a struct's fields that a table leaves out: keys are still declared fields. */
export const untaggedStructSchema: PatchSchema = new DeducedSchema("untagged", true);

/** One field in a schema table; omitted members mean "no tag". */
export interface FieldDefinition {
  /** Name of the field's type in the same table (for lists: the item type). */
  readonly type?: string;
  /** The `patchStrategy` tag, exactly as upstream writes it: "merge", "retainKeys", "merge,retainKeys". */
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: ListType;
  readonly listMapKeys?: readonly string[];
  readonly listMapKeyDefaults?: Readonly<Record<string, JsonPrimitive>>;
  /** `+mapType=atomic` on the field (a selector map owned whole). */
  readonly atomic?: boolean;
}

export interface TypeDefinition {
  readonly fields?: Readonly<Record<string, FieldDefinition>>;
  /** `+structType=atomic` on the type. */
  readonly atomic?: boolean;
}

export type TypeTable = Readonly<Record<string, TypeDefinition>>;

/** Builds the schema of `rootType` from a table of type definitions (see builtin-schema.ts). */
export function schemaFromTable(table: TypeTable, rootType: string): PatchSchema {
  const cache = new Map<string, PatchSchema>();
  checkTable(table);
  const resolve = (typeName: string, atomicField: boolean): PatchSchema => {
    const key = `${typeName}:${atomicField}`;
    let schema = cache.get(key);
    if (schema === undefined) {
      const definition = table[typeName];
      assert(definition !== undefined, "schema tables name only types they define", () => typeName);
      schema = new TableSchema(typeName, definition, atomicField, resolve);
      cache.set(key, schema);
    }
    return schema;
  };
  return resolve(rootType, false);
}

type Resolver = (typeName: string, atomicField: boolean) => PatchSchema;

class TableSchema implements PatchSchema {
  readonly namedFields = true;
  readonly atomic: boolean;
  readonly #fields = new Map<string, FieldSchema>();

  constructor(
    readonly name: string,
    definition: TypeDefinition,
    atomicField: boolean,
    resolve: Resolver,
  ) {
    this.atomic = atomicField || definition.atomic === true;
    for (const [key, field] of Object.entries(definition.fields ?? {})) {
      const meta = metaOf(field);
      // Resolve lazily: tables are recursive (a Container's fields do not name a Container, but
      // test tables do), so a field's schema is built on first lookup.
      let schema: PatchSchema | undefined;
      const atomic = field.atomic === true;
      const fieldSchema = {
        meta,
        get schema(): PatchSchema {
          schema ??= field.type === undefined ? (atomic ? atomicUntaggedSchema : untaggedStructSchema) : resolve(field.type, atomic);
          return schema;
        },
      };
      this.#fields.set(key, fieldSchema);
    }
  }

  field(key: string): FieldSchema {
    return this.#fields.get(key) ?? untaggedField;
  }
}

const untaggedField: FieldSchema = { meta: emptyPatchMeta, schema: untaggedStructSchema };

/** An untyped map owned whole (`nodeSelector`, a Service's `selector`). */
const atomicUntaggedSchema: PatchSchema = {
  name: "atomic map",
  namedFields: false,
  atomic: true,
  field: () => untaggedField,
};

function metaOf(field: FieldDefinition): FieldPatchMeta {
  return {
    patchStrategies: parsePatchStrategies(field.patchStrategy ?? ""),
    patchMergeKey: field.patchMergeKey ?? "",
    listType: field.listType,
    listMapKeys: field.listMapKeys ?? [],
    listMapKeyDefaults: field.listMapKeyDefaults ?? {},
  };
}

function parsePatchStrategies(tag: string): PatchStrategy[] {
  if (tag === "") return [];
  return tag.split(",").map((strategy) => {
    assert(strategy === "merge" || strategy === "replace" || strategy === "retainKeys", "patch strategies are known", () => tag);
    return strategy;
  });
}

function checkTable(table: TypeTable): void {
  for (const [typeName, definition] of Object.entries(table)) {
    for (const [fieldName, field] of Object.entries(definition.fields ?? {})) {
      assert(field.type === undefined || table[field.type] !== undefined, "schema fields name defined types", () => `${typeName}.${fieldName}`);
      assert(field.listType !== "map" || (field.listMapKeys ?? []).length > 0, "map lists have keys", () => `${typeName}.${fieldName}`);
    }
  }
}

/**
 * Splits a field's strategies into "also retainKeys" and the one other strategy ("" for none),
 * like upstream's extractRetainKeysPatchStrategy; any other combination is an error.
 */
export function splitPatchStrategies(meta: FieldPatchMeta): { retainKeys: boolean; strategy: "merge" | "replace" | "" } {
  const strategies = meta.patchStrategies;
  const others = strategies.filter((strategy): strategy is "merge" | "replace" => strategy !== "retainKeys");
  const retainKeys = others.length < strategies.length;
  if (strategies.length > 2 || others.length > 1 || (strategies.length === 2 && !retainKeys)) {
    throw new PatchFormatError(`unexpected patch strategy: [${strategies.join(" ")}]`);
  }
  const [strategy = ""] = others;
  return { retainKeys, strategy };
}

/** Walks `path` (field names; list fields step into their items) and returns the last field. */
export function lookupField(schema: PatchSchema, path: readonly string[]): FieldSchema {
  let field: FieldSchema = { meta: emptyPatchMeta, schema };
  for (const key of path) field = field.schema.field(key);
  return field;
}
