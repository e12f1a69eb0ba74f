/**
 * Validation of networking.k8s.io/v1 Ingress, autoscaling HorizontalPodAutoscaler (v1 and v2)
 * and coordination.k8s.io/v1 Lease, as upstream's validators.
 */
import type { FieldError } from "../field-errors.ts";
import { fieldInvalid, fieldNotSupported, fieldRequired } from "../field-errors.ts";
import { FieldPath } from "../field-path.ts";
import type { CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerV1, HPAScalingRules, Ingress, IngressBackend, IngressRule, Lease } from "../types/cluster.ts";
import { isDns1035Label, isDns1123Subdomain, isValidPathSegmentName, isValidPortName, isValidPortNumber } from "../validation-strings.ts";
import { validateNonnegative } from "./common.ts";

const pathTypes = ["Exact", "ImplementationSpecific", "Prefix"];
const stabilizationWindowSecondsMax = 3600;
const scalingPolicyPeriodSecondsMax = 1800;

/** A host, allowing one leading `*.` wildcard label (upstream's IsWildcardDNS1123Subdomain). */
function validateHost(host: string, path: FieldPath): FieldError[] {
  const name = host.startsWith("*.") ? host.slice(2) : host;
  return isDns1123Subdomain(name).map((message) => fieldInvalid(path, host, message));
}

export function validateIngressBackend(backend: IngressBackend, path: FieldPath): FieldError[] {
  const service = backend.service;
  if (service !== undefined && backend.resource !== undefined) return [fieldInvalid(path, "", "cannot set both resource and service backends")];
  if (backend.resource !== undefined) return [];
  if (service === undefined) return [fieldInvalid(path, "", "resource or service backend is required")];
  const errors: FieldError[] = [];
  if (service.name.length === 0) errors.push(fieldRequired(path.child("service", "name"), ""));
  else errors.push(...isDns1035Label(service.name).map((message) => fieldInvalid(path.child("service", "name"), service.name, message)));
  const portPath = path.child("service", "port");
  const portName = service.port?.name ?? "";
  const portNumber = service.port?.number ?? 0;
  if (portName !== "" && portNumber !== 0) errors.push(fieldInvalid(portPath, service.port, "cannot set both port name & port number"));
  else if (portName !== "") errors.push(...isValidPortName(portName).map((message) => fieldInvalid(portPath.child("name"), portName, message)));
  else if (portNumber !== 0) errors.push(...isValidPortNumber(portNumber).map((message) => fieldInvalid(portPath.child("number"), portNumber, message)));
  else errors.push(fieldRequired(portPath, "port name or number is required"));
  return errors;
}

function validateIngressRule(rule: IngressRule, path: FieldPath): FieldError[] {
  const errors = (rule.host ?? "") === "" ? [] : validateHost(rule.host ?? "", path.child("host"));
  if (rule.http === undefined) return errors;
  const pathsPath = path.child("http", "paths");
  if (rule.http.paths.length === 0) errors.push(fieldRequired(pathsPath, ""));
  rule.http.paths.forEach((entry, index) => {
    const entryPath = pathsPath.index(index);
    if ((entry.pathType as string | undefined) === undefined || (entry.pathType as string) === "") errors.push(fieldRequired(entryPath.child("pathType"), "pathType must be specified"));
    else if (!pathTypes.includes(entry.pathType)) errors.push(fieldNotSupported(entryPath.child("pathType"), entry.pathType, pathTypes));
    const text = entry.path ?? "";
    if ((entry.pathType === "Exact" || entry.pathType === "Prefix") && !text.startsWith("/")) errors.push(fieldInvalid(entryPath.child("path"), text, "must be an absolute path"));
    errors.push(...validateIngressBackend(entry.backend, entryPath.child("backend")));
  });
  return errors;
}

export function validateIngress(ingress: Ingress): FieldError[] {
  const spec = ingress.spec ?? {};
  const path = FieldPath.of("spec");
  const errors: FieldError[] = [];
  const rules = spec.rules ?? [];
  if (rules.length === 0 && spec.defaultBackend === undefined) errors.push(fieldInvalid(path, rules, "either `defaultBackend` or `rules` must be specified"));
  if (spec.defaultBackend !== undefined) errors.push(...validateIngressBackend(spec.defaultBackend, path.child("defaultBackend")));
  rules.forEach((rule, index) => errors.push(...validateIngressRule(rule, path.child("rules").index(index))));
  (spec.tls ?? []).forEach((tls, index) => {
    (tls.hosts ?? []).forEach((host, hostIndex) => errors.push(...validateHost(host, path.child("tls").index(index).child("hosts").index(hostIndex))));
  });
  const className = spec.ingressClassName ?? "";
  if (className !== "") errors.push(...isDns1123Subdomain(className).map((message) => fieldInvalid(path.child("ingressClassName"), className, message)));
  return errors;
}

