/**
 * One call to another member's peer port (the Cluster service served beside Raft's transport),
 * with the peer TLS settings, a deadline, and the callee's etcd error handed back as an
 * EtcdError. Used to forward membership changes to the leader, as etcd forwards a promotion to
 * its leader's peer URL.
 */
import { readFileSync } from "node:fs";
import { credentials as channelCredentials, status as grpcStatus, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { loadEtcdProto } from "../../libs/etcdpb/index.ts";
import type { StoreConfig } from "./config.ts";
import { EtcdError } from "./errors.ts";

export type PeerClusterMethod = "MemberAdd" | "MemberRemove" | "MemberUpdate" | "MemberPromote";

/** The credentials this member uses toward its peers (TLS when --peer-cert-file is set). */
export function peerCredentials(config: StoreConfig): ChannelCredentials {
  const tls = config.peerTls;
  if (tls === undefined) return channelCredentials.createInsecure();
  const rootCerts = tls.trustedCaFile === "" ? undefined : readFileSync(tls.trustedCaFile);
  return channelCredentials.createSsl(rootCerts, readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

/** Whether the callee refused because it does not lead (so nothing was done and another leader may be asked). */
export function isLeaderMiss(error: unknown): boolean {
  if (!(error instanceof EtcdError)) return false;
  if (error.message === "etcdserver: not leader" || error.message === "etcdserver: no leader") return true;
  // A transport failure (no etcd message): the callee never answered.
  return error.code === grpcStatus.UNAVAILABLE && !error.message.startsWith("etcdserver:");
}

/** Calls `method` on the Cluster service at `peerUrl` (the first of a comma-separated list). */
export async function callPeerCluster<Response>(
  config: StoreConfig,
  peerUrl: string,
  method: PeerClusterMethod,
  request: object,
  deadlineMs: number,
): Promise<Response> {
  const Cluster = loadEtcdProto().etcdserverpb.Cluster;
  const target = new URL(peerUrl.split(",")[0] ?? peerUrl).host;
  const client = new Cluster(target, peerCredentials(config));
  const call = client[method].bind(client) as (
    request: object,
    options: { deadline: Date },
    callback: (error: ServiceError | null, response?: Response) => void,
  ) => unknown;
  try {
    return await new Promise<Response>((resolve, reject) => {
      call(request, { deadline: new Date(deadlineMs) }, (error, response) => {
        if (error !== null) reject(new EtcdError(error.code, error.details === "" ? error.message : error.details));
        else if (response === undefined) reject(new EtcdError(grpcStatus.UNKNOWN, `${method} at ${target}: empty answer`));
        else resolve(response);
      });
    });
  } finally {
    client.close();
  }
}
