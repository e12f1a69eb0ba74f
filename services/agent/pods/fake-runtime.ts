/**
 * An in-memory ContainerRuntime: the agent's pod workers run against it in unit tests and in
 * `flotilla agent --runtime fake` (hollow nodes for scale tests, as kubemark does). Containers
 * "run" until a test ends them with exitContainer() or the agent stops them; no process exists.
 */
import { RuntimeError } from "../cri/index.ts";
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
  RuntimeCondition,
  RuntimeVersion,
  SandboxConfig,
  SandboxFilter,
  SandboxStatus,
  SandboxSummary,
} from "../cri/index.ts";

/** Exit code of a container stopped by the fake (128 + SIGTERM, as a shell killed by SIGTERM). */
export const fakeStopExitCode = 143;

interface FakeSandbox {
  readonly id: string;
  readonly config: SandboxConfig;
  state: "Ready" | "NotReady";
  readonly createdAtMs: number;
  readonly ip: string;
}

interface FakeContainer {
  readonly id: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  readonly logPath: string;
  state: "Created" | "Running" | "Exited";
  readonly createdAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  exitCode: number;
  reason: string;
}

export type FakeExecHandler = (container: ContainerSummary, command: readonly string[]) => ExecSyncResult;

export interface FakeRuntimeOptions {
  readonly nowMs?: () => number;
  /** Images present from the start (full references, e.g. docker.io/flotilla/busybox:1). */
  readonly images?: readonly string[];
  /** First three octets of the pod IPs handed out, e.g. "10.244.7". */
  readonly podSubnetPrefix?: string;
}

