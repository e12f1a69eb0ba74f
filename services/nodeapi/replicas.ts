/**
 * The directory of control-plane replicas' node-API addresses that a joining agent receives:
 * each replica keeps a Lease `kube-system/flotilla-node-api-<replica>` whose holderIdentity is its
 * host:port, renewed every `renewIntervalMs`; a lease not renewed within `staleAfterMs` is left out.
 */
import type { Logger } from "../../libs/log/index.ts";
import type { Storages } from "../apiserver/storages.ts";
import { isStorageError, namespacePrefix, type StoredObject } from "../apiserver/storage/index.ts";
import { isoMicros, keyFor, leasesResource, newObject } from "./objects.ts";

export const replicaLeaseNamespace = "kube-system";
export const replicaLeasePrefix = "flotilla-node-api-";
export const renewIntervalMs = 15_000;
export const staleAfterMs = 45_000;
/** Replicas a join answer lists at most. */
export const replicasListedMax = 16;

export class ReplicaDirectory {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly storages: Storages,
    readonly replicaName: string,
    readonly address: string,
    readonly nowMs: () => number,
    readonly logger: Logger,
  ) {}

  start(): void {
    const renew = (): void => {
      this.renew().catch((error: unknown) => this.logger.warn({ err: error }, "renew the node API replica lease"));
    };
    renew();
    this.#timer = setInterval(renew, renewIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async renew(): Promise<void> {
    const info = leasesResource();
    const cacher = this.storages.cacherFor(info);
    const name = `${replicaLeasePrefix}${this.replicaName}`;
    const spec = { holderIdentity: this.address, leaseDurationSeconds: staleAfterMs / 1000, renewTime: isoMicros(this.nowMs()) };
    try {
      await cacher.update(keyFor(info, replicaLeaseNamespace, name), (current) => ({ ...current, spec }));
    } catch (error) {
      if (!(isStorageError(error) && error.reason === "NotFound")) throw error;
      await cacher.create(newObject({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: replicaLeaseNamespace }, spec }, this.nowMs()));
    }
  }

  /** `self` first, then every other replica whose lease is fresh. */
  async addresses(self: string): Promise<string[]> {
    const info = leasesResource();
    const listed = await this.storages.cacherFor(info).list(namespacePrefix({ group: info.group, resource: info.resource }, replicaLeaseNamespace));
    const fresh = (listed.items as StoredObject[])
      .filter((lease) => String((lease["metadata"] as { name?: string }).name ?? "").startsWith(replicaLeasePrefix))
      .map((lease) => lease["spec"] as { holderIdentity?: string; renewTime?: string } | undefined)
      .filter((spec) => spec?.holderIdentity !== undefined && this.nowMs() - Date.parse(spec.renewTime ?? "") < staleAfterMs)
      .map((spec) => spec?.holderIdentity ?? "");
    return [self, ...new Set(fresh.filter((address) => address !== self))].slice(0, replicasListedMax);
  }
}
