/**
 * `flotilla server`: one control-plane replica in one process: a store member (services/store's
 * runStore, data in D/store) and the API server against it (CA, certificates and
 * D/admin.kubeconfig in D), or the API server alone against `--datastore-endpoint`. First slice:
 * one replica (`--cluster-init`, or a restart of one), or another replica joining with `--join URL
 * --token T` (replica-join.ts).
 * Once the API server serves, the controller manager and the scheduler run under leader election
 * (services/server/control-plane.ts) unless disabled.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { EtcdClient } from "../../libs/etcd-client/index.ts";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "../../libs/flags/index.ts";
import { createLogger } from "../../libs/log/index.ts";
import { parseStoreFlags } from "../store/config.ts";
import { runStore } from "../store/server.ts";
import { runControlPlane } from "../server/control-plane.ts";
import { loadControllers } from "../server/controllers.ts";
import type { ControllersOptions } from "../controllers/index.ts";
import { parseDurationMs } from "../server/duration.ts";
import { joinCluster } from "./replica-join.ts";
import { runAllocatorRepair } from "./allocator/repair-run.ts";
import { startApiServer } from "./server.ts";
import { nodeApiPortDefault } from "../nodeapi/wire.ts";
import { startReplicaNodeApi } from "../nodeapi/replica-hook.ts";

/** How long the replica waits for its store member to answer before it gives up. */
export const storeReadyTimeoutMs = 60_000;
const storeProbeIntervalMs = 200;

export const replicaFlags = {
  "data-dir": { type: "string", default: "/var/lib/flotilla", help: "the replica's directory: store data, CA, certificates, admin.kubeconfig" },
  "cluster-init": { type: "boolean", default: false, help: "start a new cluster with this replica as its first member" },
  join: { type: "string", default: "", help: "join the cluster of the server at this URL (https://HOST:PORT); needs --token" },
  token: { type: "string", default: "", help: "a server join token from `flotilla token create --kind server` (K10<CA hash>::<id>.<secret>)" },
  name: { type: "string", default: "server", help: "this replica's store member name" },
  "advertise-address": { type: "string", default: "127.0.0.1", help: "address other replicas and clients reach this one at" },
  "api-port": { type: "integer", default: 6443, min: 0, max: 65535, help: "HTTPS API port" },
  "request-timeout": { type: "integer", default: 60, min: 1, max: 3600, help: "seconds before a request that is not long-running (watch, logs, exec, port-forward) times out with 504" },
  "store-client-port": { type: "integer", default: 2379, min: 1, max: 65535, help: "store client port (etcd v3 API)" },
  "store-peer-port": { type: "integer", default: 2380, min: 1, max: 65535, help: "store peer (Raft) port" },
  "datastore-endpoint": { type: "list", default: [], help: "use this external etcd (URLs) instead of a store member" },
  "node-api-port": { type: "integer", default: nodeApiPortDefault, min: 0, max: 65535, help: "gRPC node API port (agents join and stay joined here)" },
  "disable-controllers": { type: "boolean", default: false, help: "do not run the controller manager on this replica" },
  "disable-scheduler": { type: "boolean", default: false, help: "do not run the scheduler on this replica" },
  "node-monitor-grace-period": { type: "string", default: "40s", help: "a node whose Lease is older than this is NotReady (Unknown)" },
  "default-not-ready-toleration-seconds": { type: "integer", default: 300, min: 0, max: 86_400, help: "how long pods without their own toleration stay on a not-ready or unreachable node" },
  "cluster-cidr": { type: "string", default: "10.244.0.0/16", help: "the pod network; each node gets a /24 of it" },
  "leader-elect-lease-duration": { type: "string", default: "15s", help: "how long a dead leader keeps the controller and scheduler Leases (renew deadline and retry scale with it)" },
  "allocator-repair-interval": { type: "string", default: "60s", help: "how often the leader rebuilds the cluster IP and node port bitmaps from the Services (a leaked value is freed on the 3rd round)" },
} as const satisfies FlagSpecs;

/** Leases shorter than this leave no room for a renewal round trip. */
export const leaseDurationMsMin = 1_000;

