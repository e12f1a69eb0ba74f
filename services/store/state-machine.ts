/**
 * The store's replicated state machine: committed Raft entries applied to the libs/mvcc key space,
 * plus the little cluster state etcd keeps beside it (member names and client URLs, alarms).
 * Deterministic: every member applies the same entries to the same state. Durable: each apply
 * returns the records that make it last, written by the Raft driver in the same batch as the
 * applied index.
 */
import { status as grpcStatus } from "@grpc/grpc-js";
import { MvccError, MvccStore, WatchHub, isMvccError, type Event, type PersistRecord, type StoredRecord, type Bucket } from "../../libs/mvcc/index.ts";
import type { Entry } from "../../libs/raft/index.ts";
import type { ApplyResult, StateMachine, StateRecord } from "./raft/index.ts";
import { encodePutResponse, type NumericHeaderIds } from "./kv-codec.ts";
import {
  deleteRangeFromWire,
  deleteRangeResponseToWire,
  headerToWire,
  toNumber,
  txnFromWire,
  txnResponseToWire,
  type HeaderIds,
} from "./convert.ts";
import { EtcdError, etcdErrors } from "./errors.ts";
import { decodePayload, PayloadTag, type AlarmBody, type MemberAttributesBody, type Payload } from "./payload.ts";

export type ApplyOutcome = { readonly ok: true; readonly response: unknown } | { readonly ok: false; readonly error: EtcdError };

/**
 * What the lease keeper and the watch streams follow besides events: leases appearing and going
 * away as entries apply, and a restore (from disk or a snapshot) that replaced the whole state.
 */
export type StateChange =
  | { readonly kind: "leaseGranted"; readonly id: bigint; readonly ttlSeconds: number }
  | { readonly kind: "leaseRevoked"; readonly id: bigint }
  | { readonly kind: "restored" };

export interface MemberAttributes {
  readonly name: string;
  readonly clientUrls: readonly string[];
}

export interface StoreStateMachineOptions {
  readonly memberId: number;
  readonly clusterId: number;
  /** Lease grants below this TTL get this TTL (etcd: 1.5 election timeouts, in seconds). */
  readonly minLeaseTtlSeconds: number;
  /** The current Raft term, for response headers. */
  readonly raftTerm: () => number;
  readonly maxTxnOps?: number;
}

const bucketPrefixes: Readonly<Record<Bucket, number>> = { key: 0x6b, lease: 0x6c, meta: 0x6d };
const bucketsByPrefix = new Map<number, Bucket>(Object.entries(bucketPrefixes).map(([bucket, prefix]) => [prefix, bucket as Bucket]));
/** Records of the cluster state kept beside the key space ("x" + name). */
const extraPrefix = 0x78;
const snapshotMagic = Buffer.from("FSTO");

function prefixed(prefix: number, key: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(key.length + 1);
  bytes[0] = prefix;
  bytes.set(key, 1);
  return bytes;
}

function toStateRecord(record: PersistRecord): StateRecord {
  const key = prefixed(bucketPrefixes[record.bucket], record.key);
  return record.op === "put" ? { type: "put", key, value: record.value } : { type: "del", key };
}

export class StoreStateMachine implements StateMachine<ApplyOutcome> {
  readonly durable = true;
  readonly mvcc: MvccStore;
  readonly watchHub: WatchHub;
  readonly #options: StoreStateMachineOptions;
  readonly #members = new Map<string, MemberAttributes>();
  readonly #alarms = new Set<string>();
  /** Bytes of every stored record (key + value), tracked per record so deletions subtract exactly. */
  readonly #recordBytes = new Map<string, number>();
  #sizeBytes = 0;
  readonly #listeners = new Set<(events: readonly Event[]) => void>();
  readonly #changeListeners = new Set<(change: StateChange) => void>();

  readonly #clusterIdText: string;
  readonly #memberIdText: string;

