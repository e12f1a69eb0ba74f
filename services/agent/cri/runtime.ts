/**
 * What the agent needs from a container runtime, in the agent's own terms (camelCase, times in
 * milliseconds, states as words). The CRI implementation (CriRuntime) talks to containerd; a fake
 * can implement the same interface for scale tests (hollow nodes), so nothing above this file
 * knows about gRPC or protobuf.
 */

export type Protocol = "TCP" | "UDP" | "SCTP";
export type NamespaceMode = "POD" | "CONTAINER" | "NODE" | "TARGET";
export type SandboxState = "Ready" | "NotReady";
export type ContainerState = "Created" | "Running" | "Exited" | "Unknown";
export type MountPropagation = "Private" | "HostToContainer" | "Bidirectional";

export interface DnsConfig {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface PortMapping {
  readonly protocol: Protocol;
  readonly containerPort: number;
  readonly hostPort: number;
  readonly hostIp?: string;
}

export interface NamespaceOptions {
  readonly network?: NamespaceMode;
  readonly pid?: NamespaceMode;
  readonly ipc?: NamespaceMode;
  readonly targetId?: string;
}

export interface SandboxSecurityContext {
  readonly namespaces?: NamespaceOptions;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readonlyRootfs?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly privileged?: boolean;
}

/** One pod's sandbox: identity (name, namespace, uid, attempt) plus what is fixed for its life. */
export interface SandboxConfig {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly attempt: number;
  readonly hostname: string;
  /** Host directory holding the pod's container logs; containers' logPath is relative to it. */
  readonly logDirectory: string;
  readonly dns?: DnsConfig;
  readonly portMappings?: readonly PortMapping[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly cgroupParent?: string;
  readonly sysctls?: Readonly<Record<string, string>>;
  readonly securityContext?: SandboxSecurityContext;
}

export interface Mount {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readOnly?: boolean;
  readonly propagation?: MountPropagation;
}

export interface ContainerResources {
  readonly cpuPeriodMicroseconds?: number;
  readonly cpuQuotaMicroseconds?: number;
  readonly cpuShares?: number;
  readonly memoryLimitBytes?: number;
  readonly oomScoreAdj?: number;
}

export interface ContainerSecurityContext {
  readonly privileged?: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsUsername?: string;
  readonly readonlyRootfs?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly capabilities?: { readonly add: readonly string[]; readonly drop: readonly string[] };
  readonly noNewPrivs?: boolean;
  readonly namespaces?: NamespaceOptions;
}

export interface ContainerConfig {
  readonly name: string;
  readonly attempt: number;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly env?: readonly { readonly name: string; readonly value: string }[];
  readonly mounts?: readonly Mount[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Relative to the sandbox's logDirectory, e.g. `web/0.log`. */
  readonly logPath: string;
  readonly stdin?: boolean;
  readonly stdinOnce?: boolean;
  readonly tty?: boolean;
  readonly resources?: ContainerResources;
  readonly securityContext?: ContainerSecurityContext;
}

export interface SandboxSummary {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly attempt: number;
  readonly state: SandboxState;
  readonly createdAtMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface SandboxStatus extends SandboxSummary {
  /** The pod IP the CNI plugin assigned; "" for host-network pods. */
  readonly ip: string;
  readonly additionalIps: readonly string[];
}

export interface ContainerSummary {
  readonly id: string;
  readonly sandboxId: string;
  readonly name: string;
  readonly attempt: number;
  readonly image: string;
  readonly imageRef: string;
  readonly state: ContainerState;
  readonly createdAtMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ContainerStatus extends Omit<ContainerSummary, "sandboxId"> {
  /** 0 when the container never started. */
  readonly startedAtMs: number;
  /** 0 while the container has not finished. */
  readonly finishedAtMs: number;
  readonly exitCode: number;
  readonly reason: string;
  readonly message: string;
  /** Absolute host path of the CRI-format log file. */
  readonly logPath: string;
}

export interface SandboxFilter {
  readonly id?: string;
  readonly state?: SandboxState;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ContainerFilter {
  readonly id?: string;
  readonly sandboxId?: string;
  readonly state?: ContainerState;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ExecSyncResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
}

export interface ExecStreamRequest {
  readonly containerId: string;
  readonly command: readonly string[];
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

/** CRI AttachRequest: which of the container's streams to attach to. */
export type AttachStreamRequest = Omit<ExecStreamRequest, "command">;

export interface ContainerStats {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly timestampMs: number;
  /** Cumulative CPU time across all cores since the container started (bigint: it outgrows 2^53). */
  readonly cpuUsageCoreNanoseconds: bigint | undefined;
  readonly memoryWorkingSetBytes: number | undefined;
  readonly writableLayerUsedBytes: number | undefined;
}

export interface Image {
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly sizeBytes: number;
}

export interface ImageFsUsage {
  readonly mountpoint: string;
  readonly usedBytes: number | undefined;
  readonly inodesUsed: number | undefined;
}

export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  readonly serverAddress?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

export interface RuntimeVersion {
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly runtimeApiVersion: string;
}

export interface RuntimeCondition {
  readonly type: string;
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

/** Everything the agent asks of a container runtime. Ids are the runtime's. */
export interface ContainerRuntime {
  version(): Promise<RuntimeVersion>;
  /** RuntimeReady and NetworkReady, as the runtime reports them. */
  conditions(): Promise<RuntimeCondition[]>;

  runSandbox(config: SandboxConfig, runtimeHandler?: string): Promise<string>;
  stopSandbox(sandboxId: string): Promise<void>;
  removeSandbox(sandboxId: string): Promise<void>;
  sandboxStatus(sandboxId: string): Promise<SandboxStatus>;
  listSandboxes(filter?: SandboxFilter): Promise<SandboxSummary[]>;

  createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: SandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after gracePeriodSeconds. */
  stopContainer(containerId: string, gracePeriodSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  /** Absolute path of the container's CRI-format log file on this host. */
  containerLogPath(containerId: string): Promise<string>;

  execSync(containerId: string, command: readonly string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  /** A one-use URL of the runtime's streaming server for an interactive exec. */
  execUrl(request: ExecStreamRequest): Promise<string>;
  /** A one-use URL of the runtime's streaming server attached to the container's own stdio (CRI Attach). */
  attachUrl(request: AttachStreamRequest): Promise<string>;
  /** A one-use URL of the runtime's streaming server forwarding to the sandbox's ports. */
  portForwardUrl(sandboxId: string, ports: readonly number[]): Promise<string>;

  containerStats(containerId: string): Promise<ContainerStats>;
  listContainerStats(filter?: { readonly sandboxId?: string; readonly labels?: Readonly<Record<string, string>> }): Promise<ContainerStats[]>;

  pullImage(image: string, auth?: RegistryAuth, sandboxConfig?: SandboxConfig): Promise<string>;
  /** undefined when the image is not present. */
  imageStatus(image: string): Promise<Image | undefined>;
  listImages(): Promise<Image[]>;
  removeImage(image: string): Promise<void>;
  imageFsInfo(): Promise<ImageFsUsage[]>;

  close(): void;
}
