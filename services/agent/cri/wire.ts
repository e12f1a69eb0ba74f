/**
 * CRI runtime.v1 messages as @grpc/proto-loader hands them to us with the options in
 * proto.ts (keepCase, int64 as decimal strings, enums as names, defaults filled in, unset
 * messages as null). Only the fields the agent reads or writes are typed; the .proto is the
 * authority for names and numbers.
 */

export type StringMap = Record<string, string>;

export interface WirePodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface WireInt64Value {
  value: string | number;
}

export interface WireUInt64Value {
  value: string | number;
}

export interface WireNamespaceOption {
  network?: string;
  pid?: string;
  ipc?: string;
  target_id?: string;
}

export interface WirePodSandboxConfig {
  metadata: WirePodSandboxMetadata;
  hostname: string;
  log_directory: string;
  dns_config?: { servers: string[]; searches: string[]; options: string[] };
  port_mappings: { protocol: string; container_port: number; host_port: number; host_ip: string }[];
  labels: StringMap;
  annotations: StringMap;
  linux: {
    cgroup_parent: string;
    sysctls: StringMap;
    security_context: {
      namespace_options?: WireNamespaceOption;
      run_as_user?: WireInt64Value;
      run_as_group?: WireInt64Value;
      readonly_rootfs: boolean;
      supplemental_groups: string[];
      privileged: boolean;
    };
  };
}

export interface WireContainerConfig {
  metadata: { name: string; attempt: number };
  image: { image: string };
  command: string[];
  args: string[];
  working_dir: string;
  envs: { key: string; value: string }[];
  mounts: { container_path: string; host_path: string; readonly: boolean; propagation: string }[];
  labels: StringMap;
  annotations: StringMap;
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: {
    resources?: { cpu_period: string; cpu_quota: string; cpu_shares: string; memory_limit_in_bytes: string; oom_score_adj: string };
    security_context: {
      capabilities?: { add_capabilities: string[]; drop_capabilities: string[] };
      privileged: boolean;
      namespace_options?: WireNamespaceOption;
      run_as_user?: WireInt64Value;
      run_as_group?: WireInt64Value;
      run_as_username: string;
      readonly_rootfs: boolean;
      supplemental_groups: string[];
      no_new_privs: boolean;
    };
  };
}

export interface WirePodSandbox {
  id: string;
  metadata: WirePodSandboxMetadata | null;
  state: string;
  created_at: string;
  labels: StringMap;
  annotations: StringMap;
}

export interface WirePodSandboxStatus extends WirePodSandbox {
  network: { ip: string; additional_ips: { ip: string }[] } | null;
}

export interface WireContainer {
  id: string;
  pod_sandbox_id: string;
  metadata: { name: string; attempt: number } | null;
  image: { image: string } | null;
  image_ref: string;
  state: string;
  created_at: string;
  labels: StringMap;
  annotations: StringMap;
}

export interface WireContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: string;
  created_at: string;
  started_at: string;
  finished_at: string;
  exit_code: number;
  image: { image: string } | null;
  image_ref: string;
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  log_path: string;
}

export interface WireContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number } | null; labels: StringMap } | null;
  cpu: { timestamp: string; usage_core_nano_seconds: WireUInt64Value | null } | null;
  memory: { timestamp: string; working_set_bytes: WireUInt64Value | null } | null;
  writable_layer: { timestamp: string; used_bytes: WireUInt64Value | null } | null;
}

export interface WireImage {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: string;
}

export interface WireFilesystemUsage {
  fs_id: { mountpoint: string } | null;
  used_bytes: WireUInt64Value | null;
  inodes_used: WireUInt64Value | null;
}

export interface WireRuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface WireVersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

export interface WireExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}
