/**
 * Pure conversions between the agent's runtime types (runtime.ts) and CRI wire messages
 * (wire.ts). No I/O, so they are unit-tested on their own.
 */
import type {
  ContainerConfig,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  Image,
  ImageFsUsage,
  MountPropagation,
  NamespaceOptions,
  SandboxConfig,
  SandboxState,
  SandboxStatus,
  SandboxSummary,
} from "./runtime.ts";
import type {
  WireContainer,
  WireContainerConfig,
  WireContainerStats,
  WireContainerStatus,
  WireFilesystemUsage,
  WireImage,
  WireInt64Value,
  WireNamespaceOption,
  WirePodSandbox,
  WirePodSandboxConfig,
  WirePodSandboxStatus,
  WireUInt64Value,
} from "./wire.ts";

const nanosecondsPerMillisecond = 1_000_000n;

const propagationToWire: Record<MountPropagation, string> = {
  Private: "PROPAGATION_PRIVATE",
  HostToContainer: "PROPAGATION_HOST_TO_CONTAINER",
  Bidirectional: "PROPAGATION_BIDIRECTIONAL",
};

const sandboxStateFromWire: Record<string, SandboxState> = { SANDBOX_READY: "Ready", SANDBOX_NOTREADY: "NotReady" };
export const sandboxStateToWire: Record<SandboxState, string> = { Ready: "SANDBOX_READY", NotReady: "SANDBOX_NOTREADY" };

const containerStateFromWire: Record<string, ContainerState> = {
  CONTAINER_CREATED: "Created",
  CONTAINER_RUNNING: "Running",
  CONTAINER_EXITED: "Exited",
  CONTAINER_UNKNOWN: "Unknown",
};
export const containerStateToWire: Record<ContainerState, string> = {
  Created: "CONTAINER_CREATED",
  Running: "CONTAINER_RUNNING",
  Exited: "CONTAINER_EXITED",
  Unknown: "CONTAINER_UNKNOWN",
};

/** CRI timestamps are int64 nanoseconds since the epoch (decimal strings on the wire). */
export function nanosecondsToMs(nanoseconds: string | number): number {
  return Number(BigInt(nanoseconds) / nanosecondsPerMillisecond);
}

function int64Value(value: number | undefined): WireInt64Value | undefined {
  return value === undefined ? undefined : { value: String(value) };
}

function uint64Number(wrapper: WireUInt64Value | null | undefined): number | undefined {
  return wrapper === null || wrapper === undefined ? undefined : Number(wrapper.value);
}

function namespaceOptionsToWire(options: NamespaceOptions | undefined): WireNamespaceOption | undefined {
  if (options === undefined) return undefined;
  return { network: options.network ?? "POD", pid: options.pid ?? "POD", ipc: options.ipc ?? "POD", target_id: options.targetId ?? "" };
}

export function sandboxConfigToWire(config: SandboxConfig): WirePodSandboxConfig {
  const security = config.securityContext ?? {};
  return {
    metadata: { name: config.name, uid: config.uid, namespace: config.namespace, attempt: config.attempt },
    hostname: config.hostname,
    log_directory: config.logDirectory,
    ...(config.dns === undefined ? {} : { dns_config: { servers: [...config.dns.servers], searches: [...config.dns.searches], options: [...config.dns.options] } }),
    port_mappings: (config.portMappings ?? []).map((mapping) => ({
      protocol: mapping.protocol,
      container_port: mapping.containerPort,
      host_port: mapping.hostPort,
      host_ip: mapping.hostIp ?? "",
    })),
    labels: { ...config.labels },
    annotations: { ...config.annotations },
    linux: {
      cgroup_parent: config.cgroupParent ?? "",
      sysctls: { ...config.sysctls },
      security_context: {
        ...definedEntries({ namespace_options: namespaceOptionsToWire(security.namespaces), run_as_user: int64Value(security.runAsUser), run_as_group: int64Value(security.runAsGroup) }),
        readonly_rootfs: security.readonlyRootfs ?? false,
        supplemental_groups: (security.supplementalGroups ?? []).map(String),
        privileged: security.privileged ?? false,
      },
    },
  };
}

