/**
 * Validation errors with field paths (k8s.io/apimachinery pkg/util/validation/field): the error
 * types, their constructors and the exact texts upstream prints, e.g.
 * `spec.replicas: Invalid value: -1: must be greater than or equal to 0`. A list of them becomes
 * a 422 Status through `invalid()` in status-errors.ts.
 */
import type { FieldPath } from "./field-path.ts";
import { goJson, goNumber, goQuote } from "./go-format.ts";

/** Upstream's ErrorType strings; they are the `reason` of each cause in an Invalid Status. */
export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError"
  | "FieldValueTypeInvalid";

/** Marks a bad value that upstream leaves out of the message (TooMany with an unknown count). */
export const omittedValue: unique symbol = Symbol("omitted value");

export interface FieldError {
  readonly type: FieldErrorType;
  /** The path as upstream prints it: `spec.template.spec.containers[0].image`. */
  readonly field: string;
  readonly badValue: unknown;
  readonly detail: string;
}

const typeTexts: Readonly<Record<FieldErrorType, string>> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
};

// Types whose message never shows the bad value.
const valueFreeTypes: ReadonlySet<FieldErrorType> = new Set(["FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong", "InternalError"]);

type PathLike = FieldPath | string;

function make(type: FieldErrorType, path: PathLike, badValue: unknown, detail: string): FieldError {
  return { type, field: String(path), badValue, detail };
}

export function fieldRequired(path: PathLike, detail = ""): FieldError {
  return make("FieldValueRequired", path, "", detail);
}

export function fieldInvalid(path: PathLike, badValue: unknown, detail: string): FieldError {
  return make("FieldValueInvalid", path, badValue, detail);
}

export function fieldTypeInvalid(path: PathLike, badValue: unknown, detail: string): FieldError {
  return make("FieldValueTypeInvalid", path, badValue, detail);
}

export function fieldNotFound(path: PathLike, badValue: unknown): FieldError {
  return make("FieldValueNotFound", path, badValue, "");
}

export function fieldDuplicate(path: PathLike, badValue: unknown): FieldError {
  return make("FieldValueDuplicate", path, badValue, "");
}

export function fieldForbidden(path: PathLike, detail: string): FieldError {
  return make("FieldValueForbidden", path, "", detail);
}

/** Upstream quotes each supported value with %q: `supported values: "Always", "Never"`. */
export function fieldNotSupported(path: PathLike, badValue: unknown, supported: readonly string[]): FieldError {
  const detail = supported.length === 0 ? "" : `supported values: ${supported.map(goQuote).join(", ")}`;
  return make("FieldValueNotSupported", path, badValue, detail);
}

/** `may not be more than N bytes`; a negative maximum gives `value is too long`. */
export function fieldTooLong(path: PathLike, maxBytes: number): FieldError {
  const detail = maxBytes >= 0 ? `may not be more than ${maxBytes} ${maxBytes === 1 ? "byte" : "bytes"}` : "value is too long";
  return make("FieldValueTooLong", path, "<value omitted>", detail);
}

/** `must have at most N items`; a negative actual count is left out of the message. */
export function fieldTooMany(path: PathLike, actualCount: number, maxCount: number): FieldError {
  const detail = maxCount >= 0 ? `must have at most ${maxCount} ${maxCount === 1 ? "item" : "items"}` : "has too many items";
  return make("FieldValueTooMany", path, actualCount >= 0 ? actualCount : omittedValue, detail);
}

export function fieldInternalError(path: PathLike, message: string): FieldError {
  return make("InternalError", path, message, message);
}

/** How upstream prints a bad value: numbers and booleans bare, strings quoted, the rest as JSON. */
export function formatBadValue(value: unknown): string {
  if (typeof value === "number") return goNumber(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return goQuote(value);
  return goJson(value === undefined ? null : value);
}

/** Upstream's ErrorBody: the message without the field, the `message` of a Status cause. */
export function errorBody(error: FieldError): string {
  let body = typeTexts[error.type];
  if (!valueFreeTypes.has(error.type) && error.badValue !== omittedValue) {
    body = `${body}: ${formatBadValue(error.badValue)}`;
  }
  return error.detail.length === 0 ? body : `${body}: ${error.detail}`;
}

/** `field: body`, as upstream's Error() prints one error. */
export function errorString(error: FieldError): string {
  return `${error.field}: ${errorBody(error)}`;
}

/**
 * Upstream's ToAggregate().Error(): duplicates (same text) dropped, one error printed bare,
 * several joined by ", " inside brackets. Undefined for an empty list.
 */
export function aggregateMessage(errors: readonly FieldError[]): string | undefined {
  const messages = [...new Set(errors.map(errorString))];
  if (messages.length === 0) return undefined;
  return messages.length === 1 ? messages[0] : `[${messages.join(", ")}]`;
}

/** An exception carrying field errors, for code paths that throw (label selector parsing). */
export class FieldErrorsError extends Error {
  readonly errors: readonly FieldError[];

  constructor(errors: readonly FieldError[]) {
    super(aggregateMessage(errors) ?? "no errors");
    this.name = "FieldErrorsError";
    this.errors = errors;
  }
}
