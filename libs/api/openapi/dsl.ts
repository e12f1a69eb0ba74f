/**
 * A small builder for the schemas of the built-in kinds: each struct is a named definition (its
 * name is upstream's OpenAPI name, `io.k8s.api.core.v1.Container`) with typed fields, a short
 * description and the required ones marked. Patch metadata (merge keys, strategies, list types)
 * is not written here: it comes from libs/api/patch's built-in patch schema (see patch-meta.ts),
 * the single source of truth for strategic merge.
 */

/** The type of one field. Objects are always named definitions (`ref`). */
export type TypeSpec =
  | { readonly type: "string"; readonly format?: "byte" }
  | { readonly type: "integer"; readonly format: "int32" | "int64" }
  | { readonly type: "number" }
  | { readonly type: "boolean" }
  | { readonly type: "ref"; readonly name: string }
  | { readonly type: "array"; readonly items: TypeSpec }
  | { readonly type: "map"; readonly values: TypeSpec }
  /** Any JSON kept as written (runtime.RawExtension, FieldsV1). */
  | { readonly type: "raw" };

export interface FieldSpec {
  readonly spec: TypeSpec;
  readonly description: string;
  readonly required: boolean;
}

/** How a scalar definition (IntOrString, Quantity, Time) accepts JSON values. */
export type ScalarKind = "int-or-string" | "quantity" | "time" | "micro-time";

export interface Definition {
  /** upstream's OpenAPI name: `io.k8s.api.apps.v1.Deployment`. */
  readonly name: string;
  readonly description: string;
  /** The struct's fields in declaration order; empty for scalar definitions. */
  readonly fields: ReadonlyMap<string, FieldSpec>;
  readonly scalar?: ScalarKind;
}

export const str: TypeSpec = { type: "string" };
export const bytes: TypeSpec = { type: "string", format: "byte" };
export const int32: TypeSpec = { type: "integer", format: "int32" };
export const int64: TypeSpec = { type: "integer", format: "int64" };
export const double: TypeSpec = { type: "number" };
export const bool: TypeSpec = { type: "boolean" };
export const raw: TypeSpec = { type: "raw" };
export const ref = (name: string): TypeSpec => ({ type: "ref", name });
export const list = (items: TypeSpec): TypeSpec => ({ type: "array", items });
export const map = (values: TypeSpec): TypeSpec => ({ type: "map", values });
export const strings: TypeSpec = list(str);
export const stringMap: TypeSpec = map(str);

/** Marks a field tuple as required. */
export const required = "required";

/** `[type, description]` or `[type, description, required]`. */
export type FieldTuple = readonly [TypeSpec, string] | readonly [TypeSpec, string, typeof required];

/** The names of upstream's OpenAPI packages, for refs and definitions. */
export const packages = {
  meta: "io.k8s.apimachinery.pkg.apis.meta.v1",
  core: "io.k8s.api.core.v1",
  apps: "io.k8s.api.apps.v1",
  batch: "io.k8s.api.batch.v1",
  autoscalingV1: "io.k8s.api.autoscaling.v1",
  autoscalingV2: "io.k8s.api.autoscaling.v2",
  networking: "io.k8s.api.networking.v1",
  policy: "io.k8s.api.policy.v1",
  rbac: "io.k8s.api.rbac.v1",
  storage: "io.k8s.api.storage.v1",
  coordination: "io.k8s.api.coordination.v1",
  discovery: "io.k8s.api.discovery.v1",
} as const;

/** Definitions of one package: `pkg.def("Container", ...)`, refs with `pkg.ref("Container")`. */
export interface PackageBuilder {
  readonly prefix: string;
  ref(name: string): TypeSpec;
  def(name: string, description: string, fields: Readonly<Record<string, FieldTuple>>): Definition;
}

export function packageBuilder(prefix: string): PackageBuilder {
  return {
    prefix,
    ref: (name) => ref(`${prefix}.${name}`),
    def: (name, description, fields) => struct(`${prefix}.${name}`, description, fields),
  };
}

export function struct(name: string, description: string, fields: Readonly<Record<string, FieldTuple>>): Definition {
  const entries = Object.entries(fields).map(([key, [spec, fieldDescription, mark]]): [string, FieldSpec] => [
    key,
    { spec, description: fieldDescription, required: mark === required },
  ]);
  return { name, description, fields: new Map(entries) };
}

export function scalar(name: string, description: string, kind: ScalarKind): Definition {
  return { name, description, fields: new Map(), scalar: kind };
}

/** The standard `apiVersion`, `kind` and `metadata` fields of a top-level object. */
export function objectFields(kindDescription: string): Record<string, FieldTuple> {
  return {
    apiVersion: [str, "Versioned schema of this representation of the object (group/version)."],
    kind: [str, `The REST resource this object represents; here "${kindDescription}".`],
    metadata: [ref(`${packages.meta}.ObjectMeta`), "Standard object metadata: name, namespace, labels, annotations, owners."],
  };
}

/** Go's name of a definition's type as encoding/json prints it: `v1.Container`. */
export function goTypeName(definitionName: string): string {
  const parts = definitionName.split(".");
  const type = parts[parts.length - 1] ?? definitionName;
  const goPackage = parts[parts.length - 2] ?? "";
  return `${goPackage}.${type}`;
}

/** The struct's own name, without package: `Container`. */
export function shortName(definitionName: string): string {
  return definitionName.slice(definitionName.lastIndexOf(".") + 1);
}

/** Go's spelling of a field type, for upstream-shaped decoding errors. */
export function goTypeOf(spec: TypeSpec): string {
  switch (spec.type) {
    case "string":
      return spec.format === "byte" ? "[]uint8" : "string";
    case "integer":
      return spec.format;
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    case "ref":
      return goTypeName(spec.name);
    case "array":
      return `[]${goTypeOf(spec.items)}`;
    case "map":
      return `map[string]${goTypeOf(spec.values)}`;
    case "raw":
      return "runtime.RawExtension";
  }
}
