/**
 * Keeps the node's nftables rules equal to the Services and EndpointSlices it has seen. Changes
 * are coalesced for a few milliseconds, then written as one `nft -f` transaction holding only
 * what differs; if a transaction fails the next one rebuilds the whole table (always correct).
 * The rules are kept per service: a change recomputes and diffs only the services it touched
 * (with 1 000 services of 10 endpoints, recomputing all of them cost 100-500 ms per change).
 */
import { execFile } from "node:child_process";
import type { EndpointSlice, KubeObject, Service } from "../../libs/api/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { NodeWatchEvent } from "../agent/control-plane.ts";
import { servicePorts } from "./model.ts";
import { desiredState, emptyState, fullTransaction, mergeStates, transaction } from "./ruleset.ts";
import type { ProxyConfig, RuleState } from "./ruleset.ts";

/** Changes arriving within this window go out in one transaction. */
export const coalesceMs = 20;
/** After a failed sync, wait this long (doubling up to the max) before the next try. */
export const retryMsMin = 100;
export const retryMsMax = 10_000;
/** An `nft -f` that takes longer than this is killed and counted as failed. */
const nftTimeoutMs = 30_000;

/** Runs an nft script; the agent runs it in its own network namespace, tests through nsenter. */
export type NftRunner = (script: string) => Promise<void>;

export interface ProxySyncerOptions extends ProxyConfig {
  nodeName: string;
  log: Logger;
  nft?: NftRunner;
}

interface SyncWaiter {
  afterChange: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class ProxySyncer {
  readonly #options: ProxySyncerOptions;
  readonly #nft: NftRunner;
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, EndpointSlice>();
  /** Slice keys by the key of the service they belong to (label kubernetes.io/service-name). */
  readonly #slicesByService = new Map<string, Set<string>>();
  /** The rules in place, by service key; undefined until the first sync and after a failed one. */
  #applied: Map<string, RuleState> | undefined;
  /** Services whose rules may differ from what is in place. */
  #dirty = new Set<string>();
  #appliedMerged: RuleState | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #retryMs = retryMsMin;
  #closed = false;
  /** Callers of syncNow, told the outcome of the next sync attempt. */
  #waiters: SyncWaiter[] = [];
  /** Counts changes seen; a sync covers the changes counted when it started. */
  #changes = 0;

  constructor(options: ProxySyncerOptions) {
    this.#options = options;
    this.#nft = options.nft ?? runNft;
  }

  onService(event: NodeWatchEvent<Service>): void {
    const key = objectKey(event.object);
    if (event.type === "upsert") this.#services.set(key, event.object);
    else this.#services.delete(key);
    this.#dirty.add(key);
    this.#changes++;
    this.#schedule(coalesceMs);
  }

  onEndpointSlice(event: NodeWatchEvent<KubeObject>): void {
    const key = objectKey(event.object);
    const previous = this.#slices.get(key);
    if (previous !== undefined) this.#indexSlice(key, previous, false);
    if (event.type === "upsert") {
      this.#slices.set(key, event.object as EndpointSlice);
      this.#indexSlice(key, event.object as EndpointSlice, true);
    } else this.#slices.delete(key);
    this.#changes++;
    this.#schedule(coalesceMs);
  }

  /** Syncs now (after any sync in flight); resolves when the rules are in place, rejects if that attempt failed. */
  async syncNow(): Promise<void> {
    // Only a sync that starts after every change seen so far may answer this caller.
    const afterChange = this.#changes;
    const synced = new Promise<void>((resolve, reject) => this.#waiters.push({ afterChange, resolve, reject }));
    this.#schedule(0);
    await synced;
  }

  /** Stops syncing; the rules stay (traffic keeps flowing while the agent restarts). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.#running.then(() => this.#sync());
    }, delayMs);
  }

  /** Adds or removes a slice in the by-service index and marks its service dirty. */
  #indexSlice(sliceKey: string, slice: EndpointSlice, add: boolean): void {
    const serviceName = slice.metadata.labels?.[serviceNameLabel];
    if (serviceName === undefined) return;
    const serviceKey = `${slice.metadata.namespace ?? ""}/${serviceName}`;
    this.#dirty.add(serviceKey);
    const keys = this.#slicesByService.get(serviceKey) ?? new Set<string>();
    if (add) keys.add(sliceKey);
    else keys.delete(sliceKey);
    if (keys.size === 0) this.#slicesByService.delete(serviceKey);
    else this.#slicesByService.set(serviceKey, keys);
  }

  /** The rules one service needs now (empty when it is gone). */
  #stateOf(serviceKey: string): RuleState {
    const service = this.#services.get(serviceKey);
    if (service === undefined) return emptyState();
    const slices = [...(this.#slicesByService.get(serviceKey) ?? [])].flatMap((key) => this.#slices.get(key) ?? []);
    return desiredState(servicePorts({ services: [service], slices, nodeName: this.#options.nodeName }), this.#options);
  }

  /** The script for the changes since the last sync, and the per-service states it leads to. */
  #plan(): { script: string; next: Map<string, RuleState> } {
    const applied = this.#applied;
    if (applied === undefined) {
      const next = new Map([...this.#services.keys()].map((key) => [key, this.#stateOf(key)] as const));
      return { script: fullTransaction(mergeStates(next.values())), next };
    }
    const next = new Map(applied);
    const before: RuleState[] = [];
    const after: RuleState[] = [];
    for (const key of this.#dirty) {
      before.push(applied.get(key) ?? emptyState());
      const state = this.#stateOf(key);
      after.push(state);
      if (this.#services.has(key)) next.set(key, state);
      else next.delete(key);
    }
    return { script: transaction(mergeStates(before), mergeStates(after)), next };
  }

  async #sync(): Promise<void> {
    const covered = this.#changes;
    const { script, next } = this.#plan();
    this.#dirty = new Set();
    try {
      if (script.trim() !== "") await this.#nft(script);
      this.#applied = next;
      this.#appliedMerged = undefined;
      this.#retryMs = retryMsMin;
      for (const waiter of this.#takeWaiters(covered)) waiter.resolve();
    } catch (error) {
      const failure = new Error("proxy sync failed", { cause: error });
      for (const waiter of this.#takeWaiters(covered)) waiter.reject(failure);
      this.#options.log.warn({ err: error, retryMs: this.#retryMs }, "proxy: nft transaction failed; rebuilding the table next time");
      this.#applied = undefined;
      this.#appliedMerged = undefined;
      this.#schedule(this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, retryMsMax);
    }
  }

  #takeWaiters(covered: number): SyncWaiter[] {
    const answered = this.#waiters.filter((waiter) => waiter.afterChange <= covered);
    this.#waiters = this.#waiters.filter((waiter) => waiter.afterChange > covered);
    return answered;
  }

  /** The state last written (for tests and the debug endpoint). */
  get applied(): RuleState {
    if (this.#applied === undefined) return emptyState();
    this.#appliedMerged ??= mergeStates(this.#applied.values());
    return this.#appliedMerged;
  }
}

const serviceNameLabel = "kubernetes.io/service-name";

function objectKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

export function runNft(script: string, argvPrefix: readonly string[] = []): Promise<void> {
  const [command = "nft", ...args] = [...argvPrefix, "nft", "-f", "-"];
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: nftTimeoutMs, maxBuffer: 1 << 20 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`nft -f failed: ${stderr.trim() || error.message}`));
    });
    child.stdin?.end(script);
  });
}
