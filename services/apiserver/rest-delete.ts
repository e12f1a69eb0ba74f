/**
 * delete and deletecollection. An object with finalizers is not removed: it gets a
 * deletionTimestamp (202 with the object) and is removed by the write that clears its last
 * finalizer. propagationPolicy Foreground and Orphan add upstream's `foregroundDeletion` and
 * `orphan` finalizers (to any object), for the garbage collector.
 */
import { aggregateMessage } from "../../libs/api/field-errors.ts";
import { newBadRequest, successStatus } from "../../libs/api/status-errors.ts";
import type { DeleteOptions as ApiDeleteOptions } from "../../libs/api/types/meta.ts";
import { validateDeletePropagation } from "../../libs/api/validation.ts";
import { keyOf, prefixOf, type HandlerContext } from "./context.ts";
import { readBody, writeJson } from "./http.ts";
import { releaseOnDelete } from "./allocator/hooks.ts";
import { isDryRun } from "./limits.ts";
import { checkDeletable, immortalNamespaces, isNamespaces, markTerminating, namespaceHoldsOn } from "./namespace-lifecycle.ts";
import { metadataOf, recordOf } from "./object-meta.ts";
import { selectorFilter } from "./storages.ts";
import { NotFoundError, type StoredObject } from "./storage/index.ts";

/** Objects one deletecollection request removes at most; the rest stay for a second call. */
export const deleteCollectionItemsMax = 10_000;

const propagationFinalizers: Readonly<Record<string, string>> = { Foreground: "foregroundDeletion", Orphan: "orphan" };

async function deleteOptions(context: HandlerContext): Promise<ApiDeleteOptions> {
  const body = (await readBody(context.http)).toString("utf8").trim();
  let options: ApiDeleteOptions = { kind: "DeleteOptions", apiVersion: "v1" } as ApiDeleteOptions;
  if (body !== "") {
    try {
      options = recordOf(JSON.parse(body)) as ApiDeleteOptions;
    } catch (error) {
      throw newBadRequest(`invalid DeleteOptions: ${(error as Error).message}`);
    }
  }
  const grace = context.query.get("gracePeriodSeconds");
  if (grace !== null && grace !== "") options.gracePeriodSeconds = Number(grace);
  const policy = context.query.get("propagationPolicy");
  if (policy !== null && policy !== "") options.propagationPolicy = policy as NonNullable<ApiDeleteOptions["propagationPolicy"]>;
  const errors = validateDeletePropagation(options.orphanDependents, options.propagationPolicy);
  if (options.gracePeriodSeconds !== undefined && (!Number.isInteger(options.gracePeriodSeconds) || options.gracePeriodSeconds < 0)) {
    throw newBadRequest(`invalid gracePeriodSeconds: must be a non-negative integer`);
  }
  if (errors.length > 0) throw newBadRequest(`DeleteOptions is invalid: ${aggregateMessage(errors) ?? ""}`);
  return options;
}

function propagationPolicyOf(options: ApiDeleteOptions): string | undefined {
  if (options.propagationPolicy !== undefined) return options.propagationPolicy;
  return options.orphanDependents === true ? "Orphan" : undefined;
}

/** Deletes one object; returns the object when it was only marked (finalizers), undefined when removed. */
async function deleteOne(context: HandlerContext, key: string, options: ApiDeleteOptions): Promise<StoredObject | undefined> {
  const current = await context.cacher.get(key);
  const finalizers = metadataOf(current).finalizers ?? [];
  // Orphan and Foreground leave the object in place with their finalizer, as upstream's registry
  // does, so the garbage collector can orphan or delete the dependents first.
  const propagationFinalizer = propagationFinalizers[propagationPolicyOf(options) ?? ""];
  if (finalizers.length === 0 && propagationFinalizer === undefined) {
    const preconditions = { uid: options.preconditions?.uid ?? undefined, resourceVersion: options.preconditions?.resourceVersion ?? undefined };
    await releaseOnDelete(context, await context.cacher.delete(key, { preconditions }));
    return undefined;
  }
  return await context.cacher.update(key, (latest) => {
    const metadata = { ...metadataOf(latest) };
    if (propagationFinalizer !== undefined && !(metadata.finalizers ?? []).includes(propagationFinalizer)) metadata.finalizers = [...(metadata.finalizers ?? []), propagationFinalizer];
    if ((metadata.deletionTimestamp ?? null) === null) {
      metadata.deletionTimestamp = new Date(Math.floor(context.nowMs() / 1000) * 1000).toISOString().replace(".000Z", "Z");
      metadata.deletionGracePeriodSeconds = options.gracePeriodSeconds ?? 0;
    }
    delete metadata.resourceVersion;
    return { ...latest, metadata };
  });
}

