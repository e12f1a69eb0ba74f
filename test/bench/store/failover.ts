/**
 * Workload 5: write unavailability after the leader is SIGKILLed. A prober starts a put every
 * `probeIntervalMs`, each with a short deadline, to one member, and moves to the next member
 * after every failure (the dead one refuses at once), as a client trying all endpoints would. Unavailability is the time from the kill to the
 * completion of the first successful put that was sent after the kill, so a put that was
 * already committed before the kill cannot count; resolution is one probe interval.
 */
import { performance } from "node:perf_hooks";
import { EtcdClient } from "../../../libs/etcd-client/index.ts";
import type { StoreCluster, StoreMember } from "../../harness/store-cluster.ts";
import { waitFor } from "../../harness/wait.ts";
import { benchKey, paddedValue } from "./workloads.ts";

export interface FailoverRound {
  readonly killedMember: string;
  /** Kill to first successful write, or undefined when writes did not resume within the bound. */
  readonly unavailableMs: number | undefined;
  readonly probesSent: number;
  readonly probesFailed: number;
  /**
   * Kill to the first Maintenance.Status of a surviving member naming a new leader, or undefined
   * when none did within the bound: splits the unavailability into the election and what the
   * client needed after it.
   */
  readonly electedMs?: number | undefined;
}

export const probeIntervalMs = 10;
export const probeTimeoutMs = 500;
/** Bound on probes outstanding: at most one deadline's worth at the probe rate. */
export const probesInFlightMax = Math.ceil(probeTimeoutMs / probeIntervalMs) + 1;
/** Writes that did not resume within this long count as "not resumed" (a failed round). */
export const resumeTimeoutMs = 15_000;
/** Successful probes required before the kill, proving the cluster takes writes. */
const probesBeforeKill = 20;
/** How often the survivors are asked who leads, while waiting for the new leader. */
const electionPollIntervalMs = 20;
const leaderTimeoutMs = 30_000;
const nowMs = (): number => performance.now();

/** The member whose Maintenance.Status says it leads (leader == its own header.member_id). */
export async function findLeader(cluster: StoreCluster): Promise<StoreMember> {
  const running = cluster.members.filter((member) => member.daemon?.running === true);
  const client = new EtcdClient({ endpoints: running.map((member) => member.clientUrl), requestTimeoutMs: 2000 });
  try {
    return await waitFor(
      async () => {
        for (const member of running) {
          const status = await client.status(member.clientUrl).catch(() => undefined);
          if (status !== undefined && status.leader !== "0" && status.leader === status.header?.member_id) return member;
        }
        return undefined;
      },
      { timeoutMs: leaderTimeoutMs, intervalMs: 100, description: `a leader among ${running.length} ${cluster.implementation} members` },
    );
  } finally {
    client.close();
  }
}

class WriteProber {
  readonly #clients: EtcdClient[];
  readonly #timer: NodeJS.Timeout;
  #next = 0;
  #inFlight = 0;
  sent = 0;
  failed = 0;
  succeeded = 0;
  /** Completion time of the first success sent at or after `markMs`. */
  resumedAtMs: number | undefined;
  markMs = Number.POSITIVE_INFINITY;

  constructor(endpoints: readonly string[]) {
    this.#clients = endpoints.map((endpoint) => new EtcdClient({ endpoints: [endpoint], requestTimeoutMs: probeTimeoutMs }));
    this.#timer = setInterval(() => this.#probe(), probeIntervalMs);
  }

  #probe(): void {
    if (this.#inFlight >= probesInFlightMax) return;
    const index = this.sent++;
    const client = this.#clients[this.#next % this.#clients.length] as EtcdClient;
    const sentAtMs = nowMs();
    this.#inFlight++;
    client.put({ key: benchKey("failover", index % 1000), value: paddedValue(String(index)) }).then(
      () => {
        this.#inFlight--;
        this.succeeded++;
        if (sentAtMs >= this.markMs && this.resumedAtMs === undefined) this.resumedAtMs = nowMs();
      },
      () => {
        this.#inFlight--;
        this.failed++;
        this.#next++; // this member did not take the write: the next probe tries another.
      },
    );
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const client of this.#clients) client.close();
  }
}

/** The member id a member reports for itself (Maintenance.Status header). */
async function memberId(client: EtcdClient, member: StoreMember): Promise<string | undefined> {
  const status = await client.status(member.clientUrl).catch(() => undefined);
  return status?.header?.member_id;
}

/**
 * Polls the survivors' Maintenance.Status until one names a leader other than `killedId`;
 * resolves with that moment, or undefined after `resumeTimeoutMs`. Cheap next to the probes
 * (one unary call per survivor every electionPollIntervalMs).
 */
async function electionWatch(client: EtcdClient, survivors: readonly StoreMember[], killedId: string): Promise<number | undefined> {
  const newLeader = async (): Promise<true | undefined> => {
    const statuses = await Promise.all(survivors.map(async (member) => client.status(member.clientUrl).catch(() => undefined)));
    return statuses.some((status) => status !== undefined && status.leader !== "0" && status.leader !== killedId) ? true : undefined;
  };
  return waitFor(newLeader, { timeoutMs: resumeTimeoutMs, intervalMs: electionPollIntervalMs, description: "a new leader after the kill" }).then(
    () => nowMs(),
    () => undefined,
  );
}

export async function failoverRound(cluster: StoreCluster): Promise<FailoverRound> {
  await cluster.waitHealthy();
  const leader = await findLeader(cluster);
  const survivors = cluster.members.filter((member) => member !== leader);
  const statusClient = new EtcdClient({ endpoints: cluster.members.map((member) => member.clientUrl), requestTimeoutMs: probeTimeoutMs });
  const prober = new WriteProber(cluster.members.map((member) => member.clientUrl));
  try {
    const killedId = await memberId(statusClient, leader);
    await waitFor(() => (prober.succeeded >= probesBeforeKill ? true : undefined), {
      timeoutMs: leaderTimeoutMs,
      intervalMs: probeIntervalMs,
      description: `${probesBeforeKill} writes before the kill (first error count ${prober.failed})`,
    });
    const killedAtMs = nowMs();
    prober.markMs = killedAtMs;
    const exited = leader.daemon?.kill();
    const elected = killedId === undefined ? Promise.resolve(undefined) : electionWatch(statusClient, survivors, killedId);
    const resumedAtMs = await waitFor(() => prober.resumedAtMs, { timeoutMs: resumeTimeoutMs, intervalMs: probeIntervalMs, description: "a write after the leader kill" }).catch(() => undefined);
    const electedAtMs = await elected;
    await exited;
    return {
      killedMember: leader.name,
      unavailableMs: resumedAtMs === undefined ? undefined : resumedAtMs - killedAtMs,
      probesSent: prober.sent,
      probesFailed: prober.failed,
      electedMs: electedAtMs === undefined ? undefined : electedAtMs - killedAtMs,
    };
  } finally {
    prober.stop();
    statusClient.close();
    if (leader.daemon?.running !== true) cluster.startMember(leader, "existing");
  }
}

export async function measureFailover(cluster: StoreCluster, rounds: number): Promise<FailoverRound[]> {
  const results: FailoverRound[] = [];
  for (let round = 0; round < rounds; round++) results.push(await failoverRound(cluster));
  await cluster.waitHealthy(); // the last killed member is back before memory or teardown.
  return results;
}
