/**
 * Small pieces shared by the validators: upstream's numeric checks, IntOrString and percent
 * checks, immutability, and errors whose bad value upstream prints with Go's `%#v`
 * (`map[string]string{"app":"web"}`), which the JSON printer of field-errors.ts cannot produce.
 */
import type { FieldError } from "../field-errors.ts";
import { fieldInvalid, fieldNotSupported, fieldRequired, omittedValue } from "../field-errors.ts";
import type { FieldPath } from "../field-path.ts";
import { compareStrings, goQuote } from "../go-format.ts";
import type { IntOrString } from "../types/meta.ts";
import { isValidPortName, isValidPortNumber, regexError } from "../validation-strings.ts";

export const isNegativeMessage = "must be greater than or equal to 0";
export const int32Max = 2147483647;

/**
 * An Invalid error whose bad value is printed verbatim (`goText`) rather than as JSON. The value
 * travels in the detail, so the message reads exactly as upstream's.
 */
export function fieldInvalidVerbatim(path: FieldPath | string, goText: string, detail: string): FieldError {
  const error = fieldInvalid(path, omittedValue, `${goText}: ${detail}`);
  return error;
}

/** Go's `%#v` of a map[string]string: keys sorted, `{"k":"v", "k2":"v2"}`, nil as `(nil)`. */
export function goStringMap(map: Readonly<Record<string, string>> | undefined): string {
  if (map === undefined) return "map[string]string(nil)";
  const entries = Object.entries(map).sort(([left], [right]) => compareStrings(left, right));
  return `map[string]string{${entries.map(([key, value]) => `${goQuote(key)}:${goQuote(value)}`).join(", ")}}`;
}

/** Go's `%#v` of a []string. */
export function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map(goQuote).join(", ")}}`;
}

/** An IntOrString as its String() prints it: bare number or bare text. */
export function intOrStringText(value: IntOrString | undefined): string {
  return value === undefined ? "0" : String(value);
}

export function validateNonnegative(value: number | undefined, path: FieldPath): FieldError[] {
  return value !== undefined && value < 0 ? [fieldInvalid(path, value, isNegativeMessage)] : [];
}

/** The same check as upstream's deep-equal immutability, on JSON. */
export function validateImmutableField(next: unknown, previous: unknown, path: FieldPath): FieldError[] {
  return JSON.stringify(next ?? null) === JSON.stringify(previous ?? null) ? [] : [fieldInvalid(path, next ?? null, "field is immutable")];
}

const percentFormat = "[0-9]+%";
const percentPattern = /^[0-9]+%$/;

/** IsValidPercent: a numeric string ending in "%". */
export function isValidPercent(text: string): string[] {
  return percentPattern.test(text) ? [] : [regexError("a valid percent string must be a numeric string followed by an ending '%'", percentFormat, "1%", "93%")];
}

/** ValidatePositiveIntOrPercent: a non-negative int or a percent string. */
export function validatePositiveIntOrPercent(value: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (typeof value === "string") return isValidPercent(value).map((message) => fieldInvalidVerbatim(path, value, message));
  return validateNonnegative(value, path);
}

/** The int of an IntOrString, percent strings as their number; -1 for a malformed string. */
export function intOrPercentValue(value: IntOrString | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  return percentPattern.test(value) ? Number(value.slice(0, -1)) : -1;
}

export function validateNotMoreThan100Percent(value: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (typeof value !== "string" || !percentPattern.test(value)) return [];
  return intOrPercentValue(value) > 100 ? [fieldInvalidVerbatim(path, value, "must not be greater than 100%")] : [];
}

/** Reports an enumerated field: empty is Required, unknown NotSupported, absent accepted. */
export function validateEnum(value: string | undefined, supported: readonly string[], path: FieldPath): FieldError[] {
  if (value === undefined) return [];
  if (value === "") return [fieldRequired(path, "")];
  return supported.includes(value) ? [] : [fieldNotSupported(path, value, supported)];
}

/** ValidatePortNumOrName: a port number or an IANA_SVC_NAME. */
export function validatePortNumberOrName(port: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (typeof port === "number") return isValidPortNumber(port).map((message) => fieldInvalid(path, port, message));
  if (typeof port === "string") return isValidPortName(port).map((message) => fieldInvalid(path, port, message));
  return [];
}

