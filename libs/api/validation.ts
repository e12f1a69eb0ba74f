/**
 * Metadata validation as upstream (k8s.io/apimachinery pkg/api/validation, pkg/apis/meta/v1/
 * validation, v0.32): names per resource, generateName, labels, annotations, owner references,
 * finalizers and managed fields, each error with its field path. Map keys are visited in sorted
 * order (upstream's order is Go's random map order), so error lists are deterministic.
 */
import type { FieldError } from "./field-errors.ts";
import { fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired, fieldTooLong } from "./field-errors.ts";
import { FieldPath } from "./field-path.ts";
import { parseApiVersion } from "./group-version.ts";
import { compareStrings, utf8Length } from "./go-format.ts";
import type { LabelSelector, LabelSelectorRequirement, ObjectMeta, OwnerReference } from "./types/meta.ts";
import type { ManagedFieldsEntry } from "./patch/index.ts";
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPathSegmentPrefix,
} from "./validation-strings.ts";

/** Total bytes of annotation keys and values an object may carry (256 KiB). */
export const annotationsTotalBytesMax = 256 * 1024;
/** Longest field manager name (metav1 validation's FieldManagerMaxLength). */
export const fieldManagerBytesMax = 128;
/** Longest subresource name recorded in a managed fields entry. */
export const subresourceNameBytesMax = 256;

/** Validates a name (`prefix` false) or a generateName (`prefix` true); returns the problems. */
export type NameValidator = (name: string, prefix: boolean) => string[];

// A generateName may end in "-": upstream replaces the last two characters with "a" before
// checking (the quirk is reproduced: "ab-" is checked as "aa").
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDnsSubdomain: NameValidator = (name, prefix) => isDns1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDnsLabel: NameValidator = (name, prefix) => isDns1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDns1035Label: NameValidator = (name, prefix) => isDns1035Label(prefix ? maskTrailingDash(name) : name);
export const nameIsPathSegment: NameValidator = (name, prefix) => (prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name));

// Resources whose names are not DNS subdomains (keyed "<resource>.<group>", core group "").
const nameValidators: ReadonlyMap<string, NameValidator> = new Map([
  ["namespaces.", nameIsDnsLabel],
  ["services.", nameIsDns1035Label],
  ["persistentvolumes.", nameIsPathSegment],
  ["roles.rbac.authorization.k8s.io", nameIsPathSegment],
  ["clusterroles.rbac.authorization.k8s.io", nameIsPathSegment],
  ["rolebindings.rbac.authorization.k8s.io", nameIsPathSegment],
  ["clusterrolebindings.rbac.authorization.k8s.io", nameIsPathSegment],
]);

/** The name rule upstream applies to a resource: DNS subdomain unless listed otherwise. */
export function nameValidatorFor(group: string, resource: string): NameValidator {
  return nameValidators.get(`${resource}.${group}`) ?? nameIsDnsSubdomain;
}

function sortedEntries(map: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(map ?? {}).sort(([left], [right]) => compareStrings(left, right));
}

export function validateLabelName(labelName: string, path: FieldPath): FieldError[] {
  return isQualifiedName(labelName).map((message) => fieldInvalid(path, labelName, message));
}

/** Label keys and values; upstream reports a bad value at the map's path, not the key's. */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of sortedEntries(labels)) {
    errors.push(...validateLabelName(key, path));
    errors.push(...isValidLabelValue(value).map((message) => fieldInvalid(path, value, message)));
  }
  return errors;
}

/** Annotation keys (checked lower-cased, as upstream) and their total size. */
export function validateAnnotations(annotations: Readonly<Record<string, string>> | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  let totalBytes = 0;
  for (const [key, value] of sortedEntries(annotations)) {
    errors.push(...isQualifiedName(key.toLowerCase()).map((message) => fieldInvalid(path, key, message)));
    totalBytes += utf8Length(key) + utf8Length(value);
  }
  if (totalBytes > annotationsTotalBytesMax) errors.push(fieldTooLong(path, annotationsTotalBytesMax));
  return errors;
}

// Upstream's BannedOwners: core/v1 Events may not own anything.
function isBannedOwner(reference: OwnerReference): boolean {
  return reference.apiVersion === "v1" && reference.kind === "Event";
}

function validateOwnerReference(reference: OwnerReference, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const version = parseApiVersion(reference.apiVersion)?.version ?? "";
  if (version.length === 0) errors.push(fieldInvalid(path.child("apiVersion"), reference.apiVersion, "version must not be empty"));
  if (reference.kind.length === 0) errors.push(fieldInvalid(path.child("kind"), reference.kind, "kind must not be empty"));
  if (reference.name.length === 0) errors.push(fieldInvalid(path.child("name"), reference.name, "name must not be empty"));
  if (reference.uid.length === 0) errors.push(fieldInvalid(path.child("uid"), reference.uid, "uid must not be empty"));
  if (isBannedOwner(reference)) errors.push(fieldInvalid(path, reference, "/v1, Kind=Event is disallowed from being an owner"));
  return errors;
}

