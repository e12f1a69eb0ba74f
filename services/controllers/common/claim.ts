/**
 * Adoption and release (pkg/controller ControllerRefManager): a controller claims the objects
 * its selector matches. It adopts matching orphans (a strategic patch adding its controller
 * ownerReference), keeps what it owns and still matches, and releases what it owns that no longer
 * matches (the quarantine workflow: relabel a sick pod, it keeps running, a replacement is made).
 * A controller being deleted adopts and releases nothing.
 */
import { isStatusError } from "../../../libs/api/index.ts";
import type { KubeObject, OwnerReference, Selector } from "../../../libs/api/index.ts";
import type { ApiClient, Resource } from "../../../libs/client/types.ts";
import { controllerRefOf } from "./pods.ts";

export interface ClaimRequest<T extends KubeObject> {
  client: ApiClient;
  resource: Resource;
  owner: KubeObject;
  ownerRef: OwnerReference;
  selector: Selector;
  candidates: readonly T[];
  /** Re-reads the owner from the server before the first adoption (RecheckDeletionTimestamp). */
  ownerStillLive: () => Promise<boolean>;
}

function isDeleting(object: KubeObject): boolean {
  return (object.metadata.deletionTimestamp ?? null) !== null;
}

export function adoptPatch(ownerRef: OwnerReference, uid: string): unknown {
  return { metadata: { ownerReferences: [ownerRef], uid } };
}

export function releasePatch(ownerUid: string, uid: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: "delete", uid: ownerUid }], uid } };
}

/** Returns the objects the owner controls after adoption and release, in candidate order. */
export async function claimObjects<T extends KubeObject>(request: ClaimRequest<T>): Promise<T[]> {
  const { client, resource, owner, ownerRef, selector } = request;
  const claimed: T[] = [];
  let mayAdopt: boolean | undefined;
  for (const candidate of request.candidates) {
    const reference = controllerRefOf(candidate);
    const matches = selector.matches(candidate.metadata.labels);
    const namespace = candidate.metadata.namespace;
    const name = candidate.metadata.name ?? "";
    const uid = candidate.metadata.uid ?? "";
    if (reference !== undefined) {
      if (reference.uid !== owner.metadata.uid) continue;
      if (matches) {
        claimed.push(candidate);
        continue;
      }
      if (isDeleting(owner)) continue;
      await ignoreNotFound(client.patch(resource, namespace, name, "strategic", releasePatch(ownerRef.uid, uid)));
      continue;
    }
    if (isDeleting(owner) || !matches || isDeleting(candidate)) continue;
    if (candidate.metadata.namespace !== owner.metadata.namespace) continue;
    mayAdopt ??= await request.ownerStillLive();
    if (!mayAdopt) continue;
    const adopted = await ignoreNotFound(client.patch<T>(resource, namespace, name, "strategic", adoptPatch(ownerRef, uid)));
    if (adopted !== undefined) claimed.push(adopted);
  }
  return claimed;
}

async function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isStatusError(error, "NotFound")) return undefined;
    throw error;
  }
}
