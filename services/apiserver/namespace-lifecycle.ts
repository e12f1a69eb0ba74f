/**
 * A namespace's life as upstream's namespace registry and NamespaceLifecycle admission run it:
 * a new namespace carries the `kubernetes` finalizer in spec.finalizers (libs/api's defaults); the
 * first DELETE only sets deletionTimestamp and status.phase=Terminating, and the namespace
 * controller (services/controllers/namespace) empties it and then removes its finalizer through
 * `namespaces/<name>/finalize`; the namespace is removed by the write that leaves it with no
 * finalizer of either kind. Creates in a Terminating namespace are refused (403), and the
 * built-in namespaces cannot be deleted at all.
 */
import { FieldPath } from "../../libs/api/field-path.ts";
import { newBadRequest, newForbidden, newInvalid } from "../../libs/api/status-errors.ts";
import { validateFinalizers } from "../../libs/api/validation.ts";
import { keyOf, type HandlerContext } from "./context.ts";
import { readBody, writeJson } from "./http.ts";
import { guardedUpdate } from "./limits.ts";
import { metadataOf, recordOf } from "./object-meta.ts";
import type { StoredObject } from "./storage/index.ts";

/** upstream's finalizer token of the namespace controller. */
export const kubernetesFinalizer = "kubernetes";

/** Namespaces the system needs: a DELETE of one is 403 (upstream's immortal namespaces). */
export const immortalNamespaces: ReadonlySet<string> = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

const namespacesResource = { group: "", resource: "namespaces" };

export function isNamespaces(context: HandlerContext): boolean {
  return context.info.group === "" && context.info.resource === "namespaces";
}

/** spec.finalizers of a namespace (the namespace controller's tokens, not metadata.finalizers). */
export function specFinalizersOf(namespace: StoredObject): string[] {
  const finalizers = recordOf(namespace["spec"])["finalizers"];
  return Array.isArray(finalizers) ? finalizers.filter((value): value is string => typeof value === "string") : [];
}

export function isTerminating(namespace: StoredObject): boolean {
  return (metadataOf(namespace).deletionTimestamp ?? null) !== null || recordOf(namespace["status"])["phase"] === "Terminating";
}

/** 403 with upstream's words and NamespaceTerminating cause when `namespace` is being deleted. */
export function checkAcceptsNewContent(context: HandlerContext, namespace: StoredObject, objectName: string): void {
  if (!isTerminating(namespace)) return;
  const name = context.request.namespace;
  const reason = `unable to create new content in namespace ${name} because it is being terminated`;
  const error = newForbidden({ group: context.info.group, resource: context.info.resource }, objectName, reason);
  error.status.details = { ...(error.status.details ?? {}), causes: [{ reason: "NamespaceTerminating", message: `namespace ${name} is being terminated`, field: "metadata.namespace" }] };
  throw error;
}

/** A built-in namespace: 403 `namespaces "default" is forbidden: this namespace may not be deleted`. */
export function checkDeletable(name: string): void {
  if (immortalNamespaces.has(name)) throw newForbidden(namespacesResource, name, "this namespace may not be deleted");
}

function timestamp(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The first DELETE of a namespace: deletionTimestamp and phase Terminating, nothing removed. */
export async function markTerminating(context: HandlerContext, preconditions: { uid?: string | undefined; resourceVersion?: string | undefined }): Promise<StoredObject> {
  const options = { preconditions };
  return await context.cacher.update(
    keyOf(context),
    (current) => {
      const metadata = { ...metadataOf(current) };
      // Upstream sets only the timestamp on a namespace (no grace period).
      if ((metadata.deletionTimestamp ?? null) === null) metadata.deletionTimestamp = timestamp(context.nowMs());
      delete metadata.resourceVersion;
      return { ...current, metadata, status: { ...recordOf(current["status"]), phase: "Terminating" } };
    },
    options,
  );
}

/** Whether a namespace marked for deletion still waits for a finalizer of either kind. */
export function namespaceHoldsOn(namespace: StoredObject): boolean {
  return specFinalizersOf(namespace).length > 0;
}

/**
 * A main-resource update of a namespace cannot change spec.finalizers (only `finalize` can), as
 * upstream's namespace strategy keeps them from the stored object.
 */
export function keepSpecFinalizers(context: HandlerContext, next: StoredObject, current: StoredObject): StoredObject {
  if (!isNamespaces(context) || context.request.subresource !== "") return next;
  const spec = { ...recordOf(next["spec"]) };
  const kept = recordOf(current["spec"])["finalizers"];
  if (kept === undefined) delete spec["finalizers"];
  else spec["finalizers"] = kept;
  return { ...next, spec };
}

/** `PUT namespaces/<name>/finalize`: only spec.finalizers change (upstream's FinalizeREST). */
export async function handleNamespaceFinalize(context: HandlerContext, finish: (updated: StoredObject) => Promise<StoredObject>): Promise<void> {
  let body: StoredObject;
  try {
    body = recordOf(JSON.parse((await readBody(context.http)).toString("utf8")));
  } catch (error) {
    throw newBadRequest(`the body of the request was in an unknown format - accepted media types include: application/json: ${(error as Error).message}`);
  }
  const finalizers = specFinalizersOf(body);
  const errors = validateFinalizers(finalizers, FieldPath.of("spec", "finalizers"));
  if (errors.length > 0) throw newInvalid({ group: "", kind: "Namespace" }, context.request.name, errors);
  if ((metadataOf(body).name ?? context.request.name) !== context.request.name) throw newBadRequest("the name of the object does not match the name on the URL");
  const expected = metadataOf(body).resourceVersion ?? "";
  const updated = await guardedUpdate(
    context,
    keyOf(context),
    (current) => {
      const metadata = { ...metadataOf(current) };
      delete metadata.resourceVersion;
      return { ...current, metadata, spec: { ...recordOf(current["spec"]), finalizers } };
    },
    expected === "" ? {} : { expectedResourceVersion: expected },
  );
  writeJson(context.response, 200, await finish(updated));
}
