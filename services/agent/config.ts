/** `flotilla agent` flags and the configuration run() takes. */
import { networkInterfaces, hostname } from "node:os";
import type { Taint } from "../../libs/api/index.ts";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "../../libs/flags/index.ts";

export interface AgentConfig {
  /** The control plane: https://HOST:6443 (the node API on 6444 is derived) or HOST:PORT of a node API. */
  readonly server: string;
  /** Join token from `flotilla token create` (unused once the data directory holds credentials). */
  readonly token: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly containerdSocket: string;
  readonly dataDir: string;
  /** `cri` runs real containers; `fake` is an in-memory runtime for scale tests only. */
  readonly runtime: "cri" | "fake";
  /** cgroupfs parent for pod sandboxes ("" lets containerd choose). */
  readonly cgroupParent: string;
  /** Directory of static pod manifests ("" for none). */
  readonly podManifestPath?: string;
  /** The node's network (overlay, proxy, DNS); off with the fake runtime or --disable-network. */
  readonly network?: AgentNetworkConfig | undefined;
  /** The ingress proxy's listeners; off with the fake runtime or both ports 0. */
  readonly ingress?: AgentIngressConfig | undefined;
}

export interface AgentIngressConfig {
  /** 0: no HTTP listener. */
  readonly httpPort: number;
  /** 0: no HTTPS listener. */
  readonly httpsPort: number;
  readonly bindAddress: string;
}

export interface AgentNetworkConfig {
  readonly cniConfDir: string;
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  readonly clusterDnsIp: string;
  readonly clusterDomain: string;
  readonly forwardDns: boolean;
}

export const agentFlags = {
  server: { type: "string", default: "", help: "control-plane URL (https://HOST:6443) or node API address (HOST:6444)" },
  token: { type: "string", default: "", help: "join token from `flotilla token create` (needed on first start only)" },
  "node-name": { type: "string", default: "", help: "this node's name (default: the host name, lower-cased)" },
  "node-ip": { type: "string", default: "", help: "this node's InternalIP (default: the first non-loopback IPv4 address)" },
  labels: { type: "list", default: [], help: "node labels as key=value, comma-separated" },
  taints: { type: "list", default: [], help: "node taints as key[=value]:Effect, comma-separated" },
  "containerd-socket": { type: "string", default: "/run/containerd/containerd.sock", help: "containerd's CRI socket" },
  "data-dir": { type: "string", default: "/var/lib/flotilla/agent", help: "credentials, pod volumes, logs and local-path volumes" },
  runtime: { type: "enum", values: ["cri", "fake"], default: "cri", help: "cri (containerd) or fake (in-memory, scale tests only)" },
  "cgroup-parent": { type: "string", default: "", help: "cgroupfs parent for pod sandboxes" },
  "pod-manifest-path": { type: "string", default: "", help: "directory of static pod manifests, run even without the control plane (\"\": none)" },
  "disable-network": { type: "boolean", default: false, help: "run no overlay, service proxy or DNS (the fake runtime never does)" },
  "cni-conf-dir": { type: "string", default: "/etc/cni/net.d", help: "containerd's CNI conf_dir, where the agent writes the pod network config" },
  "cluster-cidr": { type: "string", default: "10.244.0.0/16", help: "the pod network (each node gets a /24 of it)" },
  "service-cidr": { type: "string", default: "10.96.0.0/12", help: "the service ClusterIP range (routed to the proxy)" },
  "cluster-dns": { type: "string", default: "10.96.0.10", help: "the cluster DNS address pods use (served by this agent)" },
  "cluster-domain": { type: "string", default: "cluster.local", help: "the cluster's DNS domain" },
  "ingress-http-port": { type: "integer", default: 80, min: 0, max: 65535, help: "the ingress proxy's HTTP port (0: none)" },
  "ingress-https-port": { type: "integer", default: 443, min: 0, max: 65535, help: "the ingress proxy's HTTPS port (0: none)" },
  "ingress-bind-address": { type: "string", default: "0.0.0.0", help: "the address the ingress proxy listens on" },
  "dns-forward": { type: "boolean", default: true, help: "forward names outside the cluster to this machine's resolvers (--no-dns-forward: answer REFUSED)" },
} as const satisfies FlagSpecs;

