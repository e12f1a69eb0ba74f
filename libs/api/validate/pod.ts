/**
 * Pod spec validation as upstream's ValidatePodSpec (pkg/apis/core/validation): volumes,
 * containers (regular, init, ephemeral) with unique names, restart and DNS policies, node
 * selector, tolerations and the name-like fields; plus pod templates and the Pod object.
 */
import type { FieldError } from "../field-errors.ts";
import { fieldDuplicate, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "../field-errors.ts";
import { FieldPath } from "../field-path.ts";
import type { Container, KeyToPath, PodSpec, PodTemplateSpec, Toleration, Volume, VolumeSource } from "../types/pod.ts";
import { validateAnnotations, validateLabels } from "../validation.ts";
import { isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue } from "../validation-strings.ts";
import { int32Max, validateEnum } from "./common.ts";
import { validateClaimSpec } from "./core.ts";
import type { ContainerRole } from "./container.ts";
import { validateContainer, validateHostPortConflicts } from "./container.ts";

// Upstream's order of checks, which decides which source a second one is reported at.
const volumeSourceKeys = ["emptyDir", "hostPath", "secret", "nfs", "persistentVolumeClaim", "downwardAPI", "projected", "configMap", "csi", "ephemeral", "image"] as const;
const fileModeMessage = "must be a number between 0 and 0777 (octal), both inclusive";
const fileModeMax = 0o777;
const restartPolicies = ["Always", "OnFailure", "Never"];
const dnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const taintEffects = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

function validateFileMode(mode: number | undefined, path: FieldPath): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > fileModeMax) ? [fieldInvalid(path, mode, fileModeMessage)] : [];
}

function validateKeyToPaths(items: readonly KeyToPath[] | undefined, path: FieldPath): FieldError[] {
  return (items ?? []).flatMap((item, index) => {
    const itemPath = path.index(index);
    const errors: FieldError[] = [];
    if (item.key.length === 0) errors.push(fieldRequired(itemPath.child("key"), ""));
    if (item.path.length === 0) errors.push(fieldRequired(itemPath.child("path"), ""));
    else if (item.path.startsWith("/")) errors.push(fieldInvalid(itemPath.child("path"), item.path, "must be a relative path"));
    else if (item.path.split("/").includes("..")) errors.push(fieldInvalid(itemPath.child("path"), item.path, "must not contain '..'"));
    errors.push(...validateFileMode(item.mode, itemPath.child("mode")));
    return errors;
  });
}

function validateVolumeSource(volume: Volume, path: FieldPath): FieldError[] {
  const present = volumeSourceKeys.filter((key) => volume[key] !== undefined);
  if (present.length === 0) return [fieldRequired(path, "must specify a volume type")];
  if (present.length > 1) return present.slice(1).map((key) => fieldForbidden(path.child(key), "may not specify more than 1 volume type"));
  const errors: FieldError[] = [];
  if (volume.hostPath !== undefined && volume.hostPath.path.length === 0) errors.push(fieldRequired(path.child("hostPath", "path"), ""));
  if (volume.secret !== undefined) {
    if ((volume.secret.secretName ?? "") === "") errors.push(fieldRequired(path.child("secret", "secretName"), ""));
    errors.push(...validateFileMode(volume.secret.defaultMode, path.child("secret", "defaultMode")));
    errors.push(...validateKeyToPaths(volume.secret.items, path.child("secret", "items")));
  }
  if (volume.configMap !== undefined) {
    if ((volume.configMap.name ?? "") === "") errors.push(fieldRequired(path.child("configMap", "name"), ""));
    errors.push(...validateFileMode(volume.configMap.defaultMode, path.child("configMap", "defaultMode")));
    errors.push(...validateKeyToPaths(volume.configMap.items, path.child("configMap", "items")));
  }
  if (volume.persistentVolumeClaim !== undefined && volume.persistentVolumeClaim.claimName.length === 0) {
    errors.push(fieldRequired(path.child("persistentVolumeClaim", "claimName"), ""));
  }
  if (volume.ephemeral !== undefined) errors.push(...validateEphemeral(volume.ephemeral, path.child("ephemeral")));
  if (volume.nfs !== undefined) {
    if (volume.nfs.server.length === 0) errors.push(fieldRequired(path.child("nfs", "server"), ""));
    if (volume.nfs.path.length === 0) errors.push(fieldRequired(path.child("nfs", "path"), ""));
    else if (!volume.nfs.path.startsWith("/")) errors.push(fieldInvalid(path.child("nfs", "path"), volume.nfs.path, "must be an absolute path"));
  }
  return errors;
}

