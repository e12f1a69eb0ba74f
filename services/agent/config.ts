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
    },
  };
}
