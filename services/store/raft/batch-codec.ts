/**
 * flotilla.raft.MessageBatch (proto/raft.proto) written and read by hand, for the peer message
 * stream: the busiest path between members. proto-loader turns every message into an object
 * with its 64-bit fields as decimal strings (and back), which toWireMessage/fromWireMessage then
 * convert again; at one put at a time that was about 5% of the leader's main thread
 * (test/bench/store/FINDINGS.md). The bytes are the same protobuf either way, so members running
 * either codec understand each other.
 *
 * A batch never carries a snapshot (MsgSnap travels on its own SendSnapshot call), so the encoder
 * refuses one; the decoder answers `undefined` for a batch holding a snapshot field, and the
 * caller decodes that batch with proto-loader instead.
 */
import { MessageType, type Entry, type EntryType, type Message } from "../../../libs/raft/index.ts";
import { ProtoDecodeError, ProtoReader, ProtoWriter, WireType } from "../proto-bytes.ts";
import { WireError } from "./wire.ts";

const batchField = { messages: 1 } as const;
const messageField = { type: 1, to: 2, from: 3, term: 4, logTerm: 5, index: 6, entries: 7, commit: 8, snapshot: 9, reject: 10, rejectHint: 11, context: 12 } as const;
const entryField = { term: 1, index: 2, type: 3, data: 4 } as const;
const messageTypeMax = MessageType.PreVoteResp;
const entryTypeMax = 1;
/** A batch is encoded into a buffer of this size first; it grows when the entries need more. */
const encodeInitialBytes = 256;

export function encodeMessageBatch(messages: readonly Message[]): Buffer {
  const writer = new ProtoWriter(encodeInitialBytes);
  for (const message of messages) {
    if (message.snapshot !== undefined) throw new WireError("a snapshot travels on SendSnapshot, never in a message batch");
    writer.message(batchField.messages, (body) => writeMessage(body, message));
  }
  return writer.finish();
}

function writeMessage(writer: ProtoWriter, message: Message): void {
  writer
    .int64(messageField.type, message.type)
    .int64(messageField.to, message.to)
    .int64(messageField.from, message.from)
    .int64(messageField.term, message.term)
    .int64(messageField.logTerm, message.logTerm)
    .int64(messageField.index, message.index);
  for (const entry of message.entries) {
    writer.message(messageField.entries, (body) => {
      body.int64(entryField.term, entry.term).int64(entryField.index, entry.index).int64(entryField.type, entry.type).bytes(entryField.data, entry.data);
    });
  }
  writer.int64(messageField.commit, message.commit).bool(messageField.reject, message.reject).int64(messageField.rejectHint, message.rejectHint).bytes(messageField.context, message.context);
}

/**
 * The messages of a batch, checked as fromWireMessage checks them (known types, non-negative
 * safe integers), or undefined when a message holds a snapshot. Byte fields are views into
 * `bytes` (as proto-loader's are). Throws WireError on anything malformed.
 */
export function decodeMessageBatch(bytes: Uint8Array): Message[] | undefined {
  try {
    const messages: Message[] = [];
    const reader = new ProtoReader(bytes);
    while (!reader.done) {
      const { field, wireType } = reader.tag();
      if (field !== batchField.messages || wireType !== WireType.lengthDelimited) {
        reader.skip(wireType);
        continue;
      }
      const message = readMessage(reader.bytes());
      if (message === undefined) return undefined;
      messages.push(message);
    }
    return messages;
  } catch (error) {
    if (error instanceof ProtoDecodeError) throw new WireError(error.message);
    throw error;
  }
}

type MutableMessage = { -readonly [K in keyof Message]: Message[K] };

function readMessage(bytes: Uint8Array): Message | undefined {
  const message: MutableMessage = { type: MessageType.Hup, to: 0, from: 0, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0) };
  const entries: Entry[] = [];
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === messageField.snapshot) return undefined;
    if (field === messageField.entries && wireType === WireType.lengthDelimited) entries.push(readEntry(reader.bytes()));
    else if (field === messageField.context && wireType === WireType.lengthDelimited) message.context = reader.bytes();
    else if (wireType !== WireType.varint) reader.skip(wireType);
    else readMessageVarint(reader, field, message);
  }
  if (message.type > messageTypeMax) throw new WireError(`message type ${message.type} is unknown`);
  message.entries = entries;
  return message;
}

function readMessageVarint(reader: ProtoReader, field: number, message: MutableMessage): void {
  switch (field) {
    case messageField.type:
      message.type = uint53(reader, "message type") as MessageType;
      return;
    case messageField.to:
      message.to = uint53(reader, "to");
      return;
    case messageField.from:
      message.from = uint53(reader, "from");
      return;
    case messageField.term:
      message.term = uint53(reader, "term");
      return;
    case messageField.logTerm:
      message.logTerm = uint53(reader, "logTerm");
      return;
    case messageField.index:
      message.index = uint53(reader, "index");
      return;
    case messageField.commit:
      message.commit = uint53(reader, "commit");
      return;
    case messageField.reject:
      message.reject = reader.bool();
      return;
    case messageField.rejectHint:
      message.rejectHint = uint53(reader, "rejectHint");
      return;
    default:
      reader.skip(WireType.varint);
  }
}

function readEntry(bytes: Uint8Array): Entry {
  let term = 0;
  let index = 0;
  let type = 0;
  let data: Uint8Array = new Uint8Array(0);
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === entryField.data && wireType === WireType.lengthDelimited) data = reader.bytes();
    else if (wireType !== WireType.varint) reader.skip(wireType);
    else if (field === entryField.term) term = uint53(reader, "entry term");
    else if (field === entryField.index) index = uint53(reader, "entry index");
    else if (field === entryField.type) type = uint53(reader, "entry type");
    else reader.skip(wireType);
  }
  if (type > entryTypeMax) throw new WireError(`entry type ${type} is unknown`);
  return { term, index, type: type as EntryType, data };
}

/** A uint64 field as a non-negative safe integer (what wireInteger accepts). */
function uint53(reader: ProtoReader, what: string): number {
  const value = reader.int64();
  if (!Number.isSafeInteger(value) || value < 0) throw new WireError(`${what} ${value} is not a non-negative safe integer`);
  return value;
}
