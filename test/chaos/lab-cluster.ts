/**
 * A store cluster for chaos runs: each member is Flotilla's store or a real etcd started with
 * etcd's flags inside its own NetworkLab host (a network namespace on a bridge), listening on
 * its host IP, so that partitions between members are real packet drops. The chaos process
 * itself stays in the root namespace and reaches every member over the bridge, like a client in
 * another rack: partitions cut members off from each other, never from the clients.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { assert } from "../../libs/assert/index.ts";
import { EtcdClient } from "../../libs/etcd-client/index.ts";
import { NetworkLab, type LabHost } from "../harness/netns.ts";
import { Daemon } from "../harness/process.ts";
import { waitFor } from "../harness/wait.ts";
import { AdminClient, errorText } from "./admin.ts";
import { registerCleanup } from "./cleanup.ts";

export type StoreImplementation = "flotilla" | "etcd";

export interface LabMember {
  readonly name: string;
  readonly host: LabHost;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** Fresh on every re-add: a member added back starts from an empty directory. */
  dataDir: string;
  /** How many times this member was removed and added back. */
  generation: number;
  daemon: Daemon | undefined;
  paused: boolean;
  /** Removed from the membership and not (yet) added back. */
  removed: boolean;
  /** The member id as the cluster reports it (a decimal uint64 string). */
  memberId: string | undefined;
  /** The flags a (re)start uses; an added-back member joins an existing cluster. */
  initialClusterState: "new" | "existing";
  initialCluster: string;
}

export interface LabClusterOptions {
  readonly implementation: StoreImplementation;
  readonly size: number;
  readonly workDir: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** etcd's --snapshot-count: small enough that a member that fell behind gets a snapshot. */
  readonly snapshotCount: number;
}

const clientPort = 2379;
const peerPort = 2380;
const repoRoot = resolve(import.meta.dirname, "../..");
const flotillaBin = join(repoRoot, "scripts/flotilla");
/** Deadline of one administrative call (status, member list, health read). */
export const adminRequestTimeoutMs = 2000;
const startTimeoutMs = 30_000;
const leaderTimeoutMs = 20_000;
const healthKey = "/chaos-health";

export class LabCluster {
  readonly implementation: StoreImplementation;
  readonly lab: NetworkLab;
  readonly members: LabMember[] = [];
  readonly admin = new AdminClient(adminRequestTimeoutMs);
  readonly #options: LabClusterOptions;
  /** One health client per member, replaced on every (re)start: see startMember. */
  readonly #health = new Map<LabMember, EtcdClient>();
  readonly #clusterToken: string;
  readonly #unregisterLab: () => void;
  readonly #unregisterDaemons: (() => void)[] = [];

  private constructor(options: LabClusterOptions, lab: NetworkLab) {
    this.implementation = options.implementation;
    this.#options = options;
    this.lab = lab;
    this.#clusterToken = `chaos-${lab.prefix}`;
    this.#unregisterLab = registerCleanup(`network lab ${lab.prefix}`, () => destroyLab(lab));
    for (const [index, host] of lab.hosts.entries()) {
      this.members.push({
        name: `m${index}`,
        host,
        clientUrl: `http://${host.ip}:${clientPort}`,
        peerUrl: `http://${host.ip}:${peerPort}`,
        dataDir: join(options.workDir, "data", `m${index}.g0`),
        generation: 0,
        daemon: undefined,
        paused: false,
        removed: false,
        memberId: undefined,
        initialClusterState: "new",
        initialCluster: "",
      });
    }
    const initialCluster = this.members.map((member) => `${member.name}=${member.peerUrl}`).join(",");
    for (const member of this.members) member.initialCluster = initialCluster;
  }

  /** Creates the hosts, starts every member and waits until all answer a linearizable read. */
  static async start(options: LabClusterOptions): Promise<LabCluster> {
    mkdirSync(join(options.workDir, "data"), { recursive: true });
    const cluster = new LabCluster(options, NetworkLab.create(options.size));
    try {
      for (const member of cluster.members) cluster.startMember(member);
      await cluster.waitHealthy(startTimeoutMs);
      await cluster.refreshMemberIds();
    } catch (error) {
      await cluster.destroy();
      throw new Error(`start a ${options.size}-member ${options.implementation} cluster (logs in ${options.workDir})`, { cause: error });
    }
    return cluster;
  }

