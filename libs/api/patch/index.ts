/**
 * Kubernetes' patch semantics as a pure library: JSON patch (RFC 6902), JSON merge patch
 * (RFC 7386), strategic merge patch (apply, and kubectl's two-way and three-way diffs), and
 * server-side apply with managedFields. Values are plain JSON; no node: imports, no clock.
 * See README.md for the semantics and where they deviate from upstream.
 */
export { ApplyConflictError, JsonPatchError, PatchFormatError, PreconditionFailedError, describeManager } from "./errors.ts";
export type { FieldConflict } from "./errors.ts";
export { deepClone, deepEqual, isJsonObject, toJsonObject, toJsonValue } from "./json.ts";
export type { JsonObject, JsonPrimitive, JsonValue } from "./json.ts";
export { formatJsonPointer, parseJsonPointer } from "./json-pointer.ts";
export { applyJsonPatch, jsonPatchOperationsMax, parseJsonPatch } from "./json-patch.ts";
export type { JsonPatchOperation } from "./json-patch.ts";
export { applyMergePatch, createMergePatch, createThreeWayJsonMergePatch } from "./merge-patch.ts";
export { deducedSchema, emptyPatchMeta, lookupField, schemaFromTable, splitPatchStrategies, untaggedStructSchema } from "./schema.ts";
export type { FieldDefinition, FieldPatchMeta, FieldSchema, ListType, PatchSchema, PatchStrategy, TypeDefinition, TypeTable } from "./schema.ts";
export { builtinSchema, builtinSchemaKinds } from "./builtin-schema.ts";
export { applyStrategicMergePatch } from "./strategic-merge.ts";
export {
  createThreeWayMergePatch,
  createTwoWayMergePatch,
  kubectlApplyPreconditions,
  requireKeyUnchanged,
  requireMetadataKeyUnchanged,
} from "./strategic-diff.ts";
export type { PatchPrecondition } from "./strategic-diff.ts";
export {
  FieldSet,
  compareValues,
  fieldElement,
  formatFieldPath,
  keyElement,
  parsePathElement,
  serializePathElement,
} from "./fieldpath.ts";
export type { FieldPath, PathElement } from "./fieldpath.ts";
export { compareObjects, mergeObjects, toFieldSet } from "./typed.ts";
export type { Comparison } from "./typed.ts";
export {
  ancientChangesManager,
  apply,
  beforeFirstApplyManager,
  updateManagedFields,
  updateManagersMax,
} from "./managed-fields.ts";
export type { FieldManagerOptions, ManagedFieldsEntry } from "./managed-fields.ts";
