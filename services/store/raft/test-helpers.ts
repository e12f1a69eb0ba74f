/** Helpers shared by this folder's tests: bounded waits, test messages, free ports, a KV state machine. */
import { MessageType, type Entry, type Message } from "../../../libs/raft/index.ts";
import type { StateRecord } from "./durable-log.ts";
import type { ApplyResult, StateMachine } from "./raft-node.ts";

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly description: string;
  readonly intervalMs?: number;
}

/** Polls `probe` until it returns something other than undefined/false; fails after timeoutMs. */
export async function waitUntil<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions): Promise<T> {
  const deadlineMs = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 10;
  let lastError: unknown;
  while (Date.now() < deadlineMs) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${reason}`);
}

export function testMessage(fields: Partial<Message> & Pick<Message, "from" | "to">): Message {
  return {
    type: MessageType.App,
    term: 1,
    logTerm: 1,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...fields,
  };
}

export function testEntries(first: number, count: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = first; index < first + count; index++) entries.push({ term, index, type: 0, data: new TextEncoder().encode(`entry ${index}`) });
  return entries;
}

/** A loopback port that was free a moment ago (bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("freePort: no TCP address"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export type KvCommand = { readonly op: "put"; readonly key: string; readonly value: string } | { readonly op: "add"; readonly key: string; readonly delta: number };

export interface KvResult {
  readonly index: number;
  readonly value: string;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function kvCommand(command: KvCommand): Uint8Array {
  return utf8.encode(JSON.stringify(command));
}

/**
 * A small key-value state machine for tests. "add" is not idempotent, so applying an entry twice
 * (or skipping one) shows in the values. Durable or in-memory, as the test asks.
 */
export class KvStateMachine implements StateMachine<KvResult> {
  readonly durable: boolean;
  readonly values = new Map<string, string>();
  applyCalls = 0;
  restoreCalls = 0;

  constructor(durable: boolean) {
    this.durable = durable;
  }

  apply(entry: Entry): ApplyResult<KvResult> {
    this.applyCalls += 1;
    const command = JSON.parse(fromUtf8.decode(entry.data)) as KvCommand;
    const value = command.op === "put" ? command.value : String(Number(this.values.get(command.key) ?? "0") + command.delta);
    this.values.set(command.key, value);
    const records: StateRecord[] = this.durable ? [{ type: "put", key: utf8.encode(command.key), value: utf8.encode(value) }] : [];
    return { records, result: { index: entry.index, value } };
  }

  snapshot(): Uint8Array {
    return utf8.encode(JSON.stringify([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }

  restore(data: Uint8Array): StateRecord[] {
    this.restoreCalls += 1;
    this.values.clear();
    for (const [key, value] of JSON.parse(fromUtf8.decode(data)) as Array<[string, string]>) this.values.set(key, value);
    if (!this.durable) return [];
    return [...this.values].map(([key, value]) => ({ type: "put", key: utf8.encode(key), value: utf8.encode(value) }));
  }

  async load(records: AsyncIterable<{ readonly key: Uint8Array; readonly value: Uint8Array }>): Promise<void> {
    for await (const record of records) this.values.set(fromUtf8.decode(record.key), fromUtf8.decode(record.value));
  }

  /** The values as a sorted plain object, for comparing members. */
  view(): Record<string, string> {
    return Object.fromEntries([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
