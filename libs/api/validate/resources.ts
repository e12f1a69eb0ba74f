/**
 * Resource requirements as upstream's ValidateResourceRequirements: resource names, quantities
 * that parse and are not negative, integers for extended resources, and requests not above limits
 * (equal to them for resources that cannot be overcommitted).
 */
import type { FieldError } from "../field-errors.ts";
import { fieldInvalid, fieldRequired } from "../field-errors.ts";
import type { FieldPath } from "../field-path.ts";
import { compareStrings } from "../go-format.ts";
import { Quantity } from "../quantity.ts";
import type { ResourceList } from "../types/meta.ts";
import type { ResourceRequirements } from "../types/pod.ts";
import { isQualifiedName } from "../validation-strings.ts";
import { isNegativeMessage } from "./common.ts";

const standardContainerResources: ReadonlySet<string> = new Set(["cpu", "memory", "ephemeral-storage"]);

function isHugePages(name: string): boolean {
  return name.startsWith("hugepages-");
}

// Extended resources (`example.com/gpu`) and huge pages cannot be overcommitted.
function isOvercommitAllowed(name: string): boolean {
  return standardContainerResources.has(name) || (!name.includes("/") && !isHugePages(name));
}

function validateResourceName(name: string, path: FieldPath): FieldError[] {
  const problems = isQualifiedName(name);
  if (problems.length > 0) return problems.map((message) => fieldInvalid(path, name, message));
  if (!name.includes("/") && !standardContainerResources.has(name) && !isHugePages(name)) {
    return [fieldInvalid(path, name, "must be a standard resource for containers")];
  }
  if (name.startsWith("kubernetes.io/") || name.startsWith("requests.")) return [fieldInvalid(path, name, "must be a standard resource for containers")];
  return [];
}

interface Parsed {
  readonly quantity: Quantity | undefined;
  readonly errors: FieldError[];
}

function parseResource(name: string, text: string, path: FieldPath): Parsed {
  const errors = validateResourceName(name, path);
  let quantity: Quantity;
  try {
    quantity = Quantity.parse(String(text));
  } catch (error) {
    errors.push(fieldInvalid(path, text, error instanceof Error ? error.message : String(error)));
    return { quantity: undefined, errors };
  }
  const canonical = quantity.toString();
  if (quantity.sign() < 0) errors.push(fieldInvalid(path, canonical, isNegativeMessage));
  else if (!isOvercommitAllowed(name) && !isHugePages(name) && !quantity.equals(Quantity.fromInteger(quantity.scaledValueBig(0)))) {
    errors.push(fieldInvalid(path, canonical, "must be an integer"));
  }
  return { quantity, errors };
}

function sortedResources(list: ResourceList | undefined): [string, string][] {
  return Object.entries(list ?? {}).sort(([left], [right]) => compareStrings(left, right));
}

export function validateResourceRequirements(requirements: ResourceRequirements | undefined, path: FieldPath): FieldError[] {
  if (requirements === undefined) return [];
  const errors: FieldError[] = [];
  const limitsPath = path.child("limits");
  const requestsPath = path.child("requests");
  const limits = new Map<string, Quantity>();
  for (const [name, text] of sortedResources(requirements.limits)) {
    const parsed = parseResource(name, text, limitsPath.key(name));
    errors.push(...parsed.errors);
    if (parsed.quantity !== undefined) limits.set(name, parsed.quantity);
  }
  for (const [name, text] of sortedResources(requirements.requests)) {
    const parsed = parseResource(name, text, requestsPath.key(name));
    errors.push(...parsed.errors);
    if (parsed.quantity === undefined) continue;
    const limit = limits.get(name);
    const requested = parsed.quantity.toString();
    if (limit === undefined) {
      if (!isOvercommitAllowed(name) && requirements.limits?.[name] === undefined) errors.push(fieldRequired(limitsPath, "Limit must be set for non overcommitable resources"));
    } else if (!isOvercommitAllowed(name) && parsed.quantity.compare(limit) !== 0) {
      errors.push(fieldInvalid(requestsPath, requested, `must be equal to ${name} limit of ${limit.toString()}`));
    } else if (parsed.quantity.compare(limit) > 0) {
      errors.push(fieldInvalid(requestsPath, requested, `must be less than or equal to ${name} limit of ${limit.toString()}`));
    }
  }
  return errors;
}