export const agentUsage = "flotilla agent --server URL --token TOKEN [flags]\n\nJoins a worker machine to the cluster and runs its pods through containerd's CRI socket.";

const taintEffects = new Set(["NoSchedule", "PreferNoSchedule", "NoExecute"]);

export function parseTaint(text: string): Taint {
  const colon = text.lastIndexOf(":");
  const effect = colon < 0 ? "" : text.slice(colon + 1);
  if (!taintEffects.has(effect)) throw new FlagError("taints", `invalid taint ${JSON.stringify(text)}: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
  const [key = "", value] = text.slice(0, colon).split("=", 2);
  if (key === "") throw new FlagError("taints", `invalid taint ${JSON.stringify(text)}: empty key`);
  return { key, ...(value === undefined ? {} : { value }), effect: effect as Taint["effect"] };
}

export function parseLabels(items: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const separator = item.indexOf("=");
    if (separator <= 0) throw new FlagError("labels", `invalid label ${JSON.stringify(item)}: want key=value`);
    labels[item.slice(0, separator)] = item.slice(separator + 1);
  }
  return labels;
}

export function defaultNodeIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === "IPv4" && !address.internal) return address.address;
  }
  return "127.0.0.1";
}

/** Parses argv; `{ help }` when --help was given. Throws FlagError on bad flags. */
export function parseAgentFlags(argv: readonly string[]): { config: AgentConfig } | { help: string } {
  const parsed = parseFlags(agentFlags, argv);
  if (parsed.help) return { help: flagsHelp(agentUsage, agentFlags) };
  const values = parsed.values;
  if (values.server === "") throw new FlagError("server", "is required (the control plane's URL)");
  return {
    config: {
      server: values.server,
      token: values.token,
      nodeName: values["node-name"] === "" ? hostname().toLowerCase() : values["node-name"],
      nodeIp: values["node-ip"] === "" ? defaultNodeIp() : values["node-ip"],
      labels: parseLabels(values.labels),
      taints: values.taints.map(parseTaint),
      containerdSocket: values["containerd-socket"],
      dataDir: values["data-dir"],
      runtime: values.runtime,
      cgroupParent: values["cgroup-parent"],
      podManifestPath: values["pod-manifest-path"],
      network:
        values["disable-network"] || values.runtime === "fake"
          ? undefined
          : {
              cniConfDir: values["cni-conf-dir"],
              clusterCidr: cidrFlag("cluster-cidr", values["cluster-cidr"]),
              serviceCidr: cidrFlag("service-cidr", values["service-cidr"]),
              clusterDnsIp: ipv4Flag("cluster-dns", values["cluster-dns"]),
              clusterDomain: values["cluster-domain"],
              forwardDns: values["dns-forward"],
            },
      ingress:
        values.runtime === "fake" || (values["ingress-http-port"] === 0 && values["ingress-https-port"] === 0)
          ? undefined
          : { httpPort: values["ingress-http-port"], httpsPort: values["ingress-https-port"], bindAddress: values["ingress-bind-address"] },
    },
  };
}

function ipv4Flag(flag: string, text: string): string {
  const octets = text.split(".");
  const valid = octets.length === 4 && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
  if (!valid) throw new FlagError(flag, `${JSON.stringify(text)} is not an IPv4 address`);
  return text;
}

function cidrFlag(flag: string, text: string): string {
  const [address = "", prefix = ""] = text.split("/");
  ipv4Flag(flag, address);
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) throw new FlagError(flag, `${JSON.stringify(text)} is not an IPv4 CIDR (a.b.c.d/n)`);
  return text;
}
