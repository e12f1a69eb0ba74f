/**
 * `make bench-net`: the data path and the control loops of issue 7, measured on this machine.
 *
 * 1. HTTP through a ClusterIP against the pod IP directly, across hosts: three lab hosts (network
 *    namespaces on one bridge, test/harness/netns.ts): h0 is the client's node with the service
 *    proxy's real nftables rules, h1 runs the "pod" (a Node HTTP server). Closed-loop load from h0,
 *    with keep-alive connections and with a new connection per request (the path where DNAT and
 *    conntrack cost most). Ratio = ClusterIP / direct. (Hosts are namespaces on one bridge, not a
 *    VXLAN overlay between machines: the ratio isolates the proxy's cost.)
 * 2. DNS: the agent's DNS server (ClusterZone + Responder + startDnsServer, as NodeNetwork builds
 *    it) with 1 000 services, A queries from a child process over UDP.
 * 3. Rule updates: the proxy syncer on its own lab host (h2) with 1 000 services of 10 endpoints
 *    each; the first full sync, then single endpoint changes, each timed from the event reaching
 *    the syncer (as the node stream delivers it, so the 20 ms coalescing window counts) until
 *    `nft -f` has applied it.
 *
 * Flags: --seconds N (per load run, default 10), --concurrency N (default 32), --updates N (rule
 * changes timed, default 50). Needs root (namespaces, nftables).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { EndpointSlice, Service } from "../../../libs/api/index.ts";
import { createLogger } from "../../../libs/log/index.ts";
import { ClusterZone, Responder, startDnsServer } from "../../../services/dns/index.ts";
import { ProxySyncer, runNft, shortHash } from "../../../services/proxy/index.ts";
import { NetworkLab, type LabHost } from "../../harness/netns.ts";
import { summarize } from "../store/stats.ts";
import type { ChildJob, LoadSummary } from "./load.ts";

const childScript = fileURLToPath(new URL("./child.ts", import.meta.url));
const clusterCidr = "10.244.0.0/16";
const benchClusterIp = "10.96.100.1";
const podPort = 8080;
/** Services and endpoints per service of the rule-update run (issue 7's figures). */
const ruleServices = 1_000;
const ruleEndpointsPerService = 10;
const log = createLogger("bench-net", { level: "warn" });

interface Flags {
  seconds: number;
  concurrency: number;
  updates: number;
}

function parseArgs(argv: readonly string[]): Flags {
  const flags: Flags = { seconds: 10, concurrency: 32, updates: 50 };
  for (let index = 0; index < argv.length; index += 2) {
    const name = argv[index]?.replace(/^--/, "") ?? "";
    const value = Number(argv[index + 1]);
    if (!(name in flags) || !Number.isInteger(value) || value <= 0) throw new Error(`usage: main.ts [--seconds N] [--concurrency N] [--updates N] (got ${argv[index] ?? ""} ${argv[index + 1] ?? ""})`);
    flags[name as keyof Flags] = value;
  }
  return flags;
}

function childArgv(lab: NetworkLab | undefined, host: LabHost | undefined, job: ChildJob): string[] {
  const prefix = lab === undefined || host === undefined ? [] : lab.nsenter(host);
  return [...prefix, process.execPath, "--import", "tsx", childScript, JSON.stringify(job)];
}

/** Runs a load job in a child process (inside `host` when given) and returns its summary. */
function runChild(lab: NetworkLab | undefined, host: LabHost | undefined, job: ChildJob): LoadSummary {
  const [command = "", ...args] = childArgv(lab, host, job);
  const output = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(output.trim().split("\n").pop() ?? "{}") as LoadSummary;
}

/** Starts the "pod": an HTTP server in `host`, resolved once it prints ready. */
async function startPod(lab: NetworkLab, host: LabHost): Promise<ChildProcess> {
  const [command = "", ...args] = childArgv(lab, host, { mode: "serve-http", port: podPort });
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => (chunk.toString().includes("ready") ? resolve() : undefined));
    child.on("exit", (code) => reject(new Error(`the pod server exited with ${String(code)}`)));
  });
  return child;
}

function service(name: string, clusterIp: string): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "bench" }, spec: { clusterIP: clusterIp, clusterIPs: [clusterIp], ports: [{ name: "http", port: 80, protocol: "TCP" }] } };
}

