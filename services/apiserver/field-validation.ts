/**
 * Server-side field validation (`fieldValidation=Strict|Warn|Ignore`, Warn when absent, as
 * upstream) of create, update and patch bodies against the kind's schema (libs/api/openapi):
 *
 * - Strict: unknown or duplicate fields fail the request with 400 and upstream's words
 *   (`Deployment in version "v1" cannot be handled as a Deployment: strict decoding error:
 *   unknown field "spec.foo"`; patches without the prefix, as upstream).
 * - Warn: each becomes a `Warning: 299 - "unknown field \"spec.foo\""` response header, and unknown
 *   fields are dropped from what is stored.
 * - Ignore: unknown fields are dropped silently.
 *
 * A value of the wrong type fails with 400 in every mode (upstream's JSON decoding fails first).
 * Duplicate keys are found in the JSON text as it is parsed (`parseJsonBody`), since JSON.parse
 * keeps only the last value.
 */
import { checkFields, findDuplicateFields, kindDefinition } from "../../libs/api/openapi/index.ts";
import { goQuote } from "../../libs/api/go-format.ts";
import { fieldNotSupported } from "../../libs/api/field-errors.ts";
import { fieldPath } from "../../libs/api/field-path.ts";
import type { JsonObject } from "../../libs/api/patch/index.ts";
import { newBadRequest, newInvalid, type StatusError } from "../../libs/api/status-errors.ts";
import type { HandlerContext } from "./context.ts";
import type { StoredObject } from "./storage/index.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

const directives: readonly string[] = ["Ignore", "Strict", "Warn"];

/** Response warnings sent at most, as upstream caps them. */
export const warningsMax = 50;

/** The request's directive; Warn when absent; 422 for anything else, as upstream. */
export function fieldValidationOf(context: Pick<HandlerContext, "query" | "request">): FieldValidation {
  const value = context.query.get("fieldValidation") ?? "";
  if (value === "") return "Warn";
  if (directives.includes(value)) return value as FieldValidation;
  const optionsKind = context.request.verb === "create" ? "CreateOptions" : context.request.verb === "patch" ? "PatchOptions" : "UpdateOptions";
  throw newInvalid({ group: "meta.k8s.io", kind: optionsKind }, "", [fieldNotSupported(fieldPath("fieldValidation"), value, ["", ...directives])]);
}

const duplicatesByBody = new WeakMap<object, readonly string[]>();

/** JSON.parse, remembering the body's duplicate keys for checkWrittenFields (not under Ignore). */
export function parseJsonBody(context: Pick<HandlerContext, "query">, text: string): unknown {
  const value = JSON.parse(text) as unknown;
  // An unsupported directive is refused later, by checkWrittenFields, with upstream's 422.
  if (typeof value === "object" && value !== null && context.query.get("fieldValidation") !== "Ignore") {
    const duplicates = findDuplicateFields(text);
    if (duplicates.length > 0) duplicatesByBody.set(value, duplicates);
  }
  return value;
}

function cannotBeHandled(context: HandlerContext): string {
  const kind = context.info.kind;
  return context.request.verb === "patch" ? "" : `${kind} in version ${goQuote(context.info.version)} cannot be handled as a ${kind}: `;
}

function strictError(context: HandlerContext, problems: readonly string[]): StatusError {
  return newBadRequest(`${cannotBeHandled(context)}strict decoding error: ${problems.join(", ")}`);
}

function warn(context: HandlerContext, problems: readonly string[]): void {
  const headers = problems.slice(0, warningsMax).map((problem) => `299 - ${goQuote(problem)}`);
  if (headers.length > 0) context.response.setHeader("Warning", headers);
}

/**
 * Checks an object about to be written: `object` is what will be stored, `body` the request body
 * whose duplicate keys count (the patch, for patches). Returns `object` without unknown fields;
 * throws the 400 to answer with.
 */
export function checkWrittenFields(context: HandlerContext, object: StoredObject, body: unknown = object): StoredObject {
  const directive = fieldValidationOf(context);
  const kind = kindDefinition(context.info);
  if (kind === undefined) return object;
  const result = checkFields(object as JsonObject, kind.name);
  if (result.typeError !== undefined) throw newBadRequest(`${cannotBeHandled(context)}${result.typeError}`);
  if (directive === "Ignore") return result.pruned as StoredObject;
  const duplicates = typeof body === "object" && body !== null ? (duplicatesByBody.get(body) ?? []) : [];
  const problems = [...result.unknownFields.map((path) => `unknown field ${goQuote(path)}`), ...duplicates.map((path) => `duplicate field ${goQuote(path)}`)];
  if (problems.length > 0 && directive === "Strict") throw strictError(context, problems);
  warn(context, problems);
  return result.pruned as StoredObject;
}
