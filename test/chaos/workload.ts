/**
 * The load of a chaos scenario: concurrent clients, each a loop in this process, sending puts,
 * linearizable gets, compare-and-set txns and deletes on a small key set to a random live
 * member, with a short deadline so that calls to a dead or cut-off member end quickly. Every
 * operation is recorded with its invoke and complete times and its outcome, in the shape
 * libs/lincheck checks. Every written value is unique, so watches and the checker can tell
 * writes apart.
 */
import { assert } from "../../libs/assert/index.ts";
import type { EtcdClient } from "../../libs/etcd-client/index.ts";
import type { HistoryEntry, KvOperation, KvResult } from "../../libs/lincheck/index.ts";
import { createPrng, type Prng } from "../../libs/prng/index.ts";
import { errorText } from "./admin.ts";
import { classifyError } from "./classify.ts";
import { sleepMs, type ScenarioClock } from "./clock.ts";

/** Where a request goes: a member's name and the client pinned to it. */
export interface Target {
  readonly name: string;
  readonly client: EtcdClient;
}

export interface OperationMeta {
  readonly member: string;
  /** A planted fault: a get sent as a serializable read to a cut-off member. */
  readonly planted: boolean;
  readonly error?: string;
}

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  /** Makes every written value unique across scenarios of one run. */
  readonly valuePrefix: string;
  readonly thinkTimeMsMax: number;
  readonly seed: number;
}

export interface WorkloadEnvironment {
  /** A random live member, or undefined when none is up (the client then waits). */
  pickTarget(prng: Prng): Target | undefined;
  /** Only under --plant stale-reads: the member currently cut off from the majority. */
  staleReadTarget(): Target | undefined;
  readonly plantProbability: number;
}

/** Relative weights of the operation kinds. */
const operationWeights = { put: 30, get: 35, cas: 20, delete: 15 } as const;
/** Bound on operations per client loop, far above what a scenario's time allows. */
export const operationsPerClientMax = 1_000_000;
/** A client with no live member to talk to retries after this long. */
const noTargetBackoffMs = 50;

/** The recorded history: entries in completion order, with what the checker does not need beside them. */
export class HistoryRecorder {
  readonly entries: HistoryEntry[] = [];
  readonly meta: OperationMeta[] = [];
  readonly clock: ScenarioClock;

  constructor(clock: ScenarioClock) {
    this.clock = clock;
  }

  /** Runs one operation against `target` and records it; returns its result when it succeeded. */
  async perform(client: number, operation: KvOperation, target: Target, options: { serializable: boolean; planted: boolean }): Promise<KvResult | undefined> {
    const invokeTime = this.clock.nowMs();
    try {
      const result = await execute(target.client, operation, options.serializable);
      const completeTime = this.clock.nowMs();
      assert(completeTime >= invokeTime, "the scenario clock is monotonic");
      this.entries.push({ client, operation, invokeTime, outcome: { status: "ok", completeTime, result } });
      this.meta.push({ member: target.name, planted: options.planted });
      return result;
    } catch (error) {
      const status = classifyError(operation.kind, error);
      const completeTime = this.clock.nowMs();
      this.entries.push({ client, operation, invokeTime, outcome: status === "failed" ? { status, completeTime } : { status } });
      this.meta.push({ member: target.name, planted: options.planted, error: errorText(error) });
      return undefined;
    }
  }
}

export async function execute(client: EtcdClient, operation: KvOperation, serializable: boolean): Promise<KvResult> {
  const key = Buffer.from(operation.key);
  switch (operation.kind) {
    case "get": {
      const response = await client.range({ key, serializable });
      return { kind: "get", value: response.kvs[0]?.value.toString("utf8") ?? null, revision: headerRevision(response.header) };
    }
    case "put": {
      const response = await client.put({ key, value: Buffer.from(operation.value) });
      return { kind: "put", revision: headerRevision(response.header) };
    }
    case "delete": {
      const response = await client.deleteRange({ key });
      return { kind: "delete", deleted: Number(response.deleted), revision: headerRevision(response.header) };
    }
    case "cas": {
      // Absent is "version == 0"; etcd fails a value comparison on a missing key, as the model does.
      const compare = operation.expected === null
        ? { key, target: "VERSION" as const, result: "EQUAL" as const, version: 0 }
        : { key, target: "VALUE" as const, result: "EQUAL" as const, value: Buffer.from(operation.expected) };
      const response = await client.txn({ compare: [compare], success: [{ request_put: { key, value: Buffer.from(operation.value) } }], failure: [] });
      return { kind: "cas", succeeded: response.succeeded, revision: headerRevision(response.header) };
    }
  }
}

function headerRevision(header: { revision: string } | null): number {
  if (header === null) throw new Error("response without a header");
  return Number(header.revision);
}

/**
 * The next operation of a client: a random kind and key; a cas expects the value this client
 * last saw on that key (or absence), so that a good share of them succeed.
 */
export function nextOperation(prng: Prng, keys: readonly string[], lastSeen: ReadonlyMap<string, string | null>, freshValue: () => string): KvOperation {
  const key = keys[prng.nextInt(keys.length)] ?? "";
  const draw = prng.nextInt(operationWeights.put + operationWeights.get + operationWeights.cas + operationWeights.delete);
  if (draw < operationWeights.put) return { kind: "put", key, value: freshValue() };
  if (draw < operationWeights.put + operationWeights.get) return { kind: "get", key };
  if (draw < operationWeights.put + operationWeights.get + operationWeights.cas) return { kind: "cas", key, expected: lastSeen.get(key) ?? null, value: freshValue() };
  return { kind: "delete", key };
}

/** What a successful operation tells its client about the key's value. */
export function observedValue(operation: KvOperation, result: KvResult): string | null | undefined {
  if (result.kind === "get") return result.value;
  if (operation.kind === "put") return operation.value;
  if (operation.kind === "delete") return null;
  if (operation.kind === "cas" && result.kind === "cas") return result.succeeded ? operation.value : undefined;
  return undefined;
}

/** Runs `options.clients` client loops until `signal` aborts; resolves when every loop has stopped. */
export async function runWorkload(recorder: HistoryRecorder, environment: WorkloadEnvironment, options: WorkloadOptions, signal: AbortSignal): Promise<void> {
  const loops = Array.from({ length: options.clients }, async (_, client) => clientLoop(recorder, environment, options, client, signal));
  await Promise.all(loops);
}

async function clientLoop(recorder: HistoryRecorder, environment: WorkloadEnvironment, options: WorkloadOptions, client: number, signal: AbortSignal): Promise<void> {
  const prng = createPrng(options.seed * 1000 + client);
  const lastSeen = new Map<string, string | null>();
  let sequence = 0;
  const freshValue = (): string => `${options.valuePrefix}c${client}.${sequence++}`;
  for (let count = 0; count < operationsPerClientMax && !signal.aborted; count++) {
    const operation = nextOperation(prng, options.keys, lastSeen, freshValue);
    const stale = operation.kind === "get" ? environment.staleReadTarget() : undefined;
    const planted = stale !== undefined && prng.nextFloat() < environment.plantProbability;
    const target = planted ? stale : environment.pickTarget(prng);
    if (target === undefined) {
      await sleepMs(noTargetBackoffMs);
      continue;
    }
    const result = await recorder.perform(client, operation, target, { serializable: planted, planted });
    const observed = result === undefined ? undefined : observedValue(operation, result);
    if (observed !== undefined) lastSeen.set(operation.key, observed);
    if (options.thinkTimeMsMax > 0) await sleepMs(prng.nextInt(options.thinkTimeMsMax + 1));
  }
}
