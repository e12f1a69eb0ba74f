/**
 * `flotilla members list|add|remove`: the control plane's store members (the etcd Cluster API of
 * a replica's store, `--endpoints`, default this machine's http://127.0.0.1:2379).
 * - `list`: NAME, ID (hex, as etcdctl), LEADER, LEARNER, PEER URLS, CLIENT URLS.
 * - `remove NAME|ID`: MemberRemove. The last voter is refused: without it the store has no quorum
 *   and never will again.
 * - `add NAME`: a server join token (a bootstrap token Secret through the API server in
 *   D/admin.kubeconfig, signed for by the CA in D) and the exact `flotilla server --join` command
 *   for the new machine; joining itself adds the member (services/apiserver/replica-join.ts).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { credentials as grpcCredentials, type ServiceError } from "@grpc/grpc-js";
import { resolveResource } from "../../libs/api/index.ts";
import type { KubeObject } from "../../libs/api/index.ts";
import { HttpApiClient, optionsFromKubeconfig, sleepOrAbort } from "../../libs/client/index.ts";
import { loadEtcdProto } from "../../libs/etcdpb/index.ts";
import type { Member__Output, MemberListResponse__Output, MemberRemoveResponse__Output, StatusResponse__Output } from "../../libs/etcdpb/index.ts";
import { createToken, formatJoinToken, loadCa, parseKubeconfig } from "../../libs/pki/index.ts";
import { bootstrapTokenSecret } from "../apiserver/authn-bootstrap.ts";
import { formatError } from "./kubectl/context.ts";
import { flagInt, flagValue, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from "./kubectl/flags.ts";
import { formatColumns } from "./kubectl/printers.ts";

export const membersFlags: FlagSpec = {
  values: ["endpoints", "data-dir", "advertise-address", "ttl-hours", "api-port", "store-client-port", "store-peer-port", "node-api-port", "output"],
  shorts: { o: "output" },
};

export const endpointsDefault = "http://127.0.0.1:2379";
export const dataDirDefault = "/var/lib/flotilla";
/** One store call may take this long (a removal waits for the Raft change to commit). */
export const storeCallTimeoutMs = 10_000;
const hourMs = 3_600_000;
const serverJoinGroup = "system:bootstrappers:flotilla:servers";

export interface MemberRow {
  readonly name: string;
  /** Hex, as etcdctl prints it. */
  readonly id: string;
  readonly leader: boolean;
  readonly learner: boolean;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

export const hexId = (decimal: string): string => BigInt(decimal).toString(16);

export function memberRows(members: readonly Member__Output[], leaderId: string): MemberRow[] {
  return members.map((member) => ({
    name: member.name,
    id: hexId(member.ID),
    leader: member.ID === leaderId,
    learner: member.isLearner,
    peerUrls: member.peerURLs,
    clientUrls: member.clientURLs,
  }));
}

export function printMembers(rows: readonly MemberRow[]): string {
  const cells = rows.map((row) => [row.name === "" ? "(unstarted)" : row.name, row.id, String(row.leader), String(row.learner), row.peerUrls.join(","), row.clientUrls.join(",")]);
  return formatColumns([["NAME", "ID", "LEADER", "LEARNER", "PEER URLS", "CLIENT URLS"], ...cells]);
}

/** The member a `remove` argument names (its name, or its id in hex or decimal). */
export function findMember(members: readonly Member__Output[], which: string): Member__Output {
  const lower = which.toLowerCase();
  const found = members.filter((member) => member.name === which || hexId(member.ID) === lower.replace(/^0x/, "") || member.ID === which);
  if (found.length === 0) throw new UsageError(`no store member is named or numbered "${which}" (see flotilla members list)`);
  if (found.length > 1) throw new UsageError(`"${which}" names ${found.length} members: use the id`);
  return found[0] as Member__Output;
}

/** Why a removal must not happen, or undefined. */
export function removalRefusal(members: readonly Member__Output[], target: Member__Output): string | undefined {
  const voters = members.filter((member) => !member.isLearner);
  if (target.isLearner || voters.length > 1) return undefined;
  return (
    `${target.name === "" ? hexId(target.ID) : target.name} is the store's last voting member: without it the cluster has no quorum and can never get one back. ` +
    "To replace this replica, add another first (flotilla members add NAME, run the command it prints on the new machine, wait until flotilla members list shows it), then remove this one. " +
    "To retire the whole control plane, stop flotilla server and delete its data directory."
  );
}

/** The Cluster and Maintenance services of one store member. */
export class StoreMembers {
  readonly #cluster;
  readonly #maintenance;