function validateScaleTargetRef(reference: CrossVersionObjectReference | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const kind = reference?.kind ?? "";
  const name = reference?.name ?? "";
  if (kind === "") errors.push(fieldRequired(path.child("kind"), ""));
  else errors.push(...isValidPathSegmentName(kind).map((message) => fieldInvalid(path.child("kind"), kind, message)));
  if (name === "") errors.push(fieldRequired(path.child("name"), ""));
  else errors.push(...isValidPathSegmentName(name).map((message) => fieldInvalid(path.child("name"), name, message)));
  return errors;
}

function validateReplicaBounds(minReplicas: number | undefined, maxReplicas: number, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (minReplicas !== undefined && minReplicas < 1) errors.push(fieldInvalid(path.child("minReplicas"), minReplicas, "must be greater than or equal to 1"));
  if (maxReplicas < 1) errors.push(fieldInvalid(path.child("maxReplicas"), maxReplicas, "must be greater than 0"));
  if (minReplicas !== undefined && maxReplicas < minReplicas) errors.push(fieldInvalid(path.child("maxReplicas"), maxReplicas, "must be greater than or equal to `minReplicas`"));
  return errors;
}

function validateScalingRules(rules: HPAScalingRules | undefined, path: FieldPath): FieldError[] {
  if (rules === undefined) return [];
  const errors: FieldError[] = [];
  const window = rules.stabilizationWindowSeconds;
  if (window !== undefined && (window < 0 || window > stabilizationWindowSecondsMax)) {
    errors.push(fieldInvalid(path.child("stabilizationWindowSeconds"), window, `must be less than or equal to ${stabilizationWindowSecondsMax}`));
  }
  if (rules.selectPolicy !== undefined && !["Disabled", "Max", "Min"].includes(rules.selectPolicy)) errors.push(fieldNotSupported(path.child("selectPolicy"), rules.selectPolicy, ["Disabled", "Max", "Min"]));
  (rules.policies ?? []).forEach((policy, index) => {
    const policyPath = path.child("policies").index(index);
    if (policy.type !== "Pods" && policy.type !== "Percent") errors.push(fieldNotSupported(policyPath.child("type"), policy.type, ["Percent", "Pods"]));
    if (policy.value <= 0) errors.push(fieldInvalid(policyPath.child("value"), policy.value, "must be greater than zero"));
    if (policy.periodSeconds <= 0) errors.push(fieldInvalid(policyPath.child("periodSeconds"), policy.periodSeconds, "must be greater than zero"));
    else if (policy.periodSeconds > scalingPolicyPeriodSecondsMax) {
      errors.push(fieldInvalid(policyPath.child("periodSeconds"), policy.periodSeconds, `must be less than or equal to ${scalingPolicyPeriodSecondsMax}`));
    }
  });
  return errors;
}

export function validateHorizontalPodAutoscaler(autoscaler: HorizontalPodAutoscaler): FieldError[] {
  const spec = autoscaler.spec;
  const path = FieldPath.of("spec");
  if (spec === undefined) return [fieldRequired(path, "")];
  const errors = validateScaleTargetRef(spec.scaleTargetRef, path.child("scaleTargetRef"));
  errors.push(...validateReplicaBounds(spec.minReplicas, spec.maxReplicas, path));
  (spec.metrics ?? []).forEach((metric, index) => {
    const metricPath = path.child("metrics").index(index);
    const utilization = metric.resource?.target.averageUtilization;
    if (utilization !== undefined && utilization <= 0) errors.push(fieldInvalid(metricPath.child("resource", "target", "averageUtilization"), utilization, "must be greater than 0"));
    if (metric.type === "Resource" && (metric.resource?.name ?? "") === "") errors.push(fieldRequired(metricPath.child("resource", "name"), "must specify a resource name"));
  });
  errors.push(...validateScalingRules(spec.behavior?.scaleUp, path.child("behavior", "scaleUp")));
  errors.push(...validateScalingRules(spec.behavior?.scaleDown, path.child("behavior", "scaleDown")));
  return errors;
}

export function validateHorizontalPodAutoscalerV1(autoscaler: HorizontalPodAutoscalerV1): FieldError[] {
  const spec = autoscaler.spec;
  const path = FieldPath.of("spec");
  if (spec === undefined) return [fieldRequired(path, "")];
  const errors = validateScaleTargetRef(spec.scaleTargetRef, path.child("scaleTargetRef"));
  errors.push(...validateReplicaBounds(spec.minReplicas, spec.maxReplicas, path));
  const target = spec.targetCPUUtilizationPercentage;
  if (target !== undefined && target < 1) errors.push(fieldInvalid(path.child("targetCPUUtilizationPercentage"), target, "must be greater than 0"));
  return errors;
}

export function validateLease(lease: Lease): FieldError[] {
  const spec = lease.spec ?? {};
  const path = FieldPath.of("spec");
  const errors: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration <= 0) errors.push(fieldInvalid(path.child("leaseDurationSeconds"), duration, "must be greater than 0"));
  errors.push(...validateNonnegative(spec.leaseTransitions, path.child("leaseTransitions")));
  return errors;
}
