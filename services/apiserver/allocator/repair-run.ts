/**
 * The allocator repair loop as the replica's leader runs it: Services are
 * read straight from the store (a consistent list, not the watch cache), problems go to the log
 * and, when a Service is concerned, become a Warning Event on it with upstream's reason
 * (`ClusterIPAlreadyAllocated`, `PortNotAllocated`, ...) and source component.
 */
import { randomBytes, randomInt } from "node:crypto";
import { findResource } from "../../../libs/api/registry.ts";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import type { Logger } from "../../../libs/log/index.ts";
import { createPrng } from "../../../libs/prng/index.ts";
import { serviceClusterIpRangeDefault, serviceNodePortRangeDefault } from "../config.ts";
import { prepareForCreate } from "../object-meta.ts";
import { namespacePrefix, ObjectStore, type StoredObject } from "../storage/index.ts";
import { nodePortStaticBandSize, parsePortRange, parseServiceCidr } from "./range.ts";
import { clusterIpRepair, nodePortRepair, RangeRepair, runRepairLoop, type RepairProblem } from "./repair.ts";
import { StoredRange, nodePortsKey, serviceIpsKey } from "./store.ts";

const eventNameSuffixBytes = 8;

function sourceComponent(repair: RangeRepair): string {
  return repair.eventPrefix === "ClusterIP" ? "ipallocator-repair-controller" : "portallocator-repair-controller";
}

function eventFor(repair: RangeRepair, problem: RepairProblem, service: StoredObject, nowMs: number): StoredObject {
  const metadata = (service["metadata"] ?? {}) as { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  const namespace = metadata.namespace ?? "default";
  const timestamp = new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const component = sourceComponent(repair);
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${metadata.name ?? "service"}.${randomBytes(eventNameSuffixBytes).toString("hex")}`, namespace },
    involvedObject: { kind: "Service", apiVersion: "v1", namespace, name: metadata.name ?? "", uid: metadata.uid ?? "", resourceVersion: metadata.resourceVersion ?? "" },
    reason: `${repair.eventPrefix}${problem.reason}`,
    message: problem.message,
    type: "Warning",
    count: 1,
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    source: { component },
    reportingComponent: component,
    reportingInstance: "",
  };
}

export interface AllocatorRepairConfig {
  readonly storeEndpoints: readonly string[];
  /** The API server's ranges (defaults: 10.96.0.0/12 and 30000-32767). */
  readonly serviceClusterIpRange?: string | undefined;
  readonly serviceNodePortRange?: string | undefined;
  readonly intervalMs?: number | undefined;
  readonly logger: Logger;
}

/**
 * Runs the repair of both ranges while `signal` is not aborted (the replica runs it under the
 * controller-manager Lease). It has its own store client and reads the bitmaps and Services
 * straight from the store; the compare-and-swap keeps it safe beside the API servers' allocations.
 */
export async function runAllocatorRepair(config: AllocatorRepairConfig, signal: AbortSignal): Promise<void> {
  const services = findResource("", "v1", "services");
  const events = findResource("", "v1", "events");
  if (services === undefined || events === undefined) throw new Error("the registry has no services or events");
  const client = new EtcdClient({ endpoints: config.storeEndpoints });
  const servicesStore = new ObjectStore({ client, resource: { group: "", resource: "services" }, namespaced: true });
  const eventsStore = new ObjectStore({ client, resource: { group: "", resource: "events" }, namespaced: true });
  const prng = createPrng(randomInt(2 ** 31));
  const repairs = [
    new RangeRepair(new StoredRange(client, serviceIpsKey, parseServiceCidr(config.serviceClusterIpRange ?? serviceClusterIpRangeDefault), prng), clusterIpRepair),
    new RangeRepair(new StoredRange(client, nodePortsKey, parsePortRange(config.serviceNodePortRange ?? serviceNodePortRangeDefault), prng, nodePortStaticBandSize), nodePortRepair),
  ];
  const listServices = async (): Promise<readonly StoredObject[]> => (await servicesStore.list(namespacePrefix({ group: "", resource: "services" }, undefined))).items;
  const report = async (repair: RangeRepair, problem: RepairProblem): Promise<void> => {
    const fields = { reason: `${repair.eventPrefix}${problem.reason}`, value: problem.value };
    if (problem.reason === "Leaked") config.logger.info(fields, problem.message);
    else config.logger.warn(fields, problem.message);
    if (problem.service === undefined) return;
    const nowMs = Date.now();
    await eventsStore.create(prepareForCreate(events, eventFor(repair, problem, problem.service, nowMs), new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z")));
  };
  const onError = (error: unknown): void => config.logger.warn({ err: error }, "allocator repair failed; trying again next round");
  try {
    await runRepairLoop({ repairs, listServices, report, onError, ...(config.intervalMs === undefined ? {} : { intervalMs: config.intervalMs }) }, signal);
  } finally {
    client.close();
  }
}
