/**
 * Watch and lease behaviour on a 3-member cluster that etcdctl cannot show: watches served by a
 * follower, progress requests, cancel requests and watch ids on one stream, a watch from a
 * compacted revision, keep-alives sent to a follower, and lease expiry decided by a new leader
 * after the old one is killed. Every case runs against Flotilla's store and a real etcd.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, type ClientDuplexStream } from "@grpc/grpc-js";
import { loadEtcdProto, type WatchRequest, type WatchResponse__Output } from "../../../libs/etcdpb/index.ts";
import { EtcdClient, prefixEnd } from "../../../libs/etcd-client/index.ts";
import { StoreCluster, storeImplementations, type StoreMember } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

const waitMs = 15_000;

/** A raw Watch stream that records every response, for checks on ids and control responses. */
class RawWatchStream {
  readonly responses: WatchResponse__Output[] = [];
  readonly #client: InstanceType<ReturnType<typeof loadEtcdProto>["etcdserverpb"]["Watch"]>;
  readonly #stream: ClientDuplexStream<WatchRequest, WatchResponse__Output>;
  #failure: Error | undefined;

  constructor(member: StoreMember) {
    this.#client = new (loadEtcdProto().etcdserverpb.Watch)(new URL(member.clientUrl).host, credentials.createInsecure());
    this.#stream = this.#client.Watch();
    this.#stream.on("data", (response: WatchResponse__Output) => this.responses.push(response));
    this.#stream.on("error", (error: Error) => (this.#failure = error));
  }

  send(request: WatchRequest): void {
    this.#stream.write(request);
  }

