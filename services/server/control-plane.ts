/**
 * The acting half of a control-plane replica: the controller manager and the scheduler, each
 * under leader election on its own Lease in kube-system (`kube-controller-manager` and
 * `kube-scheduler`, as upstream), so that of all replicas exactly one runs each and another takes
 * over within the lease duration when it dies. Each talks to the API server over HTTPS with its
 * own client certificate from the cluster CA (CN system:kube-controller-manager /
 * system:kube-scheduler), trying every replica's URL in turn when one is down.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { findResource, isStatusError, type Namespace } from "../../libs/api/index.ts";
import {
  ApiEventRecorder,
  HttpApiClient,
  LeaderElector,
  leaseDurationMsDefault,
  renewDeadlineMsDefault,
  retryPeriodMsDefault,
  type ApiClient,
  type Controller,
} from "../../libs/client/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import { loadCa, type CertificateProfile } from "../../libs/pki/index.ts";
import { runControllerManager } from "../controllers/manager.ts";
import { runScheduler } from "../scheduler/index.ts";

export const leaseNamespace = "kube-system";
export const controllerManagerLeaseName = "kube-controller-manager";
export const schedulerLeaseName = "kube-scheduler";
/** How long the control plane waits for its API server to accept a first request. */
export const apiReadyTimeoutMs = 60_000;
const apiProbeIntervalMs = 250;
/**
 * RBAC is not enforced for these identities yet, so their certificates also carry
 * system:masters; drop it once the bootstrap ClusterRoleBindings cover them.
 */
const controlPlaneGroups = ["system:masters"] as const;

export interface ControlPlaneConfig {
  /** The replica's data directory: the cluster CA is read from it. */
  readonly dataDir: string;
  /** This replica's API server first, then the others'. */
  readonly serverUrls: readonly string[];
  readonly disableControllers: boolean;
  readonly disableScheduler: boolean;
  readonly leaseDurationMs: number;
  /** The controllers to run (services/controllers' allControllers()). */
  readonly controllers: () => Promise<readonly Controller[]>;
  readonly logger?: Logger;
  /** Unique per replica; defaults to the host name and a random suffix, as upstream. */
  readonly identity?: string;
  /** Loops that run beside the controllers under the controller-manager Lease (the allocator repair). */
  readonly leaderLoops?: readonly ((leading: AbortSignal) => Promise<void>)[];
}

/** Upstream's ratios (15 s, 10 s, 2 s) applied to a chosen lease duration. */
export function leaderTimings(leaseDurationMs: number): { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number } {
  if (leaseDurationMs === leaseDurationMsDefault) return { leaseDurationMs, renewDeadlineMs: renewDeadlineMsDefault, retryPeriodMs: retryPeriodMsDefault };
  const renewDeadlineMs = Math.round((leaseDurationMs * renewDeadlineMsDefault) / leaseDurationMsDefault);
  const retryPeriodMs = Math.round((leaseDurationMs * retryPeriodMsDefault) / leaseDurationMsDefault);
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

async function componentClient(config: ControlPlaneConfig, commonName: string): Promise<HttpApiClient> {
  const ca = await loadCa(config.dataDir);
  const profile: CertificateProfile = { usage: "client", commonName, organizations: controlPlaneGroups };
  const issued = await ca.issue(profile, Date.now());
  return new HttpApiClient({
    servers: config.serverUrls,
    caCertificatePem: ca.certificatePem,
    credentials: { kind: "client-certificate", certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem },
    userAgent: commonName.replace(/^system:/, ""),
  });
}

/** Creates kube-system if missing, retrying until the API server answers (bounded). */
async function ensureLeaseNamespace(client: ApiClient, signal: AbortSignal): Promise<void> {
  const namespaces = findResource("", "v1", "namespaces")!;
  const deadline = Date.now() + apiReadyTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !signal.aborted) {
    try {
      await client.create<Namespace>(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: leaseNamespace } });
      return;
    } catch (error) {
      if (isStatusError(error, "AlreadyExists")) return;
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, apiProbeIntervalMs));
    }
  }
  if (!signal.aborted) throw new Error(`namespace ${leaseNamespace} could not be created within ${apiReadyTimeoutMs} ms`, { cause: lastError });
}

/** Runs the elected components until `signal` aborts; resolves once they have stopped. */
export async function runControlPlane(config: ControlPlaneConfig, signal: AbortSignal): Promise<void> {
  const identity = config.identity ?? `${hostname()}_${randomBytes(8).toString("hex")}`;
  const timings = leaderTimings(config.leaseDurationMs);
  const clients: HttpApiClient[] = [];
  const runs: Promise<void>[] = [];
  try {
    if (!config.disableControllers) {
      const client = await componentClient(config, "system:kube-controller-manager");
      clients.push(client);
      await ensureLeaseNamespace(client, signal);
      const controllers = await config.controllers();
      const elector = new LeaderElector({
        client,
        namespace: leaseNamespace,
        name: controllerManagerLeaseName,
        identity,
        ...timings,
        ...(config.logger === undefined ? {} : { logger: config.logger }),
        onStartedLeading: async (leading) => {
          // A loop that fails is logged; it must not end the leadership of the controllers beside it.
          const loops = (config.leaderLoops ?? []).map(async (loop) => loop(leading).catch((error: unknown) => config.logger?.warn({ err: error }, "a leader loop stopped with an error")));
          await Promise.all([runControllerManager({ client, controllers, ...(config.logger === undefined ? {} : { logger: config.logger }) }, leading), ...loops]);
        },
      });
      runs.push(elector.run(signal));
    }
    if (!config.disableScheduler) {
      const client = await componentClient(config, "system:kube-scheduler");
      clients.push(client);
      await ensureLeaseNamespace(client, signal);
      const logger = config.logger;
      const events = new ApiEventRecorder(client, { component: "default-scheduler", instance: identity, ...(logger === undefined ? {} : { logger }) });
      const elector = new LeaderElector({
        client,
        namespace: leaseNamespace,
        name: schedulerLeaseName,
        identity,
        ...timings,
        ...(logger === undefined ? {} : { logger }),
        onStartedLeading: async (leading) => runScheduler({ client, events, ...(logger === undefined ? {} : { logger }) }, leading),
      });
      runs.push(elector.run(signal).finally(async () => events.stop()));
    }
    await Promise.all(runs);
  } finally {
    await Promise.allSettled(runs);
    for (const client of clients) client.close();
  }
}
