/** Helpers shared by this folder's tests: bounded waits on conditions, and messages to send. */
import { MessageType, type Entry, type Message } from "../../../libs/raft/index.ts";

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