/** The only metadata an ephemeral volume's claim template may carry (upstream's allow list). */
const ephemeralTemplateMetadataFields = new Set(["labels", "annotations"]);

function isSetField(value: unknown): boolean {
  if (value === undefined || value === null || value === "" || value === 0) return false;
  if (Array.isArray(value)) return value.length > 0;
  return typeof value !== "object" || Object.keys(value).length > 0;
}

/** As upstream's validateEphemeralVolumeSource: a template whose metadata is labels and annotations only, and a valid claim spec. */
function validateEphemeral(ephemeral: NonNullable<VolumeSource["ephemeral"]>, path: FieldPath): FieldError[] {
  const template = ephemeral.volumeClaimTemplate;
  const templatePath = path.child("volumeClaimTemplate");
  if (template === undefined || template === null) return [fieldRequired(templatePath, "")];
  const metadataPath = templatePath.child("metadata");
  const metadata = template.metadata ?? {};
  const errors = [...validateAnnotations(metadata.annotations, metadataPath.child("annotations")), ...validateLabels(metadata.labels, metadataPath.child("labels"))];
  for (const [field, value] of Object.entries(metadata)) {
    if (!ephemeralTemplateMetadataFields.has(field) && isSetField(value)) errors.push(fieldForbidden(metadataPath.child(field), "cannot be set for an ephemeral volume"));
  }
  errors.push(...validateClaimSpec(template.spec, templatePath.child("spec")));
  return errors;
}

/** Volumes: names required, DNS labels and unique; exactly one source each. Returns the names. */
export function validateVolumes(volumes: readonly Volume[] | undefined, path: FieldPath): { errors: FieldError[]; names: Set<string> } {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((volume, index) => {
    const volumePath = path.index(index);
    const nameErrors: FieldError[] = [];
    if (volume.name.length === 0) nameErrors.push(fieldRequired(volumePath.child("name"), ""));
    else nameErrors.push(...isDns1123Label(volume.name).map((message) => fieldInvalid(volumePath.child("name"), volume.name, message)));
    if (nameErrors.length === 0 && names.has(volume.name)) nameErrors.push(fieldDuplicate(volumePath.child("name"), volume.name));
    if (nameErrors.length === 0) names.add(volume.name);
    errors.push(...nameErrors, ...validateVolumeSource(volume, volumePath));
  });
  return { errors, names };
}

function validateContainerList(containers: readonly Container[], role: ContainerRole, taken: Set<string>, volumeNames: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  containers.forEach((container, index) => {
    const containerPath = path.index(index);
    if (container.name.length > 0 && taken.has(container.name)) errors.push(fieldDuplicate(containerPath.child("name"), container.name));
    taken.add(container.name);
    errors.push(...validateContainer(container, role, volumeNames, containerPath));
  });
  return errors;
}

function validateAllContainers(spec: PodSpec, volumeNames: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const containers = spec.containers ?? [];
  if (containers.length === 0) errors.push(fieldRequired(path.child("containers"), ""));
  const taken = new Set<string>();
  errors.push(...validateContainerList(containers, "regular", taken, volumeNames, path.child("containers")));
  errors.push(...validateContainerList(spec.initContainers ?? [], "init", taken, volumeNames, path.child("initContainers")));
  errors.push(...validateContainerList(spec.ephemeralContainers ?? [], "ephemeral", taken, volumeNames, path.child("ephemeralContainers")));
  errors.push(...validateHostPortConflicts(containers, path.child("containers")));
  return errors;
}