export interface ReplicaConfig {
  readonly dataDir: string;
  readonly clusterInit: boolean;
  /** Join the cluster of the server at this URL with `joinToken` ("" for none). */
  readonly joinUrl?: string;
  readonly joinToken?: string;
  readonly name: string;
  readonly advertiseAddress: string;
  readonly apiPort: number;
  /** Seconds before a request that is not long-running gets 504 (default 60). */
  readonly requestTimeoutSeconds?: number;
  readonly storeClientPort: number;
  readonly storePeerPort: number;
  readonly datastoreEndpoints: readonly string[];
  readonly nodeApiPort?: number;
  readonly disableControllers: boolean;
  readonly disableScheduler: boolean;
  readonly leaseDurationMs: number;
  /** Controller settings from the flags above (node lifecycle timings, cluster CIDR). */
  readonly controllers: ControllersOptions;
  /** How often the leader repairs the service IP and node port bitmaps (default 60 s). */
  readonly allocatorRepairIntervalMs?: number;
}

function durationFlag(flag: string, text: string): number {
  try {
    return parseDurationMs(text);
  } catch (error) {
    throw new FlagError(flag, (error as Error).message);
  }
}

/** A shorter repair interval would keep the store busy rewriting bitmaps. */
export const allocatorRepairIntervalMsMin = 1_000;

function repairIntervalFlag(text: string): number {
  const intervalMs = durationFlag("allocator-repair-interval", text);
  if (intervalMs < allocatorRepairIntervalMsMin) throw new FlagError("allocator-repair-interval", `must be at least ${allocatorRepairIntervalMsMin} ms`);
  return intervalMs;
}

function leaseDurationFlag(text: string): number {
  const durationMs = durationFlag("leader-elect-lease-duration", text);
  if (durationMs < leaseDurationMsMin) throw new FlagError("leader-elect-lease-duration", `must be at least ${leaseDurationMsMin} ms`);
  return durationMs;
}

export function parseReplicaFlags(argv: readonly string[]): { config: ReplicaConfig } | { help: string } {
  const parsed = parseFlags(replicaFlags, argv);
  if (parsed.help) return { help: flagsHelp("flotilla server [flags]\n\nOne control-plane replica: a store member and the API server.", replicaFlags) };
  const values = parsed.values;
  const config: ReplicaConfig = {
    dataDir: values["data-dir"],
    clusterInit: values["cluster-init"],
    joinUrl: values.join,
    joinToken: values.token,
    name: values.name,
    advertiseAddress: values["advertise-address"],
    apiPort: values["api-port"],
    requestTimeoutSeconds: values["request-timeout"],
    storeClientPort: values["store-client-port"],
    storePeerPort: values["store-peer-port"],
    datastoreEndpoints: values["datastore-endpoint"],
    nodeApiPort: values["node-api-port"],
    disableControllers: values["disable-controllers"],
    disableScheduler: values["disable-scheduler"],
    leaseDurationMs: leaseDurationFlag(values["leader-elect-lease-duration"]),
    allocatorRepairIntervalMs: repairIntervalFlag(values["allocator-repair-interval"]),
    controllers: {
      nodeMonitorGracePeriodMs: durationFlag("node-monitor-grace-period", values["node-monitor-grace-period"]),
      defaultTolerationSeconds: values["default-not-ready-toleration-seconds"],
      clusterCidr: values["cluster-cidr"],
    },
  };
  const hasStore = existsSync(join(config.dataDir, "store"));
  if (values.join !== "" && values.token === "") throw new FlagError("token", "--join needs --token");
  if (config.datastoreEndpoints.length === 0 && !config.clusterInit && !hasStore && values.join === "") {
    throw new FlagError("cluster-init", `${config.dataDir} holds no store yet: start the first replica with --cluster-init, or join one with --join URL --token T`);
  }
  return { config };
}

