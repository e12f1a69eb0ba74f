/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection with
 * kube-controller-manager's timings: a candidate takes the Lease when it is free or its holder
 * has not renewed it for leaseDuration (15 s) as observed on the candidate's own clock; the
 * leader renews every retryPeriod (2 s) and stops acting when it could not renew for
 * renewDeadline (10 s), before anyone else may take over. Every write is a PUT with the read
 * resourceVersion, so two candidates never both win one round. On a clean stop the leader
 * releases the Lease so that another takes over at once.
 */
import { assert } from "../assert/index.ts";
import { findResource, formatMicroTime, isStatusError, type Lease } from "../api/index.ts";
import type { Logger } from "../log/index.ts";
import type { ApiClient, Resource } from "./types.ts";
import { sleepOrAbort } from "./sleep.ts";

export const leaseDurationMsDefault = 15_000;
export const renewDeadlineMsDefault = 10_000;
export const retryPeriodMsDefault = 2_000;
/** client-go's JitterFactor for the acquire retry. */
export const retryJitterFactor = 1.2;

const leasesResource = findResource("coordination.k8s.io", "v1", "leases");

export interface LeaderElectionConfig {
  readonly client: ApiClient;
  readonly namespace: string;
  readonly name: string;
  /** Unique per candidate: host name and a random suffix, as upstream. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /**
   * Called when this candidate becomes leader; `signal` aborts when leadership ends. The elector
   * waits for the returned promise before it campaigns again, so work never overlaps.
   */
  onStartedLeading(signal: AbortSignal): Promise<void>;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
  readonly logger?: Logger;
  readonly nowMs?: () => number;
}

interface Observation {
  readonly record: string;
  readonly atMs: number;
}

/** One candidate. `run` campaigns, leads, and campaigns again after losing, until aborted. */
export class LeaderElector {
  readonly #config: LeaderElectionConfig;
  readonly #leases: Resource;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #nowMs: () => number;
  #observed: Observation | undefined;
  #observedHolder = "";
  #leading = false;

