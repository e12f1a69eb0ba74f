/**
 * Container validation as upstream's validateContainers (pkg/apis/core/validation): names, image,
 * ports, env, resources, probes, volume mounts and the enumerated fields. Fields that defaulting
 * fills are accepted when absent (an undefined value is the default to come); an empty string is
 * refused as upstream refuses it after defaulting.
 */
import type { FieldError } from "../field-errors.ts";
import { fieldDuplicate, fieldForbidden, fieldInvalid, fieldNotFound, fieldNotSupported, fieldRequired } from "../field-errors.ts";
import type { FieldPath } from "../field-path.ts";
import type { Container, ContainerPort, EnvFromSource, EnvVar, VolumeMount } from "../types/pod.ts";
import { isConfigMapKey, isDns1123Label, isValidPortName, isValidPortNumber } from "../validation-strings.ts";
import { validateEnum } from "./common.ts";
import { validateProbe } from "./probe.ts";
import { validateResourceRequirements } from "./resources.ts";

export const supportedPortProtocols = ["SCTP", "TCP", "UDP"] as const;
const pullPolicies = ["Always", "IfNotPresent", "Never"];
const terminationMessagePolicies = ["File", "FallbackToLogsOnError"];
const mountPropagationModes = ["Bidirectional", "HostToContainer", "None"];
const envVarNameMessage = "a valid environment variable name must consist only of printable ASCII characters other than '='";

function validatePort(port: ContainerPort, names: Set<string>, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const name = port.name ?? "";
  if (name.length > 0) {
    const problems = isValidPortName(name);
    if (problems.length > 0) errors.push(...problems.map((message) => fieldInvalid(path.child("name"), name, message)));
    else if (names.has(name)) errors.push(fieldDuplicate(path.child("name"), name));
    else names.add(name);
  }
  if (port.containerPort === 0) errors.push(fieldRequired(path.child("containerPort"), ""));
  else errors.push(...isValidPortNumber(port.containerPort).map((message) => fieldInvalid(path.child("containerPort"), port.containerPort, message)));
  const hostPort = port.hostPort ?? 0;
  if (hostPort !== 0) errors.push(...isValidPortNumber(hostPort).map((message) => fieldInvalid(path.child("hostPort"), hostPort, message)));
  errors.push(...validateEnum(port.protocol, supportedPortProtocols, path.child("protocol")));
  return errors;
}

function validatePorts(ports: readonly ContainerPort[] | undefined, path: FieldPath): FieldError[] {
  const names = new Set<string>();
  return (ports ?? []).flatMap((port, index) => validatePort(port, names, path.index(index)));
}

/** IsRelaxedEnvVarName (the default since 1.32): printable ASCII except "=". */
export function isEnvVarName(name: string): string[] {
  return /^[\x20-\x3c\x3e-\x7e]+$/.test(name) ? [] : [envVarNameMessage];
}

