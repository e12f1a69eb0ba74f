/**
 * Mirror pods: the API server's view of a node's static pods (pods the agent runs from manifest
 * files, not from the API server). As upstream, a mirror pod carries the annotation
 * kubernetes.io/config.mirror (the static pod's hash) and is bound to the node that runs it; a
 * node may create, replace and delete only mirror pods bound to itself, and never touches a pod
 * that is not a mirror.
 */
import { isStorageError, type StoredObject } from "../apiserver/storage/index.ts";
import { invalidArgument, permissionDenied } from "./errors.ts";
import { getIfPresent, keyFor, metadataField, newObject, podsResource } from "./objects.ts";
import type { WriteDeps } from "./writes.ts";

export const mirrorAnnotation = "kubernetes.io/config.mirror";

function annotationsOf(pod: StoredObject): Record<string, string> {
  return (pod["metadata"] as { annotations?: Record<string, string> } | undefined)?.annotations ?? {};
}

function boundNode(pod: StoredObject): string {
  return (pod["spec"] as { nodeName?: string } | undefined)?.nodeName ?? "";
}

function checkMirror(pod: StoredObject, nodeName: string): void {
  const what = `pod ${metadataField(pod, "namespace")}/${metadataField(pod, "name")}`;
  if ((annotationsOf(pod)[mirrorAnnotation] ?? "") === "") throw permissionDenied(`${what} is not a mirror pod (no ${mirrorAnnotation} annotation)`);
  if (boundNode(pod) !== nodeName) throw permissionDenied(`${what} is not bound to node ${nodeName}`);
}

async function deleteIfMirror(deps: WriteDeps, nodeName: string, current: StoredObject): Promise<void> {
  checkMirror(current, nodeName);
  const info = podsResource();
  try {
    await deps.storages.cacherFor(info).delete(keyFor(info, metadataField(current, "namespace"), metadataField(current, "name")), { preconditions: { uid: metadataField(current, "uid") } });
  } catch (error) {
    if (isStorageError(error) && (error.reason === "NotFound" || error.reason === "Conflict")) return;
    throw error;
  }
}

/**
 * Creates the mirror of a static pod, replaces one whose hash changed, or (remove) deletes it.
 * A pod of that name that is not this node's mirror is refused.
 */
export async function syncMirrorPod(deps: WriteDeps, nodeName: string, pod: unknown, remove: boolean): Promise<void> {
  if (typeof pod !== "object" || pod === null) throw invalidArgument("mirror pod must be a JSON object");
  const wanted = pod as StoredObject;
  const namespace = metadataField(wanted, "namespace") || "default";
  const name = metadataField(wanted, "name");
  if (name === "") throw invalidArgument("mirror pod needs metadata.name");
  const info = podsResource();
  const current = await getIfPresent(deps.storages, info, namespace, name);
  if (remove) {
    if (current !== undefined) await deleteIfMirror(deps, nodeName, current);
    return;
  }
  checkMirror(wanted, nodeName);
  if (current !== undefined) {
    checkMirror(current, nodeName);
    if (annotationsOf(current)[mirrorAnnotation] === annotationsOf(wanted)[mirrorAnnotation]) return;
    await deleteIfMirror(deps, nodeName, current);
  }
  const metadata: Record<string, unknown> = { ...(wanted["metadata"] as Record<string, unknown>), namespace };
  delete metadata["uid"];
  delete metadata["resourceVersion"];
  try {
    await deps.storages.cacherFor(info).create(newObject({ ...wanted, apiVersion: "v1", kind: "Pod", metadata, status: { phase: "Pending" } }, deps.nowMs()));
  } catch (error) {
    // Another replica (a retried call) made it first.
    if (!(isStorageError(error) && error.reason === "AlreadyExists")) throw error;
  }
}
