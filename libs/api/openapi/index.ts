/**
 * OpenAPI schemas of the built-in kinds, written as compact TypeScript data (dsl.ts, defs-*.ts)
 * with upstream's definition names, rendered as OpenAPI v3 and Swagger 2.0 schemas with the
 * strategic merge extensions of libs/api/patch's built-in patch schema, and the field validation
 * (unknown, duplicate and mistyped fields) the API server applies to written objects. Pure: no
 * node: imports. See README.md.
 */
export { bool, bytes, double, goTypeName, goTypeOf, int32, int64, list, map, packageBuilder, packages, raw, ref, required, scalar, shortName, str, stringMap, strings, struct } from "./dsl.ts";
export type { Definition, FieldSpec, FieldTuple, PackageBuilder, ScalarKind, TypeSpec } from "./dsl.ts";
export { closure, definition, definitionNameOf, definitions, fieldExtensions, kindDefinition, patchMetaConflicts, refOf } from "./definitions.ts";
export type { FieldExtensions } from "./definitions.ts";
export { definitionSchema, schemasFor, typeSchema } from "./document.ts";
export type { GroupVersionKind, OpenApiFlavour, SchemaObject } from "./document.ts";
export { checkFields, unknownFieldsReportedMax } from "./validate.ts";
export type { FieldCheck } from "./validate.ts";
export { duplicateFieldsReportedMax, findDuplicateFields } from "./duplicates.ts";