  constructor(endpoint: string) {
    const proto = loadEtcdProto().etcdserverpb;
    const address = endpoint.replace(/^[a-z]+:\/\//, "").replace(/\/$/, "");
    this.#cluster = new proto.Cluster(address, grpcCredentials.createInsecure());
    this.#maintenance = new proto.Maintenance(address, grpcCredentials.createInsecure());
  }

  close(): void {
    this.#cluster.close();
    this.#maintenance.close();
  }

  async list(): Promise<MemberListResponse__Output> {
    return unary<MemberListResponse__Output>((deadline, done) => this.#cluster.MemberList({ linearizable: true }, { deadline }, done));
  }

  async status(): Promise<StatusResponse__Output> {
    return unary<StatusResponse__Output>((deadline, done) => this.#maintenance.Status({}, { deadline }, done));
  }

  async remove(id: string): Promise<MemberRemoveResponse__Output> {
    return unary<MemberRemoveResponse__Output>((deadline, done) => this.#cluster.MemberRemove({ ID: id }, { deadline }, done));
  }
}

async function unary<T>(call: (deadline: Date, done: (error: ServiceError | null, response?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    call(new Date(Date.now() + storeCallTimeoutMs), (error, response) => {
      if (error !== null) reject(new Error(`the store refused: ${error.details === "" ? error.message : error.details}`));
      else resolve(response as T);
    });
  });
}

async function listMembers(store: StoreMembers, parsed: ParsedArgs, out: (text: string) => void): Promise<number> {
  const [listed, status] = await Promise.all([store.list(), store.status()]);
  const rows = memberRows(listed.members, status.leader);
  out(flagValue(parsed, "output") === "json" ? `${JSON.stringify(rows, null, 2)}\n` : printMembers(rows));
  return 0;
}

/** Attempts while the store answers "unhealthy cluster" (a member that just joined is not yet counted as active). */
export const removeAttemptsMax = 15;
export const removeRetryDelayMs = 1_000;

/**
 * MemberRemove, retried while the store refuses it as "unhealthy cluster": etcd's strict reconfiguration
 * check refuses a removal until the remaining members have been active for a while, so a remove right
 * after a join fails the first few times (as `flotilla server --join` retries its MemberAdd).
 */
export async function removeWhileUnhealthy(remove: () => Promise<unknown>, waitMs: (ms: number) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await remove();
      return;
    } catch (error) {
      const unhealthy = error instanceof Error && error.message.includes("unhealthy cluster");
      if (!unhealthy) throw error;
      if (attempt >= removeAttemptsMax) {
        throw new Error(`${error.message} (${attempt} attempts ${removeRetryDelayMs} ms apart; check that every member shows as started in flotilla members list, then try again)`, { cause: error });
      }
      await waitMs(removeRetryDelayMs);
    }
  }
}

async function removeMember(store: StoreMembers, which: string | undefined, out: (text: string) => void): Promise<number> {
  if (which === undefined) throw new UsageError("usage: flotilla members remove NAME|ID");
  const { members } = await store.list();
  const target = findMember(members, which);
  const refusal = removalRefusal(members, target);
  if (refusal !== undefined) throw new Error(refusal);
  await removeWhileUnhealthy(() => store.remove(target.ID), async (ms) => sleepOrAbort(ms, undefined));
  out(`member ${target.name === "" ? "(unstarted)" : target.name} (${hexId(target.ID)}) removed from the store; stop its flotilla server and delete its data directory before it joins again\n`);
  return 0;
}

/** The `flotilla server` command a new replica runs, with the flags the operator chose. */
export function joinCommand(serverUrl: string, token: string, name: string, parsed: ParsedArgs): string {
  const parts = ["flotilla server", `--join ${serverUrl}`, `--token ${token}`, `--name ${name}`, `--advertise-address ${flagValue(parsed, "advertise-address") ?? "<ADDRESS OF THE NEW MACHINE>"}`];
  for (const flag of ["api-port", "store-client-port", "store-peer-port", "node-api-port"]) {
    const value = flagValue(parsed, flag);
    if (value !== undefined) parts.push(`--${flag}=${value}`);
  }
  parts.push(`--data-dir=${flagValue(parsed, "data-dir") ?? dataDirDefault}`);
  return parts.join(" ");
}

async function addMember(parsed: ParsedArgs, name: string | undefined, out: (text: string) => void): Promise<number> {
  if (name === undefined) throw new UsageError("usage: flotilla members add NAME [--advertise-address A] [--data-dir D]");
  const dataDir = flagValue(parsed, "data-dir") ?? dataDirDefault;
  const kubeconfigText = await readFile(join(dataDir, "admin.kubeconfig"), "utf8");
  const ca = await loadCa(dataDir);
  const ttlHours = flagInt(parsed, "ttl-hours") ?? 24;
  const nowMs = Date.now();
  const { credential, record } = createToken({ usages: ["join"], nowMs, ttlMs: ttlHours * hourMs, description: `join of server ${name}` });
  const secret = bootstrapTokenSecret(credential.id, credential.secret, record.expiresAtMs, `join of server ${name}`, [serverJoinGroup]);
  const client = new HttpApiClient(optionsFromKubeconfig(kubeconfigText));
  try {
    const secrets = resolveResource("secrets");
    if (secrets === undefined) throw new Error("the API has no secrets resource");
    await client.create(secrets, secret as unknown as KubeObject);
  } finally {
    client.close();
  }
  const token = formatJoinToken({ caHashHex: ca.hashHex, ...credential });
  out(`Join token for ${name} (valid ${ttlHours}h): ${token}\n\nOn the new server machine run:\n\n  ${joinCommand(parseKubeconfig(kubeconfigText).serverUrl, token, name, parsed)}\n\n`);
  out("It joins as a store member; flotilla members list shows it once it has started.\n");
  return 0;
}

export async function membersMain(args: readonly string[], out: (text: string) => void): Promise<number> {
  const parsed = parseArgs(args, membersFlags);
  const [verb, argument] = parsed.positionals;
  if (verb === "add") return addMember(parsed, argument, out);
  if (verb !== "list" && verb !== "remove") throw new UsageError("usage: flotilla members list|add NAME|remove NAME|ID [--endpoints URL] [--data-dir D]");
  const store = new StoreMembers(flagValue(parsed, "endpoints") ?? endpointsDefault);
  try {
    return verb === "list" ? await listMembers(store, parsed, out) : await removeMember(store, argument, out);
  } finally {
    store.close();
  }
}

export async function main(args: readonly string[]): Promise<number> {
  try {
    return await membersMain(args, (text) => process.stdout.write(text));
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return 1;
  }
}
