/**
 * The latest usage sample of each node, as agents report it through the node API (ReportUsage)
 * and metrics.k8s.io serves it. Samples live in the store, not in one replica's memory, so any
 * replica answers `kubectl top` and the autoscaler: one key per node,
 * `/flotilla/metrics/nodes/<node>`, attached to the node's etcd lease of `sampleTtlSeconds` (renewed by each sample). A node that
 * stops reporting (dead, or deleted) loses its key when the lease runs out, so the space stays
 * bounded by the live nodes, each sample by `sampleBytesMax`.
 */
import type { EtcdClient } from "../../../libs/etcd-client/index.ts";
import { prefixEnd } from "../../../libs/etcd-client/index.ts";

export const usageSamplesPrefix = "/flotilla/metrics/nodes/";
/** Four of the agents' 15 s reports: one or two lost reports do not blank `kubectl top`. */
export const sampleTtlSeconds = 60;
/** 110 pods of a few containers each fit many times over. */
export const sampleBytesMax = 512 * 1024;
export const podsPerSampleMax = 1000;
export const containersPerPodMax = 64;
/** Nodes one read returns at most. */
export const samplesPerReadMax = 10_000;

export interface ContainerUsage {
  readonly name: string;
  /** CPU in nanocores (1e9 = one core), averaged over the sample's window. */
  readonly cpuNanoCores: number;
  readonly memoryWorkingSetBytes: number;
}

export interface PodUsageSample {
  readonly namespace: string;
  readonly name: string;
  readonly timestampMs: number;
  readonly windowSeconds: number;
  readonly containers: readonly ContainerUsage[];
}

export interface NodeUsageSample {
  readonly nodeName: string;
  readonly timestampMs: number;
  readonly windowSeconds: number;
  readonly cpuNanoCores: number;
  readonly memoryWorkingSetBytes: number;
  readonly pods: readonly PodUsageSample[];
}

/** Where samples are kept; `etcdUsageStore` is the real one, tests use a map. */
export interface UsageStore {
  write(sample: NodeUsageSample): Promise<void>;
  readAll(): Promise<NodeUsageSample[]>;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function checkContainer(value: unknown): ContainerUsage {
  const container = value as Partial<ContainerUsage> | null;
  if (typeof container !== "object" || container === null || typeof container.name !== "string") throw new Error("a container usage needs a name");
  if (!isCount(container.cpuNanoCores) || !isCount(container.memoryWorkingSetBytes)) throw new Error(`container ${container.name}: usage must be non-negative numbers`);
  return { name: container.name, cpuNanoCores: container.cpuNanoCores, memoryWorkingSetBytes: container.memoryWorkingSetBytes };
}

function checkPod(value: unknown): PodUsageSample {
  const pod = value as Partial<PodUsageSample> | null;
  if (typeof pod !== "object" || pod === null || typeof pod.namespace !== "string" || typeof pod.name !== "string") throw new Error("a pod usage needs a namespace and a name");
  if (!isCount(pod.timestampMs) || !isCount(pod.windowSeconds) || !Array.isArray(pod.containers)) throw new Error(`pod ${pod.namespace}/${pod.name}: timestampMs, windowSeconds and containers are required`);
  if (pod.containers.length > containersPerPodMax) throw new Error(`pod ${pod.namespace}/${pod.name}: more than ${containersPerPodMax} containers`);
  return { namespace: pod.namespace, name: pod.name, timestampMs: pod.timestampMs, windowSeconds: pod.windowSeconds, containers: pod.containers.map(checkContainer) };
}

/** A sample from untrusted JSON, with the node's name from its certificate; throws on anything off. */
export function parseUsageSample(json: unknown, nodeName: string): NodeUsageSample {
  const sample = json as Partial<NodeUsageSample> | null;
  if (typeof sample !== "object" || sample === null) throw new Error("a usage sample must be a JSON object");
  const { timestampMs, windowSeconds, cpuNanoCores, memoryWorkingSetBytes, pods } = sample;
  if (!isCount(timestampMs) || !isCount(windowSeconds) || !isCount(cpuNanoCores) || !isCount(memoryWorkingSetBytes)) {
    throw new Error("timestampMs, windowSeconds, cpuNanoCores and memoryWorkingSetBytes must be non-negative numbers");
  }
  if (!Array.isArray(pods)) throw new Error("pods must be an array");
  if (pods.length > podsPerSampleMax) throw new Error(`more than ${podsPerSampleMax} pods in one sample`);
  return { nodeName, timestampMs, windowSeconds, cpuNanoCores, memoryWorkingSetBytes, pods: pods.map(checkPod) };
}

/** The store calls etcdUsageStore makes. */
export type UsageStoreClient = Pick<EtcdClient, "leaseGrant" | "leaseKeepAliveOnce" | "put" | "range">;

/**
 * One lease per node, renewed by each sample and granted again only once it has run out: a grant
 * per write would cost two more store writes per sample (the grant and, later, its expiry).
 * Bounded like the reads: the oldest node's entry goes first.
 */
function nodeLeases(client: UsageStoreClient): (nodeName: string) => Promise<string> {
  const leaseByNode = new Map<string, string>();
  return async (nodeName) => {
    const known = leaseByNode.get(nodeName);
    if (known !== undefined) {
      const renewed = await client.leaseKeepAliveOnce(known).catch(() => undefined);
      if (renewed !== undefined && Number(renewed.TTL) > 0) return known;
      leaseByNode.delete(nodeName);
    }
    const granted = await client.leaseGrant(sampleTtlSeconds);
    const oldest = leaseByNode.keys().next();
    if (leaseByNode.size >= samplesPerReadMax && oldest.done !== true) leaseByNode.delete(oldest.value);
    leaseByNode.set(nodeName, granted.ID);
    return granted.ID;
  };
}

export function etcdUsageStore(client: UsageStoreClient): UsageStore {
  const leaseFor = nodeLeases(client);
  return {
    write: async (sample) => {
      const value = Buffer.from(JSON.stringify(sample));
      if (value.length > sampleBytesMax) throw new Error(`a usage sample may be at most ${sampleBytesMax} bytes, this one is ${value.length}`);
      await client.put({ key: Buffer.from(usageSamplesPrefix + sample.nodeName), value, lease: await leaseFor(sample.nodeName) });
    },
    readAll: async () => {
      const response = await client.range({ key: Buffer.from(usageSamplesPrefix), range_end: prefixEnd(usageSamplesPrefix), limit: samplesPerReadMax });
      const samples: NodeUsageSample[] = [];
      for (const kv of response.kvs) {
        const nodeName = kv.key.toString().slice(usageSamplesPrefix.length);
        try {
          samples.push(parseUsageSample(JSON.parse(kv.value.toString()), nodeName));
        } catch {
          // Written by a checked path, so only a foreign writer gets here: skip it, serve the rest.
        }
      }
      return samples;
    },
  };
}

/** A UsageStore in memory, for tests. */
export function memoryUsageStore(): UsageStore & { readonly samples: Map<string, NodeUsageSample> } {
  const samples = new Map<string, NodeUsageSample>();
  return {
    samples,
    write: async (sample) => void samples.set(sample.nodeName, sample),
    readAll: async () => [...samples.values()],
  };
}
