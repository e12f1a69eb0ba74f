/**
 * `flotilla agent`: one per worker machine. Joins the cluster (or reuses saved credentials),
 * connects to containerd's CRI socket (or an in-memory runtime for scale tests), then runs the
 * pod workers, the node status and lease loops, and the logs/exec/port-forward streams until the
 * signal aborts.
 */
import { readFileSync } from "node:fs";
import { createLogger } from "../../libs/log/index.ts";
import { runDaemon } from "../cli/daemon.ts";
import { parseAgentFlags, type AgentConfig } from "./config.ts";
import type { ControlPlane } from "./control-plane.ts";
import { CriRuntime, type ContainerRuntime } from "./cri/index.ts";
import { localIdentity, measureNode, runLeaseLoop, runNodeStatusLoop } from "./node-status.ts";
import { joinOrLoad, NodeClient, startNodeCertificateRenewal } from "./nodeclient/index.ts";
import { FakeRuntime } from "./pods/fake-runtime.ts";
import { PodManager } from "./pods/pod-manager.ts";
import { StaticPodSource } from "./pods/static-pods.ts";
import { runUsageLoop } from "./stats-report.ts";
import { consumedOptionalKinds } from "./stream-kinds.ts";
import { NodeNetwork } from "../network/index.ts";
import { IngressProxy, withIngressProxy } from "../ingress/index.ts";
import type { NodeStreamHandlers } from "./control-plane.ts";
import type { Logger } from "../../libs/log/index.ts";

const fakeImages = ["docker.io/flotilla/pause:1", "docker.io/flotilla/busybox:1"];

function agentVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return `v${manifest.version}-flotilla`;
}

async function connectRuntime(config: AgentConfig): Promise<ContainerRuntime> {
  if (config.runtime === "fake") return new FakeRuntime({ images: fakeImages });
  const runtime = new CriRuntime({ socket: config.containerdSocket });
  await runtime.connect();
  return runtime;
}

async function joinControlPlane(config: AgentConfig, signal: AbortSignal): Promise<ControlPlane> {
  const labels = { ...wellKnownNodeLabels(config.nodeName), ...config.labels };
  const credentials = await joinOrLoad({ server: config.server, token: config.token, nodeName: config.nodeName, dataDir: config.dataDir, labels, taints: config.taints });
  const logger = createLogger("nodeclient");
  const client = new NodeClient(credentials, logger);
  // The node certificate is renewed (and the connections reopened with it) before it expires.
  const renewal = startNodeCertificateRenewal(client, config.dataDir, { logger });
  signal.addEventListener("abort", () => renewal.stop(), { once: true });
  return client;
}

/**
 * Usage reports through the control plane's node API. Hollow nodes (--runtime fake) report none:
 * it would only load the scale tests' control plane; nor does a control plane without the call.
 */
async function usageLoop(config: AgentConfig, runtime: ContainerRuntime, controlPlane: ControlPlane, log: Logger, signal: AbortSignal): Promise<void> {
  if (config.runtime === "fake" || controlPlane.reportUsage === undefined) return;
  const send = controlPlane.reportUsage.bind(controlPlane);
  await runUsageLoop({ runtime, nodeName: config.nodeName, send, log }, signal);
}

/** Runs the agent until `signal` aborts; each startup step fails with an error naming it. */
export async function run(config: AgentConfig, signal: AbortSignal, controlPlaneOverride?: ControlPlane): Promise<void> {
  const log = createLogger("agent");
  let controlPlane: ControlPlane;
  try {
    controlPlane = controlPlaneOverride ?? (await joinControlPlane(config, signal));
  } catch (cause) {
    throw new Error("join the cluster", { cause });
  }
  let runtime: ContainerRuntime;
  try {
    runtime = await connectRuntime(config);
  } catch (cause) {
    throw new Error(`connect to the container runtime (${config.runtime})`, { cause });
  }
  const manager = new PodManager({
    runtime,
    controlPlane,
    nodeName: config.nodeName,
    nodeIp: config.nodeIp,
    dataDir: config.dataDir,
    ...(config.cgroupParent === "" ? {} : { cgroupParent: config.cgroupParent }),
    // Pods resolve through the DNS this agent serves (--cluster-dns, --cluster-domain).
    ...(config.network === undefined ? {} : { clusterDns: config.network.clusterDnsIp, clusterDomain: config.network.clusterDomain }),
    mountTmpfs: config.runtime === "cri",
    // The node API streams the PVs pinned to this node; an injected control plane may not.
    claimsFromStream: controlPlaneOverride === undefined,
    log,
  });
  log.info({ node: config.nodeName, ip: config.nodeIp, runtime: config.runtime }, "agent started");
  controlPlane.serveStreams(manager.streamHandler(), signal);
  const staticPods = startStaticPods(config, controlPlane, manager, log);
  // Static pods are known before the first full state, so their sandboxes are never orphans.
  staticPods?.scan();
  const network = startNetwork(config, controlPlane, log);
  let ingress: IngressProxy | undefined;
  try {
    ingress = await startIngress(config, log);
  } catch (cause) {
    await network?.close();
    runtime.close();
    throw new Error("start the ingress proxy", { cause });
  }
  const handlers = withNetwork(manager.handlers(), network);
  // The stream carries only the optional kinds (Nodes, EndpointSlices, Ingresses) something here uses.
  const optionalKinds = consumedOptionalKinds({ network: network !== undefined, ingress: ingress !== undefined });
  const streamHandlers = { ...(ingress === undefined ? handlers : withIngressProxy(handlers, ingress)), optionalKinds };
  const identity = localIdentity(config.nodeName, config.nodeIp, agentVersion());
  try {
    await Promise.all([
      controlPlane.watchNode(streamHandlers, signal),
      manager.run(signal),
      runNodeStatusLoop({ controlPlane, identity, measure: () => measureNode(runtime, config.dataDir), log }, signal),
      runLeaseLoop(controlPlane, log, signal),
      staticPods?.run(signal),
      usageLoop(config, runtime, controlPlane, log, signal),
    ]);
  } finally {
    await ingress?.close();
    await network?.close();
    runtime.close();
    log.info({ node: config.nodeName }, "agent stopped");
  }
}