  logPath(member: LabMember): string {
    return join(this.#options.workDir, `${member.name}.g${member.generation}.log`);
  }

  #flags(member: LabMember): string[] {
    const common = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=${member.clientUrl}`,
      `--advertise-client-urls=${member.clientUrl}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--initial-cluster=${member.initialCluster}`,
      `--initial-cluster-state=${member.initialClusterState}`,
      `--initial-cluster-token=${this.#clusterToken}`,
      `--heartbeat-interval=${this.#options.heartbeatIntervalMs}`,
      `--election-timeout=${this.#options.electionTimeoutMs}`,
      `--snapshot-count=${this.#options.snapshotCount}`,
    ];
    // zap is etcd 3.4's non-deprecated logger; Flotilla logs with pino and has no such flag.
    return this.implementation === "etcd" ? [...common, "--logger=zap"] : common;
  }

  /** Starts the member's process inside its host; nsenter execs, so the pid is the store's own. */
  startMember(member: LabMember): void {
    if (member.daemon?.running === true) throw new Error(`member ${member.name} is already running`);
    const program = this.implementation === "etcd" ? ["etcd"] : [flotillaBin, "store"];
    const argv = [...this.lab.nsenter(member.host), ...program, ...this.#flags(member)];
    const daemon = new Daemon(argv[0] ?? "", argv.slice(1), this.logPath(member));
    member.daemon = daemon;
    member.paused = false;
    // A channel that failed while the member was down sits in gRPC's reconnect backoff (up to
    // minutes); fresh channels see the restarted member as soon as it listens.
    this.#health.get(member)?.close();
    this.#health.delete(member);
    this.admin.forget(member.clientUrl);
    this.#unregisterDaemons.push(registerCleanup(`kill ${member.name} (pid ${daemon.pid ?? "?"})`, () => daemon.signal("SIGKILL")));
  }

  async kill(member: LabMember): Promise<void> {
    member.paused = false;
    await member.daemon?.kill();
  }

  pause(member: LabMember): void {
    member.daemon?.signal("SIGSTOP");
    member.paused = true;
  }

  resume(member: LabMember): void {
    member.daemon?.signal("SIGCONT");
    member.paused = false;
  }

  #healthClient(member: LabMember): EtcdClient {
    let client = this.#health.get(member);
    if (client === undefined) {
      client = new EtcdClient({ endpoints: [member.clientUrl], requestTimeoutMs: adminRequestTimeoutMs });
      this.#health.set(member, client);
    }
    return client;
  }

  isRunning(member: LabMember): boolean {
    return member.daemon?.running === true;
  }

  /** Members a client may talk to: process up, not frozen, still in the membership. */
  liveMembers(): LabMember[] {
    return this.members.filter((member) => this.isRunning(member) && !member.paused && !member.removed);
  }

