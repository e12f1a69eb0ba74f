/**
 * The node's side of the overlay: creates the VXLAN device (VNI 1, UDP 8472, learning off, MTU of
 * the uplink minus 50, the same MAC across restarts) holding this node's subnet address, and
 * reconciles its neighbour, FDB and route entries against the other nodes whenever they change.
 * Runs `ip` and `bridge` (iproute2); tests run them inside a host namespace.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Node } from "../../libs/api/index.ts";
import {
  gatewayOf,
  macFromBytes,
  overlayCommands,
  peersFromNodes,
  vxlanDeviceName,
  vxlanId,
  vxlanOverheadBytes,
  vxlanUdpPort,
} from "./overlay-plan.ts";
import type { OverlayObserved } from "./overlay-plan.ts";

/** One `ip`/`bridge` invocation must finish in this time. */
const commandTimeoutMs = 10_000;

/** Runs a command (`ip` or `bridge`) with arguments and resolves its stdout. */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<string>;

export interface OverlayOptions {
  nodeName: string;
  /** This node's public address: the VXLAN source and what peers send to. */
  publicIp: string;
  /** The uplink interface carrying `publicIp` (the MTU comes from it). */
  uplink: string;
  /** This node's pod subnet (Node.spec.podCIDR). */
  subnet: string;
  /** File keeping the VTEP MAC across restarts. */
  macFile: string;
  run?: CommandRunner;
}

export class Overlay {
  readonly #options: OverlayOptions;
  readonly #run: CommandRunner;
  #vtepMac: string | undefined;

  constructor(options: OverlayOptions) {
    this.#options = options;
    this.#run = options.run ?? runCommand;
  }

  /** The MAC peers must program for this node (publish it as a node annotation). */
  get vtepMac(): string {
    if (this.#vtepMac === undefined) throw new Error("overlay: ensureDevice() has not run");
    return this.#vtepMac;
  }

  /** Creates or repairs the VXLAN device; safe to call on every start. */
  async ensureDevice(): Promise<void> {
    this.#vtepMac = await loadOrCreateMac(this.#options.macFile);
    const mtu = (await this.#uplinkMtu()) - vxlanOverheadBytes;
    const existing = await this.#deviceInfo();
    if (existing !== undefined && !this.#deviceMatches(existing)) {
      await this.#run("ip", ["link", "del", vxlanDeviceName]);
    }
    if (existing === undefined || !this.#deviceMatches(existing)) {
      const { publicIp, uplink } = this.#options;
      await this.#run("ip", ["link", "add", vxlanDeviceName, "type", "vxlan", "id", String(vxlanId), "dstport", String(vxlanUdpPort), "local", publicIp, "dev", uplink, "nolearning"]);
    }
    await this.#run("ip", ["link", "set", vxlanDeviceName, "address", this.#vtepMac, "mtu", String(mtu), "up"]);
    await this.#run("ip", ["addr", "replace", `${gatewayOf(this.#options.subnet)}/32`, "dev", vxlanDeviceName]);
  }

  /** Makes the device's entries match the other nodes exactly (adds, updates, removes stale). */
  async reconcile(nodes: readonly Node[]): Promise<number> {
    const peers = peersFromNodes(nodes, this.#options.nodeName);
    const { ip, bridge } = overlayCommands(peers, await this.observe());
    for (const args of ip.filter((command) => command[1] !== "del")) await this.#run("ip", args);
    for (const args of bridge) await this.#run("bridge", args);
    for (const args of ip.filter((command) => command[1] === "del")) await this.#run("ip", args);
    return ip.length + bridge.length;
  }

  /** What the kernel holds on the device now. */
  async observe(): Promise<OverlayObserved> {
    const neighbours = parseJson<{ dst?: string; lladdr?: string; state?: string[] }[]>(await this.#run("ip", ["-j", "neigh", "show", "dev", vxlanDeviceName]));
    const fdb = parseJson<{ mac?: string; dst?: string }[]>(await this.#run("bridge", ["-j", "fdb", "show", "dev", vxlanDeviceName]));
    const routes = parseJson<{ dst?: string; gateway?: string }[]>(await this.#run("ip", ["-j", "route", "show", "dev", vxlanDeviceName]));
    return {
      neighbours: new Map(neighbours.filter((entry) => entry.state?.includes("PERMANENT") === true).flatMap((entry) => (entry.dst !== undefined && entry.lladdr !== undefined ? [[entry.dst, entry.lladdr] as const] : []))),
      fdb: new Map(fdb.flatMap((entry) => (entry.mac !== undefined && entry.dst !== undefined ? [[entry.mac, entry.dst] as const] : []))),
      routes: new Map(routes.flatMap((entry) => (entry.dst !== undefined && entry.gateway !== undefined ? [[entry.dst, entry.gateway] as const] : []))),
    };
  }

  async #uplinkMtu(): Promise<number> {
    const [link] = parseJson<{ mtu?: number }[]>(await this.#run("ip", ["-j", "link", "show", this.#options.uplink]));
    if (link?.mtu === undefined) throw new Error(`overlay: uplink ${this.#options.uplink} has no MTU`);
    return link.mtu;
  }

  async #deviceInfo(): Promise<VxlanInfo | undefined> {
    try {
      const [link] = parseJson<{ linkinfo?: { info_kind?: string; info_data?: VxlanInfo } }[]>(await this.#run("ip", ["-j", "-d", "link", "show", vxlanDeviceName]));
      return link?.linkinfo?.info_kind === "vxlan" ? (link.linkinfo.info_data ?? {}) : { id: -1 };
    } catch {
      return undefined;
    }
  }

  /** A device from an earlier run is kept only if it has our VNI, port, source and no learning. */
  #deviceMatches(info: VxlanInfo): boolean {
    return info.id === vxlanId && info.port === vxlanUdpPort && info.local === this.#options.publicIp && info.learning === false;
  }
}

interface VxlanInfo {
  id?: number;
  port?: number;
  local?: string;
  learning?: boolean;
}

function parseJson<T>(text: string): T {
  return (text.trim() === "" ? [] : JSON.parse(text)) as T;
}

async function loadOrCreateMac(path: string): Promise<string> {
  try {
    const saved = (await readFile(path, "utf8")).trim();
    if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(saved)) return saved;
  } catch {
    // First start: make one below.
  }
  const mac = macFromBytes(randomBytes(5));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${mac}\n`);
  return mac;
}

/** Runs a command with a bounded time; rejects with its stderr. */
export function runCommand(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: commandTimeoutMs }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || error.message}`));
    });
  });
}

/** A runner that enters a network namespace first (tests, and agents started outside their host). */
export function runnerIn(argvPrefix: readonly string[]): CommandRunner {
  const [prefixCommand, ...prefixArgs] = argvPrefix;
  if (prefixCommand === undefined) return runCommand;
  return (command, args) => runCommand(prefixCommand, [...prefixArgs, command, ...args]);
}
