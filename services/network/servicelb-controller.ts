/**
 * servicelb, as k3s does it on bare metal: a Service of type LoadBalancer answers on the addresses
 * of chosen nodes, and its status.loadBalancer.ingress lists them. The chosen nodes are the Ready
 * nodes labelled `svccontroller.k3s.cattle.io/enablelb=true`, or every Ready node when no node
 * carries that label (k3s's rule). A node's address is its ExternalIP when it has one, else its
 * InternalIP. Every agent's proxy DNATs `<listed address>:<port>` to the service's endpoints, so
 * the node holding the address answers (services/proxy). Run by the leader with the controllers.
 *
 * Services with spec.loadBalancerClass belong to another implementation and are left alone; a
 * Service that stops being a LoadBalancer has the addresses it got from us taken away.
 */
import { defined } from "../../libs/assert/index.ts";
import { findResource, isStatusError } from "../../libs/api/index.ts";
import type { Node, ResourceInfo, Service } from "../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../libs/client/types.ts";

/** The node label that picks the nodes LoadBalancer services answer on (k3s's label). */
export const enableLbLabel = "svccontroller.k3s.cattle.io/enablelb";

function resource(group: string, version: string, plural: string): ResourceInfo {
  return defined(findResource(group, version, plural), `registry serves ${group}/${version}/${plural}`);
}

const servicesResource = resource("", "v1", "services");
const nodesResource = resource("", "v1", "nodes");

type LoadBalancerEntries = NonNullable<NonNullable<NonNullable<Service["status"]>["loadBalancer"]>["ingress"]>;

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

function addressOf(node: Node): string | undefined {
  const addresses = node.status?.addresses ?? [];
  return (addresses.find((address) => address.type === "ExternalIP") ?? addresses.find((address) => address.type === "InternalIP"))?.address;
}

/** The addresses LoadBalancer services answer on: chosen Ready nodes', sorted, no duplicates. */
export function loadBalancerAddresses(nodes: readonly Node[]): string[] {
  const labelled = nodes.filter((node) => node.metadata.labels?.[enableLbLabel] === "true");
  const chosen = labelled.length > 0 ? labelled : nodes.filter((node) => node.metadata.labels?.[enableLbLabel] === undefined);
  const addresses = new Set<string>();
  for (const node of chosen) {
    const address = isReady(node) ? addressOf(node) : undefined;
    if (address !== undefined) addresses.add(address);
  }
  return [...addresses].sort();
}

/** The entries a Service should carry: ours for a LoadBalancer without a class, none otherwise. */
function wantedEntries(service: Service, addresses: readonly string[]): LoadBalancerEntries {
  const ours = service.spec?.type === "LoadBalancer" && service.spec.loadBalancerClass === undefined;
  return ours ? addresses.map((ip) => ({ ip })) : [];
}

function sameEntries(current: LoadBalancerEntries | undefined, wanted: LoadBalancerEntries): boolean {
  const have = current ?? [];
  return have.length === wanted.length && have.every((entry, index) => entry.ip === wanted[index]?.ip && entry.hostname === undefined);
}

export class ServiceLbController implements Controller {
  readonly name = "servicelb";
  #context: ControllerContext | undefined;
  #services: Informer<Service> | undefined;
  #nodes: Informer<Node> | undefined;
  /** The address set last seen, so node heartbeats that change nothing enqueue nothing. */
  #lastAddresses = "";

  setup(context: ControllerContext): void {
    this.#context = context;
    const services = context.informers.informerFor<Service>(servicesResource);
    const nodes = context.informers.informerFor<Node>(nodesResource);
    this.#services = services;
    this.#nodes = nodes;
    const enqueue = (service: Service) => context.queue.add(`${service.metadata.namespace ?? ""}/${service.metadata.name ?? ""}`);
    services.addHandlers({ onAdd: enqueue, onUpdate: (_previous, service) => enqueue(service) });
    const nodesChanged = () => {
      const addresses = loadBalancerAddresses(nodes.list()).join(",");
      if (addresses === this.#lastAddresses) return;
      this.#lastAddresses = addresses;
      for (const service of services.list()) if (service.spec?.type === "LoadBalancer") enqueue(service);
    };
    nodes.addHandlers({ onAdd: nodesChanged, onUpdate: nodesChanged, onDelete: nodesChanged });
  }

  async reconcile(key: string): Promise<void> {
    const context = this.#context;
    if (context === undefined || this.#services === undefined || this.#nodes === undefined) throw new Error("servicelb controller used before setup()");
    const service = this.#services.get(key);
    if (service === undefined) return;
    const wanted = wantedEntries(service, loadBalancerAddresses(this.#nodes.list()));
    if (sameEntries(service.status?.loadBalancer?.ingress, wanted)) return;
    // A Service that is not ours keeps whatever another implementation wrote.
    if (wanted.length === 0 && service.spec?.loadBalancerClass !== undefined) return;
    const updated: Service = { ...service, status: { ...service.status, loadBalancer: wanted.length === 0 ? {} : { ingress: wanted } } };
    try {
      await context.client.update(servicesResource, updated, { subresource: "status" });
    } catch (error) {
      // Deleted meanwhile: nothing to do. A conflict throws and requeues with a fresh cache.
      if (isStatusError(error, "NotFound")) return;
      throw error;
    }
  }
}
