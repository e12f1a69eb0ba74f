/**
 * proto/raft.proto on the wire: the loaded Transport service and conversions between Raft's
 * TypeScript messages and the objects @grpc/proto-loader serializes. 64-bit fields arrive as
 * decimal strings and are checked to be safe integers; enums arrive as numbers and are checked to
 * be known. A message that fails a check is refused whole (WireError), never half-applied.
 */
import { loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import { MessageType, type ConfState, type Entry, type EntryType, type Message, type Snapshot } from "../../../libs/raft/index.ts";

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

const protoRoot = fileURLToPath(new URL("../../../proto", import.meta.url));

const raftProtoLoaderOptions: Options = {
  keepCase: false,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let transportService: ServiceClientConstructor | undefined;

/** The generic client constructor of flotilla.raft.Transport (its `.service` serves servers too). */
export function loadTransportService(): ServiceClientConstructor {
  if (transportService === undefined) {
    const loaded = loadPackageDefinition(loadSync("raft.proto", raftProtoLoaderOptions)) as unknown as {
      flotilla: { raft: { Transport: ServiceClientConstructor } };
    };
    transportService = loaded.flotilla.raft.Transport;
  }
  return transportService;
}

type WireNumber = string | number;

interface WireEntry {
  term: WireNumber;
  index: WireNumber;
  type: number;
  data: Uint8Array;
}

interface WireSnapshot {
  data: Uint8Array;
  metadata: { confState: { voters: WireNumber[]; learners: WireNumber[] } | null; index: WireNumber; term: WireNumber } | null;
}

export interface WireMessage {
  type: number;
  to: WireNumber;
  from: WireNumber;
  term: WireNumber;
  logTerm: WireNumber;
  index: WireNumber;
  entries: WireEntry[];
  commit: WireNumber;
  snapshot: WireSnapshot | null;
  reject: boolean;
  rejectHint: WireNumber;
  context: Uint8Array;
}

export interface WireMessageBatch {
  messages: WireMessage[];
}

export interface WireSnapshotChunk {
  message: WireMessage | null;
  totalBytes: WireNumber;
  dataCrc32c: number;
  data: Uint8Array;
}

const messageTypeMax = MessageType.PreVoteResp;
const entryTypeMax = 1;

export function toWireMessage(message: Message): WireMessage {
  return {
    type: message.type,
    to: message.to,
    from: message.from,
    term: message.term,
    logTerm: message.logTerm,
    index: message.index,
    entries: message.entries.map((entry) => ({ term: entry.term, index: entry.index, type: entry.type, data: entry.data })),
    commit: message.commit,
    snapshot: message.snapshot === undefined ? null : toWireSnapshot(message.snapshot),
    reject: message.reject,
    rejectHint: message.rejectHint,
    context: message.context,
  };
}

function toWireSnapshot(snapshot: Snapshot): WireSnapshot {
  const { confState, index, term } = snapshot.metadata;
  return { data: snapshot.data, metadata: { confState: { voters: [...confState.voters], learners: [...confState.learners] }, index, term } };
}

/** A decimal string or number from the wire, as a non-negative safe integer. */
export function wireInteger(value: WireNumber | null | undefined, field: string): number {
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw new WireError(`${field} ${String(value)} is not a non-negative safe integer`);
  }
  return number;
}

export function fromWireMessage(wire: WireMessage): Message {
  if (!Number.isInteger(wire.type) || wire.type < 0 || wire.type > messageTypeMax) throw new WireError(`message type ${wire.type} is unknown`);
  const message: Message = {
    type: wire.type as MessageType,
    to: wireInteger(wire.to, "to"),
    from: wireInteger(wire.from, "from"),
    term: wireInteger(wire.term, "term"),
    logTerm: wireInteger(wire.logTerm, "logTerm"),
    index: wireInteger(wire.index, "index"),
    entries: wire.entries.map(fromWireEntry),
    commit: wireInteger(wire.commit, "commit"),
    reject: wire.reject,
    rejectHint: wireInteger(wire.rejectHint, "rejectHint"),
    context: wire.context,
  };
  return wire.snapshot === null ? message : { ...message, snapshot: fromWireSnapshot(wire.snapshot) };
}

function fromWireEntry(wire: WireEntry): Entry {
  if (!Number.isInteger(wire.type) || wire.type < 0 || wire.type > entryTypeMax) throw new WireError(`entry type ${wire.type} is unknown`);
  return { term: wireInteger(wire.term, "entry term"), index: wireInteger(wire.index, "entry index"), type: wire.type as EntryType, data: wire.data };
}

function fromWireSnapshot(wire: WireSnapshot): Snapshot {
  if (wire.metadata === null) throw new WireError("snapshot without metadata");
  const wireConfState = wire.metadata.confState ?? { voters: [], learners: [] };
  const confState: ConfState = {
    voters: wireConfState.voters.map((id) => wireInteger(id, "voter")),
    learners: wireConfState.learners.map((id) => wireInteger(id, "learner")),
  };
  return { data: wire.data, metadata: { confState, index: wireInteger(wire.metadata.index, "snapshot index"), term: wireInteger(wire.metadata.term, "snapshot term") } };
}

/** Approximate encoded size, used only to bound batches (payload bytes dominate). */
export function messageSizeBytes(message: Message): number {
  const perEntryOverheadBytes = 32;
  const messageOverheadBytes = 96;
  let size = messageOverheadBytes + message.context.length + (message.snapshot?.data.length ?? 0);
  for (const entry of message.entries) size += perEntryOverheadBytes + entry.data.length;
  return size;
}
