/**
 * Who this member is. A member of a new cluster derives its id from its peer URLs and the cluster
 * token, as every other initial member does. A member joining an existing cluster was given its id
 * by MemberAdd, so it asks a peer (Cluster.MemberList on the peer port) which member carries its
 * peer URLs. Either way the identity is written to the data directory and reused on restart.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { loadEtcdProto, type MemberListResponse__Output } from "../../libs/etcdpb/index.ts";
import type { Logger } from "../../libs/log/index.ts";
import type { StoreConfig } from "./config.ts";

export interface MemberIdentity {
  readonly memberId: number;
  readonly clusterId: number;
  /** Peer URL of every member known at start (this one included), for the Raft transport. */
  readonly peers: ReadonlyMap<number, string>;
}

const identityFile = "member.json";
const joinAttemptsMax = 60;
const joinRetryMs = 500;
const memberListDeadlineMs = 2000;

export async function discoverSelf(config: StoreConfig, credentials: ChannelCredentials, logger: Logger): Promise<MemberIdentity> {
  const saved = await readIdentity(config.dataDir);
  if (saved !== undefined) return saved;
  const identity = config.initialClusterState === "new" ? newClusterIdentity(config) : await askPeers(config, credentials, logger);
  await writeIdentity(config.dataDir, identity);
  return identity;
}

function newClusterIdentity(config: StoreConfig): MemberIdentity {
  return {
    memberId: config.memberId,
    clusterId: config.clusterId,
    peers: new Map(config.initialCluster.map((member) => [member.id, member.peerUrls.join(",")])),
  };
}

async function askPeers(config: StoreConfig, credentials: ChannelCredentials, logger: Logger): Promise<MemberIdentity> {
  const others = config.initialCluster.filter((member) => member.name !== config.name).flatMap((member) => member.peerUrls);
  if (others.length === 0) throw new Error("--initial-cluster-state=existing needs the other members' peer URLs in --initial-cluster");
  let lastError = "no answer";
  for (let attempt = 0; attempt < joinAttemptsMax; attempt++) {
    for (const peerUrl of others) {
      try {
        const response = await memberListAt(peerUrl, credentials);
        const self = response.members.find((member) => member.peerURLs.some((url) => config.advertisePeerUrls.includes(url)));
        if (self === undefined) {
          lastError = `the cluster at ${peerUrl} has no member with peer URLs ${config.advertisePeerUrls.join(",")}: add it first (etcdctl member add)`;
          continue;
        }
        return {
          memberId: Number(self.ID),
          clusterId: Number(response.header?.cluster_id ?? 0),
          peers: new Map(response.members.map((member) => [Number(member.ID), member.peerURLs.join(",")])),
        };
      } catch (error) {
        lastError = `${peerUrl}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    logger.info({ attempt, lastError }, "waiting for the existing cluster to answer");
    await new Promise((resolve) => setTimeout(resolve, joinRetryMs));
  }
  throw new Error(`could not join the existing cluster: ${lastError}`);
}

async function memberListAt(peerUrl: string, credentials: ChannelCredentials): Promise<MemberListResponse__Output> {
  const Cluster = loadEtcdProto().etcdserverpb.Cluster;
  const client = new Cluster(new URL(peerUrl).host, credentials);
  try {
    return await new Promise((resolve, reject) => {
      client.MemberList({}, { deadline: new Date(Date.now() + memberListDeadlineMs) }, (error, response) => {
        if (error !== null || response === undefined) reject(error ?? new Error("empty answer"));
        else resolve(response);
      });
    });
  } finally {
    client.close();
  }
}

async function readIdentity(dataDir: string): Promise<MemberIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, identityFile), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as { memberId: number; clusterId: number; peers: [number, string][] };
  return { memberId: parsed.memberId, clusterId: parsed.clusterId, peers: new Map(parsed.peers) };
}

/** Records the identity in the data directory (also used by `flotilla snapshot restore`). */
export async function writeIdentity(dataDir: string, identity: MemberIdentity): Promise<void> {
  const path = join(dataDir, identityFile);
  const text = JSON.stringify({ memberId: identity.memberId, clusterId: identity.clusterId, peers: [...identity.peers] });
  await writeFile(`${path}.tmp`, text, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
