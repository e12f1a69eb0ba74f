/** The agent's container runtime: the interface, its CRI implementation, and its errors. */
export { CriRuntime, socketAddress, callTimeoutMsDefault } from "./cri-runtime.ts";
export type { CriRuntimeOptions } from "./cri-runtime.ts";
export { RuntimeError, isNotFound } from "./errors.ts";
export type { RuntimeErrorKind } from "./errors.ts";
export type {
  ContainerConfig,
  ContainerFilter,
  ContainerResources,
  ContainerRuntime,
  ContainerSecurityContext,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  DnsConfig,
  AttachStreamRequest,
  ExecStreamRequest,
  ExecSyncResult,
  Image,
  ImageFsUsage,
  Mount,
  MountPropagation,
  NamespaceMode,
  NamespaceOptions,
  PortMapping,
  Protocol,
  RegistryAuth,
  RuntimeCondition,
  RuntimeVersion,
  SandboxConfig,
  SandboxFilter,
  SandboxSecurityContext,
  SandboxState,
  SandboxStatus,
  SandboxSummary,
} from "./runtime.ts";
