/**
 * Service validation as upstream's ValidateService / ValidateServiceUpdate: ports (required
 * unless headless or ExternalName, named when several, unique), type, cluster IPs, node ports
 * (the allocator's 30000-32767 range), traffic policies, session affinity and selector.
 */
import type { FieldError } from "../field-errors.ts";
import { fieldDuplicate, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "../field-errors.ts";
import { FieldPath } from "../field-path.ts";
import type { Service, ServicePort, ServiceSpec } from "../types/core.ts";
import { validateLabels } from "../validation.ts";
import { isDns1123Label, isDns1123Subdomain, isValidPortNumber } from "../validation-strings.ts";
import { fieldInvalidVerbatim, goStringSlice, validateEnum, validatePortNumberOrName } from "./common.ts";
import { isIP } from "./ip.ts";

/** The node port range Flotilla allocates from (upstream's default --service-node-port-range). */
export const nodePortMin = 30000;
export const nodePortMax = 32767;
const serviceTypes = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const protocols = ["SCTP", "TCP", "UDP"];

const specPath = FieldPath.of("spec");

function validateServicePort(port: ServicePort, requireName: boolean, names: Set<string>, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const name = port.name ?? "";
  if (requireName && name.length === 0) errors.push(fieldRequired(path.child("name"), ""));
  else if (name.length > 0) {
    errors.push(...isDns1123Label(name).map((message) => fieldInvalid(path.child("name"), name, message)));
    if (names.has(name)) errors.push(fieldDuplicate(path.child("name"), name));
    names.add(name);
  }
  errors.push(...isValidPortNumber(port.port).map((message) => fieldInvalid(path.child("port"), port.port, message)));
  errors.push(...validateEnum(port.protocol, protocols, path.child("protocol")));
  errors.push(...validatePortNumberOrName(port.targetPort, path.child("targetPort")));
  return errors;
}

function validateNodePorts(spec: ServiceSpec, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  (spec.ports ?? []).forEach((port, index) => {
    const nodePort = port.nodePort ?? 0;
    if (nodePort === 0) return;
    const nodePortPath = path.index(index).child("nodePort");
    if (spec.type === "ClusterIP" || spec.type === undefined) {
      errors.push(fieldForbidden(nodePortPath, "may not be used when `type` is 'ClusterIP'"));
      return;
    }
    if (nodePort < nodePortMin || nodePort > nodePortMax) {
      errors.push(fieldInvalid(nodePortPath, nodePort, `provided port is not in the valid range. The range of valid ports is ${nodePortMin}-${nodePortMax}`));
    }
    const key = `${port.protocol ?? "TCP"}/${nodePort}`;
    if (seen.has(key)) errors.push(fieldDuplicate(nodePortPath, nodePort));
    seen.add(key);
  });
  return errors;
}

function validatePorts(spec: ServiceSpec): FieldError[] {
  const ports = spec.ports ?? [];
  const path = specPath.child("ports");
  const headless = spec.clusterIP === "None";
  if (ports.length === 0 && !headless && spec.type !== "ExternalName") return [fieldRequired(path, "")];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((port, index) => {
    errors.push(...validateServicePort(port, ports.length > 1, names, path.index(index)));
    const key = `${port.protocol ?? "TCP"}/${port.port}`;
    if (keys.has(key)) errors.push(fieldDuplicate(path.index(index), { port: port.port, protocol: port.protocol ?? "TCP" }));
    keys.add(key);
  });
  errors.push(...validateNodePorts(spec, path));
  return errors;
}

function validateClusterIPs(spec: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const clusterIPs = spec.clusterIPs ?? ((spec.clusterIP ?? "") === "" ? [] : [spec.clusterIP ?? ""]);
  const listPath = specPath.child("clusterIPs");
  if (spec.type === "ExternalName") {
    if (clusterIPs.length > 0) errors.push(fieldForbidden(listPath, "may not be set for ExternalName services"));
    return errors;
  }
  if ((spec.clusterIP ?? "") !== "" && clusterIPs[0] !== spec.clusterIP) {
    errors.push(fieldInvalid(listPath, clusterIPs, "first value must match `clusterIP`"));
  }
  clusterIPs.forEach((address, index) => {
    if (address === "None" && index === 0 && clusterIPs.length === 1) return;
    if (address === "None") errors.push(fieldInvalid(listPath.index(index), address, "'None' must be the first and only value"));
    else if (!isIP(address)) errors.push(fieldInvalid(listPath.index(index), address, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  });
  return errors;
}

function validateExternalName(spec: ServiceSpec): FieldError[] {
  if (spec.type !== "ExternalName") return [];
  const name = (spec.externalName ?? "").replace(/\.$/, "");
  const path = specPath.child("externalName");
  if (name.length === 0) return [fieldRequired(path, "")];
  return isDns1123Subdomain(name).map((message) => fieldInvalid(path, spec.externalName, message));
}

function validateTrafficPolicies(spec: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const external = spec.externalTrafficPolicy;
  const exposed = spec.type === "NodePort" || spec.type === "LoadBalancer";
  if (external !== undefined && !exposed) {
    errors.push(fieldInvalid(specPath.child("externalTrafficPolicy"), external, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
  } else errors.push(...validateEnum(external, ["Cluster", "Local"], specPath.child("externalTrafficPolicy")));
  errors.push(...validateEnum(spec.internalTrafficPolicy, ["Cluster", "Local"], specPath.child("internalTrafficPolicy")));
  return errors;
}

export function validateService(service: Service): FieldError[] {
  const spec = service.spec ?? {};
  const errors: FieldError[] = [];
  if (spec.type !== undefined && !serviceTypes.includes(spec.type)) errors.push(fieldNotSupported(specPath.child("type"), spec.type, serviceTypes));
  errors.push(...validatePorts(spec));
  errors.push(...validateClusterIPs(spec));
  errors.push(...validateExternalName(spec));
  errors.push(...validateLabels(spec.selector, specPath.child("selector")));
  errors.push(...validateEnum(spec.sessionAffinity, ["ClientIP", "None"], specPath.child("sessionAffinity")));
  errors.push(...validateTrafficPolicies(spec));
  errors.push(...validateEnum(spec.ipFamilyPolicy, ["PreferDualStack", "RequireDualStack", "SingleStack"], specPath.child("ipFamilyPolicy")));
  (spec.ipFamilies ?? []).forEach((family, index) => errors.push(...validateEnum(family, ["IPv4", "IPv6"], specPath.child("ipFamilies").index(index))));
  return errors;
}

/** A cluster IP, once allocated, stays (unless the service becomes ExternalName). */
export function validateServiceUpdate(next: Service, previous: Service): FieldError[] {
  if (next.spec?.type === "ExternalName") return [];
  const before = previous.spec?.clusterIPs?.[0] ?? previous.spec?.clusterIP ?? "";
  if (before === "") return [];
  const after = next.spec?.clusterIPs ?? ((next.spec?.clusterIP ?? "") === "" ? [] : [next.spec?.clusterIP ?? ""]);
  // An update that leaves the IP out keeps the allocated one (the registry copies it over).
  if (after.length === 0 || after[0] === before) return [];
  return [fieldInvalidVerbatim(specPath.child("clusterIPs").index(0), goStringSlice(after), "may not change once set")];
}
