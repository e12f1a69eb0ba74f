import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { credentials } from "@grpc/grpc-js";
import { createLogger } from "../../libs/log/index.ts";
import { EntryType } from "../../libs/raft/index.ts";
import type { StoreContext } from "./context.ts";
import { encodeClientRequest, encodeInternal, PayloadTag } from "./payload.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { StoreStateMachine } from "./state-machine.ts";

const tickMs = 500;

/** One member whose proposals apply at once; the test plays the Raft node's leadership. */
function member() {
  const stateMachine = new StoreStateMachine({ memberId: 1, clusterId: 2, minLeaseTtlSeconds: 1, raftTerm: () => 1 });
  const listeners = new Set<(leaderId: number, term: number) => void>();
  const node = {
    id: 1,
    isLeader: false,
    leaderId: 0,
    peers: new Map<number, string>(),
    onLeaderChange(listener: (leaderId: number, term: number) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  let index = 0;
  const proposed: string[] = [];
  const propose = async (payload: Uint8Array): Promise<unknown> => {
    index++;
    if (payload[0] === PayloadTag.LeaseRevoke) proposed.push(`revoke ${JSON.parse(Buffer.from(payload.subarray(1)).toString()).id}`);
    const outcome = stateMachine.apply({ term: 1, index, type: EntryType.Normal, data: payload }).result;
    if (!outcome.ok) throw outcome.error;
    return outcome.response;
  };
  const context = {
    config: { electionTimeoutMs: 1000 },
    node,
    stateMachine,
    logger: createLogger("test", { level: "silent" }),
    propose,
    readBarrier: async () => undefined,
  } as unknown as StoreContext;
  let nowMs = 0;
  const keeper = new LeaseKeeper(context, { peerCredentials: credentials.createInsecure(), tickMs, nowMs: () => nowMs });
  return {
    stateMachine,
    keeper,
    proposed,
    grant: (id: bigint, ttlSeconds: number) => propose(encodeInternal(PayloadTag.LeaseGrant, { id: id.toString(), ttlSeconds })),
    put: (key: string, lease: bigint) => propose(encodeClientRequest(PayloadTag.Put, { key: Buffer.from(key), value: Buffer.from("v"), lease: lease.toString() })),
    lead(leading: boolean) {
      node.isLeader = leading;
      node.leaderId = leading ? 1 : 2;
      for (const listener of listeners) listener(node.leaderId, 1);
    },
    /** Moves the clock and runs the ticks that fall due; lets revoke proposals settle. */
    async pass(ms: number) {
      nowMs += ms;
      await vi.advanceTimersByTimeAsync(ms);
    },
  };
}

describe("LeaseKeeper", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("the leader revokes an expired lease through the log, deleting its keys in one revision", async () => {
    const m = member();
    m.lead(true);
    m.keeper.start();
    await m.grant(5n, 3);
    await m.put("a", 5n);
    await m.put("b", 5n);
    const before = m.stateMachine.mvcc.currentRevision;
    await m.pass(2500);
    expect(m.proposed).toEqual([]);
    await m.pass(500);
    expect(m.proposed).toEqual(["revoke 5"]);
    expect(m.stateMachine.mvcc.leases()).toEqual([]);
    expect(m.stateMachine.mvcc.range({ key: Buffer.from("a"), rangeEnd: Buffer.from("c") }).kvs).toEqual([]);
    expect(m.stateMachine.mvcc.currentRevision).toBe(before + 1);
    m.keeper.stop();
  });

  it("a follower never revokes, however much time passes", async () => {
    const m = member();
    m.lead(false);
    m.keeper.start();
    await m.grant(5n, 1);
    await m.pass(60_000);
    expect(m.proposed).toEqual([]);
    expect(m.stateMachine.mvcc.leases()).toHaveLength(1);
    m.keeper.stop();
  });

  it("on becoming leader, every lease gets its full TTL from that moment", async () => {
    const m = member();
    m.keeper.start();
    await m.grant(7n, 10);
    await m.pass(100_000);
    m.lead(true);
    await m.pass(9500);
    expect(m.proposed).toEqual([]);
    expect((await m.keeper.timeToLive(7n, false))?.remainingTtlSeconds).toBe(0);
    await m.pass(500);
    expect(m.proposed).toEqual(["revoke 7"]);
    m.keeper.stop();
  });

  it("losing leadership stops expiry; leading again starts a full TTL again", async () => {
    const m = member();
    m.lead(true);
    m.keeper.start();
    await m.grant(1n, 4);
    await m.pass(3000);
    m.lead(false);
    await m.pass(10_000);
    m.lead(true);
    await m.pass(3500);
    expect(m.proposed).toEqual([]);
    await m.pass(500);
    expect(m.proposed).toEqual(["revoke 1"]);
    m.keeper.stop();
  });

  it("a keep-alive at the leader restarts the TTL; an unknown lease renews to TTL 0", async () => {
    const m = member();
    m.lead(true);
    m.keeper.start();
    await m.grant(3n, 2);
    await m.pass(1500);
    expect(await m.keeper.renew(3n)).toBe(2);
    await m.pass(1500);
    expect(m.proposed).toEqual([]);
    expect(await m.keeper.renew(99n)).toBe(0);
    expect(await m.keeper.timeToLive(99n, false)).toBeUndefined();
    await m.pass(500);
    expect(m.proposed).toEqual(["revoke 3"]);
    expect(await m.keeper.renew(3n)).toBe(0);
    m.keeper.stop();
  });

  it("time-to-live reports the granted TTL, the leader's remaining seconds and the keys", async () => {
    const m = member();
    m.lead(true);
    m.keeper.start();
    await m.grant(4n, 30);
    await m.put("k1", 4n);
    await m.pass(10_400);
    const answer = await m.keeper.timeToLive(4n, true);
    expect(answer?.grantedTtlSeconds).toBe(30);
    expect(answer?.remainingTtlSeconds).toBe(19);
    expect(answer?.keys.map((key) => Buffer.from(key).toString())).toEqual(["k1"]);
    m.keeper.stop();
  });

  it("server-chosen lease ids are positive and distinct", () => {
    const m = member();
    const ids = new Set(Array.from({ length: 100 }, () => m.keeper.nextLeaseId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id > 0n).toBe(true);
  });
});