  /** The first recorded response (from index `from` on) that satisfies `predicate`. */
  async next(description: string, predicate: (response: WatchResponse__Output) => boolean, from = 0, timeoutMs = waitMs): Promise<WatchResponse__Output> {
    return waitFor(
      () => {
        if (this.#failure !== undefined) throw this.#failure;
        return this.responses.slice(from).find(predicate);
      },
      { timeoutMs, intervalMs: 20, description },
    );
  }

  close(): void {
    this.#stream.cancel();
    this.#client.close();
  }
}

const eventKeys = (responses: readonly WatchResponse__Output[], watchId: string): string[] =>
  responses.filter((response) => response.watch_id === watchId).flatMap((response) => response.events.map((event) => `${event.type} ${event.kv?.key.toString()}`));

describe.each(storeImplementations())("watches and leases on a 3-member %s cluster", (implementation) => {
  let cluster: StoreCluster;
  let client: EtcdClient;

  /** The current leader and one follower (leadership may move between cases). */
  async function roles(): Promise<{ leader: StoreMember; follower: StoreMember }> {
    const leader = await cluster.leader();
    return { leader, follower: cluster.members.find((member) => member !== leader && member.daemon?.running === true) as StoreMember };
  }

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 3 });
    client = new EtcdClient({ endpoints: cluster.members.map((member) => member.clientUrl) });
  });
  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  });

  it("a watch served by a follower sees writes made through the leader, in order", async () => {
    const { follower } = await roles();
    const watch = client.watch({ key: Buffer.from("fw/"), range_end: prefixEnd("fw/") }, follower.clientUrl);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const response of watch) {
        for (const event of response.events) seen.push(`${event.type} ${event.kv?.key.toString()}=${event.kv?.value.toString()}`);
        if (seen.length >= 3) break;
      }
    })();
    await waitFor(() => watch.watchId, { timeoutMs: waitMs, description: "the follower's watch to be created" });
    await client.put({ key: Buffer.from("fw/a"), value: Buffer.from("1") });
    await client.put({ key: Buffer.from("fw/b"), value: Buffer.from("2") });
    await client.deleteRange({ key: Buffer.from("fw/a") });
    await reading;
    watch.cancel();
    expect(seen).toEqual(["PUT fw/a=1", "PUT fw/b=2", "DELETE fw/a="]);
  });

  it("a progress request is answered with watch id -1 and the revision of the latest write", async () => {
    const { follower } = await roles();
    const stream = new RawWatchStream(follower);
    try {
      stream.send({ create_request: { key: Buffer.from("pr/k") } });
      await stream.next("the watch to be created", (response) => response.created);
      const put = await client.put({ key: Buffer.from("pr/k"), value: Buffer.from("v") });
      await stream.next("the put event", (response) => response.events.length > 0);
      const before = stream.responses.length;
      stream.send({ progress_request: {} });
      const progress = await stream.next("a progress notification", (response) => response.watch_id === "-1", before);
      expect(progress.events).toEqual([]);
      expect(progress.canceled).toBe(false);
      expect(Number(progress.header?.revision)).toBeGreaterThanOrEqual(Number(put.header?.revision));
    } finally {
      stream.close();
    }
  });

  it("assigns watch ids per stream, refuses a duplicate id, and cancels one watch leaving the others", async () => {
    const { follower } = await roles();
    const stream = new RawWatchStream(follower);
    try {
      stream.send({ create_request: { key: Buffer.from("cw/a") } });
      stream.send({ create_request: { key: Buffer.from("cw/b"), watch_id: 7 } });
      stream.send({ create_request: { key: Buffer.from("cw/c") } });
      await stream.next("three watches created", () => stream.responses.filter((response) => response.created).length >= 3);
      expect(stream.responses.filter((response) => response.created).map((response) => response.watch_id)).toEqual(["0", "7", "1"]);

      stream.send({ create_request: { key: Buffer.from("cw/d"), watch_id: 7 } });
      const refused = await stream.next("the duplicate id refused", (response) => response.created && response.canceled);
      expect(refused.watch_id).toBe("-1");
      expect(refused.cancel_reason).toContain("duplicate watch ID");

      stream.send({ cancel_request: { watch_id: 0 } });
      const canceled = await stream.next("watch 0 canceled", (response) => response.canceled && response.watch_id === "0");
      expect(canceled.created).toBe(false);

      await client.put({ key: Buffer.from("cw/a"), value: Buffer.from("x") });
      await client.put({ key: Buffer.from("cw/b"), value: Buffer.from("y") });
      await stream.next("the event of watch 7", (response) => response.watch_id === "7" && response.events.length > 0);
      expect(eventKeys(stream.responses, "0")).toEqual([]);
      expect(eventKeys(stream.responses, "7")).toEqual(["PUT cw/b"]);
    } finally {
      stream.close();
    }
  });

  it("a watch from a compacted revision is canceled with the compact revision", async () => {
    const { follower } = await roles();
    const first = await client.put({ key: Buffer.from("cmp/k"), value: Buffer.from("1") });
    await client.put({ key: Buffer.from("cmp/k"), value: Buffer.from("2") });
    const third = await client.put({ key: Buffer.from("cmp/k"), value: Buffer.from("3") });
    const compactRevision = Number(third.header?.revision);
    await client.compact(compactRevision);
    const stream = new RawWatchStream(follower);
    try {
      // The follower applies the compaction on its own schedule: retry until it has.
      const canceled = await waitFor(
        async () => {
          const from = stream.responses.length;
          stream.send({ create_request: { key: Buffer.from("cmp/k"), start_revision: Number(first.header?.revision) } });
          const response = await stream.next("a canceled or event response", (candidate) => candidate.canceled || candidate.events.length > 0, from);
          return response.canceled ? response : undefined;
        },
        { timeoutMs: waitMs, description: "the compacted watch to be canceled" },
      );
      expect(Number(canceled.compact_revision)).toBe(compactRevision);
      expect(canceled.events).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it("a keep-alive sent to a follower renews the lease at the leader", async () => {
    const { leader, follower } = await roles();
    const grant = await client.leaseGrant(5);
    const viaFollower = new EtcdClient({ endpoints: [follower.clientUrl] });
    const viaLeader = new EtcdClient({ endpoints: [leader.clientUrl] });
    try {
      // Let the leader's clock run down a little, so that a renewal is visible.
      await waitFor(async () => (Number((await viaLeader.leaseTimeToLive(grant.ID)).TTL) <= 3 ? true : undefined), {
        timeoutMs: waitMs,
        intervalMs: 200,
        description: "the lease's remaining TTL to fall to 3 s",
      });
      const renewed = await viaFollower.leaseKeepAliveOnce(grant.ID);
      expect(renewed.ID).toBe(grant.ID);
      expect(Number(renewed.TTL)).toBe(5);
      const after = await viaLeader.leaseTimeToLive(grant.ID);
      expect(Number(after.TTL)).toBeGreaterThanOrEqual(4);
      const asFollowerSeesIt = await viaFollower.leaseTimeToLive(grant.ID);
      expect(Number(asFollowerSeesIt.grantedTTL)).toBe(5);
      expect(Number(asFollowerSeesIt.TTL)).toBeGreaterThanOrEqual(3);
      const unknown = await viaFollower.leaseKeepAliveOnce("123456789");
      expect(Number(unknown.TTL)).toBe(0);
      expect(Number((await viaFollower.leaseTimeToLive("123456789")).TTL)).toBe(-1);
    } finally {
      viaFollower.close();
      viaLeader.close();
    }
  });

  // Kills the leader: keep this case last.
  it("a new leader gives leases a full TTL again and still expires them; watchers see the DELETE", async () => {
    const { leader, follower } = await roles();
    const ttlSeconds = 10;
    const grant = await client.leaseGrant(ttlSeconds);
    await client.put({ key: Buffer.from("exp/k"), value: Buffer.from("v"), lease: grant.ID });
    const watcher = new RawWatchStream(follower);
    const viaLeader = new EtcdClient({ endpoints: [leader.clientUrl] });
    const survivors = cluster.members.filter((member) => member !== leader);
    const survivorClient = new EtcdClient({ endpoints: survivors.map((member) => member.clientUrl) });
    try {
      watcher.send({ create_request: { key: Buffer.from("exp/k") } });
      await watcher.next("the watch to be created", (response) => response.created);
      // Let the old leader's clock use up 4 s, so that a new leader that kept counting would say at most 5.
      await waitFor(async () => (Number((await viaLeader.leaseTimeToLive(grant.ID)).TTL) <= 6 ? true : undefined), {
        timeoutMs: waitMs,
        intervalMs: 200,
        description: "the old leader's remaining TTL to fall to 6 s",
      });
      await leader.daemon?.kill();
      const newLeader = await cluster.leader();
      expect(newLeader).not.toBe(leader);
      // The new leader counts the full TTL from its election (etcd's Promote).
      const viaNewLeader = new EtcdClient({ endpoints: [newLeader.clientUrl] });
      try {
        const refreshed = await waitFor(async () => (await viaNewLeader.leaseTimeToLive(grant.ID)).TTL, { timeoutMs: waitMs, description: "the new leader's view of the lease" });
        expect(Number(refreshed)).toBeGreaterThanOrEqual(6);
      } finally {
        viaNewLeader.close();
      }
      const deleted = await watcher.next("the DELETE of the leased key", (response) => response.events.some((event) => event.type === "DELETE"), 0, 3 * ttlSeconds * 1000);
      expect(deleted.events.map((event) => `${event.type} ${event.kv?.key.toString()}`)).toEqual(["DELETE exp/k"]);
      expect((await survivorClient.range({ key: Buffer.from("exp/k") })).kvs).toEqual([]);
      expect(Number((await survivorClient.leaseTimeToLive(grant.ID)).TTL)).toBe(-1);
    } finally {
      watcher.close();
      viaLeader.close();
      survivorClient.close();
    }
  });
});
