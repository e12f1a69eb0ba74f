/**
 * A container's environment as the kubelet builds it: service link variables first, then
 * envFrom, then env (later wins), with `$(VAR)` expanded against what came before. Missing
 * non-optional configMaps, secrets or keys are a CreateContainerConfigError, as upstream.
 */
import { Quantity } from "../../../libs/api/index.ts";
import type { ConfigMap, Container, PersistentVolume, Pod, ResourceList, Secret, Service } from "../../../libs/api/index.ts";

export interface EnvSources {
  configMap(namespace: string, name: string): ConfigMap | undefined;
  secret(namespace: string, name: string): Secret | undefined;
  /** Services visible to the pod's namespace (its own, plus `kubernetes` in default). */
  services(namespace: string): readonly Service[];
  readonly nodeIp: string;
  readonly podIp: string;
  /** Node allocatable, used for resourceFieldRef when the container sets no limit. */
  readonly nodeAllocatable: ResourceList;
  /**
   * The PersistentVolume bound to a claim (its spec.claimRef), from the node stream. Absent when
   * the control plane streams no volumes: claims then use `<data-dir>/local-path/<ns>/<claim>`.
   */
  persistentVolume?(namespace: string, claimName: string): PersistentVolume | undefined;
}

/** A value that cannot be built: the container waits with reason CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContainerConfigError";
  }
}

export interface EnvVarValue {
  readonly name: string;
  readonly value: string;
}

/** Expands `$(NAME)` from `known`; `$$` is a literal `$`; unknown references stay as written. */
export function expandVariables(text: string, known: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && known.has(name) ? (known.get(name) ?? "") : match;
  });
}

function serviceEnvName(name: string): string {
  return name.toUpperCase().replaceAll("-", "_");
}

/** `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` and the docker-link variables, as upstream. */
export function serviceLinkVariables(services: readonly Service[]): EnvVarValue[] {
  const result: EnvVarValue[] = [];
  const sorted = [...services].sort((left, right) => (left.metadata?.name ?? "").localeCompare(right.metadata?.name ?? ""));
  for (const service of sorted) {
    const clusterIp = service.spec?.clusterIP;
    const ports = service.spec?.ports ?? [];
    const first = ports[0];
    if (clusterIp === undefined || clusterIp === "" || clusterIp === "None" || first === undefined) continue;
    const prefix = serviceEnvName(service.metadata?.name ?? "");
    result.push({ name: `${prefix}_SERVICE_HOST`, value: clusterIp });
    result.push({ name: `${prefix}_SERVICE_PORT`, value: String(first.port) });
    for (const port of ports) {
      if (port.name !== undefined && port.name !== "") result.push({ name: `${prefix}_SERVICE_PORT_${serviceEnvName(port.name)}`, value: String(port.port) });
    }
    const firstProtocol = (first.protocol ?? "TCP").toLowerCase();
    result.push({ name: `${prefix}_PORT`, value: `${firstProtocol}://${clusterIp}:${first.port}` });
    for (const port of ports) {
      const protocol = port.protocol ?? "TCP";
      const base = `${prefix}_PORT_${port.port}_${protocol}`;
      result.push({ name: base, value: `${protocol.toLowerCase()}://${clusterIp}:${port.port}` });
      result.push({ name: `${base}_PROTO`, value: protocol.toLowerCase() });
      result.push({ name: `${base}_PORT`, value: String(port.port) });
      result.push({ name: `${base}_ADDR`, value: clusterIp });
    }
  }
  return result;
}

function decodeBase64(value: string): string {
  return Buffer.from(value, "base64").toString("utf8");
}

function configMapKey(pod: Pod, sources: EnvSources, name: string, key: string, optional: boolean): string | undefined {
  const namespace = pod.metadata?.namespace ?? "default";
  const configMap = sources.configMap(namespace, name);
  if (configMap === undefined) {
    if (optional) return undefined;
    throw new ContainerConfigError(`configmap "${name}" not found`);
  }
  const value = configMap.data?.[key] ?? (configMap.binaryData?.[key] === undefined ? undefined : decodeBase64(configMap.binaryData[key]));
  if (value === undefined && !optional) throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
  return value;
}