function slice(serviceName: string, addresses: readonly string[], readyCount = addresses.length): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${serviceName}-1`, namespace: "bench", labels: { "kubernetes.io/service-name": serviceName } },
    addressType: "IPv4",
    endpoints: addresses.map((ip, index) => ({ addresses: [ip], conditions: { ready: index < readyCount } })),
    ports: [{ name: "http", port: podPort, protocol: "TCP" }],
  };
}

/** Load runs per path and mode; they alternate between the two paths. */
const httpRounds = 2;

/** Means of the rounds' rates and percentiles (each round is as long as the others). */
function meanOf(rounds: readonly LoadSummary[]): LoadSummary {
  const mean = (pick: (summary: LoadSummary) => number): number => rounds.reduce((total, summary) => total + pick(summary), 0) / rounds.length;
  return { completed: mean((summary) => summary.completed), errors: mean((summary) => summary.errors), perSecond: mean((summary) => summary.perSecond), p50Ms: mean((summary) => summary.p50Ms), p99Ms: mean((summary) => summary.p99Ms) };
}

function line(label: string, summary: LoadSummary): string {
  return `${label.padEnd(46)} ${summary.perSecond.toFixed(0).padStart(8)}/s  p50 ${summary.p50Ms.toFixed(2).padStart(7)} ms  p99 ${summary.p99Ms.toFixed(2).padStart(7)} ms  errors ${summary.errors}`;
}

async function benchClusterIpPath(lab: NetworkLab, flags: Flags): Promise<void> {
  const [client, pod] = lab.hosts as [LabHost, LabHost];
  execFileSync(lab.nsenter(client)[0] ?? "", [...lab.nsenter(client).slice(1), "ip", "route", "add", "10.96.0.0/12", "dev", "eth0"]);
  const syncer = new ProxySyncer({ nodeName: "bench-node", clusterCidr, log, nft: (script) => runNft(script, lab.nsenter(client)) });
  const server = await startPod(lab, pod);
  try {
    syncer.onService({ type: "upsert", object: service("web", benchClusterIp) });
    syncer.onEndpointSlice({ type: "upsert", object: slice("web", [pod.ip]) });
    await syncer.syncNow();
    // Half the time each, alternating, so a change in the machine's load hits both paths alike.
    const durationMs = (flags.seconds * 1000) / httpRounds;
    for (const keepAlive of [true, false]) {
      const load = (url: string): LoadSummary => runChild(lab, client, { mode: "http-load", url, concurrency: flags.concurrency, durationMs, keepAlive });
      const direct: LoadSummary[] = [];
      const viaClusterIp: LoadSummary[] = [];
      for (let round = 0; round < httpRounds; round++) {
        direct.push(load(`http://${pod.ip}:${podPort}/`));
        viaClusterIp.push(load(`http://${benchClusterIp}/`));
      }
      const mode = keepAlive ? "keep-alive" : "new connection per request";
      const [directMean, clusterMean] = [meanOf(direct), meanOf(viaClusterIp)];
      console.log(line(`pod IP direct (${mode})`, directMean));
      console.log(line(`ClusterIP (${mode})`, clusterMean));
      console.log(`  ratio ClusterIP/direct: requests/s ${(clusterMean.perSecond / directMean.perSecond).toFixed(3)}, p99 ${(clusterMean.p99Ms / directMean.p99Ms).toFixed(3)}`);
    }
  } finally {
    syncer.close();
    server.kill("SIGKILL");
  }
}

async function benchDns(flags: Flags): Promise<void> {
  const zone = new ClusterZone({ domain: "cluster.local", ttlSeconds: 5 });
  const names: string[] = [];
  for (let index = 0; index < ruleServices; index++) {
    const name = `svc-${index}`;
    zone.upsertService(service(name, `10.96.${10 + Math.floor(index / 250)}.${index % 250}`));
    names.push(`${name}.bench.svc.cluster.local`);
  }
  const server = await startDnsServer({ host: "127.0.0.1", port: 0, responder: new Responder({ zone }), log });
  try {
    // The server answers in this process; the queries come from a child, so they do not share a loop.
    const job: ChildJob = { mode: "dns-load", server: "127.0.0.1", port: server.port, names, concurrency: flags.concurrency, durationMs: flags.seconds * 1000 };
    const [command = "", ...args] = childArgv(undefined, undefined, job);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`dns load exited with ${String(code)}`))));
    });
    console.log(line("DNS A queries (1 000 services, UDP)", JSON.parse(output.trim().split("\n").pop() ?? "{}") as LoadSummary));
  } finally {
    await server.close();
  }
}

