/**
 * Definitions as OpenAPI schemas, the way upstream's kube-apiserver publishes them: v3
 * (`#/components/schemas/...`, refs wrapped in `allOf` so a description can sit beside them) and
 * Swagger 2.0 (`#/definitions/...`). Strategic merge metadata comes from definitions.ts.
 */
import { closure, definition, fieldExtensions, type FieldExtensions } from "./definitions.ts";
import type { Definition, FieldSpec, ScalarKind, TypeSpec } from "./dsl.ts";

export type SchemaObject = Record<string, unknown>;

/** Which flavour of OpenAPI a schema is written for. */
export type OpenApiFlavour = "v3" | "v2";

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

function refPath(flavour: OpenApiFlavour, name: string): string {
  return flavour === "v3" ? `#/components/schemas/${name}` : `#/definitions/${name}`;
}

// OpenAPI v3 says "one of integer or string" without a top-level type, so `kubectl explain`
// prints the definition's name (<IntOrString>, <Quantity>); Swagger 2.0 has no oneOf: strings.
function scalarSchema(kind: ScalarKind, flavour: OpenApiFlavour): SchemaObject {
  switch (kind) {
    case "int-or-string":
      return flavour === "v3"
        ? { format: "int-or-string", oneOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true }
        : { type: "string", format: "int-or-string" };
    case "quantity":
      return flavour === "v3" ? { oneOf: [{ type: "string" }, { type: "number" }] } : { type: "string" };
    case "time":
    case "micro-time":
      return { type: "string", format: "date-time" };
  }
}

/** The schema of a field type, without description or extensions. */
export function typeSchema(spec: TypeSpec, flavour: OpenApiFlavour): SchemaObject {
  switch (spec.type) {
    case "string":
      return spec.format === undefined ? { type: "string" } : { type: "string", format: spec.format };
    case "integer":
      return { type: "integer", format: spec.format };
    case "number":
      return { type: "number", format: "double" };
    case "boolean":
      return { type: "boolean" };
    case "ref":
      return flavour === "v3" ? { allOf: [{ $ref: refPath(flavour, spec.name) }] } : { $ref: refPath(flavour, spec.name) };
    case "array":
      return { type: "array", items: typeSchema(spec.items, flavour) };
    case "map":
      return { type: "object", additionalProperties: typeSchema(spec.values, flavour) };
    case "raw":
      return { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  }
}

function patchExtensions(extensions: FieldExtensions | undefined): SchemaObject {
  if (extensions === undefined) return {};
  const { meta, atomic } = extensions;
  const out: SchemaObject = {};
  if (meta.listType !== undefined) out["x-kubernetes-list-type"] = meta.listType;
  if (meta.listType === "map") out["x-kubernetes-list-map-keys"] = [...meta.listMapKeys];
  if (meta.patchMergeKey !== "") out["x-kubernetes-patch-merge-key"] = meta.patchMergeKey;
  if (meta.patchStrategies.length > 0) out["x-kubernetes-patch-strategy"] = meta.patchStrategies.join(",");
  if (atomic) out["x-kubernetes-map-type"] = "atomic";
  return out;
}

function propertySchema(owner: string, key: string, field: FieldSpec, flavour: OpenApiFlavour): SchemaObject {
  const base = typeSchema(field.spec, flavour);
  // Swagger 2.0 ignores siblings of $ref, so v2 keeps only the ref for struct fields, as upstream.
  const described = flavour === "v2" && field.spec.type === "ref" ? base : { ...base, description: field.description };
  return { ...described, ...patchExtensions(fieldExtensions(owner, key)) };
}

/** One definition as a schema; `kinds` fills `x-kubernetes-group-version-kind`. */
export function definitionSchema(target: Definition, flavour: OpenApiFlavour, kinds: readonly GroupVersionKind[] = []): SchemaObject {
  if (target.scalar !== undefined) return { ...scalarSchema(target.scalar, flavour), description: target.description };
  const properties: Record<string, SchemaObject> = {};
  for (const [key, field] of target.fields) properties[key] = propertySchema(target.name, key, field, flavour);
  const requiredFields = [...target.fields].filter(([, field]) => field.required).map(([key]) => key);
  const schema: SchemaObject = { description: target.description, type: "object", properties };
  if (requiredFields.length > 0) schema["required"] = requiredFields;
  if (kinds.length > 0) schema["x-kubernetes-group-version-kind"] = kinds.map((kind) => ({ group: kind.group, version: kind.version, kind: kind.kind }));
  return schema;
}

/**
 * The schemas of `roots` and everything they reference, by name; `kindsOf` gives the
 * group/version/kinds a definition is served as.
 */
export function schemasFor(roots: readonly string[], flavour: OpenApiFlavour, kindsOf: (name: string) => readonly GroupVersionKind[]): Record<string, SchemaObject> {
  const schemas: Record<string, SchemaObject> = {};
  for (const name of closure(roots).sort()) schemas[name] = definitionSchema(definition(name), flavour, kindsOf(name));
  return schemas;
}
