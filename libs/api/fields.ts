/**
 * Field selectors (k8s.io/apimachinery pkg/fields): comma-separated `field=value`,
 * `field==value` and `field!=value` terms, values escaped with `\`, matched against an object's
 * selectable fields (a missing field reads as ""). Which fields a resource supports, and upstream's
 * error for the others, live in field-sets.ts.
 */
import { compareStrings } from "./go-format.ts";

export interface FieldRequirement {
  readonly field: string;
  /** "==" parses to "=", as upstream's hasTerm. */
  readonly operator: "=" | "!=";
  readonly value: string;
}

/** A field selector string that does not parse; the message is upstream's. */
export class FieldSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FieldSelectorError";
  }
}

/** Rewrites one term's field and value (a field label conversion); may throw FieldSelectorError. */
export type FieldTransform = (field: string, value: string) => [field: string, value: string];

export class FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = requirements;
  }

  static everything(): FieldSelector {
    return new FieldSelector([]);
  }

  matches(fields: Readonly<Record<string, string>>): boolean {
    return this.requirements.every((requirement) => {
      const value = Object.prototype.hasOwnProperty.call(fields, requirement.field) ? fields[requirement.field] : "";
      return requirement.operator === "=" ? value === requirement.value : value !== requirement.value;
    });
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  /** The value an `=` term pins for the field, if any (first match, as upstream). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((requirement) => requirement.field === field && requirement.operator === "=")?.value;
  }

  /** Applies a conversion to every term; a term converted to an empty field and value disappears. */
  transform(convert: FieldTransform): FieldSelector {
    const next: FieldRequirement[] = [];
    for (const requirement of this.requirements) {
      const [field, value] = convert(requirement.field, requirement.value);
      if (field === "" && value === "") continue;
      next.push({ field, operator: requirement.operator, value });
    }
    return new FieldSelector(next);
  }

  toString(): string {
    return this.requirements.map((requirement) => `${requirement.field}${requirement.operator}${escapeFieldValue(requirement.value)}`).join(",");
  }
}

/** Escapes `\`, `,` and `=` in a value (fields.EscapeValue). */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (character) => `\\${character}`);
}

/** Undoes escapeFieldValue; refuses bad escapes and bare `,` or `=` with upstream's messages. */
export function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = "";
  let escaping = false;
  for (const character of value) {
    if (escaping) {
      if (character !== "\\" && character !== "," && character !== "=") {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${character}`);
      }
      out += character;
      escaping = false;
    } else if (character === "\\") {
      escaping = true;
    } else if (character === "," || character === "=") {
      // Upstream prints the rune with %v, i.e. as its number.
      throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${character.codePointAt(0) ?? 0}`);
    } else {
      out += character;
    }
  }
  if (escaping) throw new FieldSelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}

// Splits on commas that are not escaped.
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let escaping = false;
  for (let index = 0; index < selector.length; index++) {
    const character = selector.charAt(index);
    if (escaping) escaping = false;
    else if (character === "\\") escaping = true;
    else if (character === ",") {
      terms.push(selector.slice(start, index));
      start = index + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

// The first operator found scanning left to right; at one position "!=" and "==" win over "=".
function splitTerm(term: string): [string, "=" | "==" | "!=", string] | undefined {
  for (let index = 0; index < term.length; index++) {
    for (const operator of ["!=", "==", "="] as const) {
      if (term.startsWith(operator, index)) return [term.slice(0, index), operator, term.slice(index + operator.length)];
    }
  }
  return undefined;
}

/** Parses a `fieldSelector` string; terms come out sorted as upstream sorts them. */
export function parseFieldSelector(selector: string, convert?: FieldTransform): FieldSelector {
  const terms = splitTerms(selector).sort(compareStrings);
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === "") continue;
    const split = splitTerm(term);
    if (split === undefined) throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [field, operator, rawValue] = split;
    requirements.push({ field, operator: operator === "!=" ? "!=" : "=", value: unescapeFieldValue(rawValue) });
  }
  const parsed = new FieldSelector(requirements);
  return convert === undefined ? parsed : parsed.transform(convert);
}

/** A selector requiring each field to equal its value (fields.SelectorFromSet). */
export function fieldSelectorFromSet(fields: Readonly<Record<string, string>>): FieldSelector {
  return new FieldSelector(Object.entries(fields).map(([field, value]) => ({ field, operator: "=", value })));
}
