/**
 * From a Pod to the runtime's sandbox and container configs: labels the agent finds its pods by
 * again after a restart, DNS as ClusterFirst, hostPorts, cgroup limits from resources, and the
 * securityContext basics. Pure.
 */
import { Quantity } from "../../../libs/api/index.ts";
import type { Container, Pod } from "../../../libs/api/index.ts";
import { expandVariables } from "./env.ts";
import type { ContainerConfig, ContainerResources, ContainerSecurityContext, DnsConfig, Mount, PortMapping, SandboxConfig } from "../cri/index.ts";

/** Upstream's label keys, so crictl and humans read them as they would on a kubelet node. */
export const labelPodName = "io.kubernetes.pod.name";
export const labelPodNamespace = "io.kubernetes.pod.namespace";
export const labelPodUid = "io.kubernetes.pod.uid";
export const labelContainerName = "io.kubernetes.container.name";
/** Which agent made the object: orphan cleanup touches only its own node's sandboxes. */
export const labelNode = "flotilla.io/node";
/** "init" or "app": which list of the spec a container belongs to. */
export const labelContainerKind = "flotilla.io/container-kind";
export const annotationGracePeriod = "io.kubernetes.pod.terminationGracePeriod";
/** The image as the spec named it when the container was made: a changed spec image restarts it. */
export const annotationSpecImage = "flotilla.io/spec-image";

/** CFS period of 100 ms, as the kubelet. */
export const cpuPeriodMicroseconds = 100_000;
const minimumCpuShares = 2;
const cpuSharesPerCpu = 1024;

export interface NodeNetworkSettings {
  readonly nodeName: string;
  readonly clusterDns: string;
  readonly clusterDomain: string;
  /** `<dataDir>/pods`: each pod's logs go to `<podsDir>/<uid>/logs`... see logDirectory. */
  readonly logsDir: string;
  readonly cgroupParent?: string;
}

export function logDirectory(logsDir: string, pod: Pod): string {
  return `${logsDir}/${pod.metadata?.namespace ?? "default"}_${pod.metadata?.name ?? ""}_${pod.metadata?.uid ?? ""}`;
}

