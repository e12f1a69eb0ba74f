/**
 * `flotilla store` configuration: etcd's flags with etcd's meanings and defaults, checked
 * together so that an inconsistent cluster definition stops the member with a message naming the
 * flag, before anything is written to disk.
 */
import { createHash } from "node:crypto";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs, type FlagValues } from "../../libs/flags/index.ts";

export const storeFlagSpecs = {
  name: { type: "string", default: "default", help: "human-readable name for this member" },
  "data-dir": { type: "string", default: "", help: "path to the data directory (default ${name}.etcd)" },
  "listen-client-urls": { type: "list", default: ["http://localhost:2379"], help: "URLs to listen on for client traffic" },
  "advertise-client-urls": { type: "list", default: ["http://localhost:2379"], help: "client URLs advertised to the cluster" },
  "listen-peer-urls": { type: "list", default: ["http://localhost:2380"], help: "URLs to listen on for peer traffic" },
  "initial-advertise-peer-urls": { type: "list", default: ["http://localhost:2380"], help: "this member's peer URLs advertised to the cluster" },
  "initial-cluster": { type: "string", default: "", help: "initial cluster configuration, name=peerURL,... (default ${name}=<initial-advertise-peer-urls>)" },
  "initial-cluster-state": { type: "enum", values: ["new", "existing"], default: "new", help: "new for a new cluster, existing to join one" },
  "initial-cluster-token": { type: "string", default: "etcd-cluster", help: "initial cluster token, keeps cluster ids unique" },
  "heartbeat-interval": { type: "integer", default: 100, min: 1, help: "time (ms) of a heartbeat interval" },
  "election-timeout": { type: "integer", default: 1000, min: 1, max: 50_000, help: "time (ms) for an election to time out" },
  "snapshot-count": { type: "integer", default: 100_000, min: 1, help: "committed transactions that trigger a snapshot" },
  "quota-backend-bytes": { type: "integer", default: 0, min: 0, help: "raise an alarm when the key space exceeds this size (0 = 2 GiB)" },
  "max-request-bytes": { type: "integer", default: 1_572_864, min: 1, help: "maximum client request size in bytes" },
  "listen-metrics-urls": { type: "list", default: [], help: "URLs to serve /metrics and /health on" },
  "cert-file": { type: "string", default: "", help: "client server TLS certificate file" },
  "key-file": { type: "string", default: "", help: "client server TLS key file" },
  "trusted-ca-file": { type: "string", default: "", help: "client server TLS trusted CA file" },
  "client-cert-auth": { type: "boolean", default: false, help: "require client certificates signed by --trusted-ca-file" },
  "peer-cert-file": { type: "string", default: "", help: "peer server TLS certificate file" },
  "peer-key-file": { type: "string", default: "", help: "peer server TLS key file" },
  "peer-trusted-ca-file": { type: "string", default: "", help: "peer server TLS trusted CA file" },
  "peer-client-cert-auth": { type: "boolean", default: false, help: "require peer certificates signed by --peer-trusted-ca-file" },
  "log-level": { type: "enum", values: ["debug", "info", "warn", "error"], default: "info", help: "log level" },
} as const satisfies FlagSpecs;

export type StoreFlags = FlagValues<typeof storeFlagSpecs>;

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
}

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly id: number;
}

export interface StoreConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: readonly URL[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly URL[];
  readonly advertisePeerUrls: readonly string[];
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterState: "new" | "existing";
  readonly clusterToken: string;
  readonly memberId: number;
  readonly clusterId: number;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly electionTicks: number;
  readonly snapshotCount: number;
  readonly quotaBackendBytes: number;
  readonly maxRequestBytes: number;
  readonly listenMetricsUrls: readonly URL[];
  readonly clientTls?: TlsFiles;
  readonly peerTls?: TlsFiles;
  readonly logLevel: "debug" | "info" | "warn" | "error";
}

/** etcd's default backend quota (2 GiB) applies when --quota-backend-bytes is 0. */
export const defaultQuotaBackendBytes = 2 * 1024 * 1024 * 1024;

const urlSchemes = new Set(["http:", "https:"]);

export function storeUsage(): string {
  return flagsHelp("flotilla store [flags]", storeFlagSpecs);
}

export function parseStoreFlags(argv: readonly string[]): { config: StoreConfig } | { help: string } {
  const parsed = parseFlags(storeFlagSpecs, argv);
  if (parsed.help) return { help: storeUsage() };
  return { config: resolveStoreConfig(parsed.values, parsed.given) };
}

