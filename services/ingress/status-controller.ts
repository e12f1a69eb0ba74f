/**
 * Ingress status and class, run on the control plane with the other controllers. Every agent
 * runs the proxy, so an Ingress of ours is reachable at every Ready node: its
 * status.loadBalancer.ingress lists their InternalIP addresses. The controller also keeps the
 * IngressClass `flotilla` (the cluster's default class) in existence.
 *
 * Keys are `namespace/name` of an Ingress, or `ingressClassKey` for the class.
 */
import { defined } from "../../libs/assert/index.ts";
import { findResource, isStatusError } from "../../libs/api/index.ts";
import type { Ingress, IngressClass, Node, ResourceInfo } from "../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../libs/client/types.ts";
import { defaultClassAnnotation, ingressClassName, ingressControllerName, isOurIngress } from "./routes.ts";

export { ingressControllerName } from "./routes.ts";
/** The queue key that (re)creates the IngressClass; no Ingress key can look like it. */
export const ingressClassKey = "@ingressclass";

function resource(group: string, version: string, plural: string): ResourceInfo {
  return defined(findResource(group, version, plural), `registry serves ${group}/${version}/${plural}`);
}

export const ingressesResource = resource("networking.k8s.io", "v1", "ingresses");
export const ingressClassesResource = resource("networking.k8s.io", "v1", "ingressclasses");
const nodesResource = resource("", "v1", "nodes");

type LoadBalancerEntries = NonNullable<NonNullable<NonNullable<Ingress["status"]>["loadBalancer"]>["ingress"]>;

/** InternalIP addresses of Ready nodes, sorted and without duplicates. */
export function readyNodeAddresses(nodes: readonly Node[]): string[] {
  const addresses = new Set<string>();
  for (const node of nodes) {
    const ready = node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
    if (!ready) continue;
    for (const address of node.status?.addresses ?? []) {
      if (address.type === "InternalIP") addresses.add(address.address);
    }
  }
  return [...addresses].sort();
}

function sameEntries(current: LoadBalancerEntries | undefined, wanted: LoadBalancerEntries): boolean {
  const have = current ?? [];
  return have.length === wanted.length && have.every((entry, index) => entry.ip === wanted[index]?.ip && entry.hostname === undefined && entry.ports === undefined);
}

export class IngressStatusController implements Controller {
  readonly name = "ingress-status";
  #context: ControllerContext | undefined;
  #ingresses: Informer<Ingress> | undefined;
  #nodes: Informer<Node> | undefined;
  #classes: Informer<IngressClass> | undefined;
  /** The addresses last seen, so a node heartbeat that changes nothing enqueues nothing. */
  #lastAddresses = "";

  setup(context: ControllerContext): void {
    this.#context = context;
    const ingresses = context.informers.informerFor<Ingress>(ingressesResource);
    const nodes = context.informers.informerFor<Node>(nodesResource);
    const classes = context.informers.informerFor<IngressClass>(ingressClassesResource);
    this.#ingresses = ingresses;
    this.#nodes = nodes;
    this.#classes = classes;
    const enqueue = (ingress: Ingress) => context.queue.add(`${ingress.metadata.namespace ?? ""}/${ingress.metadata.name ?? ""}`);
    ingresses.addHandlers({ onAdd: enqueue, onUpdate: (_previous, ingress) => enqueue(ingress) });
    const nodesChanged = () => {
      const addresses = readyNodeAddresses(nodes.list()).join(",");
      if (addresses === this.#lastAddresses) return;
      this.#lastAddresses = addresses;
      for (const ingress of ingresses.list()) enqueue(ingress);
    };
    nodes.addHandlers({ onAdd: nodesChanged, onUpdate: nodesChanged, onDelete: nodesChanged });
    // A class added, changed or removed may change which Ingresses are ours.
    const classesChanged = () => {
      for (const ingress of ingresses.list()) enqueue(ingress);
    };
    classes.addHandlers({
      onAdd: classesChanged,
      onUpdate: classesChanged,
      onDelete: (deleted) => {
        classesChanged();
        if (deleted.metadata.name === ingressClassName) context.queue.add(ingressClassKey);
      },
    });
    context.queue.add(ingressClassKey);
  }

  async reconcile(key: string): Promise<void> {
    const context = this.#context;
    if (context === undefined || this.#ingresses === undefined || this.#nodes === undefined || this.#classes === undefined) throw new Error("ingress-status controller used before setup()");
    if (key === ingressClassKey) return this.#ensureClass(context, this.#classes);
    const ingress = this.#ingresses.get(key);
    const classes = new Map(this.#classes.list().map((ingressClass) => [ingressClass.metadata.name ?? "", ingressClass] as const));
    if (ingress === undefined || !isOurIngress(ingress, classes)) return;
    const wanted: LoadBalancerEntries = readyNodeAddresses(this.#nodes.list()).map((ip) => ({ ip }));
    if (sameEntries(ingress.status?.loadBalancer?.ingress, wanted)) return;
    const updated: Ingress = { ...ingress, status: { ...ingress.status, loadBalancer: { ingress: wanted } } };
    try {
      await context.client.update(ingressesResource, updated, { subresource: "status" });
    } catch (error) {
      // Deleted meanwhile: nothing to do. A conflict throws and requeues with a fresh cache.
      if (isStatusError(error, "NotFound")) return;
      throw error;
    }
  }

  async #ensureClass(context: ControllerContext, classes: Informer<IngressClass>): Promise<void> {
    if (classes.get(ingressClassName) !== undefined) return;
    const ingressClass: IngressClass = {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: ingressClassName, annotations: { [defaultClassAnnotation]: "true" } },
      spec: { controller: ingressControllerName },
    };
    try {
      await context.client.create(ingressClassesResource, ingressClass);
    } catch (error) {
      if (isStatusError(error, "AlreadyExists")) return;
      throw error;
    }
  }
}
