/**
 * Test support (not exported from index.ts): histories generated from a real sequential
 * execution, so they are linearizable by construction. Each client runs operations one after
 * another; each operation that takes effect does so at one instant inside its interval, and
 * applying them in the order of those instants gives every result. Unknown outcomes may take
 * effect long after the client gave up, as with a real timeout.
 */
import { assert } from "../assert/index.ts";
import type { Prng } from "../prng/index.ts";
import type { HistoryEntry, KvOperation, KvResult } from "./types.ts";

export interface RandomHistoryOptions {
  readonly clients: number;
  readonly operationsPerClient: number;
  readonly keys: number;
  /** Distinct values written per key; 0 makes every written value unique. */
  readonly valuesPerKey: number;
  readonly unknownPercent: number;
  readonly failedPercent: number;
  /** Upper bound on the time from invocation to taking effect, and from there to completion. */
  readonly latencyMax: number;
  /** Upper bound on the pause between a client's operations. */
  readonly thinkTimeMax: number;
}

/** What the execution committed, in revision order (for building watch streams). */
export interface CommittedWrite {
  readonly revision: number;
  readonly historyIndex: number;
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value?: string;
}

export interface GeneratedHistory {
  readonly history: HistoryEntry[];
  readonly committed: CommittedWrite[];
  /** The instant each entry took effect, or undefined when it never did. */
  readonly effectTimes: (number | undefined)[];
}

interface Planned {
  readonly client: number;
  readonly operation: KvOperation;
  readonly invokeTime: number;
  readonly status: "ok" | "failed" | "unknown";
  readonly completeTime: number;
  /** undefined when the operation never takes effect. */
  readonly effectTime: number | undefined;
}

/** An unknown outcome may take effect this many latencies after invocation (a slow retry). */
const unknownEffectLatencyFactor = 10;

export function generateHistory(prng: Prng, options: RandomHistoryOptions): GeneratedHistory {
  const planned: Planned[] = [];
  const valueCounter = { next: 0 };
  for (let client = 0; client < options.clients; client++) {
    let time = prng.nextInt(options.thinkTimeMax + 1);
    for (let i = 0; i < options.operationsPerClient; i++) {
      const operation = randomOperation(prng, options, valueCounter);
      const next = plan(prng, options, client, operation, time);
      planned.push(next);
      time = (next.status === "unknown" ? time + 2 * options.latencyMax : next.completeTime) + prng.nextInt(options.thinkTimeMax + 1);
    }
  }
  planned.sort((a, b) => a.invokeTime - b.invokeTime);
  return execute(planned);
}

function randomOperation(prng: Prng, options: RandomHistoryOptions, valueCounter: { next: number }): KvOperation {
  const key = `k${prng.nextInt(options.keys)}`;
  const value = (): string => (options.valuesPerKey === 0 ? `v${valueCounter.next++}` : `v${prng.nextInt(options.valuesPerKey)}`);
  const roll = prng.nextInt(100);
  if (roll < 40) return { kind: "get", key };
  if (roll < 65) return { kind: "put", key, value: value() };
  if (roll < 80) return { kind: "delete", key };
  // With unique values a random guess almost never matches, so aim at recent values instead.
  const recent = options.valuesPerKey === 0 ? Math.max(0, valueCounter.next - 1 - prng.nextInt(4)) : prng.nextInt(options.valuesPerKey);
  const expected = prng.nextInt(4) === 0 ? null : `v${recent}`;
  return { kind: "cas", key, expected, value: value() };
}

function plan(prng: Prng, options: RandomHistoryOptions, client: number, operation: KvOperation, invokeTime: number): Planned {
  const roll = prng.nextInt(100);
  if (roll < options.unknownPercent) {
    const effectTime = prng.nextInt(2) === 0 ? undefined : invokeTime + prng.nextInt(unknownEffectLatencyFactor * options.latencyMax + 1);
    return { client, operation, invokeTime, status: "unknown", completeTime: Number.POSITIVE_INFINITY, effectTime };
  }
  if (roll < options.unknownPercent + options.failedPercent) {
    const completeTime = invokeTime + prng.nextInt(options.latencyMax + 1);
    return { client, operation, invokeTime, status: "failed", completeTime, effectTime: undefined };
  }
  const effectTime = invokeTime + prng.nextInt(options.latencyMax + 1);
  const completeTime = effectTime + prng.nextInt(options.latencyMax + 1);
  return { client, operation, invokeTime, status: "ok", completeTime, effectTime };
}

/** Applies the operations that take effect in the order of their instants, recording results. */
function execute(planned: readonly Planned[]): GeneratedHistory {
  const order = planned.map((_, index) => index).filter((index) => planned[index]?.effectTime !== undefined);
  order.sort((a, b) => (planned[a]?.effectTime ?? 0) - (planned[b]?.effectTime ?? 0) || a - b);
  const values = new Map<string, string>();
  const results = new Map<number, KvResult>();
  const committed: CommittedWrite[] = [];
  let revision = 1;
  for (const index of order) {
    const operation = planned[index]?.operation;
    assert(operation !== undefined, "order indexes the plan");
    const current = values.get(operation.key) ?? null;
    let write: { type: "put" | "delete"; value?: string } | undefined;
    let result: KvResult;
    switch (operation.kind) {
      case "get":
        result = { kind: "get", value: current, revision };
        break;
      case "put":
        write = { type: "put", value: operation.value };
        result = { kind: "put", revision: revision + 1 };
        break;
      case "delete":
        if (current !== null) write = { type: "delete" };
        result = { kind: "delete", deleted: current === null ? 0 : 1, revision: current === null ? revision : revision + 1 };
        break;
      case "cas": {
        const succeeded = current === operation.expected;
        if (succeeded) write = { type: "put", value: operation.value };
        result = { kind: "cas", succeeded, revision: succeeded ? revision + 1 : revision };
        break;
      }
    }
    if (write !== undefined) {
      revision++;
      if (write.type === "put" && write.value !== undefined) values.set(operation.key, write.value);
      else values.delete(operation.key);
      committed.push({ revision, historyIndex: index, key: operation.key, ...write });
    }
    results.set(index, result);
  }
  const history = planned.map((entry, index) => toEntry(entry, results.get(index)));
  return { history, committed, effectTimes: planned.map((entry) => entry.effectTime) };
}

function toEntry(planned: Planned, result: KvResult | undefined): HistoryEntry {
  const base = { client: planned.client, operation: planned.operation, invokeTime: planned.invokeTime };
  switch (planned.status) {
    case "unknown":
      return { ...base, outcome: { status: "unknown" } };
    case "failed":
      return { ...base, outcome: { status: "failed", completeTime: planned.completeTime } };
    case "ok":
      assert(result !== undefined, "an ok operation took effect");
      return { ...base, outcome: { status: "ok", completeTime: planned.completeTime, result } };
  }
}
