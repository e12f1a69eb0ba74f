/**
 * The servers the API bench runs against, each started fresh in its own temp dir:
 *  - server-1: one `flotilla server --cluster-init` (its own store member and API server);
 *  - server-3: that, then two `flotilla server --join https://HOST:PORT --token T` replicas;
 *  - apiserver+store / apiserver+etcd: `flotilla apiserver --store-endpoints` over a 1-member
 *    store started by test/harness/store-cluster.ts, Flotilla's or Debian's etcd 3.4, so the
 *    store's share of the API path shows as a ratio with everything else held equal.
 * Servers run with --disable-scheduler and --disable-controllers (`flotilla apiserver` runs
 * neither), so only the API path is measured.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts } from "../../harness/ports.ts";
import { Daemon, run } from "../../harness/process.ts";
import { StoreCluster, type StoreImplementation } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";
import { BenchClient, credentialsFromKubeconfig, type Credentials } from "./http.ts";

export type TopologyName = "server-1" | "server-3" | "apiserver+store" | "apiserver+etcd";
export const topologyNames: readonly TopologyName[] = ["server-1", "server-3", "apiserver+store", "apiserver+etcd"];

export interface BenchProcess {
  readonly role: string;
  readonly pid: number;
}

export interface Topology {
  readonly name: TopologyName;
  readonly apiUrls: readonly string[];
  readonly credentials: Credentials;
  /** Every server-side process, for CPU accounting. */
  processes(): BenchProcess[];
  stop(): Promise<void>;
}