export function validateOwnerReferences(references: readonly OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  let firstController = "";
  for (const reference of references ?? []) {
    errors.push(...validateOwnerReference(reference, path));
    if (reference.controller !== true) continue;
    const controller = `${reference.kind}/${reference.name}`;
    if (firstController === "") {
      firstController = controller;
      continue;
    }
    const detail = `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${controller}`;
    errors.push(fieldInvalid(path, references, detail));
  }
  return errors;
}

export function validateFinalizers(finalizers: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  for (const finalizer of finalizers ?? []) {
    errors.push(...isQualifiedName(finalizer).map((message) => fieldInvalid(path, finalizer, message)));
  }
  const names = new Set(finalizers ?? []);
  if (names.has("orphan") && names.has("foregroundDeletion")) {
    errors.push(fieldInvalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errors;
}

/** The problems with a field manager name: too long, or holding unprintable characters. */
export function validateFieldManager(manager: string, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (utf8Length(manager) > fieldManagerBytesMax) errors.push(fieldTooLong(path, fieldManagerBytesMax));
  let byteOffset = 0;
  for (const character of manager) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(character)) {
      const rune = character.codePointAt(0) ?? 0;
      const code = `U+${rune.toString(16).toUpperCase().padStart(4, "0")}`;
      errors.push(fieldInvalid(path, manager, `invalid character ${code} (at position ${byteOffset})`));
    }
    byteOffset += utf8Length(character);
  }
  return errors;
}