function endpointAddresses(serviceIndex: number): string[] {
  return Array.from({ length: ruleEndpointsPerService }, (_, index) => `10.244.${Math.floor(serviceIndex / 100)}.${(serviceIndex % 100) * 2 + index + 1}`);
}

async function benchRuleUpdates(lab: NetworkLab, flags: Flags): Promise<void> {
  const host = lab.hosts[2];
  if (host === undefined) throw new Error("the lab has no third host");
  // The time `nft -f` itself takes, per transaction: the part of an update the syncer does not control.
  const nftMs: number[] = [];
  const nft = async (script: string): Promise<void> => {
    const startMs = performance.now();
    await runNft(script, lab.nsenter(host));
    nftMs.push(performance.now() - startMs);
  };
  const syncer = new ProxySyncer({ nodeName: "bench-node", clusterCidr, log, nft });
  try {
    for (let index = 0; index < ruleServices; index++) {
      syncer.onService({ type: "upsert", object: service(`svc-${index}`, `10.96.${10 + Math.floor(index / 250)}.${index % 250}`) });
      syncer.onEndpointSlice({ type: "upsert", object: slice(`svc-${index}`, endpointAddresses(index)) });
    }
    const fullStartMs = performance.now();
    await syncer.syncNow();
    console.log(`rule sync, ${ruleServices} services x ${ruleEndpointsPerService} endpoints: first full transaction ${(performance.now() - fullStartMs).toFixed(0)} ms`);
    const latenciesMs: number[] = [];
    nftMs.length = 0;
    if (flags.updates > ruleServices) throw new Error(`--updates at most ${ruleServices} (each update touches a fresh service)`);
    for (let update = 0; update < flags.updates; update++) {
      // 37 and 1 000 are coprime: the first 1 000 updates touch distinct services.
      const index = (update * 37) % ruleServices;
      const lastIp = endpointAddresses(index)[ruleEndpointsPerService - 1] ?? "";
      const lastChain = `ep_${shortHash(`bench/svc-${index}:http`)}_${shortHash(`${lastIp}:${podPort}`)}`;
      // The last endpoint of a service not touched before turns unready: its chain must go.
      if (!syncer.applied.chains.has(lastChain)) throw new Error(`the rules lack ${lastChain} before its update: the bench measures nothing`);
      const startMs = performance.now();
      syncer.onEndpointSlice({ type: "upsert", object: slice(`svc-${index}`, endpointAddresses(index), ruleEndpointsPerService - 1) });
      await waitUntil(() => !syncer.applied.chains.has(lastChain));
      latenciesMs.push(performance.now() - startMs);
    }
    const summary = summarize(latenciesMs);
    console.log(`rule update (one endpoint change, change to rules applied): p50 ${summary?.p50Ms.toFixed(1) ?? "-"} ms, p99 ${summary?.p99Ms.toFixed(1) ?? "-"} ms, max ${summary?.maxMs.toFixed(1) ?? "-"} ms over ${latenciesMs.length}`);
    const nftSummary = summarize(nftMs);
    console.log(`  of which nft -f (spawn, cache of the table, commit): p50 ${nftSummary?.p50Ms.toFixed(1) ?? "-"} ms, p99 ${nftSummary?.p99Ms.toFixed(1) ?? "-"} ms`);
  } finally {
    syncer.close();
  }
}

/** Polls every millisecond, at most `updateTimeoutMs`: the syncer's own timer does the work. */
const updateTimeoutMs = 10_000;
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadlineMs = performance.now() + updateTimeoutMs;
  while (!condition()) {
    if (performance.now() > deadlineMs) throw new Error(`a rule update took longer than ${updateTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2));
  const [load1] = loadavg();
  console.log(`bench-net: ${flags.seconds} s per load run, concurrency ${flags.concurrency}, load average at start ${load1?.toFixed(2) ?? "?"}`);
  const lab = NetworkLab.create(3);
  try {
    await benchClusterIpPath(lab, flags);
    await benchDns(flags);
    await benchRuleUpdates(lab, flags);
  } finally {
    lab.destroy();
  }
}

await main();
