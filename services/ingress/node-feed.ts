/**
 * Feeds the agent's node stream into an IngressProxy: Ingresses, IngressClasses, Services,
 * EndpointSlices and Secrets (the stream carries the TLS secrets Ingresses name, next to the pods' own secrets; the
 * proxy uses only the ones named in spec.tls). Every other event passes through untouched.
 */
import type { EndpointSlice, Ingress, IngressClass, KubeObject, Secret, Service } from "../../libs/api/index.ts";
import type { NodeStreamHandlers, NodeWatchEvent } from "../agent/control-plane.ts";
import type { IngressProxy } from "./proxy.ts";

function nameOf(object: KubeObject): { namespace: string; name: string } {
  return { namespace: object.metadata.namespace ?? "default", name: object.metadata.name ?? "" };
}

function apply<T extends KubeObject>(event: NodeWatchEvent<KubeObject>, upsert: (object: T) => void, remove: (namespace: string, name: string) => void): void {
  if (event.type === "upsert") upsert(event.object as T);
  else {
    const { namespace, name } = nameOf(event.object);
    remove(namespace, name);
  }
}

/** The handlers `handlers` had, each also telling `proxy` what it needs. */
export function withIngressProxy(handlers: NodeStreamHandlers, proxy: IngressProxy): NodeStreamHandlers {
  return {
    ...handlers,
    onIngress: (event) => {
      handlers.onIngress?.(event);
      apply<Ingress>(event, (ingress) => proxy.upsertIngress(ingress), (namespace, name) => proxy.deleteIngress(namespace, name));
    },
    onIngressClass: (event) => {
      handlers.onIngressClass?.(event);
      apply<IngressClass>(event, (ingressClass) => proxy.upsertIngressClass(ingressClass), (_namespace, name) => proxy.deleteIngressClass(name));
    },
    onService: (event) => {
      handlers.onService(event);
      apply<Service>(event, (service) => proxy.upsertService(service), (namespace, name) => proxy.deleteService(namespace, name));
    },
    onEndpointSlice: (event) => {
      handlers.onEndpointSlice(event);
      apply<EndpointSlice>(event, (slice) => proxy.upsertEndpointSlice(slice), (namespace, name) => proxy.deleteEndpointSlice(namespace, name));
    },
    onSecret: (event) => {
      handlers.onSecret(event);
      apply<Secret>(event, (secret) => proxy.upsertSecret(secret), (namespace, name) => proxy.deleteSecret(namespace, name));
    },
  };
}
