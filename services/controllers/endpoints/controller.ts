/**
 * The Endpoints and EndpointSlice controllers (pkg/controller/endpoint, endpointslice) as one
 * reconciler per Service: for a Service with a selector it keeps the Endpoints of the same name
 * and the Service's managed EndpointSlices (labels kubernetes.io/service-name and managed-by,
 * owned by the Service) equal to what its pods say (desired.ts). A Service without a selector is
 * left to whoever manages its endpoints; a deleted Service's Endpoints go (its slices go with it
 * through the garbage collector).
 */
import { deepEqual, isStatusError, selectorFromSet } from "../../../libs/api/index.ts";
import type { Endpoints, EndpointSlice, JsonValue, KubeObject, Pod, Service } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { newControllerRef } from "../common/pods.ts";
import { endpointSlicesResource, endpointsResource, podsResource, servicesResource } from "../common/resources.ts";
import { desiredEndpoints, desiredSlices, managedByLabel, managedByValue, podEndpoints, serviceLabels, serviceNameLabel } from "./desired.ts";

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

export class EndpointsController implements Controller {
  readonly name = "endpoints";
  #context: ControllerContext | undefined;
  #services: Informer<Service> | undefined;
  #pods: Informer<Pod> | undefined;
  #endpoints: Informer<Endpoints> | undefined;
  #slices: Informer<EndpointSlice> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#services = context.informers.informerFor<Service>(servicesResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#endpoints = context.informers.informerFor<Endpoints>(endpointsResource);
    this.#slices = context.informers.informerFor<EndpointSlice>(endpointSlicesResource);
    const enqueue = (service: Service): void => context.queue.add(keyOf(service));
    this.#services.addHandlers({ onAdd: enqueue, onUpdate: (_previous, service) => enqueue(service), onDelete: enqueue });
    this.#pods.addHandlers({
      onAdd: (pod) => this.#podChanged(pod),
      onUpdate: (previous, pod) => {
        this.#podChanged(pod);
        if (JSON.stringify(previous.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) this.#podChanged(previous);
      },
      onDelete: (pod) => this.#podChanged(pod),
    });
  }

  #state(): { context: ControllerContext; services: Informer<Service>; pods: Informer<Pod>; endpoints: Informer<Endpoints>; slices: Informer<EndpointSlice> } {
    if (this.#context === undefined || this.#services === undefined || this.#pods === undefined || this.#endpoints === undefined || this.#slices === undefined) {
      throw new Error("endpoints controller used before setup()");
    }
    return { context: this.#context, services: this.#services, pods: this.#pods, endpoints: this.#endpoints, slices: this.#slices };
  }

  #podChanged(pod: Pod): void {
    const { context, services } = this.#state();
    for (const service of services.list()) {
      if (service.metadata.namespace !== pod.metadata.namespace || service.spec?.selector === undefined) continue;
      if (selectorFromSet(service.spec.selector).matches(pod.metadata.labels)) context.queue.add(keyOf(service));
    }
  }

  async reconcile(key: string): Promise<void> {
    const { services, pods } = this.#state();
    const [namespace = "", name = ""] = key.split("/");
    const service = services.get(key);
    if (service === undefined) {
      await this.#deleteEndpoints(namespace, name);
      return;
    }
    if (service.spec?.selector === undefined || service.spec.type === "ExternalName") return;
    const selector = selectorFromSet(service.spec.selector);
    const matching = pods.listMatching(namespace, "").filter((pod) => selector.matches(pod.metadata.labels));
    const backends = podEndpoints(service, matching);
    await this.#syncEndpoints(service, desiredEndpoints(service, backends));
    await this.#syncSlices(service, desiredSlices(backends));
  }

  async #deleteEndpoints(namespace: string, name: string): Promise<void> {
    if (this.#state().endpoints.get(`${namespace}/${name}`) === undefined) return;
    try {
      await this.#state().context.client.delete(endpointsResource, namespace, name);
    } catch (error) {
      if (!isStatusError(error, "NotFound")) throw error;
    }
  }

  async #syncEndpoints(service: Service, desired: Endpoints): Promise<void> {
    const { context, endpoints } = this.#state();
    const current = endpoints.get(keyOf(service));
    if (current === undefined) {
      try {
        await context.client.create(endpointsResource, desired);
      } catch (error) {
        if (!isStatusError(error, "AlreadyExists")) throw error;
      }
      return;
    }
    const sameSubsets = deepEqual((current.subsets ?? []) as unknown as JsonValue, (desired.subsets ?? []) as unknown as JsonValue);
    const sameLabels = deepEqual((current.metadata.labels ?? {}) as JsonValue, (desired.metadata.labels ?? {}) as JsonValue);
    if (sameSubsets && sameLabels) return;
    const next: Endpoints = { ...current, metadata: { ...current.metadata } };
    if (desired.subsets === undefined) delete next.subsets;
    else next.subsets = desired.subsets;
    if (desired.metadata.labels === undefined) delete next.metadata.labels;
    else next.metadata.labels = desired.metadata.labels;
    await context.client.update(endpointsResource, next);
  }

  // Existing managed slices are rewritten in place, missing ones created, extra ones deleted.
  async #syncSlices(service: Service, desired: Pick<EndpointSlice, "endpoints" | "ports">[]): Promise<void> {
    const { context, slices } = this.#state();
    const existing = slices
      .listMatching(service.metadata.namespace, `${serviceNameLabel}=${service.metadata.name ?? ""},${managedByLabel}=${managedByValue}`)
      .sort((left, right) => ((left.metadata.name ?? "") < (right.metadata.name ?? "") ? -1 : 1));
    const labels = { ...serviceLabels(service), [serviceNameLabel]: service.metadata.name ?? "", [managedByLabel]: managedByValue };
    for (let index = 0; index < Math.max(existing.length, desired.length); index++) {
      const current = existing[index];
      const wanted = desired[index];
      if (wanted === undefined) {
        await context.client.delete(endpointSlicesResource, current!.metadata.namespace, current!.metadata.name ?? "").catch((error: unknown) => {
          if (!isStatusError(error, "NotFound")) throw error;
        });
        continue;
      }
      if (current === undefined) {
        const slice: EndpointSlice = {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { generateName: `${service.metadata.name ?? ""}-`, namespace: service.metadata.namespace ?? "default", labels, ownerReferences: [newControllerRef(service, "v1", "Service")] },
          addressType: "IPv4",
          endpoints: wanted.endpoints,
          ports: wanted.ports ?? [],
        };
        await context.client.create(endpointSlicesResource, slice);
        continue;
      }
      const same =
        deepEqual(current.endpoints as unknown as JsonValue, wanted.endpoints as unknown as JsonValue) &&
        deepEqual((current.ports ?? []) as unknown as JsonValue, (wanted.ports ?? []) as unknown as JsonValue) &&
        deepEqual((current.metadata.labels ?? {}) as JsonValue, labels as JsonValue);
      if (!same) await context.client.update(endpointSlicesResource, { ...current, metadata: { ...current.metadata, labels }, endpoints: wanted.endpoints, ports: wanted.ports ?? [] });
    }
  }
}