function validateToleration(toleration: Toleration, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const key = toleration.key ?? "";
  if (key.length > 0) errors.push(...isQualifiedName(key).map((message) => fieldInvalid(path.child("key"), key, message)));
  if (key.length === 0 && toleration.operator !== "Exists") {
    errors.push(fieldInvalid(path.child("operator"), toleration.operator ?? "", 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  }
  if (toleration.tolerationSeconds !== undefined && toleration.effect !== "NoExecute") {
    errors.push(fieldInvalid(path.child("effect"), toleration.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  }
  const value = toleration.value ?? "";
  if (toleration.operator === "Exists" && value.length > 0) errors.push(fieldInvalid(path.child("operator"), value, "value must be empty when `operator` is 'Exists'"));
  else if (toleration.operator !== "Exists") errors.push(...isValidLabelValue(value).map((message) => fieldInvalid(path.child("value"), value, message)));
  if (toleration.operator !== undefined && !["Equal", "Exists"].includes(toleration.operator)) {
    errors.push(fieldNotSupported(path.child("operator"), toleration.operator, ["Equal", "Exists"]));
  }
  if (toleration.effect !== undefined && !taintEffects.includes(toleration.effect)) errors.push(fieldNotSupported(path.child("effect"), toleration.effect, taintEffects));
  return errors;
}

function validateNamedFields(spec: PodSpec, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const subdomainFields = [["serviceAccountName", spec.serviceAccountName], ["nodeName", spec.nodeName], ["priorityClassName", spec.priorityClassName]] as const;
  for (const [name, value] of subdomainFields) {
    if ((value ?? "") !== "") errors.push(...isDns1123Subdomain(value ?? "").map((message) => fieldInvalid(path.child(name), value, message)));
  }
  for (const [name, value] of [["hostname", spec.hostname], ["subdomain", spec.subdomain]] as const) {
    if ((value ?? "") !== "") errors.push(...isDns1123Label(value ?? "").map((message) => fieldInvalid(path.child(name), value, message)));
  }
  return errors;
}

/** Upstream's ValidatePodSpec, errors under `path` (`spec` or `spec.template.spec`). */
export function validatePodSpec(spec: PodSpec, path: FieldPath): FieldError[] {
  const volumes = validateVolumes(spec.volumes, path.child("volumes"));
  const errors = [...volumes.errors, ...validateAllContainers(spec, volumes.names, path)];
  errors.push(...validateEnum(spec.restartPolicy, restartPolicies, path.child("restartPolicy")));
  errors.push(...validateEnum(spec.dnsPolicy, dnsPolicies, path.child("dnsPolicy")));
  if (spec.dnsPolicy === "None" && spec.dnsConfig === undefined) errors.push(fieldRequired(path.child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  errors.push(...validateLabels(spec.nodeSelector, path.child("nodeSelector")));
  errors.push(...validateNamedFields(spec, path));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (deadline < 1 || deadline > int32Max)) {
    errors.push(fieldInvalid(path.child("activeDeadlineSeconds"), deadline, `must be between 1 and ${int32Max}, inclusive`));
  }
  (spec.tolerations ?? []).forEach((toleration, index) => errors.push(...validateToleration(toleration, path.child("tolerations").index(index))));
  return errors;
}

/** Upstream's ValidatePodTemplateSpec: template labels, annotations and spec. */
export function validatePodTemplateSpec(template: PodTemplateSpec, path: FieldPath): FieldError[] {
  const errors = validateLabels(template.metadata?.labels, path.child("metadata", "labels"));
  errors.push(...validateAnnotations(template.metadata?.annotations, path.child("metadata", "annotations")));
  if (template.spec === undefined) errors.push(fieldRequired(path.child("spec", "containers"), ""));
  else errors.push(...validatePodSpec(template.spec, path.child("spec")));
  return errors;
}

// What a pod update may change (the rest of the spec is immutable, as upstream's ValidatePodUpdate).
function mutableFieldsCleared(spec: PodSpec | undefined): unknown {
  if (spec === undefined) return null;
  const clearImages = (containers: readonly Container[] | undefined) => containers?.map((container) => ({ ...container, image: "" }));
  return { ...spec, containers: clearImages(spec.containers), initContainers: clearImages(spec.initContainers), activeDeadlineSeconds: 0, tolerations: [] };
}

export const podUpdateForbiddenMessage =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

export function validatePodSpecUpdate(next: PodSpec | undefined, previous: PodSpec | undefined): FieldError[] {
  const same = JSON.stringify(mutableFieldsCleared(next)) === JSON.stringify(mutableFieldsCleared(previous));
  return same ? [] : [fieldForbidden(FieldPath.of("spec"), podUpdateForbiddenMessage)];
}