function labelsMatch(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>> | undefined): boolean {
  if (wanted === undefined) return true;
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

function notFound(method: string, id: string): RuntimeError {
  return new RuntimeError(method, "NotFound", "NOT_FOUND", `fake runtime: ${method}: ${id} not found`);
}

/** Adds docker.io/ and :latest as containerd's CRI does for short names. */
export function normalizeImage(image: string): string {
  const withTag = /:[^/]+$/.test(image) || image.includes("@") ? image : `${image}:latest`;
  const firstPart = withTag.split("/")[0] ?? "";
  const hasRegistry = withTag.includes("/") && (firstPart.includes(".") || firstPart.includes(":") || firstPart === "localhost");
  if (hasRegistry) return withTag;
  return withTag.includes("/") ? `docker.io/${withTag}` : `docker.io/library/${withTag}`;
}

export class FakeRuntime implements ContainerRuntime {
  readonly #nowMs: () => number;
  readonly #sandboxes = new Map<string, FakeSandbox>();
  readonly #containers = new Map<string, FakeContainer>();
  readonly #images = new Set<string>();
  readonly #podSubnetPrefix: string;
  #nextId = 1;
  #nextIp = 2;
  /** Every mutating call in order ("startContainer <name>/<attempt>"...), for tests to assert on. */
  readonly calls: string[] = [];
  /** Container names whose start fails (the instance is left Exited with reason StartError). */
  readonly failStart = new Set<string>();
  /** Images whose pull fails (ErrImagePull). */
  readonly unpullable = new Set<string>();
  execHandler: FakeExecHandler = () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 });

  constructor(options: FakeRuntimeOptions = {}) {
    this.#nowMs = options.nowMs ?? Date.now;
    this.#podSubnetPrefix = options.podSubnetPrefix ?? "10.244.0";
    for (const image of options.images ?? []) this.#images.add(normalizeImage(image));
  }

  #id(kind: string): string {
    const id = `${kind}${String(this.#nextId).padStart(8, "0")}`;
    this.#nextId += 1;
    return id;
  }

  #sandbox(method: string, id: string): FakeSandbox {
    const sandbox = this.#sandboxes.get(id);
    if (sandbox === undefined) throw notFound(method, id);
    return sandbox;
  }

  #container(method: string, id: string): FakeContainer {
    const container = this.#containers.get(id);
    if (container === undefined) throw notFound(method, id);
    return container;
  }

  /** Test hook: the container's process ends with `exitCode` now. */
  exitContainer(containerId: string, exitCode: number, reason = exitCode === 0 ? "Completed" : "Error"): void {
    const container = this.#container("exitContainer", containerId);
    if (container.state !== "Running") return;
    container.state = "Exited";
    container.exitCode = exitCode;
    container.reason = reason;
    container.finishedAtMs = this.#nowMs();
  }

  /** Test hook: the running container named `name` in the pod with uid `podUid`, if any. */
  runningContainer(podUid: string, name: string): ContainerSummary | undefined {
    for (const container of this.#containers.values()) {
      const sandbox = this.#sandboxes.get(container.sandboxId);
      if (sandbox?.config.uid === podUid && container.config.name === name && container.state === "Running") return this.#summary(container);
    }
    return undefined;
  }

  version(): Promise<RuntimeVersion> {
    return Promise.resolve({ runtimeName: "fake", runtimeVersion: "0.1.0", runtimeApiVersion: "v1" });
  }

  conditions(): Promise<RuntimeCondition[]> {
    return Promise.resolve([
      { type: "RuntimeReady", status: true, reason: "", message: "" },
      { type: "NetworkReady", status: true, reason: "", message: "" },
    ]);
  }

  runSandbox(config: SandboxConfig): Promise<string> {
    const id = this.#id("sandbox");
    const ip = `${this.#podSubnetPrefix}.${this.#nextIp}`;
    this.#nextIp = this.#nextIp >= 254 ? 2 : this.#nextIp + 1;
    this.#sandboxes.set(id, { id, config, state: "Ready", createdAtMs: this.#nowMs(), ip });
    this.calls.push(`runSandbox ${config.namespace}/${config.name}`);
    return Promise.resolve(id);
  }

  async stopSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.#sandboxes.get(sandboxId);
    if (sandbox === undefined) return;
    for (const container of this.#containers.values()) {
      if (container.sandboxId === sandboxId) await this.stopContainer(container.id);
    }
    sandbox.state = "NotReady";
    this.calls.push(`stopSandbox ${sandbox.config.namespace}/${sandbox.config.name}`);
  }

  removeSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.#sandboxes.get(sandboxId);
    if (sandbox === undefined) return Promise.resolve();
    for (const container of [...this.#containers.values()]) {
      if (container.sandboxId === sandboxId) this.#containers.delete(container.id);
    }
    this.#sandboxes.delete(sandboxId);
    this.calls.push(`removeSandbox ${sandbox.config.namespace}/${sandbox.config.name}`);
    return Promise.resolve();
  }

  #sandboxSummary(sandbox: FakeSandbox): SandboxSummary {
    const { config } = sandbox;
    return {
      id: sandbox.id,
      name: config.name,
      namespace: config.namespace,
      uid: config.uid,
      attempt: config.attempt,
      state: sandbox.state,
      createdAtMs: sandbox.createdAtMs,
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
    };
  }

  sandboxStatus(sandboxId: string): Promise<SandboxStatus> {
    const sandbox = this.#sandbox("RuntimeService/PodSandboxStatus", sandboxId);
    return Promise.resolve({ ...this.#sandboxSummary(sandbox), ip: sandbox.ip, additionalIps: [] });
  }

  listSandboxes(filter: SandboxFilter = {}): Promise<SandboxSummary[]> {
    const found = [...this.#sandboxes.values()].filter(
      (sandbox) =>
        (filter.id === undefined || sandbox.id === filter.id) &&
        (filter.state === undefined || sandbox.state === filter.state) &&
        labelsMatch(sandbox.config.labels ?? {}, filter.labels),
    );
    return Promise.resolve(found.map((sandbox) => this.#sandboxSummary(sandbox)));
  }

  createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: SandboxConfig): Promise<string> {
    const sandbox = this.#sandbox("RuntimeService/CreateContainer", sandboxId);
    if (sandbox.state !== "Ready") throw new RuntimeError("RuntimeService/CreateContainer", "Other", "UNKNOWN", "fake runtime: sandbox not ready");
    if (!this.#images.has(normalizeImage(config.image))) {
      throw new RuntimeError("RuntimeService/CreateContainer", "Other", "UNKNOWN", `fake runtime: image ${config.image} not present`);
    }
    const id = this.#id("container");
    const logPath = `${sandboxConfig.logDirectory}/${config.logPath}`;
    this.#containers.set(id, { id, sandboxId, config, logPath, state: "Created", createdAtMs: this.#nowMs(), startedAtMs: 0, finishedAtMs: 0, exitCode: 0, reason: "" });
    this.calls.push(`createContainer ${config.name}/${config.attempt}`);
    return Promise.resolve(id);
  }

  startContainer(containerId: string): Promise<void> {
    const container = this.#container("RuntimeService/StartContainer", containerId);
    if (this.failStart.has(container.config.name)) {
      container.state = "Exited";
      container.exitCode = 128;
      container.reason = "StartError";
      container.finishedAtMs = this.#nowMs();
      return Promise.reject(new RuntimeError("RuntimeService/StartContainer", "Other", "UNKNOWN", "fake runtime: exec: no such file"));
    }
    container.state = "Running";
    container.startedAtMs = this.#nowMs();
    this.calls.push(`startContainer ${container.config.name}/${container.config.attempt}`);
    return Promise.resolve();
  }

  stopContainer(containerId: string): Promise<void> {
    const container = this.#containers.get(containerId);
    if (container === undefined || container.state === "Exited") return Promise.resolve();
    if (container.state === "Created") {
      container.state = "Exited";
      return Promise.resolve();
    }
    container.state = "Exited";
    container.exitCode = fakeStopExitCode;
    container.reason = "Error";
    container.finishedAtMs = this.#nowMs();
    this.calls.push(`stopContainer ${container.config.name}/${container.config.attempt}`);
    return Promise.resolve();
  }

  removeContainer(containerId: string): Promise<void> {
    const container = this.#containers.get(containerId);
    if (container === undefined) return Promise.resolve();
    this.#containers.delete(containerId);
    this.calls.push(`removeContainer ${container.config.name}/${container.config.attempt}`);
    return Promise.resolve();
  }

  #summary(container: FakeContainer): ContainerSummary {
    const image = normalizeImage(container.config.image);
    return {
      id: container.id,
      sandboxId: container.sandboxId,
      name: container.config.name,
      attempt: container.config.attempt,
      image,
      imageRef: `sha256:${image.length.toString(16).padStart(64, "0")}`,
      state: container.state,
      createdAtMs: container.createdAtMs,
      labels: container.config.labels ?? {},
      annotations: container.config.annotations ?? {},
    };
  }

  listContainers(filter: ContainerFilter = {}): Promise<ContainerSummary[]> {
    const found = [...this.#containers.values()].filter(
      (container) =>
        (filter.id === undefined || container.id === filter.id) &&
        (filter.sandboxId === undefined || container.sandboxId === filter.sandboxId) &&
        (filter.state === undefined || container.state === filter.state) &&
        labelsMatch(container.config.labels ?? {}, filter.labels),
    );
    return Promise.resolve(found.map((container) => this.#summary(container)));
  }

  containerStatus(containerId: string): Promise<ContainerStatus> {
    const container = this.#container("RuntimeService/ContainerStatus", containerId);
    const { sandboxId: _sandboxId, ...summary } = this.#summary(container);
    return Promise.resolve({
      ...summary,
      startedAtMs: container.startedAtMs,
      finishedAtMs: container.finishedAtMs,
      exitCode: container.exitCode,
      reason: container.reason,
      message: "",
      logPath: container.logPath,
    });
  }

  containerLogPath(containerId: string): Promise<string> {
    return Promise.resolve(this.#container("RuntimeService/ContainerStatus", containerId).logPath);
  }

  execSync(containerId: string, command: readonly string[]): Promise<ExecSyncResult> {
    const container = this.#container("RuntimeService/ExecSync", containerId);
    if (container.state !== "Running") throw new RuntimeError("RuntimeService/ExecSync", "Other", "UNKNOWN", "fake runtime: container not running");
    return Promise.resolve(this.execHandler(this.#summary(container), command));
  }

  execUrl(request: ExecStreamRequest): Promise<string> {
    this.#container("RuntimeService/Exec", request.containerId);
    return Promise.reject(new RuntimeError("RuntimeService/Exec", "Other", "UNIMPLEMENTED", "fake runtime: no streaming server"));
  }

  attachUrl(request: AttachStreamRequest): Promise<string> {
    this.#container("RuntimeService/Attach", request.containerId);
    return Promise.reject(new RuntimeError("RuntimeService/Attach", "Other", "UNIMPLEMENTED", "fake runtime: no streaming server"));
  }

  portForwardUrl(sandboxId: string): Promise<string> {
    this.#sandbox("RuntimeService/PortForward", sandboxId);
    return Promise.reject(new RuntimeError("RuntimeService/PortForward", "Other", "UNIMPLEMENTED", "fake runtime: no streaming server"));
  }

  #stats(container: FakeContainer): ContainerStats {
    return {
      id: container.id,
      name: container.config.name,
      labels: container.config.labels ?? {},
      timestampMs: this.#nowMs(),
      cpuUsageCoreNanoseconds: 0n,
      memoryWorkingSetBytes: 0,
      writableLayerUsedBytes: 0,
    };
  }

  containerStats(containerId: string): Promise<ContainerStats> {
    return Promise.resolve(this.#stats(this.#container("RuntimeService/ContainerStats", containerId)));
  }

  listContainerStats(filter: { readonly sandboxId?: string; readonly labels?: Readonly<Record<string, string>> } = {}): Promise<ContainerStats[]> {
    const found = [...this.#containers.values()].filter(
      (container) => (filter.sandboxId === undefined || container.sandboxId === filter.sandboxId) && labelsMatch(container.config.labels ?? {}, filter.labels),
    );
    return Promise.resolve(found.map((container) => this.#stats(container)));
  }

  pullImage(image: string): Promise<string> {
    const name = normalizeImage(image);
    if (this.unpullable.has(name)) {
      return Promise.reject(new RuntimeError("ImageService/PullImage", "Other", "UNKNOWN", `fake runtime: pull ${name}: not found`));
    }
    this.#images.add(name);
    this.calls.push(`pullImage ${name}`);
    return Promise.resolve(name);
  }

  imageStatus(image: string): Promise<Image | undefined> {
    const name = normalizeImage(image);
    if (!this.#images.has(name)) return Promise.resolve(undefined);
    return Promise.resolve({ id: `sha256:${name}`, repoTags: [name], repoDigests: [], sizeBytes: 1_000_000 });
  }

  listImages(): Promise<Image[]> {
    return Promise.resolve([...this.#images].map((name) => ({ id: `sha256:${name}`, repoTags: [name], repoDigests: [], sizeBytes: 1_000_000 })));
  }

  removeImage(image: string): Promise<void> {
    this.#images.delete(normalizeImage(image));
    return Promise.resolve();
  }

  imageFsInfo(): Promise<ImageFsUsage[]> {
    return Promise.resolve([{ mountpoint: "/fake", usedBytes: this.#images.size * 1_000_000, inodesUsed: this.#images.size }]);
  }

  close(): void {}
}