export function validateManagedFields(entries: readonly ManagedFieldsEntry[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  (entries ?? []).forEach((entry, index) => {
    const entryPath = path.index(index);
    if (entry.operation !== "Apply" && entry.operation !== "Update") {
      errors.push(fieldInvalid(entryPath.child("operation"), entry.operation, "must be `Apply` or `Update`"));
    }
    if (entry.fieldsType.length > 0 && entry.fieldsType !== "FieldsV1") {
      errors.push(fieldInvalid(entryPath.child("fieldsType"), entry.fieldsType, "must be `FieldsV1`"));
    }
    errors.push(...validateFieldManager(entry.manager, entryPath.child("manager")));
    if (utf8Length(entry.subresource ?? "") > subresourceNameBytesMax) {
      errors.push(fieldTooLong(entryPath.child("subresource"), subresourceNameBytesMax));
    }
  });
  return errors;
}

function validateSelectorRequirement(requirement: LabelSelectorRequirement, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
    case "NotIn":
      if (values.length === 0) errors.push(fieldRequired(path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0) errors.push(fieldForbidden(path.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errors.push(fieldInvalid(path.child("operator"), requirement.operator, "not a valid selector operator"));
  }
  errors.push(...validateLabelName(requirement.key, path.child("key")));
  values.forEach((value, index) => {
    errors.push(...isValidLabelValue(value).map((message) => fieldInvalid(path.child("values").index(index), value, message)));
  });
  return errors;
}

/** A metav1.LabelSelector (ValidateLabelSelector with default options). */
export function validateLabelSelector(selector: LabelSelector | undefined, path: FieldPath): FieldError[] {
  if (selector === undefined) return [];
  const errors = validateLabels(selector.matchLabels, path.child("matchLabels"));
  (selector.matchExpressions ?? []).forEach((requirement, index) => {
    errors.push(...validateSelectorRequirement(requirement, path.child("matchExpressions").index(index)));
  });
  return errors;
}

/** How an object's metadata is checked on create: namespace rule and name rule. */
export interface ObjectMetaRules {
  readonly namespaced: boolean;
  readonly nameValidator: NameValidator;
}

function validateNames(meta: ObjectMeta, rules: ObjectMetaRules, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const generateName = meta.generateName ?? "";
  if (generateName.length > 0) {
    errors.push(...rules.nameValidator(generateName, true).map((message) => fieldInvalid(path.child("generateName"), generateName, message)));
  }
  const name = meta.name ?? "";
  if (name.length === 0) errors.push(fieldRequired(path.child("name"), "name or generateName is required"));
  else errors.push(...rules.nameValidator(name, false).map((message) => fieldInvalid(path.child("name"), name, message)));
  const namespace = meta.namespace ?? "";
  if (!rules.namespaced) {
    if (namespace.length > 0) errors.push(fieldForbidden(path.child("namespace"), "not allowed on this type"));
  } else if (namespace.length === 0) {
    errors.push(fieldRequired(path.child("namespace")));
  } else {
    errors.push(...nameIsDnsLabel(namespace, false).map((message) => fieldInvalid(path.child("namespace"), namespace, message)));
  }
  return errors;
}

/** Upstream's ValidateObjectMeta, errors under `path` (default `metadata`). */
export function validateObjectMeta(meta: ObjectMeta, rules: ObjectMetaRules, path: FieldPath = FieldPath.of("metadata")): FieldError[] {
  const errors = validateNames(meta, rules, path);
  if ((meta.generation ?? 0) < 0) errors.push(fieldInvalid(path.child("generation"), meta.generation, "must be greater than or equal to 0"));
  errors.push(...validateLabels(meta.labels, path.child("labels")));
  errors.push(...validateAnnotations(meta.annotations, path.child("annotations")));
  errors.push(...validateOwnerReferences(meta.ownerReferences, path.child("ownerReferences")));
  errors.push(...validateFinalizers(meta.finalizers, path.child("finalizers")));
  errors.push(...validateManagedFields(meta.managedFields, path.child("managedFields")));
  return errors;
}

function validateImmutable(next: unknown, previous: unknown, path: FieldPath): FieldError[] {
  return JSON.stringify(next ?? null) === JSON.stringify(previous ?? null) ? [] : [fieldInvalid(path, next ?? null, "field is immutable")];
}

function validateNoNewFinalizers(next: readonly string[] | undefined, previous: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const old = new Set(previous ?? []);
  const added = [...new Set(next ?? [])].filter((finalizer) => !old.has(finalizer)).sort(compareStrings);
  if (added.length === 0) return [];
  // Upstream prints the list with Go's %#v: []string{"a", "b"}.
  const listed = `[]string{${added.map((finalizer) => JSON.stringify(finalizer)).join(", ")}}`;
  return [fieldForbidden(path, `no new finalizers can be added if the object is being deleted, found new finalizers ${listed}`)];
}

/** Upstream's ValidateObjectMetaUpdate: identity and timestamps immutable, generation monotonic. */
export function validateObjectMetaUpdate(next: ObjectMeta, previous: ObjectMeta, path: FieldPath = FieldPath.of("metadata")): FieldError[] {
  const errors: FieldError[] = [];
  if (previous.deletionTimestamp !== undefined && previous.deletionTimestamp !== null) {
    errors.push(...validateNoNewFinalizers(next.finalizers, previous.finalizers, path.child("finalizers")));
  }
  if ((next.resourceVersion ?? "").length === 0) {
    errors.push(fieldInvalid(path.child("resourceVersion"), next.resourceVersion ?? "", "must be specified for an update"));
  }
  if ((next.generation ?? 0) < (previous.generation ?? 0)) {
    errors.push(fieldInvalid(path.child("generation"), next.generation ?? 0, "must not be decremented"));
  }
  errors.push(...validateImmutable(next.name ?? "", previous.name ?? "", path.child("name")));
  errors.push(...validateImmutable(next.namespace ?? "", previous.namespace ?? "", path.child("namespace")));
  errors.push(...validateImmutable(next.uid ?? "", previous.uid ?? "", path.child("uid")));
  errors.push(...validateImmutable(next.creationTimestamp, previous.creationTimestamp, path.child("creationTimestamp")));
  errors.push(...validateImmutable(next.deletionTimestamp, previous.deletionTimestamp, path.child("deletionTimestamp")));
  errors.push(...validateImmutable(next.deletionGracePeriodSeconds, previous.deletionGracePeriodSeconds, path.child("deletionGracePeriodSeconds")));
  errors.push(...validateLabels(next.labels, path.child("labels")));
  errors.push(...validateAnnotations(next.annotations, path.child("annotations")));
  errors.push(...validateOwnerReferences(next.ownerReferences, path.child("ownerReferences")));
  errors.push(...validateManagedFields(next.managedFields, path.child("managedFields")));
  return errors;
}

/** DeleteOptions.propagationPolicy and orphanDependents, as upstream's ValidateDeleteOptions. */
export function validateDeletePropagation(orphanDependents: boolean | undefined, propagationPolicy: string | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const path = FieldPath.of("propagationPolicy");
  if (orphanDependents !== undefined && propagationPolicy !== undefined) {
    errors.push(fieldInvalid(path, propagationPolicy, "orphanDependents and deletionPropagation cannot be both set"));
  }
  if (propagationPolicy !== undefined && !["Foreground", "Background", "Orphan"].includes(propagationPolicy)) {
    errors.push(fieldNotSupported(path, propagationPolicy, ["Foreground", "Background", "Orphan", "nil"]));
  }
  return errors;
}
