/**
 * The allocator repair loop (upstream's ipallocator and portallocator repair controllers):
 * periodically rebuild a range's bitmap from the Services that exist, so that
 * - a value held in the bitmap by no Service (a replica crashed between allocating and writing
 *   the Service) is released, but only after it has looked leaked on `leakedRepairsBeforeRelease`
 *   runs in a row, since a create in flight holds its value for a moment before its Service exists;
 * - a value a Service uses but the bitmap lost is marked taken again;
 * - a value two Services use, or one outside the range, is reported (a Warning Event on the
 *   Service and a log line); the Services are left alone, as upstream leaves them.
 * Each run reads the bitmap first and lists the Services second, then stores the rebuilt bitmap
 * by compare-and-swap on the first read: an allocation that happened in between makes the swap
 * fail and the run start over (bounded).
 */
import type { StoredObject } from "../storage/index.ts";
import { bitIsSet, emptyBitmap, type AllocationRange } from "./range.ts";
import type { StoredRange } from "./store.ts";
import { heldValues } from "./update.ts";
import { sleepOrAbort } from "../../../libs/client/index.ts";

/** upstream's numRepairsBeforeLeakCleanup. */
export const leakedRepairsBeforeRelease = 3;
/** How often the leader repairs (upstream: 3 minutes). */
export const repairIntervalMsDefault = 60_000;
/** Runs of one repair that may lose the compare-and-swap to allocations before it gives up until next time. */
export const repairAttemptsMax = 8;

export type RepairProblemReason = "NotAllocated" | "AlreadyAllocated" | "OutOfRange" | "Leaked" | "LeakReleased";

export interface RepairProblem {
  readonly reason: RepairProblemReason;
  readonly value: string;
  /** The Service concerned; none for leaks. */
  readonly service?: StoredObject;
  readonly message: string;
}

export interface RepairKind {
  /** `ClusterIP` or `Port`: the prefix of upstream's event reasons (`ClusterIPAlreadyAllocated`). */
  readonly eventPrefix: "ClusterIP" | "Port";
  readonly valuesOf: (service: StoredObject) => string[];
  readonly describe: (reason: RepairProblemReason, value: string, range: AllocationRange) => string;
}

function describeIp(reason: RepairProblemReason, value: string, range: AllocationRange): string {
  switch (reason) {
    case "NotAllocated":
      return `Cluster IP [IPv4]:${value} is not allocated; repairing`;
    case "AlreadyAllocated":
      return `Cluster IP [IPv4]:${value} was assigned to multiple services; please recreate service`;
    case "OutOfRange":
      return `Cluster IP [IPv4]:${value} is not within the configured Service CIDR ${range.text}; please recreate service`;
    case "Leaked":
      return `the cluster IP [IPv4]:${value} may have leaked: flagging for later clean up`;
    case "LeakReleased":
      return `the cluster IP [IPv4]:${value} appears to have leaked: cleaning up`;
  }
}

function describePort(reason: RepairProblemReason, value: string, range: AllocationRange): string {
  switch (reason) {
    case "NotAllocated":
      return `Port ${value} is not allocated; repairing`;
    case "AlreadyAllocated":
      return `Port ${value} was assigned to multiple services; please recreate service`;
    case "OutOfRange":
      return `Port ${value} is not within the port range ${range.text}; please recreate service`;
    case "Leaked":
      return `the node port ${value} may have leaked: flagging for later clean up`;
    case "LeakReleased":
      return `the node port ${value} appears to have leaked: cleaning up`;
  }
}

export const clusterIpRepair: RepairKind = { eventPrefix: "ClusterIP", valuesOf: (service) => heldValues(service).ips, describe: describeIp };
// One Service may use a node port for TCP and UDP alike: it holds it once.
export const nodePortRepair: RepairKind = { eventPrefix: "Port", valuesOf: (service) => [...new Set(heldValues(service).ports)], describe: describePort };

export interface Rebuilt {
  readonly bitmap: Uint8Array;
  readonly problems: RepairProblem[];
  /** Offsets held by no Service, with how many runs in a row have seen them so. */
  readonly leaks: Map<number, number>;
}

// In place: the rebuilt bitmap is private to one run (withBit copies, which is quadratic over a /12).
function setBit(bitmap: Uint8Array, offset: number): void {
  const index = offset >> 3;
  bitmap[index] = (bitmap[index] ?? 0) | (1 << (offset & 7));
}

