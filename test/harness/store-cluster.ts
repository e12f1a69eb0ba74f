/**
 * A local store cluster for integration tests, benchmarks and chaos: N members of either
 * Flotilla's store or a real etcd 3.4, started with the same etcd flags on loopback ports.
 * Running one test suite against both keeps Flotilla honest about etcd compatibility.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts } from "./ports.ts";
import { Daemon, run, type RunResult } from "./process.ts";
import { waitFor } from "./wait.ts";

export type StoreImplementation = "flotilla" | "etcd";

export interface StoreMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly metricsUrl: string;
  readonly dataDir: string;
  daemon: Daemon | undefined;
}

export interface TlsMaterial {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface StoreClusterOptions {
  readonly implementation: StoreImplementation;
  readonly size: number;
  readonly extraFlags?: readonly string[];
  readonly clusterToken?: string;
  /** Serve clients and peers over https with this CA-signed certificate (client certs required). */
  readonly tls?: TlsMaterial;
}

const repoRoot = resolve(import.meta.dirname, "../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
const startTimeoutMs = 30_000;

export class StoreCluster {
  readonly implementation: StoreImplementation;
  readonly members: StoreMember[] = [];
  readonly workDir: string;
  readonly #extraFlags: readonly string[];
  readonly #clusterToken: string;
  readonly tls: TlsMaterial | undefined;

  private constructor(options: StoreClusterOptions, workDir: string) {
    this.implementation = options.implementation;
    this.workDir = workDir;
    this.#extraFlags = options.extraFlags ?? [];
    this.#clusterToken = options.clusterToken ?? `test-${process.pid}-${Date.now()}`;
    this.tls = options.tls;
  }

  get #scheme(): string {
    return this.tls === undefined ? "http" : "https";
  }

  static async start(options: StoreClusterOptions): Promise<StoreCluster> {
    const cluster = new StoreCluster(options, mkdtempSync(join(tmpdir(), `flotilla-${options.implementation}-`)));
    const ports = await freePorts(options.size * 3);
    for (let i = 0; i < options.size; i++) {
      const [client, peer, metrics] = ports.slice(i * 3, i * 3 + 3) as [number, number, number];
      cluster.members.push({
        name: `m${i}`,
        clientUrl: `${cluster.#scheme}://127.0.0.1:${client}`,
        peerUrl: `${cluster.#scheme}://127.0.0.1:${peer}`,
        metricsUrl: `http://127.0.0.1:${metrics}`,
        dataDir: join(cluster.workDir, `m${i}`),
        daemon: undefined,
      });
    }
    try {
      for (const member of cluster.members) cluster.startMember(member, "new");
      await cluster.waitHealthy();
    } catch (error) {
      const logs = cluster.logTails();
      await cluster.destroy();
      throw new Error(`${options.implementation} cluster did not start: ${error instanceof Error ? error.message : String(error)}\n${logs}`, { cause: error });
    }
    return cluster;
  }

  /** Client URLs of the members whose process is running. */
  get endpoints(): string {
    return this.runningEndpoints();
  }

  initialCluster(members: readonly StoreMember[] = this.members): string {
    return members.map((member) => `${member.name}=${member.peerUrl}`).join(",");
  }

  memberFlags(member: StoreMember, state: "new" | "existing", initialCluster = this.initialCluster()): string[] {
    return [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=${member.clientUrl}`,
      `--advertise-client-urls=${member.clientUrl}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--listen-metrics-urls=${member.metricsUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=${this.#clusterToken}`,
      ...this.#tlsFlags(),
      ...this.#extraFlags,
    ];
  }

  #tlsFlags(): string[] {
    const tls = this.tls;
    if (tls === undefined) return [];
    return [
      `--cert-file=${tls.certFile}`,
      `--key-file=${tls.keyFile}`,
      `--trusted-ca-file=${tls.caFile}`,
      "--client-cert-auth",
      `--peer-cert-file=${tls.certFile}`,
      `--peer-key-file=${tls.keyFile}`,
      `--peer-trusted-ca-file=${tls.caFile}`,
      "--peer-client-cert-auth",
    ];
  }

  /** etcdctl's flags for this cluster's TLS (none without TLS). */
  etcdctlTlsFlags(): string[] {
    const tls = this.tls;
    return tls === undefined ? [] : [`--cacert=${tls.caFile}`, `--cert=${tls.certFile}`, `--key=${tls.keyFile}`];
  }

  startMember(member: StoreMember, state: "new" | "existing", initialCluster?: string): void {
    const flags = this.memberFlags(member, state, initialCluster);
    const logPath = join(this.workDir, `${member.name}.log`);
    member.daemon =
      this.implementation === "etcd" ? new Daemon("etcd", flags, logPath) : new Daemon(flotillaBin, ["store", ...flags], logPath);
  }

  /** Adds a member record (ports allocated) without starting it; for member add tests. */
  async allocateMember(name: string): Promise<StoreMember> {
    const [client, peer, metrics] = (await freePorts(3)) as [number, number, number];
    const member: StoreMember = {
      name,
      clientUrl: `${this.#scheme}://127.0.0.1:${client}`,
      peerUrl: `${this.#scheme}://127.0.0.1:${peer}`,
      metricsUrl: `http://127.0.0.1:${metrics}`,
      dataDir: join(this.workDir, name),
      daemon: undefined,
    };
    this.members.push(member);
    return member;
  }

  async etcdctl(args: readonly string[], endpoints = this.endpoints, timeoutMs = 15_000): Promise<RunResult> {
    return run("etcdctl", [`--endpoints=${withoutScheme(endpoints)}`, "--dial-timeout=3s", "--command-timeout=10s", ...this.etcdctlTlsFlags(), ...args], {
      timeoutMs,
      env: { ...process.env, ETCDCTL_API: "3" },
    });
  }

  /** Like etcdctl() but throws with stderr when the command fails. */
  async etcdctlOk(args: readonly string[], endpoints = this.endpoints): Promise<string> {
    const result = await this.etcdctl(args, endpoints);
    if (result.code !== 0) throw new Error(`etcdctl ${args.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  }

  async waitHealthy(members: readonly StoreMember[] = this.members.filter((member) => member.daemon?.running === true)): Promise<void> {
    const endpoints = members.map((member) => member.clientUrl).join(",");
    await waitFor(
      async () => {
        const result = await this.etcdctl(["endpoint", "health"], endpoints, 10_000);
        return result.code === 0 ? true : undefined;
      },
      { timeoutMs: startTimeoutMs, intervalMs: 200, description: `${this.implementation} members ${endpoints} healthy` },
    );
  }

  async leader(): Promise<StoreMember> {
    return waitFor(
      async () => {
        const result = await this.etcdctl(["endpoint", "status", "-w", "json"], this.runningEndpoints(), 10_000);
        if (result.code !== 0 && result.stdout.trim() === "") return undefined;
        const statuses = parseEtcdctlJson(result.stdout) as { Endpoint: string; Status: { header: { member_id: string }; leader: string } }[];
        const leaderStatus = statuses.find((entry) => String(entry.Status.header.member_id) === String(entry.Status.leader));
        return leaderStatus === undefined ? undefined : this.members.find((member) => withoutScheme(member.clientUrl) === leaderStatus.Endpoint);
      },
      { timeoutMs: startTimeoutMs, intervalMs: 200, description: "a leader" },
    );
  }

  runningEndpoints(): string {
    return this.members
      .filter((member) => member.daemon?.running === true)
      .map((member) => member.clientUrl)
      .join(",");
  }

  /** The last lines of every member's log, for failure messages. */
  logTails(linesMax = 30): string {
    return this.members
      .map((member) => {
        const path = join(this.workDir, `${member.name}.log`);
        const text = existsSync(path) ? readFileSync(path, "utf8") : "(no log)";
        return `--- ${member.name} log (last ${linesMax} lines) ---\n${text.split("\n").slice(-linesMax).join("\n")}`;
      })
      .join("\n");
  }

  async destroy(): Promise<void> {
    await Promise.all(this.members.map(async (member) => member.daemon?.kill()));
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** etcdctl's JSON, with uint64 ids read as strings so that no two ids collapse into one double. */
export function parseEtcdctlJson<T>(text: string): T {
  return JSON.parse(text.replace(/(:\s*)(\d{16,})/g, '$1"$2"')) as T;
}

/**
 * Endpoints as host:port for etcdctl. With a scheme, etcdctl 3.4's per-endpoint commands
 * (endpoint status/health) send "http://host:port" as the HTTP/2 :authority; Node's HTTP/2 stack
 * (nghttp2) refuses that as malformed, where Go's accepts it. See services/store/README.md.
 */
export function withoutScheme(endpoints: string): string {
  return endpoints.replace(/[a-z]+:\/\//g, "");
}

/** Implementations under test: STORE_IMPL=etcd|flotilla|both (default both). */
export function storeImplementations(): StoreImplementation[] {
  const wanted = process.env["STORE_IMPL"] ?? "both";
  if (wanted === "both") return ["flotilla", "etcd"];
  if (wanted === "etcd" || wanted === "flotilla") return [wanted];
  throw new Error(`STORE_IMPL must be etcd, flotilla or both, got ${wanted}`);
}
