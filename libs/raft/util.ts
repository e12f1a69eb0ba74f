/** Small helpers shared by the Raft core: message construction, entry sizes, size-limited slices. */
import { assert } from "../assert/index.ts";
import { EntryType, MessageType, noneNodeId } from "./types.ts";
import type { Entry, Message, NodeId } from "./types.ts";

/** A shared empty byte array; zero-length arrays cannot be mutated, so sharing is safe. */
export const emptyBytes: Uint8Array = new Uint8Array(0);

/** "No limit" for size-bounded reads; the safe-integer ceiling keeps the arithmetic exact. */
export const unlimitedBytes = Number.MAX_SAFE_INTEGER;

/** A message with every field at its zero value except those given. */
export function message(fields: Partial<Message> & Pick<Message, "type">): Message {
  return buildMessage(fields, fields.from ?? noneNodeId, fields.term ?? 0);
}

type MutableMessage = { -readonly [K in keyof Message]: Message[K] };

/**
 * `fields` with the given sender and term, the rest at zero values. Messages are the hot path:
 * built as one literal in a fixed field order (object spread is far slower in V8 here, and
 * objects of one shape keep property access fast).
 */
export function buildMessage(fields: Partial<Message> & Pick<Message, "type">, from: NodeId, term: number): Message {
  const m: MutableMessage = {
    type: fields.type,
    to: fields.to ?? noneNodeId,
    from,
    term,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? noEntries,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? emptyBytes,
  };
  if (fields.snapshot !== undefined) m.snapshot = fields.snapshot;
  return m;
}

const noEntries: readonly Entry[] = Object.freeze([]);

export function entry(term: number, index: number, data: Uint8Array = emptyBytes, type = EntryType.Normal): Entry {
  return { term, index, type, data };
}

/** Payload bytes: what the byte bounds count (the data only, as etcd's payloadSize does). */
export function payloadBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const e of entries) total += e.data.length;
  return total;
}

/**
 * The longest prefix of `entries` whose payload fits in `maxSizeBytes`, but always at least
 * one entry so that an oversized entry still makes progress.
 */
export function limitSize(entries: Entry[], maxSizeBytes: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = (entries[0] as Entry).data.length;
  let count = 1;
  for (; count < entries.length; count++) {
    size += (entries[count] as Entry).data.length;
    if (size > maxSizeBytes) break;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}

/** Messages a node generates for itself (never sent over the network). */
export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus ||
    type === MessageType.CheckQuorum
  );
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.Unreachable ||
    type === MessageType.PreVoteResp
  );
}

export function voteResponseType(type: MessageType): MessageType {
  if (type === MessageType.Vote) return MessageType.VoteResp;
  assert(type === MessageType.PreVote, "vote response only answers a vote request", () => MessageType[type]);
  return MessageType.PreVoteResp;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A Map key for a byte string (read request contexts). Latin-1 is lossless for bytes. */
export function bytesKey(bytes: Uint8Array): string {
  let key = "";
  for (const byte of bytes) key += String.fromCharCode(byte);
  return key;
}

export function sortedIds(ids: Iterable<number>): number[] {
  return [...ids].sort((a, b) => a - b);
}
