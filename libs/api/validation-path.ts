/**
 * The validation field path under the name the entry file gives it: index.ts exports FieldPath
 * as ValidationPath, because the patch library's structured-merge FieldPath owns that name there.
 * Import from index.ts; this module only keeps direct imports of either name working.
 */
export { FieldPath as ValidationPath, fieldPath as validationPath } from "./field-path.ts";
