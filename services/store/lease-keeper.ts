/**
 * Lease expiry for one store member. Only the leader decides: its LessorClock holds a deadline per
 * lease (a full TTL from the moment it became leader or applied the grant; keep-alives restart
 * it), and every tick it proposes LeaseRevoke through the log for the leases that expired, in
 * bounded batches. The revoke deletes the lease's keys in one revision on every member, so
 * watchers everywhere see the DELETE events. Followers keep no deadlines: they forward keep-alives
 * and time-to-live questions to the leader over the peer port (flotilla.store.LeaseForward).
 */
import { status as grpcStatus, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import type { StoreContext } from "./context.ts";
import { EtcdError, etcdErrors } from "./errors.ts";
import { leaseForwardClient, timeToLiveFromForward, type LeaseForwardClient } from "./api/lease-forward.ts";
import { LeaseIdGenerator, LessorClock, lessorClockDefaults } from "./lessor-clock.ts";
import { encodeInternal, PayloadTag } from "./payload.ts";
import type { StateChange } from "./state-machine.ts";

export const leaseKeeperDefaults = {
  /** How often the leader looks for expired leases (etcd: every 500 ms). */
  tickMs: 500,
  /** Revoke proposals in flight at once; the clock hands out at most this many per tick. */
  revokesInFlightMax: lessorClockDefaults.revokeBatchMax,
  /** Deadline of one forwarded call to the leader. */
  forwardDeadlineMs: 2000,
  /** Forwarding attempts (the leader may change under us) before the client gets an error. */
  forwardAttemptsMax: 3,
} as const;

export interface LeaseKeeperOptions {
  /** How to reach other members' peer ports (TLS when the peer URLs are https). */
  readonly peerCredentials: ChannelCredentials;
  readonly tickMs?: number;
  /** A monotonic clock in milliseconds (tests inject one). */
  readonly nowMs?: () => number;
}

export interface LeaseTimeToLiveAnswer {
  readonly grantedTtlSeconds: number;
  /** By the leader's clock, in whole seconds (rounded down, as etcd). */
  readonly remainingTtlSeconds: number;
  readonly keys: readonly Uint8Array[];
}

export class LeaseKeeper {
  readonly #context: StoreContext;
  readonly #options: LeaseKeeperOptions;
  readonly #clock = new LessorClock();
  readonly #ids: LeaseIdGenerator;
  readonly #nowMs: () => number;
  readonly #unsubscribers: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #revokesInFlight = 0;
  /** One client, to the current leader's peer URL; replaced when the leader moves. */
  #forward: { readonly peerUrl: string; readonly client: LeaseForwardClient } | undefined;

  constructor(context: StoreContext, options: LeaseKeeperOptions) {
    this.#context = context;
    this.#options = options;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#ids = new LeaseIdGenerator(context.node.id, Date.now());
  }

  /** Follows leadership and applied leases, and starts the expiry tick. */
  start(): void {
    const { node, stateMachine } = this.#context;
    this.#unsubscribers.push(
      stateMachine.onChange((change) => this.#onStateChange(change)),
      node.onLeaderChange((leaderId) => (leaderId === node.id ? this.#promote() : this.#clock.demote())),
    );
    this.#syncRole();
    this.#timer = setInterval(() => this.#tick(), this.#options.tickMs ?? leaseKeeperDefaults.tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const unsubscribe of this.#unsubscribers.splice(0)) unsubscribe();
    this.#forward?.client.close();
    this.#forward = undefined;
    this.#clock.demote();
  }

  /** A fresh id for LeaseGrant with ID 0. */
  nextLeaseId(): bigint {
    return this.#ids.next();
  }

  /** A keep-alive from a client of this member: renewed at the leader; 0 when the lease is gone. */
  async renew(id: bigint): Promise<number> {
    return this.#atLeader(
      () => this.renewAsLeader(id),
      (client, deadline) =>
        new Promise<number>((resolve, reject) =>
          client.Renew({ id: id.toString() }, { deadline }, (error, response) => (error === null ? resolve(Number(response?.ttl_seconds ?? 0)) : reject(error))),
        ),
    );
  }

  /** LeaseTimeToLive as the leader sees it; undefined for an unknown lease. */
  async timeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveAnswer | undefined> {
    return this.#atLeader(
      () => this.timeToLiveAsLeader(id, withKeys),
      (client, deadline) =>
        new Promise<LeaseTimeToLiveAnswer | undefined>((resolve, reject) =>
          client.TimeToLive({ id: id.toString(), keys: withKeys }, { deadline }, (error, response) =>
            error === null && response !== undefined ? resolve(timeToLiveFromForward(response)) : reject(error),
          ),
        ),
    );
  }

  /** Renews on this member, which must be the leader (else "not leader", and the caller retries). */
  async renewAsLeader(id: bigint): Promise<number> {
    this.#requireLeader();
    if (!this.#clock.has(id)) {
      // A grant committed before this call may not be applied here yet: catch up, then look again.
      await this.#context.readBarrier();
      this.#requireLeader();
    }
    const result = this.#clock.renew(id, this.#nowMs());
    return result.kind === "renewed" ? result.ttlSeconds : 0;
  }

  async timeToLiveAsLeader(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveAnswer | undefined> {
    this.#requireLeader();
    const { mvcc } = this.#context.stateMachine;
    let lease = mvcc.leaseTimeToLive(id, withKeys);
    if (lease === undefined) {
      await this.#context.readBarrier();
      this.#requireLeader();
      lease = mvcc.leaseTimeToLive(id, withKeys);
    }
    if (lease === undefined) return undefined;
    const remainingMs = this.#clock.remainingMs(id, this.#nowMs()) ?? lease.grantedTtlSeconds * 1000;
    return { grantedTtlSeconds: lease.grantedTtlSeconds, remainingTtlSeconds: Math.floor(remainingMs / 1000), keys: lease.keys };
  }

  #requireLeader(): void {
    this.#syncRole();
    if (!this.#clock.primary) throw this.#context.node.leaderId === 0 ? etcdErrors.noLeader : etcdErrors.notLeader;
  }

  #onStateChange(change: StateChange): void {
    if (change.kind === "leaseGranted") this.#clock.granted(change.id, change.ttlSeconds, this.#nowMs());
    else if (change.kind === "leaseRevoked") this.#clock.revoked(change.id);
    else if (this.#clock.primary) this.#promote(); // a restore replaced every lease
  }

  #promote(): void {
    const leases = this.#context.stateMachine.mvcc.leases().map((lease) => ({ id: lease.id, ttlSeconds: lease.grantedTtlSeconds }));
    this.#clock.promote(leases, this.#nowMs());
    this.#context.logger.info({ leases: leases.length }, "leader: lease deadlines refreshed");
  }

  /** Catches a leadership change the listener could not see (e.g. leading again in a new term). */
  #syncRole(): void {
    const leading = this.#context.node.isLeader;
    if (leading && !this.#clock.primary) this.#promote();
    else if (!leading && this.#clock.primary) this.#clock.demote();
  }

  #tick(): void {
    this.#syncRole();
    const room = leaseKeeperDefaults.revokesInFlightMax - this.#revokesInFlight;
    if (!this.#clock.primary || room <= 0) return;
    for (const id of this.#clock.expired(this.#nowMs(), room)) this.#revoke(id);
  }

  #revoke(id: bigint): void {
    this.#revokesInFlight++;
    this.#context
      .propose(encodeInternal(PayloadTag.LeaseRevoke, { id: id.toString() }))
      .then(
        () => this.#context.logger.debug({ lease: id.toString(16) }, "lease expired and revoked"),
        // The clock hands the lease out again after its retry interval if it still exists.
        (error: unknown) => this.#context.logger.debug({ err: error, lease: id.toString(16) }, "revoking an expired lease failed"),
      )
      .finally(() => this.#revokesInFlight--);
  }

  /** Runs `local` on the leader, or forwards to the leader, retrying a bounded number of times. */
  async #atLeader<T>(local: () => Promise<T>, forward: (client: LeaseForwardClient, deadline: Date) => Promise<T>): Promise<T> {
    let lastError: unknown = etcdErrors.noLeader;
    let failedLeaderId = 0;
    for (let attempt = 0; attempt < leaseKeeperDefaults.forwardAttemptsMax; attempt++) {
      const leaderId = await this.#waitForLeader(failedLeaderId);
      try {
        if (leaderId === this.#context.node.id) return await local();
        return await forward(this.#forwardClient(leaderId), new Date(Date.now() + leaseKeeperDefaults.forwardDeadlineMs));
      } catch (error) {
        if (!isRetryable(error)) throw fromForwardError(error);
        lastError = error;
        failedLeaderId = leaderId;
      }
    }
    throw fromForwardError(lastError);
  }

  /**
   * The leader's id, preferring one other than `failedLeaderId` (which just failed us): waits up to
   * two election timeouts for a leader to emerge or change, then settles for the current one.
   */
  async #waitForLeader(failedLeaderId: number): Promise<number> {
    const { node, config } = this.#context;
    const usable = (leaderId: number) => leaderId !== 0 && leaderId !== failedLeaderId;
    if (usable(node.leaderId)) return node.leaderId;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        if (node.leaderId !== 0) resolve(node.leaderId);
        else reject(etcdErrors.noLeader);
      }, 2 * config.electionTimeoutMs);
      const unsubscribe = node.onLeaderChange((leaderId) => {
        if (!usable(leaderId)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(leaderId);
      });
    });
  }

  #forwardClient(leaderId: number): LeaseForwardClient {
    const peerUrl = this.#context.node.peers.get(leaderId)?.split(",")[0];
    if (peerUrl === undefined || peerUrl === "") throw etcdErrors.noLeader;
    if (this.#forward?.peerUrl !== peerUrl) {
      this.#forward?.client.close();
      this.#forward = { peerUrl, client: leaseForwardClient(peerUrl, this.#options.peerCredentials) };
    }
    return this.#forward.client;
  }
}

function isRetryable(error: unknown): boolean {
  if (error === etcdErrors.notLeader || error === etcdErrors.noLeader || error === etcdErrors.leaderChanged) return true;
  const code = (error as Partial<ServiceError>).code;
  if (error instanceof EtcdError || code === undefined) return false;
  if (code === grpcStatus.UNAVAILABLE || code === grpcStatus.DEADLINE_EXCEEDED) return true;
  return code === grpcStatus.FAILED_PRECONDITION && (error as ServiceError).details === etcdErrors.notLeader.message;
}

/** A failure of a forwarded call as the etcd error the client should see. */
function fromForwardError(error: unknown): EtcdError {
  if (error instanceof EtcdError) return error;
  const serviceError = error as Partial<ServiceError>;
  if (serviceError.code === grpcStatus.DEADLINE_EXCEEDED) return etcdErrors.timeout;
  if (serviceError.code !== undefined && typeof serviceError.details === "string" && serviceError.details.startsWith("etcdserver:")) {
    return new EtcdError(serviceError.code, serviceError.details);
  }
  if (serviceError.code === grpcStatus.UNAVAILABLE) return etcdErrors.leaderChanged;
  return etcdErrors.timeout;
}