/** ClusterFirst DNS (or the host's for Default, or only dnsConfig for None), plus dnsConfig merged in. */
export function podDnsConfig(pod: Pod, clusterDns: string, clusterDomain: string): DnsConfig | undefined {
  const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
  const namespace = pod.metadata?.namespace ?? "default";
  const hostNetwork = pod.spec?.hostNetwork === true;
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === "ClusterFirstWithHostNet" || (policy === "ClusterFirst" && !hostNetwork)) {
    servers = [clusterDns];
    searches = [`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain];
    options = ["ndots:5"];
  } else if (policy !== "None") {
    return undefined;
  }
  const extra = pod.spec?.dnsConfig;
  servers = [...servers, ...(extra?.nameservers ?? [])];
  searches = [...searches, ...(extra?.searches ?? [])];
  for (const option of extra?.options ?? []) {
    const name = option.name ?? "";
    options = options.filter((existing) => existing.split(":")[0] !== name);
    options.push(option.value === undefined ? name : `${name}:${option.value}`);
  }
  return { servers, searches, options };
}

export function podPortMappings(pod: Pod): PortMapping[] {
  const mappings: PortMapping[] = [];
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.hostPort === undefined || port.hostPort === 0) continue;
      mappings.push({ protocol: port.protocol ?? "TCP", containerPort: port.containerPort, hostPort: port.hostPort, ...(port.hostIP === undefined ? {} : { hostIp: port.hostIP }) });
    }
  }
  return mappings;
}

export function sandboxConfig(pod: Pod, attempt: number, settings: NodeNetworkSettings): SandboxConfig {
  const metadata = pod.metadata ?? {};
  const name = metadata.name ?? "";
  const namespace = metadata.namespace ?? "default";
  const uid = metadata.uid ?? "";
  const dns = podDnsConfig(pod, settings.clusterDns, settings.clusterDomain);
  const hostNetwork = pod.spec?.hostNetwork === true;
  const podSecurity = pod.spec?.securityContext;
  return {
    name,
    namespace,
    uid,
    attempt,
    hostname: hostNetwork ? "" : (pod.spec?.hostname ?? name).slice(0, 63),
    logDirectory: logDirectory(settings.logsDir, pod),
    ...(dns === undefined ? {} : { dns }),
    portMappings: podPortMappings(pod),
    labels: { ...(metadata.labels ?? {}), [labelPodName]: name, [labelPodNamespace]: namespace, [labelPodUid]: uid, [labelNode]: settings.nodeName },
    annotations: { ...(metadata.annotations ?? {}), [annotationGracePeriod]: String(pod.spec?.terminationGracePeriodSeconds ?? 30) },
    ...(settings.cgroupParent === undefined ? {} : { cgroupParent: settings.cgroupParent }),
    ...(pod.spec?.securityContext?.sysctls === undefined ? {} : { sysctls: Object.fromEntries(pod.spec.securityContext.sysctls.map((sysctl) => [sysctl.name, sysctl.value])) }),
    securityContext: {
      namespaces: { network: hostNetwork ? "NODE" : "POD", pid: pod.spec?.hostPID === true ? "NODE" : "CONTAINER", ipc: pod.spec?.hostIPC === true ? "NODE" : "POD" },
      ...(podSecurity?.runAsUser === undefined ? {} : { runAsUser: podSecurity.runAsUser }),
      ...(podSecurity?.runAsGroup === undefined ? {} : { runAsGroup: podSecurity.runAsGroup }),
      ...(podSecurity?.supplementalGroups === undefined ? {} : { supplementalGroups: podSecurity.supplementalGroups }),
    },
  };
}

/** Limits as CFS quota and memory limit; requests as cpu shares (2 minimum), as the kubelet. */
export function containerResources(container: Container): ContainerResources {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpuLimit = limits["cpu"];
  const cpuRequest = requests["cpu"] ?? cpuLimit;
  const memoryLimit = limits["memory"];
  const resources: { -readonly [K in keyof ContainerResources]: ContainerResources[K] } = {};
  if (cpuRequest !== undefined) {
    const milli = Number(Quantity.parse(String(cpuRequest)).scaledValueBig(-3));
    resources.cpuShares = Math.max(minimumCpuShares, Math.floor((milli * cpuSharesPerCpu) / 1000));
  } else {
    resources.cpuShares = minimumCpuShares;
  }
  if (cpuLimit !== undefined) {
    const milli = Number(Quantity.parse(String(cpuLimit)).scaledValueBig(-3));
    resources.cpuPeriodMicroseconds = cpuPeriodMicroseconds;
    resources.cpuQuotaMicroseconds = Math.max(1000, Math.floor((milli * cpuPeriodMicroseconds) / 1000));
  }
  if (memoryLimit !== undefined) resources.memoryLimitBytes = Number(Quantity.parse(String(memoryLimit)).scaledValueBig(0));
  return resources;
}

export function containerSecurity(pod: Pod, container: Container): ContainerSecurityContext {
  const podSecurity = pod.spec?.securityContext;
  const security = container.securityContext;
  const runAsUser = security?.runAsUser ?? podSecurity?.runAsUser;
  const runAsGroup = security?.runAsGroup ?? podSecurity?.runAsGroup;
  const result: { -readonly [K in keyof ContainerSecurityContext]: ContainerSecurityContext[K] } = {
    privileged: security?.privileged === true,
    readonlyRootfs: security?.readOnlyRootFilesystem === true,
    noNewPrivs: security?.allowPrivilegeEscalation === false,
    namespaces: { network: pod.spec?.hostNetwork === true ? "NODE" : "POD", pid: pod.spec?.hostPID === true ? "NODE" : pod.spec?.shareProcessNamespace === true ? "POD" : "CONTAINER", ipc: pod.spec?.hostIPC === true ? "NODE" : "POD" },
  };
  if (runAsUser !== undefined) result.runAsUser = runAsUser;
  if (runAsGroup !== undefined) result.runAsGroup = runAsGroup;
  if (podSecurity?.supplementalGroups !== undefined) result.supplementalGroups = podSecurity.supplementalGroups;
  if (security?.capabilities !== undefined) result.capabilities = { add: security.capabilities.add ?? [], drop: security.capabilities.drop ?? [] };
  return result;
}

export interface ContainerConfigInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly kind: "init" | "app";
  readonly attempt: number;
  readonly image: string;
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly mounts: readonly Mount[];
  readonly nodeName: string;
}

export function containerConfig(input: ContainerConfigInput): ContainerConfig {
  const { pod, container, attempt } = input;
  const metadata = pod.metadata ?? {};
  const known = new Map(input.env.map((variable) => [variable.name, variable.value]));
  const expand = (values: readonly string[] | undefined): string[] | undefined => values?.map((value) => expandVariables(value, known));
  const command = expand(container.command);
  const args = expand(container.args);
  return {
    name: container.name,
    attempt,
    image: input.image,
    ...(command === undefined ? {} : { command }),
    ...(args === undefined ? {} : { args }),
    ...(container.workingDir === undefined ? {} : { workingDir: container.workingDir }),
    env: input.env,
    mounts: input.mounts,
    labels: {
      [labelPodName]: metadata.name ?? "",
      [labelPodNamespace]: metadata.namespace ?? "default",
      [labelPodUid]: metadata.uid ?? "",
      [labelContainerName]: container.name,
      [labelNode]: input.nodeName,
      [labelContainerKind]: input.kind,
    },
    annotations: { "io.kubernetes.container.restartCount": String(attempt), [annotationSpecImage]: input.image, [annotationGracePeriod]: String(pod.spec?.terminationGracePeriodSeconds ?? 30) },
    logPath: `${container.name}/${attempt}.log`,
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    resources: containerResources(container),
    securityContext: containerSecurity(pod, container),
  };
}
