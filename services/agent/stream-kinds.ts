/**
 * Which optional kinds of the node stream an agent consumes, from what it runs: the overlay
 * routes to every Node's pod subnet, the service proxy and DNS read EndpointSlices, the ingress
 * proxy Ingresses, IngressClasses and EndpointSlices. An agent with none of them (the fake
 * runtime's hollow nodes, `--disable-network` without ingress ports) asks for none.
 */
import type { OptionalStreamKind } from "./control-plane.ts";

export interface AgentConsumers {
  /** Overlay, service proxy and DNS (services/network). */
  readonly network: boolean;
  /** The ingress proxy (services/ingress). */
  readonly ingress: boolean;
}

export function consumedOptionalKinds(consumers: AgentConsumers): OptionalStreamKind[] {
  const kinds = new Set<OptionalStreamKind>();
  if (consumers.network) for (const kind of ["NODE", "ENDPOINT_SLICE"] as const) kinds.add(kind);
  if (consumers.ingress) for (const kind of ["INGRESS", "INGRESS_CLASS", "ENDPOINT_SLICE"] as const) kinds.add(kind);
  return [...kinds].sort();
}
