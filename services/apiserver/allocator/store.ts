/**
 * A range's bitmap kept in the store, as upstream's etcd-backed allocator keeps it
 * (`/registry/ranges/serviceips`, `/registry/ranges/servicenodeports`: a RangeAllocation with the
 * range and the bitmap), and changed only by a compare-and-swap transaction on the key's mod
 * revision, so several API servers allocating at once never hand out one value twice: a replica
 * that lost the race rereads and tries again.
 */
import type { Prng } from "../../../libs/prng/index.ts";
import type { KvClient } from "../storage/index.ts";
import { bitIsSet, emptyBitmap, pickFree, staticBandSize, withBit, type AllocationRange } from "./range.ts";

/** Compare-and-swap rounds before an allocation gives up (each lost round means another replica won one). */
export const casAttemptsMax = 64;

export const serviceIpsKey = "/registry/ranges/serviceips";
export const nodePortsKey = "/registry/ranges/servicenodeports";

export class AlreadyAllocatedError extends Error {}
export class RangeFullError extends Error {}
export class OutOfRangeError extends Error {}

export interface Snapshot {
  readonly bitmap: Uint8Array;
  /** 0 when the key does not exist yet. */
  readonly modRevision: number;
}

export class StoredRange {
  readonly range: AllocationRange;
  readonly #client: KvClient;
  readonly #key: string;
  readonly #prng: Prng;
  readonly #bandSize: (size: number) => number;

  /** `bandSize`: how many low offsets dynamic picks leave to requested values while they can. */
  constructor(client: KvClient, key: string, range: AllocationRange, prng: Prng, bandSize: (size: number) => number = staticBandSize) {
    this.#client = client;
    this.#key = key;
    this.range = range;
    this.#prng = prng;
    this.#bandSize = bandSize;
  }

  async #read(): Promise<Snapshot> {
    const response = await this.#client.range({ key: Buffer.from(this.#key) });
    const kv = response.kvs[0];
    if (kv === undefined) return { bitmap: emptyBitmap(this.range.size), modRevision: 0 };
    const stored = JSON.parse(Buffer.from(kv.value).toString("utf8")) as { range?: string; data?: string };
    if (stored.range !== this.range.text) throw new Error(`${this.#key} holds the range ${String(stored.range)}, this server was started with ${this.range.text}`);
    const bitmap = Buffer.from(stored.data ?? "", "base64");
    const sized = emptyBitmap(this.range.size);
    sized.set(bitmap.subarray(0, sized.length));
    return { bitmap: sized, modRevision: Number(kv.mod_revision ?? 0) };
  }

  async #swap(snapshot: Snapshot, bitmap: Uint8Array): Promise<boolean> {
    const value = JSON.stringify({ kind: "RangeAllocation", apiVersion: "v1", metadata: {}, range: this.range.text, data: Buffer.from(bitmap).toString("base64") });
    const response = await this.#client.txn({
      compare: [{ key: Buffer.from(this.#key), target: "MOD", result: "EQUAL", mod_revision: snapshot.modRevision }],
      success: [{ request_put: { key: Buffer.from(this.#key), value: Buffer.from(value) } }],
      failure: [],
    });
    return response.succeeded;
  }

  /** Runs `change` on the current bitmap and stores its result, retrying lost races. */
  async #update<T>(change: (bitmap: Uint8Array) => { bitmap: Uint8Array | undefined; result: T }): Promise<T> {
    for (let attempt = 0; attempt < casAttemptsMax; attempt++) {
      const snapshot = await this.#read();
      const { bitmap, result } = change(snapshot.bitmap);
      if (bitmap === undefined || (await this.#swap(snapshot, bitmap))) return result;
    }
    throw new Error(`${this.#key}: lost ${casAttemptsMax} compare-and-swap rounds in a row`);
  }

  #offsetOf(value: string): number {
    const offset = this.range.offsetOf(value);
    if (offset === undefined) throw new OutOfRangeError(value);
    return offset;
  }

  /** Takes `value`; AlreadyAllocatedError when it is taken, OutOfRangeError outside the range. With dryRun, only checks. */
  async allocate(value: string, dryRun = false): Promise<void> {
    const offset = this.#offsetOf(value);
    await this.#update((bitmap) => {
      if (bitIsSet(bitmap, offset)) throw new AlreadyAllocatedError(value);
      return { bitmap: dryRun ? undefined : withBit(bitmap, offset, true), result: undefined };
    });
  }

  /** Takes a free value and returns it; RangeFullError when none is left. With dryRun, only picks. */
  async allocateNext(dryRun = false): Promise<string> {
    return await this.#update((bitmap) => {
      const offset = pickFree(bitmap, this.range.size, this.#prng, this.#bandSize);
      if (offset === undefined) throw new RangeFullError(this.range.text);
      return { bitmap: dryRun ? undefined : withBit(bitmap, offset, true), result: this.range.valueAt(offset) };
    });
  }

  /** Gives `value` back; values outside the range and free values are ignored. */
  async release(value: string): Promise<void> {
    const offset = this.range.offsetOf(value);
    if (offset === undefined) return;
    await this.#update((bitmap) => ({ bitmap: bitIsSet(bitmap, offset) ? withBit(bitmap, offset, false) : undefined, result: undefined }));
  }

  /** The stored bitmap and the revision a later replaceIfUnchanged compares against (the repair loop's read). */
  async snapshot(): Promise<Snapshot> {
    return await this.#read();
  }

  /** Stores `bitmap` only if nobody changed the range since `snapshot`; false when someone did. */
  async replaceIfUnchanged(snapshot: Snapshot, bitmap: Uint8Array): Promise<boolean> {
    return await this.#swap(snapshot, bitmap);
  }

  async isAllocated(value: string): Promise<boolean> {
    const offset = this.range.offsetOf(value);
    return offset !== undefined && bitIsSet((await this.#read()).bitmap, offset);
  }
}
