/** Helpers shared by this library's tests (not exported from index.ts). */
import { bytesOf, utf8Decoder } from "./bytes.ts";
import { MvccStore } from "./store.ts";
import type { Event, KeyValue, PersistRecord, StoredRecord } from "./types.ts";

export const b = bytesOf;

export function text(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function newStore(minLeaseTtlSeconds = 2): MvccStore {
  return new MvccStore({ minLeaseTtlSeconds });
}

export function keysOf(kvs: readonly KeyValue[]): string[] {
  return kvs.map((kv) => text(kv.key));
}

export function putText(store: MvccStore, key: string, value: string, lease?: bigint): number {
  return store.put(lease === undefined ? { key: b(key), value: b(value) } : { key: b(key), value: b(value), lease }).response.header.revision;
}

/** A compact, readable form of an event: "PUT a=1@2" or "DELETE a@5". */
export function describeEvent(event: Event): string {
  if (event.type === 0) return `PUT ${text(event.kv.key)}=${text(event.kv.value)}@${event.kv.modRevision}`;
  return `DELETE ${text(event.kv.key)}@${event.kv.modRevision}`;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A stand-in for the caller's database: applies persist records, lists content in key order. */
export class FakeDatabase {
  readonly #entries = new Map<string, StoredRecord>();

  apply(records: readonly PersistRecord[]): void {
    for (const record of records) {
      const id = `${record.bucket}/${hex(record.key)}`;
      if (record.op === "put") this.#entries.set(id, { bucket: record.bucket, key: record.key, value: record.value });
      else this.#entries.delete(id);
    }
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Entries in (bucket, key bytes) order, as a LevelDB iteration would give them. */
  records(): StoredRecord[] {
    return [...this.#entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, record]) => record);
  }
}
