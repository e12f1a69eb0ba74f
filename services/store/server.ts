/**
 * One store member: a Raft node over LevelDB and gRPC, the mvcc state machine, the etcd v3 API on
 * the client URLs, /metrics and /health on the metrics URLs. `runStore` is a straight sequence of
 * awaited steps; each failure names the step. It returns when `signal` aborts and everything
 * has stopped.
 */
import { mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { Server, ServerCredentials, credentials as channelCredentials, type ChannelCredentials } from "@grpc/grpc-js";
import type { Server as HttpServer } from "node:http";
import { loadEtcdProto } from "../../libs/etcdpb/index.ts";
import { createLogger, type Logger } from "../../libs/log/index.ts";
import { minLeaseTtlSeconds } from "../../libs/mvcc/index.ts";
import { createRegistry, serveMetrics } from "../../libs/metrics/index.ts";
import type { StoreConfig, TlsFiles } from "./config.ts";
import { createStoreContext, type StoreContext } from "./context.ts";
import { clusterService, peerClusterService, startMembershipMonitor } from "./api/cluster.ts";
import { kvService } from "./api/kv.ts";
import { fastMethods, installFastUnary } from "./api/fast-unary.ts";
import { withFastKvCodecs } from "./kv-codec.ts";
import { leaseService } from "./api/lease.ts";
import { leaseForwardDefinition, leaseForwardService } from "./api/lease-forward.ts";
import { WatchStreams } from "./api/watch.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { maintenanceService } from "./api/maintenance.ts";
import { registerStoreMetrics } from "./metrics.ts";
import { publishAttributes } from "./publish.ts";
import { RaftNode, type RaftNodeLogger } from "./raft/index.ts";
import { StoreStateMachine } from "./state-machine.ts";
import { discoverSelf } from "./join.ts";

/** etcd's allowance for gRPC framing on top of --max-request-bytes. */
const grpcOverheadBytes = 512 * 1024;
/** Heartbeats a removed member keeps serving, so that answers already decided still go out. */
const removedStopDelayTicks = 10;

export async function runStore(config: StoreConfig, signal: AbortSignal): Promise<void> {
  const logger = createLogger("store", { level: config.logLevel }).child({ member: config.name });
  await step("create the data directory", () => mkdir(config.dataDir, { recursive: true, mode: 0o700 }));
  const identity = await step("find this member's identity", () => discoverSelf(config, peerChannelCredentials(config), logger));
  let raftTerm = 0;
  const stateMachine = new StoreStateMachine({
    memberId: identity.memberId,
    clusterId: identity.clusterId,
    minLeaseTtlSeconds: minLeaseTtlSeconds(config.electionTicks, config.heartbeatIntervalMs),
    raftTerm: () => raftTerm,
  });
  const contextRef: { current?: StoreContext } = {};
  const leaseKeeperRef: { current?: LeaseKeeper } = {};
  const stopped = new AbortController();
  const node = await step("start raft", () =>
    RaftNode.start({
      id: identity.memberId,
      clusterId: identity.clusterId,
      dataDir: config.dataDir,
      stateMachine,
      initialPeers: identity.peers,
      initialClusterState: config.initialClusterState,
      listenAddress: hostPort(config.listenPeerUrls[0] as URL),
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      electionTicks: config.electionTicks,
      snapshotCount: config.snapshotCount,
      raft: { disableProposalForwarding: false },
      ...peerTls(config),
      peerServices: [
        { definition: loadEtcdProto().etcdserverpb.Cluster.service, implementation: peerClusterService(contextRef) },
        { definition: leaseForwardDefinition(), implementation: leaseForwardService(leaseKeeperRef) },
      ],
      logger: raftLogger(logger),
      onFatal: (error) => {
        logger.fatal({ err: error }, "raft node failed; stopping");
        stopped.abort(error);
      },
      onRemoved: () => {
        logger.warn("this member was removed from the cluster; stopping");
        // As etcd (stopWithDelay, 10 ticks): a leader that removed itself still answers the
        // MemberRemove it just applied before its servers close.
        setTimeout(() => stopped.abort(new Error("removed from the cluster")), removedStopDelayTicks * config.heartbeatIntervalMs);
      },
    }),
  );
  node.onLeaderChange((_leader, term) => (raftTerm = term));
  raftTerm = node.status().hardState.term;
  const context = createStoreContext(config, node, stateMachine, logger);
  contextRef.current = context;
  // Lease expiry (decided by the leader) and watch delivery follow the applies from now on.
  const leaseKeeper = new LeaseKeeper(context, { peerCredentials: peerChannelCredentials(config) });
  leaseKeeperRef.current = leaseKeeper;
  leaseKeeper.start();
  const watchStreams = new WatchStreams(context);
  watchStreams.start();
  // The leader's record of which followers answer, for etcd's strict reconfiguration checks.
  const stopMembershipMonitor = startMembershipMonitor(context);
  const servers: Server[] = [];
  const httpServers: HttpServer[] = [];
  signal.addEventListener("abort", () => stopped.abort(), { once: true });
  try {
    httpServers.push(...(await step("serve metrics", () => serveMetricsUrls(context))));
    // As etcd: clients are served only once this member's name and URLs are in the log, so a
    // client never sees a member list with unnamed members (and a member without quorum waits).
    await step("publish member attributes", () => publishAttributes(context, stopped.signal));
    if (!stopped.signal.aborted) {
      servers.push(...(await step("serve clients", () => serveClients(context, watchStreams, leaseKeeper))));
      logger.info({ memberId: identity.memberId.toString(16), clientUrls: config.advertiseClientUrls }, "ready to serve client requests");
    }
    await waitForAbort(stopped.signal);
  } finally {
    await Promise.all(servers.map((server) => shutdownGrpc(server)));
    watchStreams.stop();
    leaseKeeper.stop();
    stopMembershipMonitor();
    await Promise.all(httpServers.map((server) => new Promise((resolve) => server.close(resolve))));
    await node.stop();
    logger.info("stopped");
  }
}

async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (cause) {
    throw new Error(`store: ${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function hostPort(url: URL): string {
  return `${url.hostname}:${url.port}`;
}

async function serveClients(context: StoreContext, watchStreams: WatchStreams, leaseKeeper: LeaseKeeper): Promise<Server[]> {
  const { config } = context;
  const proto = loadEtcdProto().etcdserverpb;
  const servers: Server[] = [];
  for (const url of config.listenClientUrls) {
    const server = new Server({
      "grpc.max_receive_message_length": config.maxRequestBytes + grpcOverheadBytes,
      "grpc.max_send_message_length": 2 ** 31 - 1,
      "grpc.keepalive_permit_without_calls": 1,
    });
    const kvDefinition = withFastKvCodecs(proto.KV.service);
    const kvImplementation = kvService(context);
    server.addService(kvDefinition, kvImplementation);
    server.addService(proto.Watch.service, watchStreams.service());
    server.addService(proto.Lease.service, leaseService(context, leaseKeeper));
    server.addService(proto.Cluster.service, clusterService(context));
    server.addService(proto.Maintenance.service, maintenanceService(context));
    const credentials = url.protocol === "https:" && config.clientTls !== undefined ? serverCredentials(config.clientTls) : ServerCredentials.createInsecure();
    await new Promise<void>((resolve, reject) => server.bindAsync(hostPort(url), credentials, (error) => (error === null ? resolve() : reject(error))));
    installFastUnary(server, fastMethods(kvDefinition, kvImplementation, ["Put", "Range"]), { receiveMessageBytesMax: config.maxRequestBytes + grpcOverheadBytes });
    servers.push(server);
  }
  return servers;
}

async function serveMetricsUrls(context: StoreContext): Promise<HttpServer[]> {
  const registry = createRegistry("flotilla_store_");
  registerStoreMetrics(registry, context);
  const health = async () => {
    if (context.node.leaderId === 0) return { healthy: false, reason: "RAFT NO LEADER" };
    if (context.stateMachine.alarms.size > 0) return { healthy: false, reason: `ALARM ${[...context.stateMachine.alarms].join(",")}` };
    return { healthy: true };
  };
  return Promise.all(context.config.listenMetricsUrls.map((url) => serveMetrics(registry, url.hostname, Number(url.port), health)));
}

function serverCredentials(tls: TlsFiles): ServerCredentials {
  const rootCerts = tls.trustedCaFile === "" ? null : readFileSync(tls.trustedCaFile);
  return ServerCredentials.createSsl(rootCerts, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], tls.clientCertAuth);
}

function peerChannelCredentials(config: StoreConfig): ChannelCredentials {
  const tls = config.peerTls;
  if (tls === undefined) return channelCredentials.createInsecure();
  const rootCerts = tls.trustedCaFile === "" ? undefined : readFileSync(tls.trustedCaFile);
  return channelCredentials.createSsl(rootCerts, readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

function peerTls(config: StoreConfig): { serverCredentials?: ServerCredentials; channelCredentials?: ChannelCredentials } {
  if (config.peerTls === undefined) return {};
  return { serverCredentials: serverCredentials(config.peerTls), channelCredentials: peerChannelCredentials(config) };
}

function raftLogger(logger: Logger): RaftNodeLogger {
  const raft = logger.child({ component: "raft" });
  return {
    debug: (message) => raft.debug(message),
    info: (message) => raft.info(message),
    warn: (message) => raft.warn(message),
    error: (message) => raft.error(message),
  };
}

async function waitForAbort(...signals: AbortSignal[]): Promise<void> {
  if (signals.some((signal) => signal.aborted)) return;
  await new Promise<void>((resolve) => {
    for (const signal of signals) signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Lets in-flight calls finish for a moment, then cuts the rest (streams such as watches). */
async function shutdownGrpc(server: Server): Promise<void> {
  const graceMs = 1000;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
