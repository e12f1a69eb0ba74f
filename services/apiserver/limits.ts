/**
 * Limits on what one write may store, and dry runs. An object is at most 1.5 MiB as stored
 * (etcd's default --max-request-bytes, which upstream's API server meets as etcd's own error, a
 * 500 `etcdserver: request is too large`); Flotilla checks before writing, so the store (its own
 * or a real etcd) is never asked and nothing is stored. `dryRun=All` runs a write up to the store
 * and stores nothing.
 */
import { fieldNotSupported } from "../../libs/api/field-errors.ts";
import { newInvalid, StatusError } from "../../libs/api/status-errors.ts";
import { allocationForUpdate } from "./allocator/hooks.ts";
import type { HandlerContext } from "./context.ts";
import { metadataOf } from "./object-meta.ts";
import { encodeObject, resourceVersionOf, type StoredObject, type UpdateFunction, type UpdateOptions } from "./storage/index.ts";

/** etcd's default request limit, which upstream objects live within. */
export const objectBytesMax = 1.5 * 1024 * 1024;
export const requestTooLargeMessage = "etcdserver: request is too large";

/** Throws upstream's answer when `object` is too large to store. */
export function checkObjectSize(object: StoredObject): StoredObject {
  if (Buffer.byteLength(encodeObject(object)) > objectBytesMax) {
    throw new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: requestTooLargeMessage, code: 500 });
  }
  return object;
}

const optionsKinds: Readonly<Record<string, string>> = { create: "CreateOptions", update: "UpdateOptions", patch: "PatchOptions", delete: "DeleteOptions" };

/** Whether the request asks for a dry run; 422 for a dryRun value other than All, as upstream. */
export function isDryRun(query: URLSearchParams, verb: string): boolean {
  const values = query.getAll("dryRun");
  if (values.length === 0) return false;
  if (values.every((value) => value === "All")) return true;
  throw newInvalid({ group: "meta.k8s.io", kind: optionsKinds[verb] ?? "CreateOptions" }, "", [fieldNotSupported("dryRun", values, ["All"])]);
}

/**
 * An update through the watch cache with the size check (a Service keeps its allocated values and
 * gets or gives back what a type change needs: allocator/update.ts), or (dryRun=All) the same
 * mutation on a consistent read of the current object, stored nowhere.
 */
export async function guardedUpdate(context: HandlerContext, key: string, mutate: UpdateFunction, options: UpdateOptions = {}): Promise<StoredObject> {
  const dryRun = isDryRun(context.query, context.request.verb);
  const allocation = allocationForUpdate(context, dryRun);
  const checked: UpdateFunction = async (current) => checkObjectSize(await allocation.apply(current, await mutate(current)));
  if (!dryRun) {
    let updated: StoredObject;
    try {
      updated = await context.cacher.update(key, checked, options);
    } catch (error) {
      await allocation.abort();
      throw error;
    }
    await allocation.commit();
    return updated;
  }
  const current = await context.cacher.get(key);
  const next = await checked(structuredClone(current));
  return { ...next, metadata: { ...metadataOf(next), resourceVersion: resourceVersionOf(current) } };
}
