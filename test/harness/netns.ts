/**
 * Hosts on one machine for tests: each host is a network namespace joined by a veth pair to a
 * bridge in the root namespace (the LAN switch). Partitions are nftables drop rules inside the
 * hosts. Names carry a per-run prefix so two runs never collide, and destroy() removes all of it.
 */
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";

export interface LabHost {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
}

const chaosTable = "flotilla_chaos";

function sh(args: readonly string[]): string {
  return execFileSync(args[0] ?? "", args.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export class NetworkLab {
  readonly prefix: string;
  readonly bridge: string;
  readonly gatewayIp: string;
  readonly hosts: LabHost[] = [];
  readonly #subnet: string;

  private constructor(prefix: string, subnet: string) {
    this.prefix = prefix;
    this.#subnet = subnet;
    this.bridge = `${prefix}br`;
    this.gatewayIp = `${subnet}.1`;
  }

  /** Creates `hostCount` hosts on a fresh bridge; the prefix is at most 8 characters. */
  static create(hostCount: number, prefix = `fl${randomInt(0, 36 ** 4).toString(36).padStart(4, "0")}`): NetworkLab {
    if (prefix.length > 8) throw new Error(`NetworkLab prefix "${prefix}" is longer than 8 characters`);
    // 10.210-249.x.0/24: a private subnet per run, away from the cluster's 10.244/16 and 10.96/12.
    const lab = new NetworkLab(prefix, `10.${210 + randomInt(0, 40)}.${randomInt(0, 256)}`);
    try {
      lab.#createBridge();
      for (let i = 0; i < hostCount; i++) lab.addHost(`h${i}`);
    } catch (error) {
      lab.destroy();
      throw error;
    }
    return lab;
  }

  #createBridge(): void {
    sh(["ip", "link", "add", this.bridge, "type", "bridge"]);
    sh(["ip", "addr", "add", `${this.gatewayIp}/24`, "dev", this.bridge]);
    sh(["ip", "link", "set", this.bridge, "up"]);
  }

  addHost(shortName: string): LabHost {
    const index = this.hosts.length;
    const host = { name: shortName, namespace: `${this.prefix}-${shortName}`, ip: `${this.#subnet}.${index + 2}` };
    const vethOutside = `${this.prefix}v${index}`;
    sh(["ip", "netns", "add", host.namespace]);
    sh(["ip", "link", "add", vethOutside, "type", "veth", "peer", "name", "eth0", "netns", host.namespace]);
    sh(["ip", "link", "set", vethOutside, "master", this.bridge, "up"]);
    sh(["ip", "-n", host.namespace, "addr", "add", `${host.ip}/24`, "dev", "eth0"]);
    sh(["ip", "-n", host.namespace, "link", "set", "eth0", "up"]);
    sh(["ip", "-n", host.namespace, "link", "set", "lo", "up"]);
    this.hosts.push(host);
    return host;
  }

  /** The argv prefix that runs a command inside `host` (nsenter keeps the cgroup mounts visible). */
  nsenter(host: LabHost): string[] {
    return ["nsenter", `--net=/var/run/netns/${host.namespace}`];
  }

  /** Cuts traffic between every pair of hosts in different groups; hosts in no group are cut from all. */
  partition(groups: readonly (readonly LabHost[])[]): void {
    this.heal();
    for (const host of this.hosts) {
      const group = groups.find((candidate) => candidate.includes(host)) ?? [host];
      const blocked = this.hosts.filter((other) => other !== host && !group.includes(other)).map((other) => other.ip);
      if (blocked.length > 0) this.#dropTraffic(host, blocked);
    }
  }

  /** Cuts traffic from `from` to `to` only (an asymmetric partition). */
  dropOneWay(from: LabHost, to: LabHost): void {
    this.#ensureTable(from);
    sh([...this.nsenter(from), "nft", "add", "rule", "inet", chaosTable, "out", "ip", "daddr", to.ip, "drop"]);
  }

  isolate(host: LabHost): void {
    this.partition(this.hosts.filter((other) => other !== host).length > 0 ? [this.hosts.filter((other) => other !== host)] : []);
  }

  heal(): void {
    for (const host of this.hosts) {
      try {
        sh([...this.nsenter(host), "nft", "delete", "table", "inet", chaosTable]);
      } catch {
        // No table: nothing to heal on this host.
      }
    }
  }

  #ensureTable(host: LabHost): void {
    const script = [
      `add table inet ${chaosTable}`,
      `add chain inet ${chaosTable} in { type filter hook input priority -10; policy accept; }`,
      `add chain inet ${chaosTable} out { type filter hook output priority -10; policy accept; }`,
    ].join("\n");
    execFileSync(this.nsenter(host)[0] ?? "", [...this.nsenter(host).slice(1), "nft", "-f", "-"], { input: script });
  }

  #dropTraffic(host: LabHost, ips: readonly string[]): void {
    this.#ensureTable(host);
    const set = `{ ${ips.join(", ")} }`;
    const script = [`add rule inet ${chaosTable} in ip saddr ${set} drop`, `add rule inet ${chaosTable} out ip daddr ${set} drop`].join("\n");
    execFileSync(this.nsenter(host)[0] ?? "", [...this.nsenter(host).slice(1), "nft", "-f", "-"], { input: script });
  }

  destroy(): void {
    for (const host of this.hosts) {
      try {
        sh(["ip", "netns", "del", host.namespace]);
      } catch {
        // Already gone.
      }
    }
    try {
      sh(["ip", "link", "del", this.bridge]);
    } catch {
      // Already gone.
    }
  }
}