function secretKey(pod: Pod, sources: EnvSources, name: string, key: string, optional: boolean): string | undefined {
  const namespace = pod.metadata?.namespace ?? "default";
  const secret = sources.secret(namespace, name);
  if (secret === undefined) {
    if (optional) return undefined;
    throw new ContainerConfigError(`secret "${name}" not found`);
  }
  const encoded = secret.data?.[key];
  if (encoded === undefined) {
    if (optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
  }
  return decodeBase64(encoded);
}

/** metadata.labels['a'] and friends; a missing label or annotation is "". */
export function fieldRefValue(pod: Pod, fieldPath: string, nodeIp: string, podIp: string): string {
  const subscript = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (subscript !== null) {
    const map = subscript[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[subscript[2] ?? ""] ?? "";
  }
  const formatMap = (map: Record<string, string> | undefined): string =>
    Object.keys(map ?? {})
      .sort()
      .map((key) => `${key}="${map?.[key] ?? ""}"`)
      .join("\n");
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "metadata.labels":
      return formatMap(pod.metadata?.labels);
    case "metadata.annotations":
      return formatMap(pod.metadata?.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      return nodeIp;
    case "status.podIP":
    case "status.podIPs":
      return podIp;
    default:
      throw new ContainerConfigError(`unsupported fieldRef ${fieldPath}`);
  }
}

/** limits.cpu, requests.memory...: the value divided by divisor, rounded up (cpu at least 1), as upstream. */
export function resourceFieldValue(container: Container | undefined, resource: string, divisorText: string | undefined, nodeAllocatable: ResourceList): string {
  const [kind, name] = resource.split(".", 2) as [string, string | undefined];
  if ((kind !== "limits" && kind !== "requests") || name === undefined) throw new ContainerConfigError(`unsupported resourceFieldRef ${resource}`);
  const list = kind === "limits" ? container?.resources?.limits : container?.resources?.requests;
  let text = list?.[name] ?? (kind === "limits" ? nodeAllocatable[name] : undefined);
  text ??= "0";
  const divisor = Quantity.parse(divisorText ?? "1");
  const valueMilli = Quantity.parse(String(text)).scaledValueBig(-3);
  const divisorMilli = divisor.scaledValueBig(-3);
  if (divisorMilli === 0n) throw new ContainerConfigError(`resourceFieldRef ${resource}: divisor is zero`);
  let quotient = (valueMilli + divisorMilli - 1n) / divisorMilli;
  if (name === "cpu" && quotient < 1n) quotient = 1n;
  return quotient.toString();
}

function envFromValues(pod: Pod, container: Container, sources: EnvSources): EnvVarValue[] {
  const namespace = pod.metadata?.namespace ?? "default";
  const result: EnvVarValue[] = [];
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef !== undefined) {
      const name = from.configMapRef.name ?? "";
      const configMap = sources.configMap(namespace, name);
      if (configMap === undefined) {
        if (from.configMapRef.optional === true) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [key, value] of Object.entries(configMap.data ?? {})) result.push({ name: `${prefix}${key}`, value });
    }
    if (from.secretRef !== undefined) {
      const name = from.secretRef.name ?? "";
      const secret = sources.secret(namespace, name);
      if (secret === undefined) {
        if (from.secretRef.optional === true) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const [key, value] of Object.entries(secret.data ?? {})) result.push({ name: `${prefix}${key}`, value: decodeBase64(value) });
    }
  }
  return result;
}

/** The container's final environment, in order, names unique (a later definition replaces an earlier one). */
export function containerEnvironment(pod: Pod, container: Container, sources: EnvSources): EnvVarValue[] {
  const namespace = pod.metadata?.namespace ?? "default";
  const values = new Map<string, string>();
  if (pod.spec?.enableServiceLinks !== false) {
    for (const variable of serviceLinkVariables(sources.services(namespace))) values.set(variable.name, variable.value);
  }
  for (const variable of envFromValues(pod, container, sources)) values.set(variable.name, variable.value);
  for (const variable of container.env ?? []) {
    const resolved = resolveEnvVar(pod, container, variable, sources, values);
    if (resolved !== undefined) values.set(variable.name, resolved);
  }
  return [...values].map(([name, value]) => ({ name, value }));
}

function resolveEnvVar(pod: Pod, container: Container, variable: NonNullable<Container["env"]>[number], sources: EnvSources, known: ReadonlyMap<string, string>): string | undefined {
  const from = variable.valueFrom;
  if (from === undefined) return expandVariables(variable.value ?? "", known);
  if (from.configMapKeyRef !== undefined) return configMapKey(pod, sources, from.configMapKeyRef.name ?? "", from.configMapKeyRef.key, from.configMapKeyRef.optional === true);
  if (from.secretKeyRef !== undefined) return secretKey(pod, sources, from.secretKeyRef.name ?? "", from.secretKeyRef.key, from.secretKeyRef.optional === true);
  if (from.fieldRef !== undefined) return fieldRefValue(pod, from.fieldRef.fieldPath, sources.nodeIp, sources.podIp);
  if (from.resourceFieldRef !== undefined) {
    const reference = from.resourceFieldRef;
    const target = reference.containerName === undefined || reference.containerName === "" ? container : [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((candidate) => candidate.name === reference.containerName);
    return resourceFieldValue(target, reference.resource, reference.divisor, sources.nodeAllocatable);
  }
  return "";
}