const repoRoot = resolve(import.meta.dirname, "../../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const startTimeoutMs = 60_000;
const commandTimeoutMs = 30_000;
/** Grace after SIGTERM; long enough for a --cpu-prof process to write its profile. */
const stopGraceMs = 20_000;

export interface StartOptions {
  /** Extra node flags for the API-serving processes (e.g. --cpu-prof --cpu-prof-dir=D). */
  readonly nodeFlags: string | undefined;
}

function daemonEnv(options: StartOptions): NodeJS.ProcessEnv {
  return options.nodeFlags === undefined ? process.env : { ...process.env, FLOTILLA_NODE_FLAGS: options.nodeFlags };
}

/** What waitReady saw: the server's credentials, or that its process exited first. */
type Readiness = Credentials | "exited";

async function waitReady(url: string, kubeconfig: string, logPath: string, daemon: Daemon): Promise<Readiness> {
  try {
    return await waitFor<Readiness>(async () => {
      if (!daemon.running) return "exited";
      if (!existsSync(kubeconfig)) return undefined;
      const credentials = credentialsFromKubeconfig(kubeconfig);
      const client = new BenchClient(url, credentials);
      try {
        const answer = await client.send("GET", "/readyz");
        return answer.status === 200 ? credentials : undefined;
      } finally {
        client.close();
      }
    }, { timeoutMs: startTimeoutMs, intervalMs: 250, description: `${url} to answer /readyz` });
  } catch (error) {
    const log = existsSync(logPath) ? readFileSync(logPath, "utf8").slice(-3000) : "";
    throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
  }
}

function pidOf(daemon: Daemon, role: string): BenchProcess {
  const pid = daemon.pid;
  if (pid === undefined || !daemon.running) throw new Error(`${role} is not running`);
  return { role, pid };
}

/**
 * A join can be refused while the cluster is still settling from the previous join (seen:
 * "etcdserver: unhealthy cluster" right after the second replica answered /readyz); the replica
 * then exits. The bench retries such a replica from a fresh data dir a bounded number of times.
 */
const joinAttemptsMax = 4;
const joinRetryDelayMs = 5000;

async function startServer(workDir: string, index: number, options: StartOptions, join_?: { url: string; token: string }): Promise<{ daemon: Daemon; url: string; dataDir: string }> {
  for (let attempt = 1; ; attempt++) {
    const started = await startServerOnce(workDir, index, attempt, options, join_);
    if (started !== "exited") return started;
    if (join_ === undefined || attempt >= joinAttemptsMax) throw new Error(`server s${index} exited before it was ready (attempt ${attempt}); see ${join(workDir, `s${index}-${attempt}.log`)}`);
    console.error(`server s${index} exited before it was ready (attempt ${attempt}); retrying the join in ${joinRetryDelayMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, joinRetryDelayMs));
  }
}

async function startServerOnce(workDir: string, index: number, attempt: number, options: StartOptions, join_?: { url: string; token: string }): Promise<{ daemon: Daemon; url: string; dataDir: string } | "exited"> {
  const [api, storeClient, storePeer] = (await freePorts(3)) as [number, number, number];
  const dataDir = join(workDir, `s${index}-${attempt}`);
  const flags = [
    "server", `--name=s${index}`, "--disable-controllers", "--disable-scheduler", "--node-api-port=0",
    `--data-dir=${dataDir}`, `--api-port=${api}`, `--store-client-port=${storeClient}`, `--store-peer-port=${storePeer}`,
    ...(join_ === undefined ? ["--cluster-init"] : [`--join=${join_.url}`, `--token=${join_.token}`]),
  ];
  const logPath = join(workDir, `s${index}-${attempt}.log`);
  const daemon = new Daemon(flotillaBin, flags, logPath, daemonEnv(options));
  const url = `https://127.0.0.1:${api}`;
  const readiness = await waitReady(url, join(dataDir, "admin.kubeconfig"), logPath, daemon);
  return readiness === "exited" ? "exited" : { daemon, url, dataDir };
}

async function startServers(name: TopologyName, replicas: number, options: StartOptions): Promise<Topology> {
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-bench-api-"));
  const servers: { daemon: Daemon; url: string; dataDir: string }[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.daemon.stop(stopGraceMs)));
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const first = await startServer(workDir, 0, options);
    servers.push(first);
    if (replicas > 1) {
      const made = await run(flotillaBin, ["token", "create", `--data-dir=${first.dataDir}`, "--kind=server"], { timeoutMs: commandTimeoutMs });
      if (made.code !== 0) throw new Error(`flotilla token create: ${made.stderr}`);
      const token = made.stdout.trim();
      // One at a time: a store member joins while the others are all up.
      for (let index = 1; index < replicas; index++) servers.push(await startServer(workDir, index, options, { url: first.url, token }));
    }
    return {
      name,
      apiUrls: servers.map((server) => server.url),
      credentials: credentialsFromKubeconfig(join(first.dataDir, "admin.kubeconfig")),
      processes: () => servers.map((server, index) => pidOf(server.daemon, `server s${index}`)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startApiServer(name: TopologyName, implementation: StoreImplementation, options: StartOptions): Promise<Topology> {
  const cluster = await StoreCluster.start({ implementation, size: 1 });
  const workDir = mkdtempSync(join(tmpdir(), "flotilla-bench-apiserver-"));
  let daemon: Daemon | undefined;
  const stop = async (): Promise<void> => {
    await daemon?.stop(stopGraceMs);
    await cluster.destroy();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const [port] = (await freePorts(1)) as [number];
    const dataDir = join(workDir, "data");
    const logPath = join(workDir, "apiserver.log");
    const storeUrl = cluster.members[0]?.clientUrl ?? "";
    daemon = new Daemon(flotillaBin, ["apiserver", `--store-endpoints=${storeUrl}`, "--listen-address=127.0.0.1", `--port=${port}`, `--data-dir=${dataDir}`], logPath, daemonEnv(options));
    const url = `https://127.0.0.1:${port}`;
    const credentials = await waitReady(url, join(dataDir, "admin.kubeconfig"), logPath, daemon);
    if (credentials === "exited") throw new Error(`flotilla apiserver exited before it was ready:\n${readFileSync(logPath, "utf8").slice(-3000)}`);
    const apiDaemon = daemon;
    return {
      name,
      apiUrls: [url],
      credentials,
      processes: () => [pidOf(apiDaemon, "apiserver"), ...cluster.members.map((member) => pidOf(member.daemon as Daemon, `${implementation} member`))],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function startTopology(name: TopologyName, options: StartOptions): Promise<Topology> {
  switch (name) {
    case "server-1": return startServers(name, 1, options);
    case "server-3": return startServers(name, 3, options);
    case "apiserver+store": return startApiServer(name, "flotilla", options);
    case "apiserver+etcd": return startApiServer(name, "etcd", options);
  }
}