  /** Every running member that is still in the membership answers a linearizable read. */
  async waitHealthy(timeoutMs: number, members: readonly LabMember[] = this.members.filter((member) => this.isRunning(member) && !member.removed)): Promise<void> {
    await waitFor(
      async () => {
        const crashed = members.find((member) => !this.isRunning(member));
        if (crashed !== undefined) throw new Error(`member ${crashed.name} exited (see ${this.logPath(crashed)})`);
        await Promise.all(members.map(async (member) => this.#healthClient(member).range({ key: Buffer.from(healthKey) })));
        return true;
      },
      { timeoutMs, intervalMs: 200, description: `members ${members.map((member) => member.name).join(",")} to answer linearizable reads` },
    );
  }

  /** The member that says it leads, at the highest term among the live members' answers. */
  async findLeader(): Promise<LabMember | undefined> {
    const answers = await Promise.all(
      this.liveMembers().map(async (member) => {
        try {
          return { member, status: await this.admin.status(member.clientUrl) };
        } catch {
          return undefined;
        }
      }),
    );
    let best: { member: LabMember; term: bigint } | undefined;
    for (const answer of answers) {
      if (answer === undefined || answer.status.header === null) continue;
      if (answer.status.leader === "0" || answer.status.leader !== answer.status.header.member_id) continue;
      const term = BigInt(answer.status.raftTerm);
      if (best === undefined || term > best.term) best = { member: answer.member, term };
    }
    return best?.member;
  }

  async waitLeader(timeoutMs = leaderTimeoutMs): Promise<LabMember> {
    return waitFor(async () => this.findLeader(), { timeoutMs, intervalMs: 100, description: "a leader" });
  }

  /** Reads the membership from a live member and records each member's id by its peer URL. */
  async refreshMemberIds(): Promise<void> {
    const listed = await this.#fromAnyLiveMember(async (clientUrl) => this.admin.memberList(clientUrl));
    for (const member of this.members) {
      const entry = listed.members.find((candidate) => candidate.peerURLs.includes(member.peerUrl));
      member.memberId = entry?.ID;
    }
  }

  async #fromAnyLiveMember<T>(call: (clientUrl: string) => Promise<T>): Promise<T> {
    let lastError: unknown = new Error("no live member");
    for (const member of this.liveMembers()) {
      try {
        return await call(member.clientUrl);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** MemberRemove through another live member (retried while the store refuses), then stop the process. */
  async removeMember(member: LabMember, timeoutMs: number): Promise<void> {
    const memberId = member.memberId;
    if (memberId === undefined) throw new Error(`member ${member.name} has no known id`);
    const others = (): LabMember[] => this.liveMembers().filter((other) => other !== member);
    await waitFor(
      async () => {
        for (const other of others()) {
          try {
            await this.admin.memberRemove(other.clientUrl, memberId);
            return true;
          } catch (error) {
            if (/not found/i.test(errorText(error))) return true; // an earlier attempt went through
          }
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 300, description: `MemberRemove ${member.name} (${memberId})` },
    );
    member.removed = true;
    await this.kill(member);
  }

  /**
   * MemberAdd with the member's peer URL (the cluster gives it a new id), then start it with a
   * fresh data directory and --initial-cluster-state=existing, as an operator replacing a disk.
   */
  async addMemberBack(member: LabMember, timeoutMs: number): Promise<void> {
    const added = await waitFor(
      async () => {
        for (const other of this.liveMembers().filter((candidate) => candidate !== member)) {
          try {
            return await this.admin.memberAdd(other.clientUrl, [member.peerUrl]);
          } catch (error) {
            if (/exists/i.test(errorText(error))) return undefined; // the removal is not applied there yet
          }
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 300, description: `MemberAdd ${member.name}` },
    );
    assert(added.member !== null, "MemberAdd answers with the added member");
    member.generation++;
    member.dataDir = join(this.#options.workDir, "data", `${member.name}.g${member.generation}`);
    rmSync(member.dataDir, { recursive: true, force: true });
    const addedId = added.member.ID;
    member.memberId = addedId;
    member.initialCluster = added.members
      .map((entry) => `${entry.ID === addedId ? member.name : this.#nameOf(entry)}=${entry.peerURLs[0] ?? ""}`)
      .join(",");
    member.initialClusterState = "existing";
    member.removed = false;
    this.startMember(member);
  }

  /** A listed member's name; one that has not started yet has none, so take ours for its peer URL. */
  #nameOf(entry: { name: string; peerURLs: string[] }): string {
    if (entry.name !== "") return entry.name;
    return this.members.find((candidate) => entry.peerURLs.includes(candidate.peerUrl))?.name ?? "";
  }

  async destroy(): Promise<void> {
    for (const member of this.members) if (member.paused) this.resume(member);
    await Promise.all(this.members.map(async (member) => member.daemon?.kill()));
    for (const client of this.#health.values()) client.close();
    this.#health.clear();
    this.admin.close();
    for (const unregister of this.#unregisterDaemons) unregister();
    destroyLab(this.lab);
    this.#unregisterLab();
    rmSync(join(this.#options.workDir, "data"), { recursive: true, force: true });
  }
}

/**
 * NetworkLab.destroy, after deleting the host ends of the veth pairs on the lab's bridge: the
 * kernel tears a deleted namespace (and the veth inside it) down lazily, here sometimes a minute
 * later, so the root namespace would show the run's interfaces long after it ended.
 */
function destroyLab(lab: NetworkLab): void {
  let listing = "";
  try {
    listing = execFileSync("ip", ["-o", "link", "show", "master", lab.bridge], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    // No bridge: nothing enslaved to it.
  }
  for (const line of listing.split("\n")) {
    const name = /^\d+:\s+([^@:\s]+)/.exec(line)?.[1];
    if (name === undefined) continue;
    try {
      execFileSync("ip", ["link", "del", name], { stdio: "ignore" });
    } catch {
      // Already gone with its namespace.
    }
  }
  lab.destroy();
}
