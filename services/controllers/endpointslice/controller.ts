/**
 * Endpoints and EndpointSlices for every Service with a selector (upstream's endpoints and
 * endpointslice controllers, in one reconcile per Service): the slices carry the service-name and
 * managed-by labels and an owner reference to the Service (so the garbage collector removes them
 * with it); the Endpoints object, which has no owner, is deleted here when the Service goes.
 * A reconcile writes only what differs, so a converged Service writes nothing.
 */
import { isStatusError, labelSelectorAsSelector, selectorFromSet } from "../../../libs/api/index.ts";
import type { EndpointSlice, Endpoints, KubeObject, Pod, Service } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { endpointSlicesResource, endpointsResource, podsResource, servicesResource } from "../common/resources.ts";
import { desiredSliceContents, desiredSubsets, managedByLabel, managedByValue, resolvePods, serviceNameLabel } from "./desired.ts";

/** Index of pods by namespace, so a service looks only at its own namespace's pods. */
const podsByNamespace = "namespace";
const slicesByService = "service";

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

export class EndpointSliceController implements Controller {
  readonly name = "endpointslice";
  #context: ControllerContext | undefined;
  #services: Informer<Service> | undefined;
  #pods: Informer<Pod> | undefined;
  #slices: Informer<EndpointSlice> | undefined;
  #endpoints: Informer<Endpoints> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#services = context.informers.informerFor<Service>(servicesResource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    this.#slices = context.informers.informerFor<EndpointSlice>(endpointSlicesResource);
    this.#endpoints = context.informers.informerFor<Endpoints>(endpointsResource);
    this.#pods.addIndex(podsByNamespace, (pod) => [pod.metadata.namespace ?? ""]);
    this.#slices.addIndex(slicesByService, (slice) => {
      const service = slice.metadata.labels?.[serviceNameLabel];
      return service === undefined ? [] : [`${slice.metadata.namespace ?? ""}/${service}`];
    });
    const enqueue = (service: Service): void => context.queue.add(keyOf(service));
    this.#services.addHandlers({ onAdd: enqueue, onUpdate: (_previous, service) => enqueue(service), onDelete: enqueue });
    this.#pods.addHandlers({
      onAdd: (pod) => this.#enqueueServicesOf(pod),
      onUpdate: (previous, pod) => {
        this.#enqueueServicesOf(previous);
        this.#enqueueServicesOf(pod);
      },
      onDelete: (pod) => this.#enqueueServicesOf(pod),
    });
    this.#slices.addHandlers({ onDelete: (slice) => this.#enqueueOwner(slice), onUpdate: (_previous, slice) => this.#enqueueOwner(slice) });
  }

  #enqueueServicesOf(pod: Pod): void {
    const labels = pod.metadata.labels ?? {};
    for (const service of this.#state().services.list()) {
      if (service.metadata.namespace !== pod.metadata.namespace || !hasSelector(service)) continue;
      if (selectorFromSet(service.spec?.selector).matches(labels)) this.#state().context.queue.add(keyOf(service));
    }
  }

  #enqueueOwner(slice: EndpointSlice): void {
    if (slice.metadata.labels?.[managedByLabel] !== managedByValue) return;
    const service = slice.metadata.labels[serviceNameLabel];
    if (service !== undefined) this.#state().context.queue.add(`${slice.metadata.namespace ?? ""}/${service}`);
  }

  #state(): { context: ControllerContext; services: Informer<Service>; pods: Informer<Pod>; slices: Informer<EndpointSlice>; endpoints: Informer<Endpoints> } {
    if (this.#context === undefined || this.#services === undefined || this.#pods === undefined || this.#slices === undefined || this.#endpoints === undefined) {
      throw new Error("endpointslice controller used before setup()");
    }
    return { context: this.#context, services: this.#services, pods: this.#pods, slices: this.#slices, endpoints: this.#endpoints };
  }

  async reconcile(key: string): Promise<void> {
    const { services, pods } = this.#state();
    const [namespace = "", name = ""] = key.split("/");
    const service = services.get(key);
    if (service === undefined || !hasSelector(service)) {
      // Gone, or selector removed: the user owns its endpoints now; ours go.
      if (service === undefined) await this.#deleteEndpoints(namespace, name);
      await this.#syncSlices(namespace, name, undefined, []);
      return;
    }
    const selector = labelSelectorAsSelector({ matchLabels: service.spec?.selector ?? {} });
    const selected = pods.byIndex(podsByNamespace, namespace).filter((pod) => selector.matches(pod.metadata.labels ?? {}));
    const resolved = resolvePods(service, selected);
    await this.#syncEndpoints(service, desiredSubsets(service, resolved));
    await this.#syncSlices(namespace, name, service, desiredSliceContents(service, resolved));
  }

  async #syncEndpoints(service: Service, subsets: Endpoints["subsets"]): Promise<void> {
    const { context, endpoints } = this.#state();
    const current = endpoints.get(keyOf(service));
    const labels = service.metadata.labels ?? {};
    if (current === undefined) {
      const created: Endpoints = { apiVersion: "v1", kind: "Endpoints", metadata: { name: service.metadata.name ?? "", namespace: service.metadata.namespace ?? "", labels }, subsets: subsets ?? [] };
      await context.client.create(endpointsResource, created).catch(ignore("AlreadyExists"));
      return;
    }
    if (sameJson(current.subsets ?? [], subsets ?? []) && sameJson(current.metadata.labels ?? {}, labels)) return;
    await context.client.update(endpointsResource, { ...current, metadata: { ...current.metadata, labels }, subsets: subsets ?? [] });
  }

  async #deleteEndpoints(namespace: string, name: string): Promise<void> {
    const { context, endpoints } = this.#state();
    if (endpoints.get(`${namespace}/${name}`) === undefined) return;
    await context.client.delete(endpointsResource, namespace, name).catch(ignore("NotFound"));
  }

  /** Keeps existing slices where their content can be reused, creates or deletes the rest. */
  async #syncSlices(namespace: string, name: string, service: Service | undefined, contents: ReturnType<typeof desiredSliceContents>): Promise<void> {
    const { context, slices } = this.#state();
    const owned = slices.byIndex(slicesByService, `${namespace}/${name}`).filter((slice) => slice.metadata.labels?.[managedByLabel] === managedByValue);
    const unmatched = [...owned].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
    const pending: ReturnType<typeof desiredSliceContents> = [];
    for (const content of contents) {
      const same = unmatched.findIndex((slice) => sameContent(slice, content));
      if (same >= 0) unmatched.splice(same, 1);
      else pending.push(content);
    }
    for (const content of pending) {
      const reusable = unmatched.shift();
      if (reusable !== undefined) await context.client.update(endpointSlicesResource, { ...reusable, ...content });
      else if (service !== undefined) await context.client.create(endpointSlicesResource, newSlice(service, content));
    }
    for (const stale of unmatched) await context.client.delete(endpointSlicesResource, namespace, stale.metadata.name ?? "").catch(ignore("NotFound"));
  }
}

function hasSelector(service: Service): boolean {
  return Object.keys(service.spec?.selector ?? {}).length > 0;
}

function newSlice(service: Service, content: ReturnType<typeof desiredSliceContents>[number]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: `${service.metadata.name ?? ""}-`,
      namespace: service.metadata.namespace ?? "",
      labels: { ...(service.metadata.labels ?? {}), [serviceNameLabel]: service.metadata.name ?? "", [managedByLabel]: managedByValue },
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name: service.metadata.name ?? "", uid: service.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    ...content,
  };
}

function sameContent(slice: EndpointSlice, content: ReturnType<typeof desiredSliceContents>[number]): boolean {
  return slice.addressType === content.addressType && sameJson(slice.ports ?? [], content.ports ?? []) && sameJson(slice.endpoints, content.endpoints);
}

/** Key-order-insensitive equality of JSON values. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, entry]) => entry !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, entry]) => [key, canonical(entry)]));
}

function ignore(reason: "NotFound" | "AlreadyExists"): (error: unknown) => void {
  return (error) => {
    if (!isStatusError(error, reason)) throw error;
  };
}
