/**
 * Pod requests and node allocatable as plain numbers (millicores, bytes, pod count), computed once
 * per pod or node from the quantity strings, so that a scheduling decision never parses a quantity.
 * Follows upstream's resource helpers (k8s.io/component-helpers resource.PodRequests): the sum of
 * the app containers and sidecars, at least the largest init container (plus the sidecars started
 * before it), plus the pod overhead.
 */
import { parseQuantity } from "../../../libs/api/quantity.ts";
import type { Container, Pod } from "../../../libs/api/types/pod.ts";
import type { Node } from "../../../libs/api/types/core.ts";
import type { ResourceList } from "../../../libs/api/types/meta.ts";

/** Resource names the fit filter knows by name; anything else is a scalar (extended) resource. */
const namedResources: ReadonlySet<string> = new Set(["cpu", "memory", "ephemeral-storage", "pods"]);

/** The scheduler's default requests for scoring a container that asks for nothing (upstream's non-zero defaults). */
export const defaultMilliCpuRequest = 100;
export const defaultMemoryRequestBytes = 200 * 1024 * 1024;

export interface Resources {
  milliCpu: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  /** Extended resources (nvidia.com/gpu, hugepages-2Mi, ...) by name; absent means zero. */
  scalars: Map<string, number>;
}

export function emptyResources(): Resources {
  return { milliCpu: 0, memoryBytes: 0, ephemeralStorageBytes: 0, scalars: new Map() };
}

/** What a pod needs, and the same with the scoring defaults for containers that request nothing. */
export interface PodRequests {
  readonly requests: Resources;
  readonly nonZeroMilliCpu: number;
  readonly nonZeroMemoryBytes: number;
}

function quantityValue(list: ResourceList | undefined, name: string, milli: boolean): number | undefined {
  const text = list?.[name];
  if (text === undefined) return undefined;
  const quantity = parseQuantity(text);
  return milli ? quantity.milliValue() : quantity.value();
}

/** Reads a ResourceList into numbers; `defaults` fill cpu and memory when absent (scoring only). */
export function resourcesFromList(list: ResourceList | undefined, defaults = false): Resources {
  const result = emptyResources();
  result.milliCpu = quantityValue(list, "cpu", true) ?? (defaults ? defaultMilliCpuRequest : 0);
  result.memoryBytes = quantityValue(list, "memory", false) ?? (defaults ? defaultMemoryRequestBytes : 0);
  result.ephemeralStorageBytes = quantityValue(list, "ephemeral-storage", false) ?? 0;
  for (const name of Object.keys(list ?? {})) {
    if (namedResources.has(name)) continue;
    result.scalars.set(name, quantityValue(list, name, false) ?? 0);
  }
  return result;
}

export function addResources(into: Resources, other: Resources, sign: 1 | -1 = 1): void {
  into.milliCpu += sign * other.milliCpu;
  into.memoryBytes += sign * other.memoryBytes;
  into.ephemeralStorageBytes += sign * other.ephemeralStorageBytes;
  for (const [name, amount] of other.scalars) {
    const next = (into.scalars.get(name) ?? 0) + sign * amount;
    if (next === 0) into.scalars.delete(name);
    else into.scalars.set(name, next);
  }
}

function maxResources(into: Resources, other: Resources): void {
  into.milliCpu = Math.max(into.milliCpu, other.milliCpu);
  into.memoryBytes = Math.max(into.memoryBytes, other.memoryBytes);
  into.ephemeralStorageBytes = Math.max(into.ephemeralStorageBytes, other.ephemeralStorageBytes);
  for (const [name, amount] of other.scalars) into.scalars.set(name, Math.max(into.scalars.get(name) ?? 0, amount));
}

function copyResources(source: Resources): Resources {
  const copy = emptyResources();
  addResources(copy, source);
  return copy;
}

function containerRequests(container: Container, defaults: boolean): Resources {
  return resourcesFromList(container.resources?.requests, defaults);
}

/**
 * Upstream's PodRequests: app containers and sidecars (init containers with restartPolicy Always)
 * run together; each regular init container runs alone next to the sidecars started before it.
 */
function podRequestsWith(pod: Pod, defaults: boolean): Resources {
  const spec = pod.spec;
  const total = emptyResources();
  for (const container of spec?.containers ?? []) addResources(total, containerRequests(container, defaults));
  const sidecars = emptyResources();
  const initPeak = emptyResources();
  for (const container of spec?.initContainers ?? []) {
    const requests = containerRequests(container, defaults);
    if (container.restartPolicy === "Always") {
      addResources(sidecars, requests);
      maxResources(initPeak, sidecars);
    } else {
      const whileRunning = copyResources(sidecars);
      addResources(whileRunning, requests);
      maxResources(initPeak, whileRunning);
    }
  }
  addResources(total, sidecars);
  maxResources(total, initPeak);
  podLevelOverride(total, pod);
  if (spec?.overhead !== undefined) addResources(total, resourcesFromList(spec.overhead));
  return total;
}

// Pod-level resources (spec.resources), where set, replace the container sum for cpu and memory.
function podLevelOverride(total: Resources, pod: Pod): void {
  const podLevel = pod.spec?.resources?.requests;
  const milliCpu = quantityValue(podLevel, "cpu", true);
  const memoryBytes = quantityValue(podLevel, "memory", false);
  if (milliCpu !== undefined) total.milliCpu = milliCpu;
  if (memoryBytes !== undefined) total.memoryBytes = memoryBytes;
}

export function computePodRequests(pod: Pod): PodRequests {
  const nonZero = podRequestsWith(pod, true);
  return { requests: podRequestsWith(pod, false), nonZeroMilliCpu: nonZero.milliCpu, nonZeroMemoryBytes: nonZero.memoryBytes };
}

export interface NodeAllocatable {
  readonly resources: Resources;
  readonly pods: number;
}

/** Node status.allocatable (falling back to capacity, as the kubelet reports both). */
export function nodeAllocatable(node: Node): NodeAllocatable {
  const list = node.status?.allocatable ?? node.status?.capacity;
  return { resources: resourcesFromList(list), pods: quantityValue(list, "pods", false) ?? 0 };
}
