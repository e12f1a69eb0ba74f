/**
 * Validation of the smaller core/v1 objects as upstream: ConfigMap and Secret keys and sizes,
 * Secret types, Namespace finalizers, Node CIDRs and taints, PersistentVolumeClaim specs, Events;
 * and their update rules (immutable ConfigMaps and Secrets, PVC specs).
 */
import type { FieldError } from "../field-errors.ts";
import { fieldDuplicate, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired, fieldTooLong } from "../field-errors.ts";
import { FieldPath } from "../field-path.ts";
import { Quantity } from "../quantity.ts";
import type { ConfigMap, Event, Namespace, Node, PersistentVolumeClaim, PersistentVolumeClaimSpec, Secret } from "../types/core.ts";
import { compareStrings, utf8Length } from "../go-format.ts";
import { validateLabelSelector } from "../validation.ts";
import { isConfigMapKey, isQualifiedName, isValidLabelValue } from "../validation-strings.ts";
import { validateImmutableField } from "./common.ts";
import { isCIDR } from "./ip.ts";

/** Largest ConfigMap or Secret payload (upstream's MaxSecretSize, 1 MiB). */
export const configDataBytesMax = 1024 * 1024;
const accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const taintEffects = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

function sortedKeys(map: Readonly<Record<string, string>> | undefined): string[] {
  return Object.keys(map ?? {}).sort(compareStrings);
}

/** Bytes a base64 value decodes to. */
export function base64DecodedBytes(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((text.length * 3) / 4) - padding);
}

function validateKeys(map: Readonly<Record<string, string>> | undefined, path: FieldPath): FieldError[] {
  return sortedKeys(map).flatMap((key) => isConfigMapKey(key).map((message) => fieldInvalid(path.key(key), key, message)));
}

export function validateConfigMap(configMap: ConfigMap): FieldError[] {
  const errors = validateKeys(configMap.data, FieldPath.of("data"));
  errors.push(...validateKeys(configMap.binaryData, FieldPath.of("binaryData")));
  let totalBytes = 0;
  for (const key of sortedKeys(configMap.data)) totalBytes += utf8Length(configMap.data?.[key] ?? "");
  for (const key of sortedKeys(configMap.binaryData)) {
    totalBytes += base64DecodedBytes(configMap.binaryData?.[key] ?? "");
    if (configMap.data?.[key] !== undefined) errors.push(fieldInvalid(FieldPath.of("binaryData").key(key), key, "duplicate of key present in data"));
  }
  if (totalBytes > configDataBytesMax) errors.push(fieldTooLong(FieldPath.of(""), configDataBytesMax));
  return errors;
}

// Keys each well-known Secret type must carry.
const secretRequiredKeys: ReadonlyMap<string, readonly string[]> = new Map([
  ["kubernetes.io/dockercfg", [".dockercfg"]],
  ["kubernetes.io/dockerconfigjson", [".dockerconfigjson"]],
  ["kubernetes.io/ssh-auth", ["ssh-privatekey"]],
  ["kubernetes.io/tls", ["tls.crt", "tls.key"]],
]);

function validateSecretType(secret: Secret, dataPath: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const type = secret.type ?? "Opaque";
  for (const key of secretRequiredKeys.get(type) ?? []) {
    if (secret.data?.[key] === undefined && secret.stringData?.[key] === undefined) errors.push(fieldRequired(dataPath.key(key), ""));
  }
  if (type === "kubernetes.io/service-account-token" && (secret.metadata.annotations?.["kubernetes.io/service-account.name"] ?? "") === "") {
    errors.push(fieldRequired(FieldPath.of("metadata", "annotations").key("kubernetes.io/service-account.name"), ""));
  }
  if (type === "kubernetes.io/basic-auth") {
    const has = (key: string) => secret.data?.[key] !== undefined || secret.stringData?.[key] !== undefined;
    if (!has("username") && !has("password")) errors.push(fieldRequired(dataPath.key("username"), ""), fieldRequired(dataPath.key("password"), ""));
  }
  if (type.length > 0) errors.push(...isQualifiedName(type).map((message) => fieldInvalid(FieldPath.of("type"), type, message)));
  return errors;
}

export function validateSecret(secret: Secret): FieldError[] {
  const dataPath = FieldPath.of("data");
  const errors = validateKeys(secret.data, dataPath);
  errors.push(...validateKeys(secret.stringData, FieldPath.of("stringData")));
  let totalBytes = 0;
  for (const key of sortedKeys(secret.data)) totalBytes += base64DecodedBytes(secret.data?.[key] ?? "");
  for (const key of sortedKeys(secret.stringData)) totalBytes += utf8Length(secret.stringData?.[key] ?? "");
  if (totalBytes > configDataBytesMax) errors.push(fieldTooLong(dataPath, configDataBytesMax));
  errors.push(...validateSecretType(secret, dataPath));
  return errors;
}

