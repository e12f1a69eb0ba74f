/**
 * The namespace controller (upstream's pkg/controller/namespace): a namespace being deleted
 * (deletionTimestamp set, phase Terminating, the `kubernetes` token in spec.finalizers) is emptied
 * of every namespaced object of every served resource, its progress reported in upstream's
 * NamespaceDeletion* / NamespaceContentRemaining / NamespaceFinalizersRemaining conditions, and
 * once nothing is left the token is removed through `namespaces/<name>/finalize`, after which the
 * API server removes the namespace. Content held by finalizers (its own, or `foregroundDeletion`)
 * is waited for by polling. Keys are namespace names.
 */
import { allResources, isStatusError, preferredVersion } from "../../../libs/api/index.ts";
import type { KubeObject, Namespace, ResourceInfo } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { namespacesResource } from "../common/resources.ts";
import { conditionsFor, sameConditions, type ContentReport } from "./conditions.ts";

export const kubernetesFinalizer = "kubernetes";
/** How soon a namespace whose content is still going away is looked at again. */
export const contentRemainingRetryMs = 2_000;
/** Deletes one reconcile sends at most; the rest wait for the next round. */
export const deletesPerReconcileMax = 500;

/** Every resource a namespace can hold that the API server stores and can list and delete. */
export function namespacedResources(): ResourceInfo[] {
  return allResources().filter(
    (info) => info.namespaced && info.stored && preferredVersion(info.group) === info.version && info.verbs.includes("list") && info.verbs.includes("delete"),
  );
}

function groupResourceText(info: ResourceInfo): string {
  return info.group === "" ? info.resource : `${info.resource}.${info.group}`;
}

function isDeleting(namespace: Namespace): boolean {
  return (namespace.metadata.deletionTimestamp ?? null) !== null;
}

export class NamespaceController implements Controller {
  readonly name = "namespace";
  #context: ControllerContext | undefined;
  #namespaces: Informer<Namespace> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#namespaces = context.informers.informerFor<Namespace>(namespacesResource);
    const enqueue = (namespace: Namespace): void => {
      if (isDeleting(namespace)) context.queue.add(namespace.metadata.name ?? "");
    };
    this.#namespaces.addHandlers({ onAdd: enqueue, onUpdate: (_previous, namespace) => enqueue(namespace) });
  }

  async reconcile(name: string): Promise<void> {
    if (this.#context === undefined || this.#namespaces === undefined) throw new Error("namespace controller used before setup()");
    const cached = this.#namespaces.get(name);
    if (cached === undefined || !isDeleting(cached) || !(cached.spec?.finalizers ?? []).includes(kubernetesFinalizer)) return;
    const context = this.#context;
    let live: Namespace;
    try {
      // The cache may lag a finalize this controller just wrote: act on the stored namespace.
      live = await context.client.get<Namespace>(namespacesResource, undefined, name);
    } catch (error) {
      if (isStatusError(error, "NotFound")) return;
      throw error;
    }
    if (!isDeleting(live) || !(live.spec?.finalizers ?? []).includes(kubernetesFinalizer)) return;
    let report = await this.#deleteContent(context, name);
    // A second pass sees what the deletes left behind (objects held by finalizers or grace periods).
    if (report.deleted > 0 && report.failures.length === 0 && !report.deferred) report = await this.#deleteContent(context, name);
    const reported = await this.#writeConditions(context, live, report);
    if (report.failures.length > 0) throw new Error(`namespace ${name}: ${report.failures.length} resource types could not be emptied: ${report.failures.join("; ")}`);
    if (report.remaining.size > 0 || report.deferred || report.deleted > 0) {
      context.queue.addAfter(name, contentRemainingRetryMs);
      return;
    }
    const finalizers = (reported.spec?.finalizers ?? []).filter((finalizer) => finalizer !== kubernetesFinalizer);
    await context.client.update<Namespace>(namespacesResource, { ...reported, spec: { ...reported.spec, finalizers } }, { subresource: "finalize" });
  }

  /** Deletes what is in the namespace; reports what was deleted, what stays and what failed. */
  async #deleteContent(context: ControllerContext, namespace: string): Promise<ContentReport> {
    const report: ContentReport = { failures: [], remaining: new Map(), finalizers: new Map(), deferred: false, deleted: 0 };
    for (const info of namespacedResources()) {
      try {
        const listed = await context.client.list<KubeObject>(info, namespace);
        for (const object of listed.items) {
          if (isDeletingObject(object)) {
            noteRemaining(report, info, object);
            continue;
          }
          if (report.deleted >= deletesPerReconcileMax) {
            report.deferred = true;
            break;
          }
          report.deleted++;
          await deleteObject(context, info, object);
        }
      } catch (error) {
        report.failures.push(`${groupResourceText(info)}: ${(error as Error).message}`);
      }
    }
    return report;
  }

  /** Writes the conditions when they changed; returns the namespace as stored afterwards. */
  async #writeConditions(context: ControllerContext, live: Namespace, report: ContentReport): Promise<Namespace> {
    const conditions = conditionsFor(report, live.status?.conditions ?? [], context.nowMs());
    if (sameConditions(conditions, live.status?.conditions ?? [])) return live;
    return await context.client.update<Namespace>(namespacesResource, { ...live, status: { ...live.status, conditions } }, { subresource: "status" });
  }
}

async function deleteObject(context: ControllerContext, info: ResourceInfo, object: KubeObject): Promise<void> {
  const preconditions = { uid: object.metadata.uid ?? "" };
  try {
    await context.client.delete(info, object.metadata.namespace, object.metadata.name ?? "", { propagationPolicy: "Background", preconditions });
  } catch (error) {
    // Gone already, or replaced by a new object of that name (the next pass deletes that one).
    if (isStatusError(error, "NotFound") || isStatusError(error, "Conflict")) return;
    throw error;
  }
}

function isDeletingObject(object: KubeObject): boolean {
  return (object.metadata.deletionTimestamp ?? null) !== null;
}

function noteRemaining(report: ContentReport, info: ResourceInfo, object: KubeObject): void {
  const resource = groupResourceText(info);
  report.remaining.set(resource, (report.remaining.get(resource) ?? 0) + 1);
  for (const finalizer of object.metadata.finalizers ?? []) report.finalizers.set(finalizer, (report.finalizers.get(finalizer) ?? 0) + 1);
}
