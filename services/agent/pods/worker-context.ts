/** What every pod worker shares: the runtime, the control plane, the node's settings and caches. */
import type { Secret } from "../../../libs/api/index.ts";
import type { ContainerRuntime } from "../cri/index.ts";
import type { ControlPlane } from "../control-plane.ts";
import type { CrashLoopBackoff } from "./backoff.ts";
import type { EnvSources } from "./env.ts";
import type { ProbeRunner } from "./probes.ts";
import type { NodeNetworkSettings } from "./runtime-config.ts";
import type { VolumeManager } from "./volumes.ts";

/** The subset of a pino logger the pod half uses (tests pass a silent one). */
export interface PodLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export const silentLogger: PodLogger = { debug: () => {}, info: () => {}, warn: () => {} };

export interface WorkerContext {
  readonly runtime: ContainerRuntime;
  readonly controlPlane: ControlPlane;
  readonly volumes: VolumeManager;
  readonly backoff: CrashLoopBackoff;
  readonly pullBackoff: CrashLoopBackoff;
  readonly settings: NodeNetworkSettings;
  readonly nodeIp: string;
  readonly nowMs: () => number;
  readonly log: PodLogger;
  /** Env and volume sources as seen now, with the pod's IP filled in. */
  sources(podIp: string): EnvSources;
  secret(namespace: string, name: string): Secret | undefined;
  /** Asks for another sync of the pod soon (a probe result changed). */
  requestSync(uid: string): void;
  readonly probeRunner?: ProbeRunner;
}
