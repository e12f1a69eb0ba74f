/**
 * One pod's worker: a level-triggered sync that reads the runtime's actual state (sandboxes and
 * containers found by the pod's uid label, so a restarted agent adopts what runs), converges it to
 * the spec (sandbox, image, init containers in order, then app containers, restarts with
 * CrashLoopBackOff, liveness kills) and reports the status when it changed. Syncs of one pod run
 * one at a time; deletion is graceful (preStop, SIGTERM, grace period, SIGKILL, confirm).
 */
import { imagePullPolicyFor } from "../../../libs/api/index.ts";
import type { Container, Pod, PodStatus } from "../../../libs/api/index.ts";
import { isNotFound } from "../cri/index.ts";
import type { ContainerStatus as RuntimeContainerStatus, ContainerSummary, SandboxConfig } from "../cri/index.ts";
import { ContainerConfigError, containerEnvironment } from "./env.ts";
import { registryAuthFor } from "./image-auth.ts";
import { runLifecycleHandler } from "./lifecycle.ts";
import { ProbeWorker, type ProbeKind, type ProbeResult } from "./probes.ts";
import { annotationSpecImage, containerConfig, labelPodUid, sandboxConfig } from "./runtime-config.ts";
import { computePodStatus, type ContainerObservation } from "./status.ts";
import { containerMounts, VolumeError } from "./volumes.ts";
import { terminationMessage, terminationMessageMount } from "./termination-message.ts";
import type { WorkerContext } from "./worker-context.ts";

/** Old exited instances kept per container (the latest two serve status and `logs --previous`). */
export const instancesKeptPerContainer = 2;
/** The kubelet's floor on a kill's grace period. */
export const minimumGracePeriodSeconds = 2;
export const defaultGracePeriodSeconds = 30;
/**
 * Bound on writes of an unchanged status made because the API's copy differs (another writer,
 * such as the node lifecycle controller, changed it): a server that keeps its own value is not
 * written in a loop. The count starts again when the API agrees or shows another value.
 */
export const statusReassertsMax = 3;

interface Waiting {
  readonly reason: string;
  readonly message: string;
}

interface ContainerProbes {
  readonly workers: ProbeWorker[];
  readiness: ProbeResult;
  startup: ProbeResult;
}

type Instances = Map<string, RuntimeContainerStatus[]>;