function validateImmutableData(next: ConfigMap | Secret, previous: ConfigMap | Secret, fields: readonly ("data" | "binaryData")[]): FieldError[] {
  if (previous.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (next.immutable !== true) errors.push(fieldForbidden(FieldPath.of("immutable"), "field is immutable when `immutable` is set"));
  for (const field of fields) {
    const nextData = (next as ConfigMap)[field];
    const previousData = (previous as ConfigMap)[field];
    if (JSON.stringify(nextData ?? {}) !== JSON.stringify(previousData ?? {})) errors.push(fieldForbidden(FieldPath.of(field), "field is immutable when `immutable` is set"));
  }
  return errors;
}

export function validateConfigMapUpdate(next: ConfigMap, previous: ConfigMap): FieldError[] {
  return validateImmutableData(next, previous, ["data", "binaryData"]);
}

export function validateSecretUpdate(next: Secret, previous: Secret): FieldError[] {
  const errors = validateImmutableField(next.type ?? "Opaque", previous.type ?? "Opaque", FieldPath.of("type"));
  errors.push(...validateImmutableData(next, previous, ["data"]));
  return errors;
}

export function validateNamespace(namespace: Namespace): FieldError[] {
  const path = FieldPath.of("spec", "finalizers");
  return (namespace.spec?.finalizers ?? []).flatMap((finalizer) => {
    const problems = isQualifiedName(finalizer).map((message) => fieldInvalid(path, finalizer, message));
    if (problems.length === 0 && !finalizer.includes("/") && finalizer !== "kubernetes") {
      problems.push(fieldInvalid(path, finalizer, "name is neither a standard finalizer name nor is it fully qualified"));
    }
    return problems;
  });
}

export function validateNode(node: Node): FieldError[] {
  const errors: FieldError[] = [];
  const spec = node.spec ?? {};
  const podCidr = spec.podCIDR ?? "";
  if (podCidr !== "" && !isCIDR(podCidr)) errors.push(fieldInvalid(FieldPath.of("spec", "podCIDR"), podCidr, "must be a valid CIDR"));
  (spec.podCIDRs ?? []).forEach((cidr, index) => {
    if (!isCIDR(cidr)) errors.push(fieldInvalid(FieldPath.of("spec", "podCIDRs").index(index), cidr, "must be a valid CIDR"));
  });
  const seen = new Set<string>();
  (spec.taints ?? []).forEach((taint, index) => {
    const path = FieldPath.of("spec", "taints").index(index);
    errors.push(...isQualifiedName(taint.key).map((message) => fieldInvalid(path.child("key"), taint.key, message)));
    const value = taint.value ?? "";
    errors.push(...isValidLabelValue(value).map((message) => fieldInvalid(path.child("value"), value, message)));
    if (!taintEffects.includes(taint.effect)) errors.push(fieldNotSupported(path.child("effect"), taint.effect, taintEffects));
    const key = `${taint.key}:${taint.effect}`;
    if (seen.has(key)) errors.push(fieldDuplicate(path, taint));
    seen.add(key);
  });
  return errors;
}

/** A claim's spec, also a pod's ephemeral volume template's. */
export function validateClaimSpec(spec: PersistentVolumeClaimSpec | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const modes = spec?.accessModes ?? [];
  if (modes.length === 0) errors.push(fieldRequired(path.child("accessModes"), "at least 1 access mode is required"));
  for (const mode of modes) {
    if (!accessModes.includes(mode)) errors.push(fieldNotSupported(path.child("accessModes"), mode, accessModes));
  }
  if (modes.includes("ReadWriteOncePod") && modes.length > 1) {
    errors.push(fieldForbidden(path.child("accessModes"), "may not use ReadWriteOncePod with other access modes"));
  }
  errors.push(...validateLabelSelector(spec?.selector, path.child("selector")));
  const storagePath = path.child("resources").key("storage");
  const storage = spec?.resources?.requests?.["storage"];
  if (storage === undefined) errors.push(fieldRequired(storagePath, ""));
  else errors.push(...validatePositiveQuantity(storage, storagePath));
  if (spec?.volumeMode !== undefined && !["Block", "Filesystem"].includes(spec.volumeMode)) {
    errors.push(fieldNotSupported(path.child("volumeMode"), spec.volumeMode, ["Block", "Filesystem"]));
  }
  return errors;
}

function validatePositiveQuantity(text: string, path: FieldPath): FieldError[] {
  try {
    const quantity = Quantity.parse(String(text));
    return quantity.sign() > 0 ? [] : [fieldInvalid(path, quantity.toString(), "must be greater than zero")];
  } catch (error) {
    return [fieldInvalid(path, text, error instanceof Error ? error.message : String(error))];
  }
}

export function validatePersistentVolumeClaim(claim: PersistentVolumeClaim): FieldError[] {
  return validateClaimSpec(claim.spec, FieldPath.of("spec"));
}

/**
 * Only resources.requests and volumeAttributesClassName may change in a claim's spec, and, as
 * upstream, volumeName may be set once on a claim that has none (the binder binds it).
 */
export function validatePersistentVolumeClaimUpdate(next: PersistentVolumeClaim, previous: PersistentVolumeClaim): FieldError[] {
  const bindingAllowed = (previous.spec?.volumeName ?? "") === "";
  const strip = (spec: PersistentVolumeClaimSpec | undefined): string => {
    const { volumeName, ...rest } = spec ?? {};
    return JSON.stringify({ ...rest, resources: { ...(spec?.resources ?? {}), requests: {} }, volumeAttributesClassName: "", volumeName: bindingAllowed ? "" : (volumeName ?? "") });
  };
  if (strip(next.spec) === strip(previous.spec)) return [];
  return [fieldForbidden(FieldPath.of("spec"), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")];
}

export function validateEvent(event: Event): FieldError[] {
  const errors: FieldError[] = [];
  const involvedNamespace = event.involvedObject?.namespace ?? "";
  const namespace = event.metadata.namespace ?? "";
  if (involvedNamespace !== "" && involvedNamespace !== namespace) {
    errors.push(fieldInvalid(FieldPath.of("involvedObject", "namespace"), involvedNamespace, "does not match event.namespace"));
  }
  const type = event.type ?? "";
  if (type !== "" && type !== "Normal" && type !== "Warning") errors.push(fieldNotSupported(FieldPath.of("type"), type, ["Normal", "Warning"]));
  if ((event.count ?? 0) < 0) errors.push(fieldInvalid(FieldPath.of("count"), event.count, "must be greater than or equal to 0"));
  return errors;
}