/** The bitmap the Services call for, given the stored one and the leak counts of earlier runs. Pure. */
export function rebuildBitmap(range: AllocationRange, stored: Uint8Array, services: readonly StoredObject[], leaks: ReadonlyMap<number, number>, kind: RepairKind): Rebuilt {
  const bitmap = emptyBitmap(range.size);
  const problems: RepairProblem[] = [];
  const problem = (reason: RepairProblemReason, value: string, service?: StoredObject): void => {
    problems.push({ reason, value, ...(service === undefined ? {} : { service }), message: kind.describe(reason, value, range) });
  };
  for (const service of services) {
    for (const value of kind.valuesOf(service)) {
      const offset = range.offsetOf(value);
      if (offset === undefined) problem("OutOfRange", value, service);
      else if (bitIsSet(bitmap, offset)) problem("AlreadyAllocated", value, service);
      else {
        if (!bitIsSet(stored, offset)) problem("NotAllocated", value, service);
        setBit(bitmap, offset);
      }
    }
  }
  const nextLeaks = new Map<number, number>();
  for (let index = 0; index < stored.length; index++) {
    // Most of a large range is free: whole empty bytes are skipped.
    if ((stored[index] ?? 0) === 0) continue;
    for (let offset = index * 8; offset < Math.min(index * 8 + 8, range.size); offset++) {
      if (!bitIsSet(stored, offset) || bitIsSet(bitmap, offset)) continue;
      const seen = (leaks.get(offset) ?? 0) + 1;
      if (seen >= leakedRepairsBeforeRelease) {
        problem("LeakReleased", range.valueAt(offset));
        continue;
      }
      problem("Leaked", range.valueAt(offset));
      nextLeaks.set(offset, seen);
      setBit(bitmap, offset);
    }
  }
  return { bitmap, problems, leaks: nextLeaks };
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

/** One range's repair, keeping its leak counts between runs. */
export class RangeRepair {
  readonly #range: StoredRange;
  readonly #kind: RepairKind;
  #leaks = new Map<number, number>();

  constructor(range: StoredRange, kind: RepairKind) {
    this.#range = range;
    this.#kind = kind;
  }

  get eventPrefix(): string {
    return this.#kind.eventPrefix;
  }

  /** Rebuilds the stored bitmap from `listServices()` (a consistent read); returns what it found. */
  async run(listServices: () => Promise<readonly StoredObject[]>): Promise<RepairProblem[]> {
    for (let attempt = 0; attempt < repairAttemptsMax; attempt++) {
      // The bitmap first, then the Services: a Service created after the read took its value after it, so the swap fails.
      const snapshot = await this.#range.snapshot();
      const services = await listServices();
      const rebuilt = rebuildBitmap(this.#range.range, snapshot.bitmap, services, this.#leaks, this.#kind);
      if (sameBytes(rebuilt.bitmap, snapshot.bitmap) || (await this.#range.replaceIfUnchanged(snapshot, rebuilt.bitmap))) {
        this.#leaks = rebuilt.leaks;
        return rebuilt.problems;
      }
    }
    throw new Error(`repair of ${this.#range.range.text}: the range changed under ${repairAttemptsMax} runs in a row`);
  }
}

/** Problems one run reports at most per range (the rest are counted in the log line). */
export const problemsReportedPerRunMax = 100;

export interface RepairLoopOptions {
  readonly repairs: readonly RangeRepair[];
  /** A consistent list of every Service (not a possibly lagging cache). */
  readonly listServices: () => Promise<readonly StoredObject[]>;
  readonly report: (repair: RangeRepair, problem: RepairProblem) => Promise<void>;
  readonly onError: (error: unknown) => void;
  readonly intervalMs?: number;
}

/** Repairs every range at once and then every `intervalMs` until `signal` aborts (run by the leader only). */
export async function runRepairLoop(options: RepairLoopOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    for (const repair of options.repairs) {
      if (signal.aborted) return;
      try {
        const problems = await repair.run(options.listServices);
        for (const problem of problems.slice(0, problemsReportedPerRunMax)) await options.report(repair, problem);
      } catch (error) {
        options.onError(error);
      }
    }
    await sleepOrAbort(options.intervalMs ?? repairIntervalMsDefault, signal);
  }
}