function validateEnvSource(variable: EnvVar, path: FieldPath): FieldError[] {
  const source = variable.valueFrom;
  if (source === undefined) return [];
  const errors: FieldError[] = [];
  const present = [source.fieldRef, source.resourceFieldRef, source.configMapKeyRef, source.secretKeyRef].filter((entry) => entry !== undefined);
  if (present.length === 0) {
    errors.push(fieldInvalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
  } else if ((variable.value ?? "").length > 0) {
    errors.push(fieldInvalid(path, "", "may not be specified when `value` is not empty"));
  } else if (present.length > 1) {
    errors.push(fieldInvalid(path, "", "may not have more than one field specified at a time"));
  }
  for (const [name, selector] of [["configMapKeyRef", source.configMapKeyRef], ["secretKeyRef", source.secretKeyRef]] as const) {
    if (selector === undefined) continue;
    if ((selector.name ?? "") === "") errors.push(fieldRequired(path.child(name, "name"), ""));
    if (selector.key === "") errors.push(fieldRequired(path.child(name, "key"), ""));
    else errors.push(...isConfigMapKey(selector.key).map((message) => fieldInvalid(path.child(name, "key"), selector.key, message)));
  }
  if (source.fieldRef !== undefined && source.fieldRef.fieldPath === "") errors.push(fieldRequired(path.child("fieldRef", "fieldPath"), ""));
  if (source.resourceFieldRef !== undefined && source.resourceFieldRef.resource === "") errors.push(fieldRequired(path.child("resourceFieldRef", "resource"), ""));
  return errors;
}

export function validateEnv(variables: readonly EnvVar[] | undefined, path: FieldPath): FieldError[] {
  return (variables ?? []).flatMap((variable, index) => {
    const variablePath = path.index(index);
    const errors: FieldError[] = [];
    if (variable.name.length === 0) errors.push(fieldRequired(variablePath.child("name"), ""));
    else errors.push(...isEnvVarName(variable.name).map((message) => fieldInvalid(variablePath.child("name"), variable.name, message)));
    errors.push(...validateEnvSource(variable, variablePath.child("valueFrom")));
    return errors;
  });
}

function validateEnvFrom(sources: readonly EnvFromSource[] | undefined, path: FieldPath): FieldError[] {
  return (sources ?? []).flatMap((source, index) => {
    const sourcePath = path.index(index);
    const errors: FieldError[] = [];
    const prefix = source.prefix ?? "";
    if (prefix.length > 0) errors.push(...isEnvVarName(prefix).map((message) => fieldInvalid(sourcePath.child("prefix"), prefix, message)));
    const count = (source.configMapRef === undefined ? 0 : 1) + (source.secretRef === undefined ? 0 : 1);
    if (count === 0) errors.push(fieldInvalid(sourcePath, "", "must specify one of: `configMapRef` or `secretRef`"));
    if (count > 1) errors.push(fieldInvalid(sourcePath, "", "may not have more than one field specified at a time"));
    return errors;
  });
}

// Upstream's validateLocalDescendingPath: relative, no ".." element.
function validateSubPath(subPath: string, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (subPath.startsWith("/")) errors.push(fieldInvalid(path, subPath, "must be a relative path"));
  if (subPath.split(/[\\/]/).includes("..")) errors.push(fieldInvalid(path, subPath, "must not contain '..'"));
  return errors;
}

export function validateVolumeMounts(mounts: readonly VolumeMount[] | undefined, volumeNames: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const mountPaths = new Set<string>();
  (mounts ?? []).forEach((mount, index) => {
    const mountPath = path.index(index);
    if (mount.name.length === 0) errors.push(fieldRequired(mountPath.child("name"), ""));
    if (!volumeNames.has(mount.name)) errors.push(fieldNotFound(mountPath.child("name"), mount.name));
    if (mount.mountPath.length === 0) errors.push(fieldRequired(mountPath.child("mountPath"), ""));
    if (mountPaths.has(mount.mountPath)) errors.push(fieldInvalid(mountPath.child("mountPath"), mount.mountPath, "must be unique"));
    mountPaths.add(mount.mountPath);
    // Upstream reports subPath at the list's path, without the index; the quirk is kept.
    if ((mount.subPath ?? "").length > 0) errors.push(...validateSubPath(mount.subPath ?? "", path.child("subPath")));
    errors.push(...validateEnum(mount.mountPropagation, mountPropagationModes, mountPath.child("mountPropagation")));
  });
  return errors;
}

function validateImage(container: Container, path: FieldPath): FieldError[] {
  const image = container.image ?? "";
  if (image.length === 0) return [fieldRequired(path, "")];
  return image === image.trim() ? [] : [fieldInvalid(path, image, "must not have leading or trailing whitespace")];
}

export type ContainerRole = "regular" | "init" | "ephemeral";

function validateProbes(container: Container, role: ContainerRole, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const probesAllowed = role === "regular" || container.restartPolicy === "Always";
  for (const [name, probe] of [["livenessProbe", container.livenessProbe], ["readinessProbe", container.readinessProbe], ["startupProbe", container.startupProbe]] as const) {
    if (probe === undefined) continue;
    if (!probesAllowed) {
      const detail = role === "init" ? "may not be set for init containers without restartPolicy=Always" : "may not be set for ephemeral containers";
      errors.push(fieldForbidden(path.child(name), detail));
      continue;
    }
    errors.push(...validateProbe(probe, path.child(name)));
    const threshold = probe.successThreshold;
    if (name !== "readinessProbe" && threshold !== undefined && threshold !== 1) errors.push(fieldInvalid(path.child(name, "successThreshold"), threshold, "must be 1"));
  }
  return errors;
}

function validateRestartPolicyField(container: Container, role: ContainerRole, path: FieldPath): FieldError[] {
  if (container.restartPolicy === undefined) return [];
  if (role !== "init") return [fieldForbidden(path, "may not be set for non-init containers")];
  return container.restartPolicy === "Always" ? [] : [fieldNotSupported(path, container.restartPolicy, ["Always"])];
}

/** One container, without the name-uniqueness check (done across the pod). */
export function validateContainer(container: Container, role: ContainerRole, volumeNames: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (container.name.length === 0) errors.push(fieldRequired(path.child("name"), ""));
  else errors.push(...isDns1123Label(container.name).map((message) => fieldInvalid(path.child("name"), container.name, message)));
  errors.push(...validateImage(container, path.child("image")));
  errors.push(...validateRestartPolicyField(container, role, path.child("restartPolicy")));
  errors.push(...validateProbes(container, role, path));
  errors.push(...validateEnum(container.terminationMessagePolicy, terminationMessagePolicies, path.child("terminationMessagePolicy")));
  errors.push(...validatePorts(container.ports, path.child("ports")));
  errors.push(...validateEnv(container.env, path.child("env")));
  errors.push(...validateEnvFrom(container.envFrom, path.child("envFrom")));
  errors.push(...validateVolumeMounts(container.volumeMounts, volumeNames, path.child("volumeMounts")));
  errors.push(...validateEnum(container.imagePullPolicy, pullPolicies, path.child("imagePullPolicy")));
  errors.push(...validateResourceRequirements(container.resources, path.child("resources")));
  return errors;
}

/** Host ports must be unique across a pod's containers per IP and protocol (AccumulateUniqueHostPorts). */
export function validateHostPortConflicts(containers: readonly Container[], path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((container, containerIndex) => {
    (container.ports ?? []).forEach((port, portIndex) => {
      const hostPort = port.hostPort ?? 0;
      if (hostPort === 0) return;
      const key = `${port.hostIP ?? ""}/${port.protocol ?? "TCP"}/${hostPort}`;
      if (seen.has(key)) errors.push(fieldDuplicate(path.index(containerIndex).child("ports").index(portIndex).child("hostPort"), key));
      seen.add(key);
    });
  });
  return errors;
}