function isTerminalPhase(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

export function formatBackoff(delayMs: number): string {
  const seconds = Math.round(delayMs / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
}

export class PodWorker {
  pod: Pod;
  /** The pod left the node's stream (deleted without a grace period being seen). */
  removed = false;
  /** Terminated and cleaned up; the manager drops the worker. */
  done = false;
  readonly uid: string;
  readonly #context: WorkerContext;
  #chain: Promise<void> = Promise.resolve();
  #sandboxId: string | undefined;
  #sandboxConfig: SandboxConfig | undefined;
  #podIp = "";
  #startTimeMs: number | undefined;
  /** The pod reached Succeeded or Failed: nothing is started again. */
  #finished = false;
  #volumePaths = new Map<string, string>();
  readonly #waiting = new Map<string, Waiting>();
  readonly #probes = new Map<string, ContainerProbes>();
  /** Containers a liveness or startup probe failed: killed (and restarted per policy) on the next sync. */
  readonly #killRequests = new Set<string>();
  readonly #pullFailedAtMs = new Map<string, number>();
  #lastStatus: PodStatus | undefined;
  #lastStatusJson = "";
  /** The API's differing status last answered by writing ours again, and how often. */
  #reassertedFingerprint = "";
  #reassertedResourceVersion: string | undefined;
  #reassertCount = 0;
  /** This sync started or stopped something: the runtime is read again before the status. */
  #mutated = false;

  constructor(pod: Pod, context: WorkerContext) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? "";
    this.#context = context;
    if (isTerminalPhase(pod.status?.phase)) this.#lastStatus = pod.status;
  }

  get #name(): string {
    return `${this.pod.metadata?.namespace ?? "default"}/${this.pod.metadata?.name ?? ""}`;
  }

  /** Queues a sync after the ones already queued; resolves when it has run. */
  sync(): Promise<void> {
    const next = this.#chain.then(() => this.#syncOnce());
    this.#chain = next.catch((error: unknown) => {
      this.#context.log.warn({ pod: this.#name, err: error }, "pod sync failed");
    });
    return this.#chain;
  }

  #event(type: "Normal" | "Warning", reason: string, message: string): void {
    this.#context.controlPlane.recordEvent(this.pod, type, reason, message).catch((error: unknown) => {
      this.#context.log.debug({ pod: this.#name, err: error }, "recording an event failed");
    });
  }

  async #syncOnce(): Promise<void> {
    if (this.done) return;
    if (this.removed || this.pod.metadata?.deletionTimestamp !== undefined) return this.#terminate();
    if (this.#finished) return;
    const sandboxId = await this.#ensureSandbox();
    if (sandboxId === undefined) return this.#reportStatus(new Map(), false);
    try {
      this.#volumePaths = await this.#context.volumes.prepare(this.pod, this.#context.sources(this.#podIp));
    } catch (error) {
      if (!(error instanceof VolumeError || error instanceof ContainerConfigError)) throw error;
      this.#setWaitingAll("ContainerCreating", error.message);
      this.#event("Warning", "FailedMount", error.message);
      return this.#reportStatus(await this.#instances(sandboxId), false);
    }
    let instances = await this.#instances(sandboxId);
    this.#mutated = false;
    const init = await this.#syncInitContainers(instances);
    if (init.done) await this.#syncAppContainers(instances);
    if (this.#mutated) instances = await this.#instances(sandboxId);
    this.#syncProbes(instances);
    await this.#reportStatus(instances, init.failed);
  }

  #setWaitingAll(reason: string, message: string): void {
    for (const container of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) this.#waiting.set(container.name, { reason, message });
  }

  /** Adopts the pod's newest ready sandbox, or makes one; removes stale ones. undefined: none yet. */
  async #ensureSandbox(): Promise<string | undefined> {
    const { runtime } = this.#context;
    const found = (await runtime.listSandboxes({ labels: { [labelPodUid]: this.uid } })).sort((left, right) => right.attempt - left.attempt);
    const ready = found.find((sandbox) => sandbox.state === "Ready");
    if (ready === undefined && (isTerminalPhase(this.pod.status?.phase) || isTerminalPhase(this.#lastStatus?.phase))) {
      // A finished pod keeps its stopped sandbox and exited containers (logs) until it is deleted.
      this.#finished = true;
      return undefined;
    }
    for (const stale of found) {
      if (stale === ready) continue;
      await runtime.stopSandbox(stale.id);
      await runtime.removeSandbox(stale.id);
    }
    if (ready !== undefined) {
      if (this.#sandboxId !== ready.id) {
        this.#sandboxId = ready.id;
        this.#sandboxConfig = sandboxConfig(this.pod, ready.attempt, this.#context.settings);
        this.#podIp = (await runtime.sandboxStatus(ready.id)).ip;
        this.#startTimeMs ??= ready.createdAtMs;
      }
      return ready.id;
    }
    return this.#createSandbox((found[0]?.attempt ?? -1) + 1);
  }

  async #createSandbox(attempt: number): Promise<string | undefined> {
    const config = sandboxConfig(this.pod, attempt, this.#context.settings);
    this.#startTimeMs ??= this.#context.nowMs();
    try {
      const id = await this.#context.runtime.runSandbox(config);
      this.#sandboxId = id;
      this.#sandboxConfig = config;
      this.#podIp = (await this.#context.runtime.sandboxStatus(id)).ip;
      this.#waiting.clear();
      return id;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#setWaitingAll("ContainerCreating", message);
      this.#event("Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${message}`);
      return undefined;
    }
  }

  /** The pod's containers in the sandbox by name, newest attempt first; older instances removed. */
  async #instances(sandboxId: string): Promise<Instances> {
    const { runtime } = this.#context;
    const listed = await runtime.listContainers({ sandboxId, labels: { [labelPodUid]: this.uid } });
    const byName = new Map<string, ContainerSummary[]>();
    for (const container of listed) byName.set(container.name, [...(byName.get(container.name) ?? []), container]);
    const instances: Instances = new Map();
    for (const [name, summaries] of byName) {
      summaries.sort((left, right) => right.attempt - left.attempt || right.createdAtMs - left.createdAtMs);
      const statuses: RuntimeContainerStatus[] = [];
      for (const [index, summary] of summaries.entries()) {
        if (index >= instancesKeptPerContainer) {
          await runtime.removeContainer(summary.id);
          continue;
        }
        try {
          const status = await runtime.containerStatus(summary.id);
          const spec = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])].find((candidate) => candidate.name === name);
          statuses.push({ ...status, message: terminationMessage(this.#context.volumes.podDirectory(this.uid), spec, status) });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      instances.set(name, statuses);
    }
    return instances;
  }

  async #syncInitContainers(instances: Instances): Promise<{ done: boolean; failed: boolean }> {
    const restartPolicy = this.pod.spec?.restartPolicy ?? "Always";
    for (const spec of this.pod.spec?.initContainers ?? []) {
      const latest = instances.get(spec.name)?.[0];
      if (spec.restartPolicy === "Always") {
        if (await this.#syncSidecar(spec, latest)) continue;
        return { done: false, failed: false };
      }
      if (latest?.state === "Exited" && latest.exitCode === 0) continue;
      if (latest?.state === "Running") return { done: false, failed: false };
      if (latest?.state === "Created") {
        this.#mutated = true;
        await this.#context.runtime.startContainer(latest.id);
        return { done: false, failed: false };
      }
      if (latest?.state === "Exited") {
        if (restartPolicy === "Never") return { done: false, failed: true };
        await this.#restartWithBackoff(spec, "init", latest);
        return { done: false, failed: false };
      }
      await this.#startContainer(spec, "init", 0);
      return { done: false, failed: false };
    }
    return { done: true, failed: false };
  }

  /**
   * A sidecar (an init container with restartPolicy Always) starts in its init slot, keeps running
   * beside the app containers and is restarted (with backoff) whatever the pod's policy. True when
   * the next init container may go: the sidecar runs and its startup probe (if any) passed.
   */
  async #syncSidecar(spec: Container, latest: RuntimeContainerStatus | undefined): Promise<boolean> {
    if (latest === undefined) {
      await this.#startContainer(spec, "init", 0);
      return false;
    }
    if (latest.state === "Created") {
      this.#mutated = true;
      await this.#context.runtime.startContainer(latest.id);
      return false;
    }
    if (latest.state === "Running") {
      if (this.#killRequests.delete(latest.id)) {
        this.#mutated = true;
        await this.#killContainer(latest, spec, this.#gracePeriodSeconds(), "the container failed its probe and will be restarted");
        return false;
      }
      return spec.startupProbe === undefined || this.#probes.get(latest.id)?.startup === "success";
    }
    await this.#restartWithBackoff(spec, "init", latest);
    // Once past its init slot, an exited sidecar does not hold back the app containers.
    return latest.attempt > 0 || this.#lastStatus?.conditions?.some((condition) => condition.type === "Initialized" && condition.status === "True") === true;
  }

  async #syncAppContainers(instances: Instances): Promise<void> {
    const restartPolicy = this.pod.spec?.restartPolicy ?? "Always";
    for (const spec of this.pod.spec?.containers ?? []) {
      const latest = instances.get(spec.name)?.[0];
      if (latest === undefined) {
        await this.#startContainer(spec, "app", 0);
        continue;
      }
      if (latest.state === "Created") {
        this.#mutated = true;
        await this.#context.runtime.startContainer(latest.id);
        continue;
      }
      if (latest.state === "Running") {
        const specImage = latest.annotations[annotationSpecImage];
        if (specImage !== undefined && specImage !== (spec.image ?? "")) {
          this.#mutated = true;
          await this.#killContainer(latest, spec, this.#gracePeriodSeconds(), "container spec changed, will be restarted");
          continue;
        }
        if (this.#killRequests.delete(latest.id)) {
          this.#mutated = true;
          // A probe's own terminationGracePeriodSeconds wins over the pod's, as upstream.
          const probeGrace = spec.livenessProbe?.terminationGracePeriodSeconds ?? spec.startupProbe?.terminationGracePeriodSeconds;
          await this.#killContainer(latest, spec, probeGrace ?? this.#gracePeriodSeconds(), "the container failed its probe and will be restarted");
        }
        continue;
      }
      const restart = restartPolicy === "Always" || (restartPolicy === "OnFailure" && latest.exitCode !== 0);
      if (restart) await this.#restartWithBackoff(spec, "app", latest);
    }
  }

  async #restartWithBackoff(spec: Container, kind: "init" | "app", latest: RuntimeContainerStatus): Promise<void> {
    const key = `${this.uid}/${spec.name}`;
    const decision = this.#context.backoff.tryRestart(key, latest.finishedAtMs, this.#context.nowMs());
    if (!decision.allowed) {
      const message = `back-off ${formatBackoff(decision.delayMs)} restarting failed container=${spec.name} pod=${this.pod.metadata?.name ?? ""}_${this.pod.metadata?.namespace ?? ""}(${this.uid})`;
      if (this.#waiting.get(spec.name)?.message !== message) this.#event("Warning", "BackOff", "Back-off restarting failed container");
      this.#waiting.set(spec.name, { reason: "CrashLoopBackOff", message });
      return;
    }
    await this.#startContainer(spec, kind, latest.attempt + 1);
  }

  /** Pulls per policy; false (with a waiting reason set) when the image is not there. */
  async #ensureImage(spec: Container): Promise<boolean> {
    const { runtime } = this.#context;
    const image = spec.image ?? "";
    const policy = spec.imagePullPolicy ?? imagePullPolicyFor(image);
    if (policy !== "Always" && (await runtime.imageStatus(image)) !== undefined) return true;
    if (policy === "Never") {
      this.#waiting.set(spec.name, { reason: "ErrImageNeverPull", message: `Container image "${image}" is not present with pull policy of Never` });
      return false;
    }
    const key = `${this.uid}/${spec.name}`;
    const failedAtMs = this.#pullFailedAtMs.get(key);
    if (failedAtMs !== undefined) {
      const decision = this.#context.pullBackoff.tryRestart(key, failedAtMs, this.#context.nowMs());
      if (!decision.allowed) {
        this.#waiting.set(spec.name, { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` });
        return false;
      }
    }
    try {
      const auth = registryAuthFor(image, this.pod, (name) => this.#context.secret(this.pod.metadata?.namespace ?? "default", name));
      this.#event("Normal", "Pulling", `Pulling image "${image}"`);
      await runtime.pullImage(image, auth, this.#sandboxConfig);
      this.#pullFailedAtMs.delete(key);
      this.#event("Normal", "Pulled", `Successfully pulled image "${image}"`);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#pullFailedAtMs.set(key, this.#context.nowMs());
      this.#waiting.set(spec.name, { reason: "ErrImagePull", message });
      this.#event("Warning", "Failed", `Failed to pull image "${image}": ${message}`);
      return false;
    }
  }

  async #startContainer(spec: Container, kind: "init" | "app", attempt: number): Promise<void> {
    const { runtime } = this.#context;
    const sandboxId = this.#sandboxId;
    const sandbox = this.#sandboxConfig;
    if (sandboxId === undefined || sandbox === undefined) return;
    if (!(await this.#ensureImage(spec))) return;
    let config;
    try {
      const env = containerEnvironment(this.pod, spec, this.#context.sources(this.#podIp));
      const messageMount = terminationMessageMount(this.#context.volumes.podDirectory(this.uid), spec, attempt);
      const mounts = [...containerMounts(this.pod, spec, this.#volumePaths), ...(messageMount === undefined ? [] : [messageMount])];
      config = containerConfig({ pod: this.pod, container: spec, kind, attempt, image: spec.image ?? "", env, mounts, nodeName: this.#context.settings.nodeName });
    } catch (error) {
      if (!(error instanceof ContainerConfigError || error instanceof VolumeError)) throw error;
      this.#waiting.set(spec.name, { reason: "CreateContainerConfigError", message: error.message });
      this.#event("Warning", "Failed", `Error: ${error.message}`);
      return;
    }
    let containerId: string;
    this.#mutated = true;
    try {
      containerId = await runtime.createContainer(sandboxId, config, sandbox);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#waiting.set(spec.name, { reason: "CreateContainerError", message });
      this.#event("Warning", "Failed", `Error: ${message}`);
      return;
    }
    this.#event("Normal", "Created", `Created container ${spec.name}`);
    this.#waiting.delete(spec.name);
    try {
      await runtime.startContainer(containerId);
    } catch (error) {
      // The runtime keeps the instance as exited (StartError); the restart policy and backoff take it from here.
      const message = error instanceof Error ? error.message : String(error);
      this.#event("Warning", "Failed", `Error: ${message}`);
      return;
    }
    this.#event("Normal", "Started", `Started container ${spec.name}`);
    await this.#runPostStart(spec, containerId);
  }

  async #runPostStart(spec: Container, containerId: string): Promise<void> {
    const handler = spec.lifecycle?.postStart;
    if (handler === undefined) return;
    const failure = await runLifecycleHandler(handler, { runtime: this.#context.runtime, containerId, container: spec, podIp: this.#podIp }, this.#gracePeriodSeconds());
    if (failure === undefined) return;
    this.#event("Warning", "FailedPostStartHook", failure);
    await this.#context.runtime.stopContainer(containerId, minimumGracePeriodSeconds);
  }

  #gracePeriodSeconds(): number {
    return this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds;
  }

  /** preStop, then SIGTERM and SIGKILL after what is left of the grace period (at least 2 s). */
  async #killContainer(container: { readonly id: string; readonly name: string }, spec: Container | undefined, gracePeriodSeconds: number, why: string): Promise<void> {
    const { runtime, nowMs } = this.#context;
    const deadlineMs = nowMs() + gracePeriodSeconds * 1000;
    this.#event("Normal", "Killing", `Stopping container ${container.name}${why === "" ? "" : `: ${why}`}`);
    const preStop = spec?.lifecycle?.preStop;
    if (preStop !== undefined) {
      const failure = await runLifecycleHandler(preStop, { runtime, containerId: container.id, container: spec ?? { name: container.name }, podIp: this.#podIp }, Math.max(1, gracePeriodSeconds));
      if (failure !== undefined) this.#event("Warning", "FailedPreStopHook", failure);
    }
    const remainingSeconds = Math.max(minimumGracePeriodSeconds, Math.ceil((deadlineMs - nowMs()) / 1000));
    try {
      await runtime.stopContainer(container.id, remainingSeconds);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async #terminate(): Promise<void> {
    const { runtime } = this.#context;
    this.#stopProbes(new Set());
    const gracePeriodSeconds = this.#gracePeriodSeconds();
    const specs = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
    const running = await runtime.listContainers({ labels: { [labelPodUid]: this.uid }, state: "Running" });
    await Promise.all(running.map((container) => this.#killContainer(container, specs.find((spec) => spec.name === container.name), gracePeriodSeconds, "")));
    for (const sandbox of await runtime.listSandboxes({ labels: { [labelPodUid]: this.uid } })) {
      await runtime.stopSandbox(sandbox.id);
      await runtime.removeSandbox(sandbox.id);
    }
    await this.#context.volumes.cleanup(this.uid);
    this.#context.backoff.forget(`${this.uid}/`);
    this.#context.pullBackoff.forget(`${this.uid}/`);
    if (!this.removed) {
      const { namespace = "default", name = "" } = this.pod.metadata ?? {};
      await this.#context.controlPlane.confirmPodDeleted(namespace, name, this.uid);
    }
    this.done = true;
  }

  /** Probe workers for running containers; stopped for containers no longer running. */
  #syncProbes(instances: Instances): void {
    const running = new Set<string>();
    const sidecars = (this.pod.spec?.initContainers ?? []).filter((spec) => spec.restartPolicy === "Always");
    for (const spec of [...sidecars, ...(this.pod.spec?.containers ?? [])]) {
      const latest = instances.get(spec.name)?.[0];
      if (latest?.state !== "Running") continue;
      running.add(latest.id);
      if (!this.#probes.has(latest.id)) this.#startProbes(spec, latest.id);
    }
    this.#stopProbes(running);
  }

  #stopProbes(keep: ReadonlySet<string>): void {
    for (const [containerId, probes] of this.#probes) {
      if (keep.has(containerId)) continue;
      for (const worker of probes.workers) worker.stop();
      this.#probes.delete(containerId);
    }
  }

  #startProbes(spec: Container, containerId: string): void {
    const probes: ContainerProbes = { workers: [], readiness: spec.readinessProbe === undefined ? "success" : "failure", startup: spec.startupProbe === undefined ? "success" : "failure" };
    this.#probes.set(containerId, probes);
    const target = { runtime: this.#context.runtime, containerId, container: spec, podIp: this.#podIp };
    const onChange = (kind: ProbeKind, result: ProbeResult, message: string): void => this.#onProbeChange(spec, containerId, kind, result, message);
    const definitions: [ProbeKind, Container["livenessProbe"]][] = [
      ["startup", spec.startupProbe],
      ["liveness", spec.livenessProbe],
      ["readiness", spec.readinessProbe],
    ];
    for (const [kind, probe] of definitions) {
      if (probe === undefined) continue;
      const gate = kind === "startup" ? () => true : () => probes.startup === "success";
      const worker = new ProbeWorker({ kind, probe, target, onChange, gate, ...(this.#context.probeRunner === undefined ? {} : { runner: this.#context.probeRunner }) });
      probes.workers.push(worker);
      worker.start();
    }
  }

  #onProbeChange(spec: Container, containerId: string, kind: ProbeKind, result: ProbeResult, message: string): void {
    const probes = this.#probes.get(containerId);
    if (probes === undefined) return;
    if (kind === "readiness") probes.readiness = result;
    if (kind === "startup") probes.startup = result;
    if (result === "failure") {
      const label = kind === "liveness" ? "Liveness" : kind === "readiness" ? "Readiness" : "Startup";
      this.#event("Warning", "Unhealthy", `${label} probe failed: ${message}`);
      if (kind !== "readiness") {
        this.#killRequests.add(containerId);
        this.#context.log.info({ pod: this.#name, container: spec.name, kind }, "probe failed: restarting container");
      }
    }
    this.#context.requestSync(this.uid);
  }

  #observation(spec: Container, statuses: readonly RuntimeContainerStatus[]): ContainerObservation {
    const [latest, previous] = statuses;
    const probes = latest === undefined ? undefined : this.#probes.get(latest.id);
    const running = latest?.state === "Running";
    const started = running && (probes === undefined ? spec.startupProbe === undefined : probes.startup === "success");
    const ready = started && (probes === undefined ? spec.readinessProbe === undefined : probes.readiness === "success");
    const waiting = this.#waiting.get(spec.name);
    return {
      name: spec.name,
      image: spec.image ?? "",
      ...(latest === undefined ? {} : { latest }),
      ...(previous === undefined ? {} : { previous }),
      ...(waiting === undefined || running ? {} : { waiting }),
      ready,
      started,
    };
  }

  async #reportStatus(instances: Instances, initFailed: boolean): Promise<void> {
    const status = computePodStatus({
      pod: this.pod,
      initContainers: (this.pod.spec?.initContainers ?? []).map((spec) => this.#observation(spec, instances.get(spec.name) ?? [])),
      containers: (this.pod.spec?.containers ?? []).map((spec) => this.#observation(spec, instances.get(spec.name) ?? [])),
      podIp: this.pod.spec?.hostNetwork === true && this.#sandboxId !== undefined ? this.#context.nodeIp : this.#podIp,
      hostIp: this.#context.nodeIp,
      startTimeMs: this.#startTimeMs,
      initFailed,
      previousStatus: this.#lastStatus,
      nowMs: this.#context.nowMs(),
    });
    const json = JSON.stringify(status);
    if (isTerminalPhase(status.phase) && !this.#finished) await this.#finish();
    if (json === this.#lastStatusJson) return this.#reassertStatus(status);
    const { namespace = "default", name = "" } = this.pod.metadata ?? {};
    await this.#context.controlPlane.reportPodStatus(namespace, name, this.uid, status);
    this.#lastStatus = status;
    this.#lastStatusJson = json;
  }

  /**
   * Writes our unchanged status again when the pod the stream delivered carries another one, as
   * the kubelet's status manager does: the node lifecycle controller marks pods Ready=False while
   * the node is not ready, and only the agent sets them back. Once per resourceVersion and at most
   * statusReassertsMax times for one differing value.
   */
  async #reassertStatus(status: PodStatus): Promise<void> {
    const server = this.pod.status;
    // No status on the object: a static pod's manifest, or a pod our first write has not reached.
    if (server === undefined) return;
    const serverFingerprint = statusFingerprint(server);
    if (serverFingerprint === statusFingerprint(status)) {
      this.#reassertedFingerprint = "";
      this.#reassertCount = 0;
      return;
    }
    if (serverFingerprint !== this.#reassertedFingerprint) {
      this.#reassertedFingerprint = serverFingerprint;
      this.#reassertCount = 0;
    }
    const resourceVersion = this.pod.metadata?.resourceVersion;
    if (this.#reassertCount >= statusReassertsMax) return;
    if (resourceVersion !== undefined && resourceVersion === this.#reassertedResourceVersion) return;
    const { namespace = "default", name = "" } = this.pod.metadata ?? {};
    this.#context.log.info({ pod: this.#name, attempt: this.#reassertCount + 1 }, "the API's pod status differs from the agent's: reporting it again");
    await this.#context.controlPlane.reportPodStatus(namespace, name, this.uid, status);
    this.#reassertCount += 1;
    this.#reassertedResourceVersion = resourceVersion;
  }

  /** Succeeded or Failed: probes stop and the sandbox stops (its containers stay for logs). */
  async #finish(): Promise<void> {
    this.#finished = true;
    this.#stopProbes(new Set());
    if (this.#sandboxId !== undefined) await this.#context.runtime.stopSandbox(this.#sandboxId);
  }

  /** Stops probe timers (the manager is shutting down). */
  close(): void {
    this.#stopProbes(new Set());
  }
}

/**
 * What the agent owns in a pod status, without timestamps and messages (the API may format times
 * differently): phase, condition statuses by type, and each container's state, readiness and
 * restart count.
 */
export function statusFingerprint(status: PodStatus): string {
  const conditions = (status.conditions ?? []).map((condition) => `${condition.type}=${condition.status}`).sort();
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].map((container) => {
    const state = container.state?.running !== undefined ? "running" : container.state?.terminated !== undefined ? "terminated" : container.state?.waiting !== undefined ? `waiting:${container.state.waiting.reason ?? ""}` : "none";
    return `${container.name}:${state}:${String(container.ready)}:${String(container.started ?? "")}:${container.restartCount}`;
  });
  return JSON.stringify([status.phase ?? "", conditions, containers]);
}