/**
 * A namespace is not removed by its first DELETE: it turns Terminating and the namespace
 * controller empties it, then finalizes it (namespace-lifecycle.ts). A later DELETE of a
 * Terminating namespace answers with it as it is, or removes it once it has no spec finalizers.
 */
async function deleteNamespace(context: HandlerContext, key: string, options: ApiDeleteOptions): Promise<StoredObject | undefined> {
  const current = await context.cacher.get(key);
  const preconditions = { uid: options.preconditions?.uid ?? undefined, resourceVersion: options.preconditions?.resourceVersion ?? undefined };
  if ((metadataOf(current).deletionTimestamp ?? null) === null && namespaceHoldsOn(current)) return await markTerminating(context, preconditions);
  if (namespaceHoldsOn(current)) return current;
  return await deleteOne(context, key, options);
}

export async function handleDelete(context: HandlerContext): Promise<void> {
  if (context.request.subresource !== "") throw newBadRequest(`delete is not supported on the ${context.request.subresource} subresource`);
  const options = await deleteOptions(context);
  const key = keyOf(context);
  if (isNamespaces(context)) checkDeletable(context.request.name);
  const before = await context.cacher.get(key);
  // dryRun=All: everything up to the store (the object must exist), nothing removed.
  const dryRun = isDryRun(context.query, "delete") || (options.dryRun ?? []).includes("All");
  const marked = dryRun ? undefined : isNamespaces(context) ? await deleteNamespace(context, key, options) : await deleteOne(context, key, options);
  if (marked !== undefined) {
    writeJson(context.response, 202, marked);
    return;
  }
  // Pods answer with the deleted object, as upstream; the others with a success Status.
  if (context.info.resource === "pods" && context.info.group === "") {
    writeJson(context.response, 200, before);
    return;
  }
  writeJson(context.response, 200, successStatus({ name: context.request.name, group: context.info.group, kind: context.info.resource, uid: metadataOf(before).uid ?? "" }));
}

export async function handleDeleteCollection(context: HandlerContext): Promise<void> {
  const options = await deleteOptions(context);
  const filter = selectorFilter(context.info, context.query.get("labelSelector"), context.query.get("fieldSelector"));
  const listed = await context.cacher.list(prefixOf(context), { filter, limit: deleteCollectionItemsMax });
  for (const object of listed.items) {
    try {
      const name = metadataOf(object).name ?? "";
      if (isNamespaces(context)) {
        if (immortalNamespaces.has(name)) continue;
        await deleteNamespace(context, keyOf(context, name), options);
      } else await deleteOne(context, keyOf(context, name), options);
    } catch (error) {
      // Someone else deleted it between the list and now: that is what was asked.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  writeJson(context.response, 200, successStatus({ group: context.info.group, kind: context.info.resource }));
}

/** After an update: an object marked for deletion whose last finalizer is gone is removed now. */
export async function finishDeletionIfReleased(context: HandlerContext, updated: StoredObject): Promise<StoredObject> {
  const metadata = metadataOf(updated);
  if ((metadata.deletionTimestamp ?? null) === null || (metadata.finalizers ?? []).length > 0) return updated;
  // A namespace also waits for its spec finalizers (upstream's ShouldDeleteNamespaceDuringUpdate).
  if (isNamespaces(context) && namespaceHoldsOn(updated)) return updated;
  try {
    await releaseOnDelete(context, await context.cacher.delete(keyOf(context), { preconditions: { uid: metadata.uid } }));
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  return updated;
}
