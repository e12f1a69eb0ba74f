/**
 * What a node writes, each limited to the node itself: status of pods bound to it, deletion of
 * those pods once their containers are gone, its own Node status, its Lease, and Events about its
 * pods. Writes go through the API server's storage layer (a transaction per write).
 */
import { randomBytes } from "node:crypto";
import type { Storages } from "../apiserver/storages.ts";
import type { StoredObject } from "../apiserver/storage/index.ts";
import { isStorageError } from "../apiserver/storage/index.ts";
import { invalidArgument, notFound, permissionDenied } from "./errors.ts";
import { eventsResource, getIfPresent, isoMicros, isoSeconds, keyFor, leasesResource, metadataField, newObject, nodesResource, podsResource } from "./objects.ts";

export const nodeLeaseNamespace = "kube-node-lease";
export const leaseDurationSecondsDefault = 40;
const reasonLengthMax = 128;
const messageLengthMax = 1024;

export interface WriteDeps {
  readonly storages: Storages;
  readonly nowMs: () => number;
}

function checkBound(pod: StoredObject, nodeName: string, uid: string): void {
  const boundTo = (pod["spec"] as { nodeName?: string } | undefined)?.nodeName ?? "";
  if (boundTo !== nodeName) throw permissionDenied(`pod ${metadataField(pod, "namespace")}/${metadataField(pod, "name")} is not bound to node ${nodeName}`);
  if (uid !== "" && metadataField(pod, "uid") !== uid) throw notFound(`pod ${metadataField(pod, "namespace")}/${metadataField(pod, "name")} with uid ${uid} is gone`);
}

async function mapNotFound<T>(work: Promise<T>, what: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isStorageError(error) && error.reason === "NotFound") throw notFound(`${what} not found`);
    throw error;
  }
}

export async function reportPodStatus(deps: WriteDeps, nodeName: string, namespace: string, name: string, uid: string, status: unknown): Promise<void> {
  if (typeof status !== "object" || status === null) throw invalidArgument("pod status must be a JSON object");
  const info = podsResource();
  await mapNotFound(
    deps.storages.cacherFor(info).update(keyFor(info, namespace, name), (current) => {
      checkBound(current, nodeName, uid);
      return { ...current, status };
    }),
    `pod ${namespace}/${name}`,
  );
}

export async function confirmPodDeleted(deps: WriteDeps, nodeName: string, namespace: string, name: string, uid: string): Promise<void> {
  const info = podsResource();
  const pod = await getIfPresent(deps.storages, info, namespace, name);
  if (pod === undefined) return;
  checkBound(pod, nodeName, uid);
  if (metadataField(pod, "deletionTimestamp") === "") throw permissionDenied(`pod ${namespace}/${name} is not being deleted`);
  try {
    await deps.storages.cacherFor(info).delete(keyFor(info, namespace, name), { preconditions: { uid: metadataField(pod, "uid") } });
  } catch (error) {
    // Already gone (or replaced by a new pod of the same name, which this node must not delete).
    if (isStorageError(error) && (error.reason === "NotFound" || error.reason === "Conflict")) return;
    throw error;
  }
}

export async function reportNodeStatus(deps: WriteDeps, nodeName: string, status: unknown): Promise<void> {
  if (typeof status !== "object" || status === null) throw invalidArgument("node status must be a JSON object");
  const info = nodesResource();
  await mapNotFound(
    deps.storages.cacherFor(info).update(keyFor(info, "", nodeName), (current) => ({ ...current, status })),
    `node ${nodeName}`,
  );
}

/** The only annotations a node may set on itself: the overlay's (VTEP MAC, public address). */
export const nodeAnnotationPrefix = "overlay.flotilla.io/";

export async function annotateNode(deps: WriteDeps, nodeName: string, annotations: Record<string, string>): Promise<void> {
  const outside = Object.keys(annotations).filter((key) => !key.startsWith(nodeAnnotationPrefix));
  if (outside.length > 0) throw invalidArgument(`a node may only set annotations under ${nodeAnnotationPrefix}: ${outside.join(", ")}`);
  const info = nodesResource();
  await mapNotFound(
    deps.storages.cacherFor(info).update(keyFor(info, "", nodeName), (current) => {
      const metadata = current["metadata"] as { annotations?: Record<string, string> };
      return { ...current, metadata: { ...metadata, annotations: { ...(metadata.annotations ?? {}), ...annotations } } };
    }),
    `node ${nodeName}`,
  );
}

export async function renewLease(deps: WriteDeps, nodeName: string, durationSeconds: number): Promise<void> {
  const info = leasesResource();
  const cacher = deps.storages.cacherFor(info);
  const nowMs = deps.nowMs();
  const spec = { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds > 0 ? durationSeconds : leaseDurationSecondsDefault, renewTime: isoMicros(nowMs) };
  const existing = await getIfPresent(deps.storages, info, nodeLeaseNamespace, nodeName);
  if (existing === undefined) {
    try {
      await cacher.create(newObject({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: nodeName, namespace: nodeLeaseNamespace }, spec }, nowMs));
      return;
    } catch (error) {
      if (!(isStorageError(error) && error.reason === "AlreadyExists")) throw error;
    }
  }
  await cacher.update(keyFor(info, nodeLeaseNamespace, nodeName), (current) => ({ ...current, spec: { ...(current["spec"] as object), ...spec } }));
}

export interface EventInput {
  readonly pod: StoredObject;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

export async function recordEvent(deps: WriteDeps, nodeName: string, input: EventInput): Promise<void> {
  if (input.type !== "Normal" && input.type !== "Warning") throw invalidArgument(`event type must be Normal or Warning, got "${input.type}"`);
  const namespace = metadataField(input.pod, "namespace");
  const podName = metadataField(input.pod, "name");
  const pod = await getIfPresent(deps.storages, podsResource(), namespace, podName);
  if (pod === undefined) throw notFound(`pod ${namespace}/${podName} not found`);
  checkBound(pod, nodeName, "");
  const nowMs = deps.nowMs();
  const name = `${podName}.${randomBytes(8).toString("hex")}`;
  const event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace },
    involvedObject: { kind: "Pod", apiVersion: "v1", namespace, name: podName, uid: metadataField(pod, "uid"), resourceVersion: metadataField(pod, "resourceVersion") },
    type: input.type,
    reason: input.reason.slice(0, reasonLengthMax),
    message: input.message.slice(0, messageLengthMax),
    source: { component: "kubelet", host: nodeName },
    reportingComponent: "kubelet",
    reportingInstance: nodeName,
    firstTimestamp: isoSeconds(nowMs),
    lastTimestamp: isoSeconds(nowMs),
    count: 1,
  };
  await deps.storages.cacherFor(eventsResource()).create(newObject(event, nowMs));
}
