/**
 * One label selector requirement (k8s.io/apimachinery labels.Requirement): a key, an operator and
 * values, checked as upstream's NewRequirement checks them, matched and printed as upstream.
 */
import type { FieldError } from "./field-errors.ts";
import { FieldErrorsError, fieldInvalid, fieldNotSupported } from "./field-errors.ts";
import { FieldPath } from "./field-path.ts";
import { compareStrings } from "./go-format.ts";
import { isQualifiedName, isValidLabelValue } from "./validation-strings.ts";

/** upstream's selection.Operator values. */
export type SelectorOperator = "in" | "notin" | "=" | "==" | "!=" | "exists" | "!" | "gt" | "lt";

/** Every operator, in upstream's order (binary operators, then unary). */
export const selectorOperators: readonly SelectorOperator[] = ["in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"];

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(value, 10, 64); undefined when it would fail. */
export function parseInt64(value: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(value)) return undefined;
  const parsed = BigInt(value);
  return parsed < int64Min || parsed > int64Max ? undefined : parsed;
}

/** The error for an invalid label key (problems joined with "; "), or undefined. */
export function labelKeyError(key: string, path: FieldPath | string): FieldError | undefined {
  const problems = isQualifiedName(key);
  return problems.length === 0 ? undefined : fieldInvalid(path, key, problems.join("; "));
}

function operatorErrors(operator: SelectorOperator, values: readonly string[] | null, path: FieldPath): FieldError[] {
  const list = values ?? [];
  const valuesPath = path.child("values");
  switch (operator) {
    case "in":
    case "notin":
      return list.length === 0 ? [fieldInvalid(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty")] : [];
    case "=":
    case "==":
    case "!=":
      return list.length === 1 ? [] : [fieldInvalid(valuesPath, values, "exact-match compatibility requires one single value")];
    case "exists":
    case "!":
      return list.length === 0 ? [] : [fieldInvalid(valuesPath, values, "values set must be empty for exists and does not exist")];
    case "gt":
    case "lt": {
      const errors = list.length === 1 ? [] : [fieldInvalid(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required")];
      list.forEach((value, index) => {
        if (parseInt64(value) === undefined) errors.push(fieldInvalid(valuesPath.index(index), value, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      return errors;
    }
    default:
      return [fieldNotSupported(path.child("operator"), operator, selectorOperators)];
  }
}

/**
 * Upstream's NewRequirement: throws FieldErrorsError listing every problem. `values` null stands
 * for Go's nil slice (it prints as `null` in the error), as LabelSelector conversion passes it.
 */
export function newRequirement(key: string, operator: SelectorOperator, values: readonly string[] | null, path: FieldPath = FieldPath.root()): Requirement {
  const errors: FieldError[] = [];
  const keyError = labelKeyError(key, path.child("key"));
  if (keyError !== undefined) errors.push(keyError);
  errors.push(...operatorErrors(operator, values, path));
  (values ?? []).forEach((value, index) => {
    const problems = isValidLabelValue(value);
    if (problems.length > 0) errors.push(fieldInvalid(path.child("values").index(index).key(key), value, problems.join("; ")));
  });
  if (errors.length > 0) throw new FieldErrorsError(errors);
  return { key, operator, values: [...(values ?? [])] };
}

function compareAsInteger(value: string, requirement: Requirement): boolean {
  const labelValue = parseInt64(value);
  const [only] = requirement.values;
  if (labelValue === undefined || requirement.values.length !== 1 || only === undefined) return false;
  const bound = parseInt64(only);
  if (bound === undefined) return false;
  return requirement.operator === "gt" ? labelValue > bound : labelValue < bound;
}

/** Whether a label set satisfies the requirement (upstream's Requirement.Matches). */
export function requirementMatches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "in":
    case "=":
    case "==":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
    case "!=":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return present;
    case "!":
      return !present;
    case "gt":
    case "lt":
      return value !== undefined && compareAsInteger(value, requirement);
  }
}

const operatorTexts: Readonly<Record<SelectorOperator, string>> = {
  "=": "=",
  "==": "==",
  "!=": "!=",
  in: " in ",
  notin: " notin ",
  gt: ">",
  lt: "<",
  exists: "",
  "!": "",
};

/** `x in (a,b)`, `!x`, `x!=y`: values sorted when there are several. */
export function requirementToString(requirement: Requirement): string {
  const prefix = requirement.operator === "!" ? "!" : "";
  if (requirement.operator === "exists" || requirement.operator === "!") return `${prefix}${requirement.key}`;
  const values = requirement.values.length === 1 ? (requirement.values[0] ?? "") : [...requirement.values].sort(compareStrings).join(",");
  const listed = requirement.operator === "in" || requirement.operator === "notin" ? `(${values})` : values;
  return `${requirement.key}${operatorTexts[requirement.operator]}${listed}`;
}
