/**
 * The node API inside `flotilla server`: started once the API server has written the CA and its
 * serving certificate into the data directory, with the same certificate (it names the
 * replica's advertise address, 127.0.0.1 and the host name).
 */
import { join } from "node:path";
import { loadCa, readPemFile } from "../../libs/pki/index.ts";
import { servingCertificateFileName, servingKeyFileName } from "../apiserver/certs.ts";
import type { Logger } from "../../libs/log/index.ts";
import { createLogger } from "../../libs/log/index.ts";
import { startNodeApi, type NodeApiServer } from "./server.ts";

export interface ReplicaNodeApiOptions {
  readonly dataDir: string;
  readonly storeEndpoints: readonly string[];
  readonly advertiseAddress: string;
  readonly port: number;
  readonly replicaName: string;
}

/**
 * Starts the node API; when it cannot (its port is taken, say by a second replica on the same
 * machine left at the default port) the replica keeps serving the REST API and logs why agents
 * cannot join through it, rather than failing as a whole.
 */
export async function startReplicaNodeApi(options: ReplicaNodeApiOptions, logger: Logger = createLogger("nodeapi")): Promise<NodeApiServer> {
  try {
    const ca = await loadCa(options.dataDir);
    const servingCertificateChainPem = await readPemFile(join(options.dataDir, servingCertificateFileName), false);
    const servingPrivateKeyPem = await readPemFile(join(options.dataDir, servingKeyFileName), true);
    const host = options.advertiseAddress.includes(":") ? `[${options.advertiseAddress}]` : options.advertiseAddress;
    return await startNodeApi({
      storeEndpoints: options.storeEndpoints,
      ca,
      servingCertificateChainPem,
      servingPrivateKeyPem,
      listenAddress: "0.0.0.0",
      port: options.port,
      advertiseAddress: `${host}:${options.port}`,
      replicaName: options.replicaName,
    });
  } catch (error) {
    logger.error({ err: error, port: options.port }, "the node API did not start: agents cannot join or connect through this replica");
    return { port: 0, setServingCertificate: () => undefined, stop: async () => undefined };
  }
}
