/**
 * metrics.k8s.io/v1beta1 as metrics-server serves it: NodeMetrics (`nodes`, cluster-scoped) and
 * PodMetrics (`pods`, namespaced), get and list with label selectors (matched against the Node's
 * and Pod's own labels, as metrics-server does). Figures come from the latest sample each agent
 * reported (samples.ts); a pod is served only while it exists and is bound to the node that
 * reported it, a node only while its Node exists.
 */
import type { ServerResponse } from "node:http";
import { findResource } from "../../../libs/api/registry.ts";
import { parseSelector, type Selector } from "../../../libs/api/labels.ts";
import { newBadRequest, newMethodNotSupported, newNotFound } from "../../../libs/api/status-errors.ts";
import { writeJson } from "../http.ts";
import type { ResourceRequest } from "../request-info.ts";
import type { Storages } from "../storages.ts";
import { namespacePrefix, resourcePrefix, type StoredObject } from "../storage/index.ts";
import type { NodeUsageSample, PodUsageSample, UsageStore } from "./samples.ts";

export const metricsGroup = "metrics.k8s.io";
export const metricsVersion = "v1beta1";
const apiVersion = `${metricsGroup}/${metricsVersion}`;

export interface MetricsDeps {
  readonly usage: UsageStore;
  readonly storages: Storages;
  readonly nowMs: () => number;
}

interface Usage {
  cpu: string;
  memory: string;
}

/** CPU as nanocores and memory in Ki, the units metrics-server answers with. */
export function usageQuantities(cpuNanoCores: number, memoryWorkingSetBytes: number): Usage {
  return { cpu: `${Math.round(cpuNanoCores)}n`, memory: `${Math.round(memoryWorkingSetBytes / 1024)}Ki` };
}

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

function metaOf(object: StoredObject): Meta {
  return (object["metadata"] as Meta | undefined) ?? {};
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function nodeMetrics(sample: NodeUsageSample, node: StoredObject, nowMs: number): Record<string, unknown> {
  const labels = metaOf(node).labels;
  return {
    metadata: { name: sample.nodeName, creationTimestamp: isoSeconds(nowMs), ...(labels === undefined ? {} : { labels }) },
    timestamp: isoSeconds(sample.timestampMs),
    window: `${sample.windowSeconds}s`,
    usage: usageQuantities(sample.cpuNanoCores, sample.memoryWorkingSetBytes),
  };
}

function podMetrics(sample: PodUsageSample, pod: StoredObject, nowMs: number): Record<string, unknown> {
  const labels = metaOf(pod).labels;
  return {
    metadata: { name: sample.name, namespace: sample.namespace, creationTimestamp: isoSeconds(nowMs), ...(labels === undefined ? {} : { labels }) },
    timestamp: isoSeconds(sample.timestampMs),
    window: `${sample.windowSeconds}s`,
    containers: sample.containers.map((container) => ({ name: container.name, usage: usageQuantities(container.cpuNanoCores, container.memoryWorkingSetBytes) })),
  };
}

async function cachedObjects(deps: MetricsDeps, resource: "nodes" | "pods", namespace: string): Promise<Map<string, StoredObject>> {
  const info = findResource("", "v1", resource);
  if (info === undefined) throw new Error(`the registry has no core ${resource}`);
  const prefix = namespace === "" ? resourcePrefix({ group: "", resource }) : namespacePrefix({ group: "", resource }, namespace);
  const listed = await deps.storages.cacherFor(info).list(prefix, { resourceVersion: "0" });
  return new Map(listed.items.map((object) => [`${metaOf(object).namespace ?? ""}/${metaOf(object).name ?? ""}`, object]));
}

/** Every NodeMetrics the selector and name allow. */
export async function listNodeMetrics(deps: MetricsDeps, name: string, selector: Selector): Promise<Record<string, unknown>[]> {
  const [samples, nodes] = await Promise.all([deps.usage.readAll(), cachedObjects(deps, "nodes", "")]);
  const items: Record<string, unknown>[] = [];
  for (const sample of samples) {
    const node = nodes.get(`/${sample.nodeName}`);
    if (node === undefined || (name !== "" && sample.nodeName !== name) || !selector.matches(metaOf(node).labels ?? {})) continue;
    items.push(nodeMetrics(sample, node, deps.nowMs()));
  }
  return items.sort((left, right) => String((left["metadata"] as Meta).name).localeCompare(String((right["metadata"] as Meta).name)));
}

/** Every PodMetrics in the namespace ("" for all) the selector and name allow. */
export async function listPodMetrics(deps: MetricsDeps, namespace: string, name: string, selector: Selector): Promise<Record<string, unknown>[]> {
  const [samples, pods] = await Promise.all([deps.usage.readAll(), cachedObjects(deps, "pods", namespace)]);
  const items: Record<string, unknown>[] = [];
  for (const sample of samples) {
    for (const podSample of sample.pods) {
      const pod = pods.get(`${podSample.namespace}/${podSample.name}`);
      if (pod === undefined || (name !== "" && podSample.name !== name)) continue;
      // Only the node the pod runs on speaks for it.
      if ((pod["spec"] as { nodeName?: string } | undefined)?.nodeName !== sample.nodeName) continue;
      if (!selector.matches(metaOf(pod).labels ?? {})) continue;
      items.push(podMetrics(podSample, pod, deps.nowMs()));
    }
  }
  const keyOf = (item: Record<string, unknown>): string => `${(item["metadata"] as Meta).namespace ?? ""}/${(item["metadata"] as Meta).name ?? ""}`;
  return items.sort((left, right) => keyOf(left).localeCompare(keyOf(right)));
}

function selectorOf(query: URLSearchParams): Selector {
  try {
    return parseSelector(query.get("labelSelector") ?? "");
  } catch (error) {
    throw newBadRequest(error instanceof Error ? error.message : String(error));
  }
}

/** Serves one metrics.k8s.io request (get or list); anything else is 405, an unknown name 404. */
export async function serveMetrics(response: ServerResponse, request: ResourceRequest, query: URLSearchParams, deps: MetricsDeps): Promise<void> {
  const kind = request.resource === "nodes" ? "NodeMetrics" : "PodMetrics";
  const groupResource = { group: metricsGroup, resource: request.resource === "nodes" ? "nodemetrics" : "podmetrics" };
  if (request.subresource !== "" || (request.verb !== "get" && request.verb !== "list")) throw newMethodNotSupported(groupResource, request.verb);
  const selector = request.verb === "get" ? parseSelector("") : selectorOf(query);
  const items = request.resource === "nodes" ? await listNodeMetrics(deps, request.name, selector) : await listPodMetrics(deps, request.namespace, request.name, selector);
  if (request.verb === "list") {
    writeJson(response, 200, { kind: `${kind}List`, apiVersion, metadata: {}, items: items.map((item) => ({ kind, apiVersion, ...item })) });
    return;
  }
  const found = items[0];
  if (found === undefined) throw newNotFound(groupResource, request.resource === "nodes" ? request.name : `${request.namespace}/${request.name}`);
  writeJson(response, 200, { kind, apiVersion, ...found });
}
