/**
 * Which node and container a streaming request (log, exec, portforward) goes to: the pod from
 * the watch cache, its spec.nodeName, and the container (the only one when the request names
 * none, as upstream), with upstream's messages when there is no answer.
 */
import { findResource } from "../../../libs/api/registry.ts";
import { StatusError, newBadRequest, newNotFound, newServiceUnavailable } from "../../../libs/api/status-errors.ts";
import { NodeSessionUnavailable, sessionRouter, type SessionRouter } from "../../nodeapi/session-routing.ts";
import type { NodeSession, StreamOpenRequest } from "../../nodeapi/stream-hub.ts";
import { isStorageError, objectKey, type StoredObject } from "../storage/index.ts";
import type { Storages } from "../storages.ts";

export interface PodTarget {
  readonly pod: StoredObject;
  readonly nodeName: string;
  readonly container: string;
}

interface ContainerLike {
  name?: string;
}

export async function findPod(storages: Storages, namespace: string, name: string): Promise<StoredObject> {
  const info = findResource("", "v1", "pods");
  if (info === undefined) throw new Error("the registry has no pods resource");
  try {
    return await storages.cacherFor(info).get(objectKey({ group: "", resource: "pods" }, namespace, name));
  } catch (error) {
    if (isStorageError(error) && error.reason === "NotFound") throw newNotFound({ group: "", resource: "pods" }, name);
    throw error;
  }
}

/** The node and container; `wanted` "" picks the only container (init containers count for logs). */
export function podTarget(pod: StoredObject, name: string, wanted: string): PodTarget {
  const spec = (pod["spec"] ?? {}) as { nodeName?: string; containers?: ContainerLike[]; initContainers?: ContainerLike[]; ephemeralContainers?: ContainerLike[] };
  const nodeName = spec.nodeName ?? "";
  if (nodeName === "") throw newBadRequest(`pod ${name} does not have a host assigned`);
  const containers = (spec.containers ?? []).map((container) => container.name ?? "");
  const all = [...containers, ...(spec.initContainers ?? []).map((c) => c.name ?? ""), ...(spec.ephemeralContainers ?? []).map((c) => c.name ?? "")];
  if (wanted === "") {
    if (containers.length === 1) return { pod, nodeName, container: containers[0] ?? "" };
    throw newBadRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`);
  }
  if (!all.includes(wanted)) throw newBadRequest(`container ${wanted} is not valid for pod ${name}`);
  return { pod, nodeName, container: wanted };
}

/**
 * Opens a session to the pod's node: on this replica when its agent is connected here, else
 * through the replica that holds its stream (services/nodeapi/session-routing.ts); 503 naming the
 * node when no replica holds it, 502 when the ones that do fail.
 */
export async function openNodeSession(target: PodTarget, request: StreamOpenRequest, router: SessionRouter = sessionRouter()): Promise<NodeSession> {
  try {
    return await router.open(target.nodeName, request);
  } catch (error) {
    if (!(error instanceof NodeSessionUnavailable)) throw error;
    throw error.httpCode === 503 ? newServiceUnavailable(error.message) : newBadGateway(error.message);
  }
}

/** 502 with no reason, the shape of upstream's answer when the kubelet behind a proxied request fails. */
function newBadGateway(message: string): StatusError {
  return new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "", code: 502 });
}

/** Query parameters as name -> every value, without the ones the API server consumed. */
export function parametersOf(query: URLSearchParams, omit: readonly string[]): Map<string, string[]> {
  const parameters = new Map<string, string[]>();
  for (const [name, value] of query) {
    if (omit.includes(name)) continue;
    parameters.set(name, [...(parameters.get(name) ?? []), value]);
  }
  return parameters;
}