  constructor(config: LeaderElectionConfig) {
    if (leasesResource === undefined) throw new Error("the registry has no coordination.k8s.io/v1 leases");
    this.#config = config;
    this.#leases = leasesResource;
    this.#leaseDurationMs = config.leaseDurationMs ?? leaseDurationMsDefault;
    this.#renewDeadlineMs = config.renewDeadlineMs ?? renewDeadlineMsDefault;
    this.#retryPeriodMs = config.retryPeriodMs ?? retryPeriodMsDefault;
    this.#nowMs = config.nowMs ?? Date.now;
    // client-go's checks: a leader must give up before a candidate may take over.
    assert(this.#leaseDurationMs > this.#renewDeadlineMs, "leaseDuration is longer than renewDeadline");
    assert(this.#renewDeadlineMs > retryJitterFactor * this.#retryPeriodMs, "renewDeadline is longer than the jittered retryPeriod");
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder of the Lease as last observed. */
  get observedHolder(): string {
    return this.#observedHolder;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const acquired = await this.#acquire(signal);
      if (!acquired) return;
      await this.#lead(signal);
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew()) return true;
      await sleepOrAbort(this.#retryPeriodMs * (1 + Math.random() * (retryJitterFactor - 1)), signal);
    }
    return false;
  }

  async #lead(signal: AbortSignal): Promise<void> {
    const leadership = new AbortController();
    const stopOnAbort = () => leadership.abort();
    signal.addEventListener("abort", stopOnAbort, { once: true });
    this.#leading = true;
    this.#config.logger?.info({ lease: this.#config.name, identity: this.#config.identity }, "became leader");
    const work = this.#config.onStartedLeading(leadership.signal).catch((error: unknown) => {
      this.#config.logger?.error({ err: error, lease: this.#config.name }, "leader work failed");
    });
    try {
      await this.#renewLoop(leadership.signal);
    } finally {
      leadership.abort();
      signal.removeEventListener("abort", stopOnAbort);
      this.#leading = false;
      await work;
      this.#config.onStoppedLeading?.();
      this.#config.logger?.info({ lease: this.#config.name, identity: this.#config.identity }, "stopped leading");
    }
    if (signal.aborted) await this.#release();
  }

  /** Renews every retryPeriod; returns when a renewal has not succeeded for renewDeadline. */
  async #renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenewMs = this.#nowMs();
    while (!signal.aborted) {
      await sleepOrAbort(this.#retryPeriodMs, signal);
      if (signal.aborted) return;
      const renewed = await withTimeout(this.#tryAcquireOrRenew(), this.#renewDeadlineMs - (this.#nowMs() - lastRenewMs));
      if (renewed === true) lastRenewMs = this.#nowMs();
      else if (this.#nowMs() - lastRenewMs >= this.#renewDeadlineMs) {
        this.#config.logger?.warn({ lease: this.#config.name }, "could not renew the lease within the renew deadline; giving up leadership");
        return;
      } else if (renewed === false && this.#observedHolder !== this.#config.identity) {
        return;
      }
    }
  }

  /** One round: read the Lease, then create, take over or renew it. False when someone else holds it. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.#config;
    const nowMs = this.#nowMs();
    let current: Lease;
    try {
      current = await client.get<Lease>(this.#leases, namespace, name);
    } catch (error) {
      if (!isStatusError(error, "NotFound")) return this.#failed(error);
      return this.#write(() => client.create<Lease>(this.#leases, this.#newLease(undefined, nowMs)));
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    this.#observe(current, nowMs);
    const observedAtMs = this.#observed?.atMs ?? nowMs;
    const expired = observedAtMs + (spec.leaseDurationSeconds ?? 0) * 1000 <= nowMs;
    if (holder !== "" && holder !== identity && !expired) return false;
    return this.#write(() => client.update<Lease>(this.#leases, this.#newLease(current, nowMs)));
  }

  #newLease(current: Lease | undefined, nowMs: number): Lease {
    const spec = current?.spec ?? {};
    const takingOver = spec.holderIdentity !== this.#config.identity;
    const time = formatMicroTime(nowMs);
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { ...(current?.metadata ?? {}), name: this.#config.name, namespace: this.#config.namespace },
      spec: {
        ...spec,
        holderIdentity: this.#config.identity,
        leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
        acquireTime: takingOver || spec.acquireTime === undefined ? time : spec.acquireTime,
        renewTime: time,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (current !== undefined && takingOver ? 1 : 0),
      },
    };
  }

  async #write(write: () => Promise<Lease>): Promise<boolean> {
    try {
      const written = await write();
      this.#observe(written, this.#nowMs());
      return true;
    } catch (error) {
      // Conflict or AlreadyExists: another candidate wrote first this round.
      if (isStatusError(error, "Conflict") || isStatusError(error, "AlreadyExists")) return false;
      return this.#failed(error);
    }
  }

  #failed(error: unknown): false {
    this.#config.logger?.warn({ err: error, lease: this.#config.name }, "lease read or write failed");
    return false;
  }

  /** Remembers when the record last changed, on our clock (holders' clocks are not trusted). */
  #observe(lease: Lease, nowMs: number): void {
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime, spec.leaseTransitions]);
    if (this.#observed?.record !== record) this.#observed = { record, atMs: nowMs };
    const holder = spec.holderIdentity ?? "";
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      if (holder !== "") this.#config.onNewLeader?.(holder);
    }
  }

  /** A clean stop: empty the holder (leaseDurationSeconds 1) so that a candidate takes over now. */
  async #release(): Promise<void> {
    const { client, namespace, name, identity } = this.#config;
    try {
      const current = await client.get<Lease>(this.#leases, namespace, name);
      if (current.spec?.holderIdentity !== identity) return;
      const time = formatMicroTime(this.#nowMs());
      await client.update<Lease>(this.#leases, { ...current, spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: time } });
    } catch (error) {
      this.#config.logger?.warn({ err: error, lease: name }, "could not release the lease");
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  if (timeoutMs <= 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
