/**
 * Everything network an agent runs, composed: once its own Node has a pod subnet it creates the
 * VXLAN device, publishes the overlay annotations, writes containerd's CNI config, masquerades
 * pod egress, routes the service CIDR, binds the cluster DNS address, and from then on keeps the
 * overlay, the proxy rules and the DNS zone in step with the node stream. Straight-line startup,
 * each step failing with its name.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EndpointSlice, KubeObject, Node, Service } from "../../libs/api/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { NodeWatchEvent } from "../agent/control-plane.ts";
import { ClusterZone, Responder, startDnsServer, UpstreamForwarder, resolversFromResolvConf } from "../dns/index.ts";
import type { DnsServer } from "../dns/index.ts";
import { ProxySyncer, runNft } from "../proxy/index.ts";
import { cniConfig, cniConfigFileName, podEgressMasqueradeRules } from "./cni-config.ts";
import { publicIpAnnotation, vtepMacAnnotation, vxlanOverheadBytes } from "./overlay-plan.ts";
import { Overlay, runCommand } from "./overlay.ts";
import type { CommandRunner } from "./overlay.ts";

export interface NodeNetworkOptions {
  nodeName: string;
  /** The node's address: VXLAN source, what peers send to, NodePorts. */
  nodeIp: string;
  dataDir: string;
  /** containerd's CNI conf_dir. */
  cniConfDir: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDnsIp: string;
  clusterDomain: string;
  /** Publishes annotations on this node's Node object (through the node API). */
  annotateNode(annotations: Record<string, string>): Promise<void>;
  log: Logger;
  /** Forward names outside the cluster to the node's resolvers (off in tests: nothing leaves the testbed). */
  forwardDns: boolean;
  run?: CommandRunner;
}

/** CoreDNS's kubernetes plugin answers with 5 s by default. */
const dnsTtlSeconds = 5;
/** Overlay reconciles are coalesced: a burst of Node events makes one pass. */
const overlayCoalesceMs = 50;

export class NodeNetwork {
  readonly #options: NodeNetworkOptions;
  readonly #run: CommandRunner;
  readonly #zone: ClusterZone;
  readonly #proxy: ProxySyncer;
  readonly #nodes = new Map<string, Node>();
  #overlay: Overlay | undefined;
  #dns: DnsServer | undefined;
  #starting: Promise<void> | undefined;
  #overlayTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: NodeNetworkOptions) {
    this.#options = options;
    this.#run = options.run ?? runCommand;
    this.#zone = new ClusterZone({ domain: options.clusterDomain, ttlSeconds: dnsTtlSeconds });
    this.#proxy = new ProxySyncer({ nodeName: options.nodeName, clusterCidr: options.clusterCidr, log: options.log, nft: (script) => runNft(script) });
  }

  onNode(event: NodeWatchEvent<Node>): void {
    const name = event.object.metadata.name ?? "";
    if (event.type === "upsert") this.#nodes.set(name, event.object);
    else this.#nodes.delete(name);
    const subnet = this.#nodes.get(this.#options.nodeName)?.spec?.podCIDR;
    if (subnet !== undefined && subnet !== "" && this.#starting === undefined) {
      this.#starting = this.#start(subnet).catch((error: unknown) => {
        this.#options.log.error({ err: error }, "node network failed to start; retrying on the next node event");
        this.#starting = undefined;
      });
    }
    this.#scheduleOverlay();
  }

  onService(event: NodeWatchEvent<Service>): void {
    if (event.type === "upsert") this.#zone.upsertService(event.object);
    else this.#zone.deleteService(event.object);
    this.#proxy.onService(event);
  }

  onEndpointSlice(event: NodeWatchEvent<KubeObject>): void {
    const slice = event.object as EndpointSlice;
    if (event.type === "upsert") this.#zone.upsertEndpointSlice(slice);
    else this.#zone.deleteEndpointSlice(slice);
    this.#proxy.onEndpointSlice(event);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#overlayTimer);
    this.#proxy.close();
    await this.#dns?.close();
  }

  async #start(subnet: string): Promise<void> {
    const options = this.#options;
    const uplink = await step("find the uplink interface", () => this.#uplinkFor(options.nodeIp));
    const overlay = new Overlay({ nodeName: options.nodeName, publicIp: options.nodeIp, uplink, subnet, macFile: join(options.dataDir, "vtep-mac"), run: this.#run });
    await step("create the VXLAN device", () => overlay.ensureDevice());
    await step("publish the overlay annotations", () => options.annotateNode({ [vtepMacAnnotation]: overlay.vtepMac, [publicIpAnnotation]: options.nodeIp }));
    const mtu = (await this.#mtuOf(uplink)) - vxlanOverheadBytes;
    await step("write the CNI config", () => writeCniConfig(options.cniConfDir, subnet, mtu));
    await step("masquerade pod egress", () => runNft(podEgressMasqueradeRules(options.clusterCidr)));
    await step("route the service CIDR", () => this.#run("ip", ["route", "replace", options.serviceCidr, "dev", uplink, "src", options.nodeIp]));
    await step("enable forwarding", () => writeFile("/proc/sys/net/ipv4/ip_forward", "1\n"));
    await step("bind the cluster DNS address", () => this.#run("ip", ["addr", "replace", `${options.clusterDnsIp}/32`, "dev", "lo"]));
    this.#dns = await step("start the DNS server", () => this.#startDns());
    this.#overlay = overlay;
    this.#scheduleOverlay();
    options.log.info({ subnet, uplink, vtepMac: overlay.vtepMac }, "node network ready");
  }

  #startDns(): Promise<DnsServer> {
    const forwarder = this.#options.forwardDns ? new UpstreamForwarder(resolversFromResolvConf()) : undefined;
    const responder = new Responder({ zone: this.#zone, ...(forwarder === undefined ? {} : { forwarder }) });
    return startDnsServer({ host: this.#options.clusterDnsIp, port: 53, responder, log: this.#options.log });
  }

  #scheduleOverlay(): void {
    if (this.#overlay === undefined || this.#closed) return;
    clearTimeout(this.#overlayTimer);
    this.#overlayTimer = setTimeout(() => {
      this.#overlay?.reconcile([...this.#nodes.values()]).catch((error: unknown) => {
        this.#options.log.warn({ err: error }, "overlay reconcile failed; retrying");
        this.#scheduleOverlay();
      });
    }, overlayCoalesceMs);
  }

  async #uplinkFor(address: string): Promise<string> {
    const links = JSON.parse(await this.#run("ip", ["-j", "addr", "show"])) as { ifname: string; addr_info?: { local?: string }[] }[];
    const uplink = links.find((link) => link.addr_info?.some((info) => info.local === address) === true);
    if (uplink === undefined) throw new Error(`no interface holds the node IP ${address} (set --node-ip)`);
    return uplink.ifname;
  }

  async #mtuOf(device: string): Promise<number> {
    const [link] = JSON.parse(await this.#run("ip", ["-j", "link", "show", device])) as { mtu: number }[];
    return link?.mtu ?? 1500;
  }
}

async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (cause) {
    throw new Error(name, { cause });
  }
}

async function writeCniConfig(confDir: string, subnet: string, mtu: number): Promise<void> {
  await mkdir(confDir, { recursive: true });
  await writeFile(join(confDir, cniConfigFileName), cniConfig({ subnet, mtu }));
}
