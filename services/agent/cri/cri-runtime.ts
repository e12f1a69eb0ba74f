/**
 * ContainerRuntime over CRI runtime.v1 on a unix socket (containerd's CRI plugin). Every call
 * carries a deadline, so a wedged containerd shows up as a DeadlineExceeded RuntimeError naming
 * the method rather than as an agent that hangs.
 */
import { credentials, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { assert } from "../../../libs/assert/index.ts";
import {
  containerConfigToWire,
  containerFromWire,
  containerStateToWire,
  containerStatsFromWire,
  containerStatusFromWire,
  filesystemUsageFromWire,
  imageFromWire,
  sandboxConfigToWire,
  sandboxFromWire,
  sandboxStateToWire,
  sandboxStatusFromWire,
} from "./convert.ts";
import { runtimeErrorFromGrpc } from "./errors.ts";
import { loadCriServices } from "./proto.ts";
import type {
  ContainerConfig,
  ContainerFilter,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  AttachStreamRequest,
  ExecStreamRequest,
  ExecSyncResult,
  Image,
  ImageFsUsage,
  RegistryAuth,
  RuntimeCondition,
  RuntimeVersion,
  SandboxConfig,
  SandboxFilter,
  SandboxStatus,
  SandboxSummary,
} from "./runtime.ts";
import type {
  WireContainer,
  WireContainerStats,
  WireContainerStatus,
  WireExecSyncResponse,
  WireFilesystemUsage,
  WireImage,
  WirePodSandbox,
  WirePodSandboxStatus,
  WireRuntimeCondition,
  WireVersionResponse,
} from "./wire.ts";

/** The CRI API version we ask for in Version. */
const criApiVersion = "v1";
/** Default bound on one call: status, list, start, remove. */
export const callTimeoutMsDefault = 10_000;
/** RunPodSandbox runs CNI and may unpack the sandbox image. */
const runSandboxTimeoutMs = 120_000;
const createContainerTimeoutMs = 60_000;
const stopSandboxTimeoutMs = 60_000;
/** Pulls of large images over slow home links. */
const pullImageTimeoutMs = 10 * 60_000;
/** Extra time beyond a stop grace period or an exec timeout for the runtime to report back. */
const runtimeSlackMs = 15_000;
/** containerd 1.6 sends at most 16 MiB per message; accept as much (long lists, exec output). */
const receiveMessageBytesMax = 16 * 1024 * 1024;
/** How long connect() waits for the socket to accept a channel. */
const connectTimeoutMsDefault = 10_000;

type UnaryMethod = (request: object, options: CallOptions, callback: (error: ServiceError | null, response?: unknown) => void) => ClientUnaryCall;

export interface CriRuntimeOptions {
  /** containerd's socket: a path (`/run/containerd/containerd.sock`) or `unix:///path`. */
  readonly socket: string;
  readonly callTimeoutMs?: number;
}

/** `unix:///abs/path` from a path or a unix: URL; grpc-js wants the absolute form. */
export function socketAddress(socket: string): string {
  if (socket.startsWith("unix://")) return socket;
  assert(socket.startsWith("/"), "CRI socket path is absolute", () => socket);
  return `unix://${socket}`;
}

export class CriRuntime implements ContainerRuntime {
  readonly address: string;
  readonly #runtime: Client;
  readonly #images: Client;
  readonly #callTimeoutMs: number;

  constructor(options: CriRuntimeOptions) {
    this.address = socketAddress(options.socket);
    this.#callTimeoutMs = options.callTimeoutMs ?? callTimeoutMsDefault;
    const services = loadCriServices();
    const channelOptions = { "grpc.max_receive_message_length": receiveMessageBytesMax };
    this.#runtime = new services.RuntimeService(this.address, credentials.createInsecure(), channelOptions);
    this.#images = new services.ImageService(this.address, credentials.createInsecure(), channelOptions);
  }

  /** Resolves once the socket accepts a connection; fails with the address after timeoutMs. */
  async connect(timeoutMs = connectTimeoutMsDefault): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#runtime.waitForReady(Date.now() + timeoutMs, (error) => {
        if (error === undefined) resolve();
        else reject(new Error(`CRI: could not connect to ${this.address} within ${timeoutMs} ms`, { cause: error }));
      });
    });
  }

  close(): void {
    this.#runtime.close();
    this.#images.close();
  }

  async #call<T>(client: Client, service: string, method: string, request: object, timeoutMs = this.#callTimeoutMs): Promise<T> {
    const unary = (client as unknown as Record<string, UnaryMethod | undefined>)[method];
    assert(typeof unary === "function", "CRI method is in proto/cri/api.proto", () => `${service}/${method}`);
    const name = `${service}/${method}`;
    return new Promise<T>((resolve, reject) => {
      unary.call(client, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error !== null) reject(runtimeErrorFromGrpc(name, this.address, timeoutMs, error));
        else resolve(response as T);
      });
    });
  }

  #runtimeCall<T>(method: string, request: object, timeoutMs?: number): Promise<T> {
    return this.#call<T>(this.#runtime, "RuntimeService", method, request, timeoutMs);
  }

  #imageCall<T>(method: string, request: object, timeoutMs?: number): Promise<T> {
    return this.#call<T>(this.#images, "ImageService", method, request, timeoutMs);
  }

  async version(): Promise<RuntimeVersion> {
    const response = await this.#runtimeCall<WireVersionResponse>("Version", { version: criApiVersion });
    return { runtimeName: response.runtime_name, runtimeVersion: response.runtime_version, runtimeApiVersion: response.runtime_api_version };
  }

  async conditions(): Promise<RuntimeCondition[]> {
    const response = await this.#runtimeCall<{ status: { conditions: WireRuntimeCondition[] } | null }>("Status", { verbose: false });
    return (response.status?.conditions ?? []).map((condition) => ({ ...condition }));
  }

  async runSandbox(config: SandboxConfig, runtimeHandler = ""): Promise<string> {
    const request = { config: sandboxConfigToWire(config), runtime_handler: runtimeHandler };
    const response = await this.#runtimeCall<{ pod_sandbox_id: string }>("RunPodSandbox", request, runSandboxTimeoutMs);
    return response.pod_sandbox_id;
  }

  async stopSandbox(sandboxId: string): Promise<void> {
    await this.#runtimeCall("StopPodSandbox", { pod_sandbox_id: sandboxId }, stopSandboxTimeoutMs);
  }

  async removeSandbox(sandboxId: string): Promise<void> {
    await this.#runtimeCall("RemovePodSandbox", { pod_sandbox_id: sandboxId }, stopSandboxTimeoutMs);
  }

  async sandboxStatus(sandboxId: string): Promise<SandboxStatus> {
    const response = await this.#runtimeCall<{ status: WirePodSandboxStatus | null }>("PodSandboxStatus", { pod_sandbox_id: sandboxId, verbose: false });
    assert(response.status !== null, "PodSandboxStatus answers with a status", () => sandboxId);
    return sandboxStatusFromWire(response.status);
  }

  async listSandboxes(filter: SandboxFilter = {}): Promise<SandboxSummary[]> {
    const request = {
      filter: {
        id: filter.id ?? "",
        ...(filter.state === undefined ? {} : { state: { state: sandboxStateToWire[filter.state] } }),
        label_selector: { ...filter.labels },
      },
    };
    const response = await this.#runtimeCall<{ items: WirePodSandbox[] }>("ListPodSandbox", request);
    return response.items.map(sandboxFromWire);
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: SandboxConfig): Promise<string> {
    const request = { pod_sandbox_id: sandboxId, config: containerConfigToWire(config), sandbox_config: sandboxConfigToWire(sandboxConfig) };
    const response = await this.#runtimeCall<{ container_id: string }>("CreateContainer", request, createContainerTimeoutMs);
    return response.container_id;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.#runtimeCall("StartContainer", { container_id: containerId }, createContainerTimeoutMs);
  }

  async stopContainer(containerId: string, gracePeriodSeconds: number): Promise<void> {
    assert(Number.isInteger(gracePeriodSeconds) && gracePeriodSeconds >= 0, "grace period is a whole number of seconds", () => String(gracePeriodSeconds));
    const timeoutMs = gracePeriodSeconds * 1000 + runtimeSlackMs;
    await this.#runtimeCall("StopContainer", { container_id: containerId, timeout: String(gracePeriodSeconds) }, timeoutMs);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.#runtimeCall("RemoveContainer", { container_id: containerId }, createContainerTimeoutMs);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerSummary[]> {
    const request = {
      filter: {
        id: filter.id ?? "",
        pod_sandbox_id: filter.sandboxId ?? "",
        ...(filter.state === undefined ? {} : { state: { state: containerStateToWire[filter.state] } }),
        label_selector: { ...filter.labels },
      },
    };
    const response = await this.#runtimeCall<{ containers: WireContainer[] }>("ListContainers", request);
    return response.containers.map(containerFromWire);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const response = await this.#runtimeCall<{ status: WireContainerStatus | null }>("ContainerStatus", { container_id: containerId, verbose: false });
    assert(response.status !== null, "ContainerStatus answers with a status", () => containerId);
    return containerStatusFromWire(response.status);
  }

  async containerLogPath(containerId: string): Promise<string> {
    return (await this.containerStatus(containerId)).logPath;
  }

  async execSync(containerId: string, command: readonly string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    // CRI reads timeout 0 as "run forever": the agent never asks for that.
    assert(Number.isInteger(timeoutSeconds) && timeoutSeconds > 0, "exec timeout is a positive whole number of seconds", () => String(timeoutSeconds));
    const request = { container_id: containerId, cmd: [...command], timeout: String(timeoutSeconds) };
    const response = await this.#runtimeCall<WireExecSyncResponse>("ExecSync", request, timeoutSeconds * 1000 + runtimeSlackMs);
    return { stdout: response.stdout, stderr: response.stderr, exitCode: response.exit_code };
  }

  async execUrl(request: ExecStreamRequest): Promise<string> {
    const wire = { container_id: request.containerId, cmd: [...request.command], tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr };
    return (await this.#runtimeCall<{ url: string }>("Exec", wire)).url;
  }

  async attachUrl(request: AttachStreamRequest): Promise<string> {
    const wire = { container_id: request.containerId, stdin: request.stdin, tty: request.tty, stdout: request.stdout, stderr: request.stderr };
    return (await this.#runtimeCall<{ url: string }>("Attach", wire)).url;
  }

  async portForwardUrl(sandboxId: string, ports: readonly number[]): Promise<string> {
    return (await this.#runtimeCall<{ url: string }>("PortForward", { pod_sandbox_id: sandboxId, port: [...ports] })).url;
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const response = await this.#runtimeCall<{ stats: WireContainerStats | null }>("ContainerStats", { container_id: containerId });
    assert(response.stats !== null, "ContainerStats answers with stats", () => containerId);
    return containerStatsFromWire(response.stats);
  }

  async listContainerStats(filter: { readonly sandboxId?: string; readonly labels?: Readonly<Record<string, string>> } = {}): Promise<ContainerStats[]> {
    const request = { filter: { id: "", pod_sandbox_id: filter.sandboxId ?? "", label_selector: { ...filter.labels } } };
    const response = await this.#runtimeCall<{ stats: WireContainerStats[] }>("ListContainerStats", request);
    return response.stats.map(containerStatsFromWire);
  }

  async pullImage(image: string, auth?: RegistryAuth, sandboxConfig?: SandboxConfig): Promise<string> {
    const request = {
      image: { image },
      ...(auth === undefined ? {} : { auth: authToWire(auth) }),
      ...(sandboxConfig === undefined ? {} : { sandbox_config: sandboxConfigToWire(sandboxConfig) }),
    };
    return (await this.#imageCall<{ image_ref: string }>("PullImage", request, pullImageTimeoutMs)).image_ref;
  }

  async imageStatus(image: string): Promise<Image | undefined> {
    const response = await this.#imageCall<{ image: WireImage | null }>("ImageStatus", { image: { image }, verbose: false });
    return response.image === null ? undefined : imageFromWire(response.image);
  }

  async listImages(): Promise<Image[]> {
    return (await this.#imageCall<{ images: WireImage[] }>("ListImages", {})).images.map(imageFromWire);
  }

  async removeImage(image: string): Promise<void> {
    await this.#imageCall("RemoveImage", { image: { image } });
  }

  async imageFsInfo(): Promise<ImageFsUsage[]> {
    return (await this.#imageCall<{ image_filesystems: WireFilesystemUsage[] }>("ImageFsInfo", {})).image_filesystems.map(filesystemUsageFromWire);
  }
}

function authToWire(auth: RegistryAuth): Record<string, string> {
  return {
    username: auth.username ?? "",
    password: auth.password ?? "",
    auth: auth.auth ?? "",
    server_address: auth.serverAddress ?? "",
    identity_token: auth.identityToken ?? "",
    registry_token: auth.registryToken ?? "",
  };
}
