/**
 * One watch cache per stored resource, made on first use (so a resource nobody asks for costs no
 * store watch), and the list/watch filter a request's label and field selectors make.
 */
import { parseSelector } from "../../libs/api/labels.ts";
import { parseFieldSelectorFor, selectableFields } from "../../libs/api/field-sets.ts";
import type { ResourceInfo } from "../../libs/api/registry.ts";
import { newBadRequest } from "../../libs/api/status-errors.ts";
import type { KubeObject } from "../../libs/api/types/meta.ts";
import type { Logger } from "../../libs/log/index.ts";
import { Cacher, ObjectStore, defaultGetAttrs, type KvClient, type ObjectFilter, type StoredObject } from "./storage/index.ts";

export class Storages {
  readonly #client: KvClient;
  readonly #logger: Logger | undefined;
  readonly #cachers = new Map<string, Cacher>();

  constructor(client: KvClient, logger?: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** The resource's cache, started on first use. */
  cacherFor(info: ResourceInfo): Cacher {
    const id = `${info.group}/${info.resource}`;
    let cacher = this.#cachers.get(id);
    if (cacher === undefined) {
      const getAttrs = (object: StoredObject) => ({
        labels: defaultGetAttrs(object).labels,
        fields: selectableFields(info.group, info.resource, object as unknown as KubeObject, info.namespaced),
      });
      const store = new ObjectStore({ client: this.#client, resource: { group: info.group, resource: info.resource }, namespaced: info.namespaced, getAttrs });
      cacher = new Cacher({ store, logger: this.#logger });
      cacher.start();
      this.#cachers.set(id, cacher);
    }
    return cacher;
  }

  /** The resource's ObjectStore: its cache's when one runs, else a store without a cache (no watch). */
  objectStoreFor(info: ResourceInfo): ObjectStore {
    const cacher = this.#cachers.get(`${info.group}/${info.resource}`);
    return cacher?.store ?? new ObjectStore({ client: this.#client, resource: { group: info.group, resource: info.resource }, namespaced: info.namespaced });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#cachers.values()].map(async (cacher) => cacher.stop()));
    this.#cachers.clear();
  }
}

/** The filter of `labelSelector` and `fieldSelector` (either may be absent); 400 when one does not parse. */
export function selectorFilter(info: ResourceInfo, labelSelector: string | null, fieldSelector: string | null): ObjectFilter | undefined {
  if ((labelSelector ?? "") === "" && (fieldSelector ?? "") === "") return undefined;
  try {
    const labels = parseSelector(labelSelector ?? "");
    const fields = parseFieldSelectorFor(info.group, info.resource, fieldSelector ?? "");
    return (attrs) => labels.matches(attrs.labels) && fields.matches(attrs.fields);
  } catch (error) {
    // Selector errors (SelectorParseError, FieldSelectorError, invalid label values) are the caller's.
    throw newBadRequest(error instanceof Error ? error.message : String(error));
  }
}
