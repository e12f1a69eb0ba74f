/**
 * Exact recovery after kill -9: members are killed at arbitrary moments under a write load and
 * restarted from their data dirs; every acknowledged write must survive, and all members must
 * converge to the same key space. Runs against Flotilla and etcd alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient, prefixEnd } from "../../../libs/etcd-client/index.ts";
import { StoreCluster, storeImplementations, type StoreMember } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";

const killRounds = 4;
const writersCount = 4;
const writeDeadlineMs = 1000;
/** Acknowledged writes required between kills, so that every kill lands under a flowing load. */
const writesBetweenKills = 20;
const progressTimeoutMs = 30_000;

interface Acknowledged {
  readonly key: string;
  readonly value: string;
}

interface Writers {
  /** Resolves once `count` more writes than now have been acknowledged (bounded). */
  progress(count: number, what: string): Promise<void>;
  stop(): Promise<Acknowledged[]>;
}

/** Writers put unique values until stopped; stop() returns the writes the store acknowledged. */
function startWriters(cluster: StoreCluster): Writers {
  let running = true;
  const acknowledged: Acknowledged[] = [];
  const clients = Array.from({ length: writersCount }, () => new EtcdClient({ endpoints: cluster.members.map((member) => member.clientUrl), requestTimeoutMs: writeDeadlineMs }));
  const loops = clients.map(async (client, writer) => {
    for (let sequence = 0; running; sequence++) {
      const key = `crash/w${writer}/${sequence % 50}`;
      const value = `w${writer}-${sequence}`;
      try {
        await client.put({ key: Buffer.from(key), value: Buffer.from(value) });
        acknowledged.push({ key, value });
      } catch {
        // Unknown outcome (the member died mid-request): not counted as acknowledged.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });
  return {
    progress: async (count, what) => {
      const target = acknowledged.length + count;
      await waitFor(() => (acknowledged.length >= target ? true : undefined), { timeoutMs: progressTimeoutMs, description: `${count} acknowledged writes ${what}` });
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
      for (const client of clients) client.close();
      return acknowledged;
    },
  };
}

async function keySpace(member: StoreMember): Promise<Map<string, string>> {
  const client = new EtcdClient({ endpoints: [member.clientUrl], requestTimeoutMs: 5000 });
  try {
    const response = await client.range({ key: Buffer.from("crash/"), range_end: prefixEnd("crash/") });
    return new Map(response.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
  } finally {
    client.close();
  }
}

describe.each(storeImplementations())("kill -9 recovery on a %s cluster", (implementation) => {
  let cluster: StoreCluster;

  beforeAll(async () => {
    cluster = await StoreCluster.start({ implementation, size: 3, extraFlags: ["--snapshot-count=200"] });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("keeps every acknowledged write through repeated kills of the leader and of followers", async () => {
    const writers = startWriters(cluster);
    for (let round = 0; round < killRounds; round++) {
      await writers.progress(writesBetweenKills, `before kill ${round + 1}`);
      const victim = round % 2 === 0 ? await cluster.leader() : cluster.members[round % cluster.members.length];
      if (victim === undefined) throw new Error("no member to kill");
      await victim.daemon?.kill();
      // A restart from an existing data dir ignores --initial-cluster-state, as in etcd.
      cluster.startMember(victim, "new");
      await cluster.waitHealthy();
    }
    await writers.progress(writesBetweenKills, "after the last restart");
    const acknowledged = await writers.stop();
    expect(acknowledged.length).toBeGreaterThanOrEqual((killRounds + 1) * writesBetweenKills);

    // The latest acknowledged value per key must be what every member holds (writes per key are
    // sequential within one writer, so the last acknowledged one is the newest).
    const latest = new Map<string, string>();
    for (const write of acknowledged) latest.set(write.key, write.value);
    await waitFor(
      async () => {
        const spaces = await Promise.all(cluster.members.map((member) => keySpace(member)));
        const first = JSON.stringify([...(spaces[0] ?? new Map())].sort());
        return spaces.every((space) => JSON.stringify([...space].sort()) === first) ? true : undefined;
      },
      { timeoutMs: 30_000, description: "all members to hold the same key space" },
    );
    const space = await keySpace(cluster.members[0] as StoreMember);
    const lost = [...latest].filter(([key, value]) => {
      const held = space.get(key);
      if (held === undefined) return true;
      // A later unacknowledged write from the same writer may have landed: same writer, newer sequence.
      const [heldWriter, heldSequence] = held.split("-");
      const [writer, sequence] = value.split("-");
      return heldWriter !== writer || Number(heldSequence) < Number(sequence);
    });
    expect(lost, `acknowledged writes lost: ${JSON.stringify(lost.slice(0, 5))}`).toEqual([]);
  });
});