  constructor(options: StoreStateMachineOptions) {
    this.#options = options;
    this.#clusterIdText = String(options.clusterId);
    this.#memberIdText = String(options.memberId);
    this.mvcc = new MvccStore({ minLeaseTtlSeconds: options.minLeaseTtlSeconds, ...(options.maxTxnOps === undefined ? {} : { maxTxnOps: options.maxTxnOps }) });
    this.watchHub = new WatchHub(this.mvcc);
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get members(): ReadonlyMap<string, MemberAttributes> {
    return this.#members;
  }

  /** Active alarms as "memberId/ALARM". */
  get alarms(): ReadonlySet<string> {
    return this.#alarms;
  }

  hasAlarm(alarm: AlarmBody["alarm"]): boolean {
    for (const entry of this.#alarms) if (entry.endsWith(`/${alarm}`)) return true;
    return false;
  }

  /** Called after each applied write with its events (in revision order). */
  onEvents(listener: (events: readonly Event[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after a lease is granted or revoked by an applied entry, and after a restore. */
  onChange(listener: (change: StateChange) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  #changed(change: StateChange): void {
    for (const listener of this.#changeListeners) listener(change);
  }

  headerIds(): HeaderIds {
    return { clusterId: this.#clusterIdText, memberId: this.#memberIdText, raftTerm: this.#options.raftTerm() };
  }

  /** The same ids as numbers, for the hand-written codecs (kv-codec.ts). */
  numericHeaderIds(): NumericHeaderIds {
    return { clusterId: this.#options.clusterId, memberId: this.#options.memberId, raftTerm: this.#options.raftTerm() };
  }

  header(): ReturnType<typeof headerToWire> {
    return headerToWire({ revision: this.mvcc.currentRevision }, this.headerIds());
  }

  /** `respond` false (no one here waits for the entry) skips building the wire response. */
  apply(entry: Entry, respond = true): ApplyResult<ApplyOutcome> {
    const payload = decodePayload(entry.data);
    try {
      return this.#applyPayload(payload, respond);
    } catch (error) {
      if (isMvccError(error)) return { records: [], result: { ok: false, error: fromMvccError(error) } };
      if (error instanceof EtcdError) return { records: [], result: { ok: false, error } };
      throw error;
    }
  }

  #applyPayload(payload: Payload, respond: boolean): ApplyResult<ApplyOutcome> {
    const ids = this.headerIds();
    switch (payload.tag) {
      case PayloadTag.Put:
        this.#refuseWhenOutOfSpace();
        // Answered as encoded bytes: the KV service serializes Put responses itself (kv-codec.ts).
        return this.#write(this.mvcc.put(payload.request), (response) => encodePutResponse(response, this.numericHeaderIds()), respond);
      case PayloadTag.DeleteRange:
        return this.#write(this.mvcc.deleteRange(deleteRangeFromWire(payload.request)), (response) => deleteRangeResponseToWire(response, ids), respond);
      case PayloadTag.Txn: {
        const request = txnFromWire(payload.request);
        if (hasWrites(payload.request)) this.#refuseWhenOutOfSpace();
        return this.#write(this.mvcc.txn(request), (response) => txnResponseToWire(response, ids), respond);
      }
      case PayloadTag.Compaction:
        return this.#write(this.mvcc.compact(toNumber(payload.request.revision)), (response) => ({ header: headerToWire(response.header, ids) }), respond);
      case PayloadTag.LeaseGrant: {
        this.#refuseWhenOutOfSpace();
        const granted = this.mvcc.leaseGrant(BigInt(payload.body.id), payload.body.ttlSeconds);
        const result = this.#write(granted, (response) => ({ header: headerToWire(response.header, ids), ID: response.id.toString(), TTL: response.ttlSeconds, error: "" }));
        this.#changed({ kind: "leaseGranted", id: granted.response.id, ttlSeconds: granted.response.ttlSeconds });
        return result;
      }
      case PayloadTag.LeaseRevoke: {
        const result = this.#write(this.mvcc.leaseRevoke(BigInt(payload.body.id)), (response) => ({ header: headerToWire(response.header, ids) }));
        this.#changed({ kind: "leaseRevoked", id: BigInt(payload.body.id) });
        return result;
      }
      case PayloadTag.LeaseCheckpoint: {
        const checkpoints = payload.body.checkpoints.map((checkpoint) => ({ id: BigInt(checkpoint.id), remainingTtlSeconds: checkpoint.remainingTtlSeconds }));
        return this.#write(this.mvcc.leaseCheckpoint(checkpoints), () => ({}));
      }
      case PayloadTag.MemberAttributes:
        return this.#applyMemberAttributes(payload.body);
      case PayloadTag.Alarm:
        return this.#applyAlarm(payload.body);
    }
  }

  #refuseWhenOutOfSpace(): void {
    if (this.hasAlarm("NOSPACE")) throw etcdErrors.noSpace;
  }

  #write<Response>(
    result: { response: Response; events: readonly Event[]; records: readonly PersistRecord[] },
    toWire: (response: Response) => unknown,
    respond = true,
  ): ApplyResult<ApplyOutcome> {
    if (result.events.length > 0) {
      this.watchHub.notify(result.events);
      for (const listener of this.#listeners) listener(result.events);
    }
    const records = result.records.map(toStateRecord);
    this.#account(records);
    return { records, result: { ok: true, response: respond ? toWire(result.response) : undefined } };
  }

  #account(records: readonly StateRecord[]): void {
    for (const record of records) {
      const id = Buffer.from(record.key).toString("latin1");
      this.#sizeBytes -= this.#recordBytes.get(id) ?? 0;
      if (record.type === "put") {
        const bytes = record.key.length + record.value.length;
        this.#recordBytes.set(id, bytes);
        this.#sizeBytes += bytes;
      } else {
        this.#recordBytes.delete(id);
      }
    }
  }

  #applyMemberAttributes(body: MemberAttributesBody): ApplyResult<ApplyOutcome> {
    const attributes: MemberAttributes = { name: body.name, clientUrls: [...body.clientUrls] };
    this.#members.set(body.memberId, attributes);
    const records: StateRecord[] = [{ type: "put", key: extraKey(`member/${body.memberId}`), value: Buffer.from(JSON.stringify(attributes)) }];
    this.#account(records);
    return { records, result: { ok: true, response: {} } };
  }

  #applyAlarm(body: AlarmBody): ApplyResult<ApplyOutcome> {
    const id = `${body.memberId}/${body.alarm}`;
    const key = extraKey(`alarm/${id}`);
    const records: StateRecord[] = [];
    if (body.action === "activate" && !this.#alarms.has(id)) {
      this.#alarms.add(id);
      records.push({ type: "put", key, value: Buffer.from("1") });
    } else if (body.action === "deactivate" && this.#alarms.delete(id)) {
      records.push({ type: "del", key });
    }
    this.#account(records);
    return { records, result: { ok: true, response: {} } };
  }

  /** Forgets a removed member's attributes (its Raft membership is already gone). */
  forgetMember(memberId: string): void {
    this.#members.delete(memberId);
  }

  snapshot(): Uint8Array {
    const extras = Buffer.from(JSON.stringify({ members: [...this.#members], alarms: [...this.#alarms] }));
    const kv = this.mvcc.serializeSnapshot();
    const length = Buffer.alloc(4);
    length.writeUInt32BE(kv.length);
    return Buffer.concat([snapshotMagic, length, kv, extras]);
  }

  restore(data: Uint8Array): readonly StateRecord[] {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length < 8 || !bytes.subarray(0, 4).equals(snapshotMagic)) throw new Error("store snapshot: does not start with FSTO");
    const kvLength = bytes.readUInt32BE(4);
    if (8 + kvLength > bytes.length) throw new Error(`store snapshot: key space of ${kvLength} bytes is truncated`);
    const extras = JSON.parse(bytes.subarray(8 + kvLength).toString("utf8")) as { members: [string, MemberAttributes][]; alarms: string[] };
    const records = this.mvcc.restoreSnapshot(bytes.subarray(8, 8 + kvLength)).map(toStateRecord);
    this.#members.clear();
    this.#alarms.clear();
    for (const [id, attributes] of extras.members) {
      this.#members.set(id, attributes);
      records.push({ type: "put", key: extraKey(`member/${id}`), value: Buffer.from(JSON.stringify(attributes)) });
    }
    for (const alarm of extras.alarms) {
      this.#alarms.add(alarm);
      records.push({ type: "put", key: extraKey(`alarm/${alarm}`), value: Buffer.from("1") });
    }
    this.#recordBytes.clear();
    this.#sizeBytes = 0;
    this.#account(records);
    this.#resyncWatchers();
    return records;
  }

  async load(records: AsyncIterable<{ readonly key: Uint8Array; readonly value: Uint8Array }>): Promise<void> {
    const stored: StoredRecord[] = [];
    const all: StateRecord[] = [];
    for await (const record of records) {
      all.push({ type: "put", key: record.key, value: record.value });
      const prefix = record.key[0] ?? 0;
      const bucket = bucketsByPrefix.get(prefix);
      if (bucket !== undefined) {
        stored.push({ bucket, key: record.key.subarray(1), value: record.value });
      } else if (prefix === extraPrefix) {
        this.#loadExtra(Buffer.from(record.key.subarray(1)).toString("utf8"), record.value);
      }
    }
    const report = this.mvcc.restore(stored);
    this.#account(all);
    // Cleanup records finish an interrupted compaction; they are re-derived on every start, so
    // applying them to memory is enough until the next write persists the compaction's effect.
    this.#account(report.cleanup.map(toStateRecord));
    this.#resyncWatchers();
  }

  /**
   * The hub notices a restore lazily, on its next call; a notify() of the first write after the
   * restore would then take that write's revision as already seen. Touching it right away makes
   * it resynchronise at the restored revision.
   */
  #resyncWatchers(): void {
    this.watchHub.ready();
    this.#changed({ kind: "restored" });
  }

  #loadExtra(name: string, value: Uint8Array): void {
    if (name.startsWith("member/")) this.#members.set(name.slice("member/".length), JSON.parse(Buffer.from(value).toString("utf8")) as MemberAttributes);
    else if (name.startsWith("alarm/")) this.#alarms.add(name.slice("alarm/".length));
  }
}

function extraKey(name: string): Uint8Array {
  return prefixed(extraPrefix, Buffer.from(name));
}

function hasWrites(request: { success?: unknown[]; failure?: unknown[] }): boolean {
  const ops = [...(request.success ?? []), ...(request.failure ?? [])] as { request_put?: unknown; request_txn?: { success?: unknown[]; failure?: unknown[] } }[];
  return ops.some((op) => op.request_put !== undefined && op.request_put !== null) || ops.some((op) => op.request_txn !== undefined && op.request_txn !== null && hasWrites(op.request_txn));
}

export function fromMvccError(error: MvccError): EtcdError {
  return new EtcdError(error.code as unknown as grpcStatus, error.grpcMessage);
}