function storeArgv(config: ReplicaConfig, initialCluster: string | undefined): string[] {
  const clientUrl = `http://${config.advertiseAddress}:${config.storeClientPort}`;
  const peerUrl = `http://${config.advertiseAddress}:${config.storePeerPort}`;
  return [
    `--name=${config.name}`,
    `--data-dir=${join(config.dataDir, "store")}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    ...(initialCluster === undefined ? ["--initial-cluster-state=new"] : ["--initial-cluster-state=existing", `--initial-cluster=${initialCluster}`]),
  ];
}

async function waitForStore(endpoints: readonly string[], signal: AbortSignal): Promise<void> {
  const client = new EtcdClient({ endpoints, requestTimeoutMs: 2_000 });
  const deadline = Date.now() + storeReadyTimeoutMs;
  try {
    for (let attempt = 0; Date.now() < deadline && !signal.aborted; attempt++) {
      try {
        await client.range({ key: Buffer.from("/registry/"), limit: 1 });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, storeProbeIntervalMs));
      }
    }
    throw new Error(`the store at ${endpoints.join(",")} did not answer within ${storeReadyTimeoutMs} ms`);
  } finally {
    client.close();
  }
}

/** Join attempts while the store reports an unhealthy cluster (a member still catching up). */
const joinAttemptsMax = 30;
const joinRetryMs = 2_000;

/** With --join and no store yet: joins (replica-join.ts) and returns the store's initial cluster. */
async function joinIfNew(config: ReplicaConfig): Promise<string | undefined> {
  if ((config.joinUrl ?? "") === "" || existsSync(join(config.dataDir, "store"))) return undefined;
  const peerUrl = `http://${config.advertiseAddress}:${config.storePeerPort}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await joinCluster({ serverUrl: config.joinUrl ?? "", token: config.joinToken ?? "", dataDir: config.dataDir, name: config.name, peerUrl, nowMs: Date.now() });
      return answer.initialCluster;
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      // etcd refuses a member add while the last one added is still catching up: wait for it.
      if (attempt >= joinAttemptsMax || !message.includes("unhealthy cluster")) throw new Error(`join the cluster at ${config.joinUrl ?? ""}: ${message}`, { cause });
      await new Promise((resolve) => setTimeout(resolve, joinRetryMs));
    }
  }
}

/** Runs the replica until `signal` aborts (or the store member stops). */
export async function runReplica(config: ReplicaConfig, signal: AbortSignal): Promise<void> {
  const logger = createLogger("server");
  const storeStop = new AbortController();
  let storeDone: Promise<void> = Promise.resolve();
  let endpoints = config.datastoreEndpoints;
  if (endpoints.length === 0) {
    const parsed = parseStoreFlags(storeArgv(config, await joinIfNew(config)));
    if (!("config" in parsed)) throw new Error("store flags asked for help");
    storeDone = runStore(parsed.config, storeStop.signal).catch((cause: unknown) => {
      logger.error({ err: cause }, "store member stopped with an error");
    });
    endpoints = [`http://${config.advertiseAddress}:${config.storeClientPort}`];
  }
  try {
    await waitForStore(endpoints, signal).catch((cause: unknown) => {
      throw new Error("wait for the store", { cause });
    });
    const api = await startApiServer({
      storeEndpoints: endpoints,
      listenAddress: "0.0.0.0",
      port: config.apiPort,
      dataDir: config.dataDir,
      certificateNames: [config.advertiseAddress],
      maxRequestsInflight: 400,
      requestTimeoutSeconds: config.requestTimeoutSeconds ?? 60,
      advertiseAddress: config.advertiseAddress,
    });
    const nodeApi = await startReplicaNodeApi({ dataDir: config.dataDir, storeEndpoints: endpoints, advertiseAddress: config.advertiseAddress, port: config.nodeApiPort ?? nodeApiPortDefault, replicaName: config.name });
    // Both listeners serve the replica's one serving certificate; a renewal reaches the node API too.
    api.onServingCertificateRenewed((material) => nodeApi.setServingCertificate(material.cert, material.key));
    const controlPlaneStop = new AbortController();
    const stopControlPlane = () => controlPlaneStop.abort();
    signal.addEventListener("abort", stopControlPlane, { once: true });
    const controlPlane = runControlPlane(
      {
        dataDir: config.dataDir,
        serverUrls: [`https://127.0.0.1:${config.apiPort}`],
        disableControllers: config.disableControllers,
        disableScheduler: config.disableScheduler,
        leaseDurationMs: config.leaseDurationMs,
        // Upstream's identity is the host name and a unique suffix; the replica's name says which one leads.
        identity: `${hostname()}_${config.name}_${randomBytes(4).toString("hex")}`,
        controllers: loadControllers(config.controllers),
        leaderLoops: [async (leading) => runAllocatorRepair({ storeEndpoints: endpoints, intervalMs: config.allocatorRepairIntervalMs, logger }, leading)],
        logger,
      },
      controlPlaneStop.signal,
    ).catch((cause: unknown) => {
      logger.error({ err: cause }, "controller manager or scheduler stopped with an error");
    });
    // With an external datastore there is no store member whose end stops the replica.
    const stopped = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    await (config.datastoreEndpoints.length === 0 ? Promise.race([stopped, storeDone]) : stopped);
    // The elected components stop first (releasing their Leases) while the API server still serves.
    controlPlaneStop.abort();
    await controlPlane;
    signal.removeEventListener("abort", stopControlPlane);
    await nodeApi.stop();
    await api.stop();
  } finally {
    storeStop.abort();
    await storeDone;
  }
}
