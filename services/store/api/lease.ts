/**
 * etcdserverpb.Lease: LeaseGrant and LeaseRevoke go through the log; LeaseKeepAlive (a stream)
 * and LeaseTimeToLive ask the leader's clock (through the LeaseKeeper, which forwards from a
 * follower); LeaseLeases lists this member's applied leases, as etcd does.
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { leaseTtlSecondsMax } from "../../../libs/mvcc/index.ts";
import type * as wire from "../../../libs/etcdpb/index.ts";
import type { StoreContext } from "../context.ts";
import { toBigint, toNumber } from "../convert.ts";
import { EtcdError, etcdErrors, toServiceError } from "../errors.ts";
import type { LeaseKeeper } from "../lease-keeper.ts";
import { encodeInternal, PayloadTag } from "../payload.ts";
import { enforceQuota, leaseOverheadBytes } from "../quota.ts";
import { unary } from "./grpc.ts";

/** Server-chosen ids that collide with an existing lease are drawn again this many times. */
const grantIdAttemptsMax = 3;
/** Keep-alive requests of one stream waiting for their answers; past it the stream stops reading. */
const keepAlivesInFlightMax = 64;

export function leaseService(context: StoreContext, keeper: LeaseKeeper): UntypedServiceImplementation {
  const { logger, stateMachine } = context;
  return {
    LeaseGrant: unary(logger, "LeaseGrant", (request: wire.LeaseGrantRequest__Output) => leaseGrant(context, keeper, request)),
    LeaseRevoke: unary(logger, "LeaseRevoke", async (request: wire.LeaseRevokeRequest__Output) =>
      context.propose(encodeInternal(PayloadTag.LeaseRevoke, { id: toBigint(request.ID).toString() })),
    ),
    LeaseTimeToLive: unary(logger, "LeaseTimeToLive", async (request: wire.LeaseTimeToLiveRequest__Output): Promise<wire.LeaseTimeToLiveResponse> => {
      const answer = await keeper.timeToLive(toBigint(request.ID), request.keys);
      // etcd answers an unknown lease with TTL -1 rather than an error.
      if (answer === undefined) return { header: stateMachine.header(), ID: request.ID, TTL: -1, grantedTTL: 0, keys: [] };
      return {
        header: stateMachine.header(),
        ID: request.ID,
        TTL: answer.remainingTtlSeconds,
        grantedTTL: answer.grantedTtlSeconds,
        keys: answer.keys.map((key) => Buffer.from(key)),
      };
    }),
    LeaseLeases: unary(logger, "LeaseLeases", async (): Promise<wire.LeaseLeasesResponse> => ({
      header: stateMachine.header(),
      leases: stateMachine.mvcc.leases().map((lease) => ({ ID: lease.id.toString() })),
    })),
    LeaseKeepAlive: (call: ServerDuplexStream<wire.LeaseKeepAliveRequest__Output, wire.LeaseKeepAliveResponse>) => keepAliveStream(context, keeper, call),
  };
}

async function leaseGrant(context: StoreContext, keeper: LeaseKeeper, request: wire.LeaseGrantRequest__Output): Promise<unknown> {
  const ttlSeconds = toNumber(request.TTL);
  if (ttlSeconds > leaseTtlSecondsMax) throw etcdErrors.leaseTtlTooLarge;
  // As etcd's quota check for LeaseGrant: refused when over the backend quota (raises NOSPACE).
  await enforceQuota(context, leaseOverheadBytes);
  const requested = toBigint(request.ID);
  if (requested !== 0n) return context.propose(encodeInternal(PayloadTag.LeaseGrant, { id: requested.toString(), ttlSeconds }));
  let lastError: unknown;
  for (let attempt = 0; attempt < grantIdAttemptsMax; attempt++) {
    try {
      return await context.propose(encodeInternal(PayloadTag.LeaseGrant, { id: keeper.nextLeaseId().toString(), ttlSeconds }));
    } catch (error) {
      if (!(error instanceof EtcdError) || error.message !== etcdErrors.leaseExists.message) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * One keep-alive stream: each request renews its lease at the leader and is answered with the
 * TTL (0 when the lease is unknown or expired, as etcd). Answers go out in request order; a
 * client that sends faster than the leader answers is paused at keepAlivesInFlightMax.
 */
function keepAliveStream(context: StoreContext, keeper: LeaseKeeper, call: ServerDuplexStream<wire.LeaseKeepAliveRequest__Output, wire.LeaseKeepAliveResponse>): void {
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failed = false;
  call.on("data", (request: wire.LeaseKeepAliveRequest__Output) => {
    const id = toBigint(request.ID);
    const renewal = keeper.renew(id);
    // Swallowed here; the chain below reports it in order.
    renewal.catch(() => undefined);
    inFlight++;
    if (inFlight >= keepAlivesInFlightMax) call.pause();
    chain = chain.then(async () => {
      try {
        const ttlSeconds = await renewal;
        if (!failed && !call.cancelled) call.write({ header: context.stateMachine.header(), ID: request.ID, TTL: ttlSeconds });
      } catch (error) {
        if (!failed && !call.cancelled) {
          failed = true;
          if (!(error instanceof EtcdError)) context.logger.error({ err: error }, "lease keep-alive failed unexpectedly");
          call.emit("error", toServiceError(error));
        }
      } finally {
        inFlight--;
        if (inFlight < keepAlivesInFlightMax && !failed) call.resume();
      }
    });
  });
  call.on("end", () => {
    void chain.then(() => {
      if (!failed && !call.cancelled) call.end();
    });
  });
}
