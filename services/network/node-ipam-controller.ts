/**
 * Node IPAM (kube-controller-manager's range allocator): gives every Node a /24 of the cluster
 * CIDR in spec.podCIDR, never the same one twice. Only the controller-lease holder runs it, and
 * the used set is rebuilt from the node cache plus this process's recent assignments that the
 * cache has not shown yet, so a deleted node's subnet is free again once it is gone and a new
 * leader starts from what the nodes hold.
 */
import type { Node } from "../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../libs/client/types.ts";
import { nodesResource } from "../controllers/common/resources.ts";

export interface NodeIpamOptions {
  /** 10.244.0.0/16 by default. */
  clusterCidr: string;
  /** 24 by default: 256 addresses per node. */
  nodeMaskBits: number;
}

/** Pending assignments older than this are forgotten (the cache has long shown them, or the write failed). */
const pendingForgetMs = 60_000;

export class NodeIpamController implements Controller {
  readonly name = "node-ipam";
  readonly #subnets: string[];
  /** subnet → node name and when, until the cache shows the node holding it. */
  readonly #pending = new Map<string, { nodeName: string; atMs: number }>();
  #context: ControllerContext | undefined;
  #nodes: Informer<Node> | undefined;

  constructor(options: NodeIpamOptions) {
    this.#subnets = enumerateSubnets(options.clusterCidr, options.nodeMaskBits);
  }

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#nodes = context.informers.informerFor<Node>(nodesResource);
    this.#nodes.addHandlers({
      onAdd: (node) => context.queue.add(node.metadata.name ?? ""),
      onUpdate: (_previous, node) => context.queue.add(node.metadata.name ?? ""),
    });
  }

  async reconcile(name: string): Promise<void> {
    const context = this.#context;
    const nodes = this.#nodes;
    if (context === undefined || nodes === undefined) throw new Error("node-ipam used before setup()");
    const cached = nodes.get(name);
    if (cached === undefined || (cached.spec?.podCIDR ?? "") !== "") return;
    // The cache lags behind writes (ours, or a previous leader's): a node updated again before
    // the cache shows its subnet must not get a second one, so ask our pending set, then the store.
    if (this.#pendingFor(name, context.nowMs()) !== undefined) return;
    const node = await context.client.get<Node>(nodesResource, undefined, name);
    if ((node.spec?.podCIDR ?? "") !== "") return;
    const subnet = this.#firstFree(nodes.list(), context.nowMs());
    if (subnet === undefined) {
      context.events.record(node, "Warning", "CIDRNotAvailable", `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`no free /${this.#subnets[0]?.split("/")[1] ?? "?"} left in the cluster CIDR for node ${name}`);
    }
    this.#pending.set(subnet, { nodeName: name, atMs: context.nowMs() });
    try {
      await context.client.patch(nodesResource, undefined, name, "merge", { spec: { podCIDR: subnet, podCIDRs: [subnet] } });
    } catch (error) {
      // The write did not land: the subnet is free again and the retry allocates afresh.
      this.#pending.delete(subnet);
      throw error;
    }
    context.events.record(node, "Normal", "CIDRAssignmentSucceeded", `Node ${name} got pod CIDR ${subnet}`);
  }

  /** The subnet this process gave `nodeName` recently and the cache may not show yet. */
  #pendingFor(nodeName: string, nowMs: number): string | undefined {
    for (const [subnet, pending] of this.#pending) {
      if (pending.nodeName === nodeName && nowMs - pending.atMs <= pendingForgetMs) return subnet;
    }
    return undefined;
  }

  #firstFree(nodes: readonly Node[], nowMs: number): string | undefined {
    const used = new Set<string>();
    for (const node of nodes) for (const cidr of node.spec?.podCIDRs ?? [node.spec?.podCIDR ?? ""]) used.add(cidr);
    for (const [subnet, pending] of this.#pending) {
      const shown = nodes.some((node) => node.metadata.name === pending.nodeName && node.spec?.podCIDR === subnet);
      if (shown || nowMs - pending.atMs > pendingForgetMs) this.#pending.delete(subnet);
      else used.add(subnet);
    }
    return this.#subnets.find((subnet) => !used.has(subnet));
  }
}

/** Every subnet of `maskBits` inside `cidr`, in address order. */
export function enumerateSubnets(cidr: string, maskBits: number): string[] {
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number(prefixText);
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255) || !Number.isInteger(prefix) || prefix < 0 || prefix > maskBits || maskBits > 30) {
    throw new Error(`--cluster-cidr ${cidr} with node mask /${maskBits}: not an IPv4 CIDR that holds /${maskBits} subnets`);
  }
  const base = ((octets[0] ?? 0) * 2 ** 24 + (octets[1] ?? 0) * 2 ** 16 + (octets[2] ?? 0) * 2 ** 8 + (octets[3] ?? 0)) & ~(2 ** (32 - prefix) - 1);
  const count = 2 ** (maskBits - prefix);
  const size = 2 ** (32 - maskBits);
  return Array.from({ length: count }, (_, index) => `${ipv4FromNumber((base >>> 0) + index * size)}/${maskBits}`);
}

function ipv4FromNumber(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}
