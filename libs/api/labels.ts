/**
 * Label selectors (k8s.io/apimachinery pkg/labels and metav1's LabelSelector helpers): parse the
 * `?labelSelector=` string, match label sets, print selectors back, and convert to and from
 * metav1.LabelSelector (matchLabels + matchExpressions).
 */
import { compareStrings, sortedUnique } from "./go-format.ts";
import { parseRequirements, SelectorParseError } from "./labels-parse.ts";
import type { Requirement, SelectorOperator } from "./labels-requirement.ts";
import { newRequirement, requirementMatches, requirementToString } from "./labels-requirement.ts";
import { FieldErrorsError } from "./field-errors.ts";
import type { LabelSelector, LabelSelectorOperator, LabelSelectorRequirement } from "./types/meta.ts";

function byKey(requirements: readonly Requirement[]): Requirement[] {
  // A stable sort by key, as upstream's sort.Sort behaves on selector-sized inputs.
  return [...requirements].sort((left, right) => compareStrings(left.key, right.key));
}

/** A parsed label selector: requirements sorted by key, all of which must match. */
export class Selector {
  readonly requirements: readonly Requirement[];
  readonly #nothing: boolean;

  private constructor(requirements: readonly Requirement[], nothing: boolean) {
    this.requirements = requirements;
    this.#nothing = nothing;
  }

  /** Matches every label set (the empty selector). */
  static everything(): Selector {
    return new Selector([], false);
  }

  /** Matches no label set (what a nil metav1.LabelSelector converts to). */
  static nothing(): Selector {
    return new Selector([], true);
  }

  static of(requirements: readonly Requirement[]): Selector {
    return new Selector(byKey(requirements), false);
  }

  /** A copy with more requirements, re-sorted by key. */
  add(...requirements: Requirement[]): Selector {
    if (this.#nothing) return this;
    return Selector.of([...this.requirements, ...requirements]);
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    if (this.#nothing) return false;
    const set = labels ?? {};
    return this.requirements.every((requirement) => requirementMatches(requirement, set));
  }

  /** True for the selector that matches everything. */
  isEmpty(): boolean {
    return !this.#nothing && this.requirements.length === 0;
  }

  matchesNothing(): boolean {
    return this.#nothing;
  }

  /** The value a label must have for the selector to match, when the selector pins it. */
  requiresExactMatch(key: string): string | undefined {
    const requirement = this.requirements.find((candidate) => candidate.key === key);
    if (requirement === undefined || requirement.values.length !== 1) return undefined;
    return ["=", "==", "in"].includes(requirement.operator) ? requirement.values[0] : undefined;
  }

  toString(): string {
    return this.requirements.map(requirementToString).join(",");
  }
}

/** Parses a `labelSelector` string; throws SelectorParseError with upstream's message. */
export function parseSelector(text: string): Selector {
  return Selector.of(parseRequirements(text));
}

/** A selector requiring every label of the set (labels.SelectorFromSet), values not validated. */
export function selectorFromSet(labels: Readonly<Record<string, string>> | undefined): Selector {
  const requirements = Object.entries(labels ?? {}).map(([key, value]): Requirement => ({ key, operator: "=", values: [value] }));
  return Selector.of(requirements);
}

/** Like selectorFromSet, but each key and value is validated (labels.ValidatedSelectorFromSet). */
export function validatedSelectorFromSet(labels: Readonly<Record<string, string>> | undefined): Selector {
  const entries = Object.entries(labels ?? {}).sort(([left], [right]) => compareStrings(left, right));
  return Selector.of(entries.map(([key, value]) => newRequirement(key, "=", [value])));
}

const fromLabelSelectorOperator: Readonly<Record<LabelSelectorOperator, SelectorOperator>> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

/**
 * metav1.LabelSelectorAsSelector: undefined matches nothing, an empty selector matches everything.
 * Throws an Error with upstream's message for an unknown operator, FieldErrorsError for bad keys
 * or values.
 */
export function labelSelectorAsSelector(selector: LabelSelector | undefined | null): Selector {
  if (selector === undefined || selector === null) return Selector.nothing();
  const matchLabels = Object.entries(selector.matchLabels ?? {}).sort(([left], [right]) => compareStrings(left, right));
  const expressions = selector.matchExpressions ?? [];
  if (matchLabels.length + expressions.length === 0) return Selector.everything();
  const requirements = matchLabels.map(([key, value]) => newRequirement(key, "=", [value]));
  for (const expression of expressions) {
    const operator = fromLabelSelectorOperator[expression.operator] as SelectorOperator | undefined;
    if (operator === undefined) throw new Error(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
    const values = expression.values === undefined || expression.values.length === 0 ? null : expression.values;
    requirements.push(newRequirement(expression.key, operator, values));
  }
  return Selector.of(requirements);
}

/** metav1.FormatLabelSelector: the selector string, `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  try {
    const text = labelSelectorAsSelector(selector).toString();
    return text.length === 0 ? "<none>" : text;
  } catch {
    return "<error>";
  }
}

/** labels.FormatLabels: `k1=v1,k2=v2` in key order, `<none>` when empty. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const text = selectorFromSet(labels).toString();
  return text.length === 0 ? "<none>" : text;
}

const toLabelSelectorOperator: Partial<Record<SelectorOperator, LabelSelectorOperator>> = {
  in: "In",
  notin: "NotIn",
  exists: "Exists",
  "!": "DoesNotExist",
};

/** metav1.ParseToLabelSelector: a selector string as matchLabels and matchExpressions. */
export function parseToLabelSelector(text: string): LabelSelector {
  let requirements: Requirement[];
  try {
    requirements = Selector.of(parseRequirements(text)).requirements.slice();
  } catch (error) {
    if (error instanceof SelectorParseError || error instanceof FieldErrorsError) {
      throw new SelectorParseError(`couldn't parse the selector string "${text}": ${error.message}`);
    }
    throw error;
  }
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const requirement of requirements) {
    if (requirement.operator === "=" || requirement.operator === "==") {
      matchLabels[requirement.key] = requirement.values[0] ?? "";
      continue;
    }
    const operator = toLabelSelectorOperator[requirement.operator];
    if (requirement.operator === "gt" || requirement.operator === "lt") {
      throw new SelectorParseError(`"${requirement.operator}" isn't supported in label selectors`);
    }
    if (operator === undefined) throw new SelectorParseError(`"${requirement.operator}" is not a valid label selector operator`);
    matchExpressions.push({ key: requirement.key, operator, values: sortedUnique(requirement.values) });
  }
  return { matchLabels, matchExpressions };
}

/** metav1.LabelSelectorAsMap: only matchLabels and single-value In expressions convert. */
export function labelSelectorAsMap(selector: LabelSelector | undefined): Record<string, string> | undefined {
  if (selector === undefined) return undefined;
  const map: Record<string, string> = { ...(selector.matchLabels ?? {}) };
  for (const expression of selector.matchExpressions ?? []) {
    const values = expression.values ?? [];
    if (!(expression.operator in fromLabelSelectorOperator)) {
      throw new Error(`${JSON.stringify(expression.operator)} is not a valid selector operator`);
    }
    if (expression.operator !== "In") {
      throw new Error(`operator ${JSON.stringify(expression.operator)} cannot be converted into the old label selector format`);
    }
    if (values.length !== 1) {
      throw new Error(`operator ${JSON.stringify(expression.operator)} without a single value cannot be converted into the old label selector format`);
    }
    map[expression.key] = values[0] ?? "";
  }
  return map;
}
