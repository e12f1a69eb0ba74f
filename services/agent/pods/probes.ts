/**
 * Liveness, readiness and startup probes with upstream's timing fields. ProbeState is the pure
 * part (thresholds over a sequence of outcomes); ProbeWorker runs one probe on a timer and
 * reports result changes; runProbeAction does one httpGet, tcpSocket or exec attempt.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Container, IntOrString, Probe } from "../../../libs/api/index.ts";
import type { ContainerRuntime } from "../cri/index.ts";

export type ProbeKind = "liveness" | "readiness" | "startup";
export type ProbeResult = "success" | "failure";
export type ProbeOutcome = { readonly result: ProbeResult; readonly message: string };

/** Upstream's defaults (core/v1 SetDefaults_Probe). */
export const probeDefaults = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } as const;
/** Bound on a probe's HTTP response body read (upstream reads at most 10 KiB). */
export const probeBodyBytesMax = 10 * 1024;

/** Consecutive outcomes against the thresholds; the result flips only when a threshold is met. */
export class ProbeState {
  readonly successThreshold: number;
  readonly failureThreshold: number;
  result: ProbeResult;
  #successes = 0;
  #failures = 0;

  constructor(probe: Probe, initial: ProbeResult) {
    this.successThreshold = probe.successThreshold ?? probeDefaults.successThreshold;
    this.failureThreshold = probe.failureThreshold ?? probeDefaults.failureThreshold;
    this.result = initial;
  }

  /** Records one attempt; returns true when the result changed. */
  record(outcome: ProbeResult): boolean {
    if (outcome === "success") {
      this.#successes += 1;
      this.#failures = 0;
      if (this.result !== "success" && this.#successes >= this.successThreshold) {
        this.result = "success";
        return true;
      }
      return false;
    }
    this.#failures += 1;
    this.#successes = 0;
    if (this.result !== "failure" && this.#failures >= this.failureThreshold) {
      this.result = "failure";
      return true;
    }
    return false;
  }

  /** After a liveness or startup failure restarts the container, counting starts over. */
  reset(initial: ProbeResult): void {
    this.result = initial;
    this.#successes = 0;
    this.#failures = 0;
  }
}

export interface ProbeTarget {
  readonly runtime: ContainerRuntime;
  readonly containerId: string;
  readonly container: Container;
  readonly podIp: string;
}

function resolvePort(port: IntOrString, container: Container): number {
  if (typeof port === "number") return port;
  const named = container.ports?.find((candidate) => candidate.name === port);
  if (named !== undefined) return named.containerPort;
  const parsed = Number.parseInt(port, 10);
  if (Number.isNaN(parsed)) throw new Error(`probe port ${port}: no container port has this name`);
  return parsed;
}

function httpProbe(probe: NonNullable<Probe["httpGet"]>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(probe.port, target.container);
  const host = probe.host ?? target.podIp;
  const send = probe.scheme === "HTTPS" ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.32", Accept: "*/*" };
  for (const header of probe.httpHeaders ?? []) headers[header.name] = header.value;
  return new Promise((resolve) => {
    const request = send({ host, port, path: probe.path ?? "/", method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > probeBodyBytesMax) response.destroy();
      });
      response.on("close", () => {
        const code = response.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? { result: "success", message: "" } : { result: "failure", message: `HTTP probe failed with statuscode: ${code}` });
      });
    });
    request.on("timeout", () => request.destroy(new Error(`Get "http://${host}:${port}${probe.path ?? "/"}": context deadline exceeded`)));
    request.on("error", (error) => resolve({ result: "failure", message: error.message }));
    request.end();
  });
}

function tcpProbe(probe: NonNullable<Probe["tcpSocket"]>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(probe.port, target.container);
  const host = probe.host ?? target.podIp;
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.on("connect", () => {
      socket.destroy();
      resolve({ result: "success", message: "" });
    });
    socket.on("timeout", () => socket.destroy(new Error(`dial tcp ${host}:${port}: i/o timeout`)));
    socket.on("error", (error) => resolve({ result: "failure", message: error.message }));
  });
}

async function execProbe(probe: NonNullable<Probe["exec"]>, target: ProbeTarget, timeoutSeconds: number): Promise<ProbeOutcome> {
  try {
    const result = await target.runtime.execSync(target.containerId, probe.command ?? [], timeoutSeconds);
    if (result.exitCode === 0) return { result: "success", message: "" };
    const output = Buffer.concat([result.stdout, result.stderr]).toString("utf8").slice(0, probeBodyBytesMax);
    return { result: "failure", message: `command ${JSON.stringify((probe.command ?? []).join(" "))} exited with ${result.exitCode}: ${output}` };
  } catch (error) {
    return { result: "failure", message: error instanceof Error ? error.message : String(error) };
  }
}

/** One attempt of the probe's handler. */
export async function runProbeAction(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutSeconds = probe.timeoutSeconds ?? probeDefaults.timeoutSeconds;
  if (probe.exec !== undefined) return execProbe(probe.exec, target, timeoutSeconds);
  if (probe.httpGet !== undefined) return httpProbe(probe.httpGet, target, timeoutSeconds * 1000);
  if (probe.tcpSocket !== undefined) return tcpProbe(probe.tcpSocket, target, timeoutSeconds * 1000);
  return { result: "failure", message: "probe has no supported handler (grpc probes are not implemented)" };
}

export type ProbeRunner = (probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;

export interface ProbeWorkerOptions {
  readonly kind: ProbeKind;
  readonly probe: Probe;
  readonly target: ProbeTarget;
  /** Called when the result flips (and for liveness/startup failures, once per failure). */
  readonly onChange: (kind: ProbeKind, result: ProbeResult, message: string) => void;
  /** Startup must succeed before liveness and readiness run; asked before each attempt. */
  readonly gate: () => boolean;
  readonly runner?: ProbeRunner;
}

/** The result a probe starts from, as upstream: readiness and startup fail until proven, liveness passes. */
export function initialResult(kind: ProbeKind): ProbeResult {
  return kind === "liveness" ? "success" : "failure";
}

/** Runs one probe every periodSeconds after initialDelaySeconds until stopped. */
export class ProbeWorker {
  readonly state: ProbeState;
  readonly #options: ProbeWorkerOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ProbeWorkerOptions) {
    this.#options = options;
    this.state = new ProbeState(options.probe, initialResult(options.kind));
  }

  start(): void {
    const delayMs = (this.#options.probe.initialDelaySeconds ?? 0) * 1000;
    this.#schedule(delayMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const { kind, probe, target } = this.#options;
    const periodMs = (probe.periodSeconds ?? probeDefaults.periodSeconds) * 1000;
    // A startup probe that succeeded is done; liveness and readiness wait for it.
    if (kind === "startup" && this.state.result === "success") return;
    if (!this.#options.gate()) return this.#schedule(periodMs);
    const outcome = await (this.#options.runner ?? runProbeAction)(probe, target);
    if (this.#stopped) return;
    const changed = this.state.record(outcome.result);
    if (changed) this.#options.onChange(kind, this.state.result, outcome.message);
    this.#schedule(periodMs);
  }
}
