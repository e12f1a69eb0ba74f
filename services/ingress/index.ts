/** Flotilla's built-in ingress proxy and the controller that writes Ingress status. */
export type { BoundPorts, ListenOptions } from "./proxy.ts";
export { withIngressProxy } from "./node-feed.ts";
export { IngressProxy, secureContextsMax, upstreamIdleSocketsMax, upstreamIdleTimeoutMs, upstreamSocketsMax } from "./proxy.ts";
export type { MatchPathType, ProxyState, ResolvedBackend, TlsCertificate, Upstream } from "./routes.ts";
export {
  buildRouteTable,
  defaultClassAnnotation,
  ingressClassName,
  isOurIngress,
  normalizeHost,
  pathElements,
  resolveBackend,
  RouteTable,
  rulesPerTableMax,
  serviceNameLabel,
} from "./routes.ts";
export { ingressClassesResource, ingressClassKey, ingressControllerName, ingressesResource, IngressStatusController, readyNodeAddresses } from "./status-controller.ts";