/**
 * The labels the kubelet puts on its Node and workloads select on (topology spread and
 * anti-affinity by kubernetes.io/hostname, nodeSelector by os and arch).
 */
export function wellKnownNodeLabels(nodeName: string): Record<string, string> {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return {
    "kubernetes.io/hostname": nodeName,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": arch,
    "beta.kubernetes.io/os": "linux",
    "beta.kubernetes.io/arch": arch,
  };
}

/** Static pods from --pod-manifest-path, with mirror pods when the control plane makes them. */
function startStaticPods(config: AgentConfig, controlPlane: ControlPlane, manager: PodManager, log: Logger): StaticPodSource | undefined {
  if ((config.podManifestPath ?? "") === "") return undefined;
  const syncMirror = controlPlane.syncMirrorPod?.bind(controlPlane);
  return new StaticPodSource({
    dir: config.podManifestPath ?? "",
    nodeName: config.nodeName,
    onPod: manager.staticPodHandler(),
    ...(syncMirror === undefined ? {} : { syncMirror }),
    log: log.child({ component: "static-pods" }),
  });
}

/** The overlay, service proxy and DNS (services/network), unless the config turns them off. */
function startNetwork(config: AgentConfig, controlPlane: ControlPlane, log: Logger): NodeNetwork | undefined {
  const network = config.network;
  if (network === undefined) return undefined;
  const annotate = controlPlane.annotateNode?.bind(controlPlane);
  return new NodeNetwork({
    nodeName: config.nodeName,
    nodeIp: config.nodeIp,
    dataDir: config.dataDir,
    ...network,
    annotateNode: annotate ?? (() => Promise.reject(new Error("this control plane cannot annotate nodes"))),
    log: log.child({ component: "network" }),
  });
}

/** The ingress proxy's listeners (binding 80/443 needs root or CAP_NET_BIND_SERVICE). */
async function startIngress(config: AgentConfig, log: Logger): Promise<IngressProxy | undefined> {
  const ingress = config.ingress;
  if (ingress === undefined) return undefined;
  const proxy = new IngressProxy();
  const serve = [...(ingress.httpPort === 0 ? [] : ["http" as const]), ...(ingress.httpsPort === 0 ? [] : ["https" as const])];
  const bound = await proxy.listen({ httpPort: ingress.httpPort, httpsPort: ingress.httpsPort, host: ingress.bindAddress, serve });
  log.info({ ...bound, address: ingress.bindAddress }, "ingress proxy listening");
  return proxy;
}

/** The node stream feeds the pod workers and, when it runs, the node network. */
function withNetwork(handlers: NodeStreamHandlers, network: NodeNetwork | undefined): NodeStreamHandlers {
  if (network === undefined) return handlers;
  return {
    ...handlers,
    onNode: (event) => {
      handlers.onNode(event);
      network.onNode(event);
    },
    onService: (event) => {
      handlers.onService(event);
      network.onService(event);
    },
    onEndpointSlice: (event) => {
      handlers.onEndpointSlice(event);
      network.onEndpointSlice(event);
    },
  };
}

export async function main(args: readonly string[]): Promise<number> {
  return runDaemon("agent", args, parseAgentFlags, (config, signal) => run(config, signal));
}