/** Drops undefined members, so optional wire messages are absent rather than explicitly unset. */
function definedEntries<T extends Record<string, unknown>>(record: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export function containerConfigToWire(config: ContainerConfig): WireContainerConfig {
  const security = config.securityContext ?? {};
  const resources = config.resources;
  return {
    metadata: { name: config.name, attempt: config.attempt },
    image: { image: config.image },
    command: [...(config.command ?? [])],
    args: [...(config.args ?? [])],
    working_dir: config.workingDir ?? "",
    envs: (config.env ?? []).map((variable) => ({ key: variable.name, value: variable.value })),
    mounts: (config.mounts ?? []).map((mount) => ({
      container_path: mount.containerPath,
      host_path: mount.hostPath,
      readonly: mount.readOnly ?? false,
      propagation: propagationToWire[mount.propagation ?? "Private"],
    })),
    labels: { ...config.labels },
    annotations: { ...config.annotations },
    log_path: config.logPath,
    stdin: config.stdin ?? false,
    stdin_once: config.stdinOnce ?? false,
    tty: config.tty ?? false,
    linux: {
      ...(resources === undefined
        ? {}
        : {
            resources: {
              cpu_period: String(resources.cpuPeriodMicroseconds ?? 0),
              cpu_quota: String(resources.cpuQuotaMicroseconds ?? 0),
              cpu_shares: String(resources.cpuShares ?? 0),
              memory_limit_in_bytes: String(resources.memoryLimitBytes ?? 0),
              oom_score_adj: String(resources.oomScoreAdj ?? 0),
            },
          }),
      security_context: {
        ...definedEntries({
          capabilities: security.capabilities === undefined ? undefined : { add_capabilities: [...security.capabilities.add], drop_capabilities: [...security.capabilities.drop] },
          namespace_options: namespaceOptionsToWire(security.namespaces),
          run_as_user: int64Value(security.runAsUser),
          run_as_group: int64Value(security.runAsGroup),
        }),
        privileged: security.privileged ?? false,
        run_as_username: security.runAsUsername ?? "",
        readonly_rootfs: security.readonlyRootfs ?? false,
        supplemental_groups: (security.supplementalGroups ?? []).map(String),
        no_new_privs: security.noNewPrivs ?? false,
      },
    },
  };
}

export function sandboxFromWire(sandbox: WirePodSandbox): SandboxSummary {
  return {
    id: sandbox.id,
    name: sandbox.metadata?.name ?? "",
    namespace: sandbox.metadata?.namespace ?? "",
    uid: sandbox.metadata?.uid ?? "",
    attempt: sandbox.metadata?.attempt ?? 0,
    state: sandboxStateFromWire[sandbox.state] ?? "NotReady",
    createdAtMs: nanosecondsToMs(sandbox.created_at),
    labels: sandbox.labels,
    annotations: sandbox.annotations,
  };
}

export function sandboxStatusFromWire(status: WirePodSandboxStatus): SandboxStatus {
  return {
    ...sandboxFromWire(status),
    ip: status.network?.ip ?? "",
    additionalIps: (status.network?.additional_ips ?? []).map((podIp) => podIp.ip),
  };
}

export function containerFromWire(container: WireContainer): ContainerSummary {
  return {
    id: container.id,
    sandboxId: container.pod_sandbox_id,
    name: container.metadata?.name ?? "",
    attempt: container.metadata?.attempt ?? 0,
    image: container.image?.image ?? "",
    imageRef: container.image_ref,
    state: containerStateFromWire[container.state] ?? "Unknown",
    createdAtMs: nanosecondsToMs(container.created_at),
    labels: container.labels,
    annotations: container.annotations,
  };
}

export function containerStatusFromWire(status: WireContainerStatus): ContainerStatus {
  return {
    id: status.id,
    name: status.metadata?.name ?? "",
    attempt: status.metadata?.attempt ?? 0,
    image: status.image?.image ?? "",
    imageRef: status.image_ref,
    state: containerStateFromWire[status.state] ?? "Unknown",
    createdAtMs: nanosecondsToMs(status.created_at),
    startedAtMs: nanosecondsToMs(status.started_at),
    finishedAtMs: nanosecondsToMs(status.finished_at),
    exitCode: status.exit_code,
    reason: status.reason,
    message: status.message,
    labels: status.labels,
    annotations: status.annotations,
    logPath: status.log_path,
  };
}

export function containerStatsFromWire(stats: WireContainerStats): ContainerStats {
  const cpuNanoseconds = stats.cpu?.usage_core_nano_seconds;
  const timestamp = stats.cpu?.timestamp ?? stats.memory?.timestamp ?? "0";
  return {
    id: stats.attributes?.id ?? "",
    name: stats.attributes?.metadata?.name ?? "",
    labels: stats.attributes?.labels ?? {},
    timestampMs: nanosecondsToMs(timestamp),
    cpuUsageCoreNanoseconds: cpuNanoseconds === null || cpuNanoseconds === undefined ? undefined : BigInt(cpuNanoseconds.value),
    memoryWorkingSetBytes: uint64Number(stats.memory?.working_set_bytes),
    writableLayerUsedBytes: uint64Number(stats.writable_layer?.used_bytes),
  };
}

export function imageFromWire(image: WireImage): Image {
  return { id: image.id, repoTags: image.repo_tags, repoDigests: image.repo_digests, sizeBytes: Number(image.size) };
}

export function filesystemUsageFromWire(usage: WireFilesystemUsage): ImageFsUsage {
  return { mountpoint: usage.fs_id?.mountpoint ?? "", usedBytes: uint64Number(usage.used_bytes), inodesUsed: uint64Number(usage.inodes_used) };
}
