/**
 * What a store proposal carries in a Raft entry: one tag byte naming the request, then its body.
 * Client writes keep the etcd request's own protobuf bytes (as the client sent them, so nothing
 * is re-encoded); the store's internal requests are small JSON documents.
 */
import { loadEtcdProto } from "../../libs/etcdpb/index.ts";
import type * as wire from "../../libs/etcdpb/index.ts";
import type * as mvcc from "../../libs/mvcc/types.ts";
import { decodePutRequest } from "./kv-codec.ts";

export enum PayloadTag {
  Put = 1,
  DeleteRange = 2,
  Txn = 3,
  Compaction = 4,
  LeaseGrant = 5,
  LeaseRevoke = 6,
  LeaseCheckpoint = 7,
  MemberAttributes = 8,
  Alarm = 9,
}

export interface LeaseGrantBody {
  readonly id: string;
  readonly ttlSeconds: number;
}
export interface LeaseRevokeBody {
  readonly id: string;
}
export interface LeaseCheckpointBody {
  readonly checkpoints: readonly { readonly id: string; readonly remainingTtlSeconds: number }[];
}
export interface MemberAttributesBody {
  readonly memberId: string;
  readonly name: string;
  readonly clientUrls: readonly string[];
}
export interface AlarmBody {
  readonly action: "activate" | "deactivate";
  readonly memberId: string;
  readonly alarm: "NOSPACE" | "CORRUPT";
}

export type Payload =
  | { readonly tag: PayloadTag.Put; readonly request: mvcc.PutRequest }
  | { readonly tag: PayloadTag.DeleteRange; readonly request: wire.DeleteRangeRequest__Output }
  | { readonly tag: PayloadTag.Txn; readonly request: wire.TxnRequest__Output }
  | { readonly tag: PayloadTag.Compaction; readonly request: wire.CompactionRequest__Output }
  | { readonly tag: PayloadTag.LeaseGrant; readonly body: LeaseGrantBody }
  | { readonly tag: PayloadTag.LeaseRevoke; readonly body: LeaseRevokeBody }
  | { readonly tag: PayloadTag.LeaseCheckpoint; readonly body: LeaseCheckpointBody }
  | { readonly tag: PayloadTag.MemberAttributes; readonly body: MemberAttributesBody }
  | { readonly tag: PayloadTag.Alarm; readonly body: AlarmBody };

type Codec = { serialize(value: unknown): Buffer; deserialize(bytes: Buffer): unknown };

function codecs(): Record<PayloadTag.Put | PayloadTag.DeleteRange | PayloadTag.Txn | PayloadTag.Compaction, Codec> {
  const kv = loadEtcdProto().etcdserverpb.KV.service;
  const codec = (method: { requestSerialize: (value: never) => Buffer; requestDeserialize: (bytes: Buffer) => unknown }): Codec => ({
    serialize: (value) => method.requestSerialize(value as never),
    deserialize: (bytes) => method.requestDeserialize(bytes),
  });
  return {
    [PayloadTag.Put]: codec(kv.Put),
    [PayloadTag.DeleteRange]: codec(kv.DeleteRange),
    [PayloadTag.Txn]: codec(kv.Txn),
    [PayloadTag.Compaction]: codec(kv.Compact),
  };
}

let cached: ReturnType<typeof codecs> | undefined;
const requestCodecs = (): ReturnType<typeof codecs> => (cached ??= codecs());

function framed(tag: PayloadTag, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(1 + body.length);
  bytes[0] = tag;
  bytes.set(body, 1);
  return bytes;
}

/** Frames an etcd client request; `raw` is its protobuf encoding when the caller still has it. */
export function encodeClientRequest(tag: PayloadTag.Put | PayloadTag.DeleteRange | PayloadTag.Txn | PayloadTag.Compaction, request: unknown, raw?: Uint8Array): Uint8Array {
  return framed(tag, raw ?? requestCodecs()[tag].serialize(request));
}

export function encodeInternal(tag: Exclude<PayloadTag, PayloadTag.Put | PayloadTag.DeleteRange | PayloadTag.Txn | PayloadTag.Compaction>, body: object): Uint8Array {
  return framed(tag, Buffer.from(JSON.stringify(body)));
}

export class PayloadError extends Error {
  constructor(message: string) {
    super(`store payload: ${message}`);
    this.name = "PayloadError";
  }
}

export function decodePayload(bytes: Uint8Array): Payload {
  if (bytes.length === 0) throw new PayloadError("empty entry");
  const tag = bytes[0] as PayloadTag;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.length - 1);
  switch (tag) {
    case PayloadTag.Put:
      // The hottest entry: decoded straight to the mvcc request (kv-codec.ts).
      return { tag, request: decodePutRequest(body) };
    case PayloadTag.DeleteRange:
    case PayloadTag.Txn:
    case PayloadTag.Compaction:
      return { tag, request: requestCodecs()[tag].deserialize(body) } as Payload;
    case PayloadTag.LeaseGrant:
    case PayloadTag.LeaseRevoke:
    case PayloadTag.LeaseCheckpoint:
    case PayloadTag.MemberAttributes:
    case PayloadTag.Alarm:
      return { tag, body: JSON.parse(body.toString("utf8")) } as Payload;
    default:
      throw new PayloadError(`unknown tag ${String(tag)}`);
  }
}