export function resolveStoreConfig(flags: StoreFlags, given: ReadonlySet<string>): StoreConfig {
  checkTimers(flags);
  const listenClientUrls = parseUrls("listen-client-urls", flags["listen-client-urls"]);
  const listenPeerUrls = parseUrls("listen-peer-urls", flags["listen-peer-urls"]);
  const advertisePeerUrls = parseUrls("initial-advertise-peer-urls", flags["initial-advertise-peer-urls"]).map(urlText);
  const advertiseClientUrls = parseUrls("advertise-client-urls", flags["advertise-client-urls"]).map(urlText);
  const clusterText = given.has("initial-cluster") ? flags["initial-cluster"] : `${flags.name}=${advertisePeerUrls.join(`,${flags.name}=`)}`;
  const initialCluster = parseInitialCluster(clusterText, flags["initial-cluster-token"]);
  const self = initialCluster.find((member) => member.name === flags.name);
  if (self === undefined) {
    throw new FlagError("initial-cluster", `couldn't find local name "${flags.name}" in the initial cluster configuration`);
  }
  if (!sameUrls(self.peerUrls, advertisePeerUrls)) {
    throw new FlagError(
      "initial-cluster",
      `--initial-cluster has ${flags.name}=${self.peerUrls.join(",")} but --initial-advertise-peer-urls is ${advertisePeerUrls.join(",")}`,
    );
  }
  const clientTls = tlsFiles(flags, "", listenClientUrls);
  const peerTls = tlsFiles(flags, "peer-", listenPeerUrls);
  return {
    name: flags.name,
    dataDir: flags["data-dir"] === "" ? `${flags.name}.etcd` : flags["data-dir"],
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    advertisePeerUrls,
    initialCluster,
    initialClusterState: flags["initial-cluster-state"],
    clusterToken: flags["initial-cluster-token"],
    memberId: self.id,
    clusterId: computeClusterId(initialCluster.map((member) => member.id)),
    heartbeatIntervalMs: flags["heartbeat-interval"],
    electionTimeoutMs: flags["election-timeout"],
    electionTicks: Math.floor(flags["election-timeout"] / flags["heartbeat-interval"]),
    snapshotCount: flags["snapshot-count"],
    quotaBackendBytes: flags["quota-backend-bytes"] === 0 ? defaultQuotaBackendBytes : flags["quota-backend-bytes"],
    maxRequestBytes: flags["max-request-bytes"],
    listenMetricsUrls: parseUrls("listen-metrics-urls", flags["listen-metrics-urls"]),
    ...(clientTls === undefined ? {} : { clientTls }),
    ...(peerTls === undefined ? {} : { peerTls }),
    logLevel: flags["log-level"],
  };
}

function checkTimers(flags: StoreFlags): void {
  const heartbeatMs = flags["heartbeat-interval"];
  const electionMs = flags["election-timeout"];
  if (electionMs < 5 * heartbeatMs) {
    throw new FlagError(
      "election-timeout",
      `--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`,
    );
  }
}

function parseUrls(flag: string, texts: readonly string[]): URL[] {
  return texts.map((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new FlagError(flag, `invalid value "${text}": not a URL (want scheme://host:port)`);
    }
    if (!urlSchemes.has(url.protocol)) throw new FlagError(flag, `invalid value "${text}": URL scheme must be http or https`);
    if (url.port === "") throw new FlagError(flag, `invalid value "${text}": URL must name a port`);
    if (url.pathname !== "/" && url.pathname !== "") throw new FlagError(flag, `invalid value "${text}": URL must not have a path`);
    return url;
  });
}

/** Parses `a=http://h:2380,b=http://h:2381,a=http://h2:2380` (a name may have several URLs). */
export function parseInitialCluster(text: string, clusterToken: string): InitialMember[] {
  const urlsByName = new Map<string, string[]>();
  for (const pair of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new FlagError("initial-cluster", `invalid entry "${pair}": want name=URL`);
    const name = pair.slice(0, equals);
    const [url] = parseUrls("initial-cluster", [pair.slice(equals + 1)]);
    const urls = urlsByName.get(name) ?? [];
    urls.push(urlText(url as URL));
    urlsByName.set(name, urls);
  }
  if (urlsByName.size === 0) throw new FlagError("initial-cluster", "no members given");
  const members = [...urlsByName].map(([name, peerUrls]) => ({ name, peerUrls, id: computeMemberId(peerUrls, clusterToken) }));
  const seenUrls = new Map<string, string>();
  for (const member of members) {
    for (const url of member.peerUrls) {
      const holder = seenUrls.get(url);
      if (holder !== undefined) throw new FlagError("initial-cluster", `peer URL ${url} is given for both ${holder} and ${member.name}`);
      seenUrls.set(url, member.name);
    }
  }
  return members;
}

/** A URL as etcd prints it: scheme://host:port, no trailing slash. */
export function urlText(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  const sortedA = [...a].sort();
  const sortedB = [...b].sort();
  return sortedA.length === sortedB.length && sortedA.every((url, i) => url === sortedB[i]);
}

function tlsFiles(flags: StoreFlags, prefix: "" | "peer-", urls: readonly URL[]): TlsFiles | undefined {
  const certFile = flags[`${prefix}cert-file`];
  const keyFile = flags[`${prefix}key-file`];
  const trustedCaFile = flags[`${prefix}trusted-ca-file`];
  const wantsTls = urls.some((url) => url.protocol === "https:");
  if (!wantsTls) return undefined;
  if (certFile === "" || keyFile === "") {
    throw new FlagError(`${prefix}cert-file`, `https URLs need --${prefix}cert-file and --${prefix}key-file`);
  }
  return { certFile, keyFile, trustedCaFile, clientCertAuth: flags[`${prefix}client-cert-auth`] };
}

/**
 * A member id as etcd derives it (SHA-1 of the sorted peer URLs and the cluster token), cut to 53
 * bits so it stays a safe integer in memory; on the wire it is a uint64 like etcd's.
 */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, addedAtMs?: number): number {
  const hash = createHash("sha1");
  hash.update([...peerUrls].sort().join(""));
  hash.update(clusterToken);
  if (addedAtMs !== undefined) hash.update(String(addedAtMs));
  return toSafeId(hash.digest());
}

export function computeClusterId(memberIds: readonly number[]): number {
  const hash = createHash("sha1");
  for (const id of [...memberIds].sort((a, b) => a - b)) hash.update(String(id));
  return toSafeId(hash.digest());
}

function toSafeId(digest: Buffer): number {
  const high = digest.readUInt32BE(0) & 0x1f_ffff; // 21 bits
  const low = digest.readUInt32BE(4);
  const id = high * 0x1_0000_0000 + low;
  return id === 0 ? 1 : id;
}
