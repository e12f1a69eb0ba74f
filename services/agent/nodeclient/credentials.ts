/**
 * The agent's identity: join once with a token, keep the node certificate, its key, the cluster
 * CA and the replicas learned in --data-dir, and reuse them on every restart. With a `K10<hash>::`
 * token the server's CA is checked against the hash before anything is sent (libs/pki's trust
 * bootstrap); the token travels only over a connection verified against that CA.
 */
import { credentials as grpcCredentials, type ServiceError } from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { connect, type DetailedPeerCertificate } from "node:tls";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapServerCa, createCertificateRequest, generateKeyPairPem, parseJoinToken, publicFileMode, secretFileMode, writeFileAtomic, type PeerChainReader } from "../../../libs/pki/index.ts";
import { loadNodeApi, nodeApiPortDefault, type JoinRequest, type JoinResponse } from "../../nodeapi/wire.ts";

export const nodeCertificateFileName = "node.crt";
export const nodeKeyFileName = "node.key";
export const caFileName = "ca.crt";
export const replicasFileName = "replicas.json";
export const joinTimeoutMs = 15_000;
/** A server never needs to send more than its certificate, a few intermediates and the root. */
const peerChainCertificatesMax = 8;

export interface NodeCredentials {
  readonly nodeName: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caCertificatePem: string;
  /** host:port of every replica's node API, the one joined through first. */
  readonly replicas: readonly string[];
}

export interface JoinOptions {
  /** host:port of a node API, or https://HOST[:6443] (the REST API's URL: the node API is on 6444). */
  readonly server: string;
  readonly token: string;
  readonly nodeName: string;
  readonly dataDir: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly unknown[];
  readonly nowMs?: number;
}

export class JoinError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JoinError";
  }
}

/** host and port of the node API named by --server. */
export function nodeApiTarget(server: string): { host: string; port: number } {
  if (server.includes("://")) {
    const url = new URL(server);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    return { host, port: url.port === "" || url.port === "6443" ? nodeApiPortDefault : Number(url.port) };
  }
  const separator = server.lastIndexOf(":");
  if (separator < 0) return { host: server, port: nodeApiPortDefault };
  return { host: server.slice(0, separator).replace(/^\[|\]$/g, ""), port: Number(server.slice(separator + 1)) };
}

/**
 * libs/pki's unverified chain read, offering ALPN "h2": the node API is gRPC over HTTP/2, and
 * Node's HTTP/2 server ends a handshake that offers no protocol it serves.
 */
export const readGrpcPeerChainUnverified: PeerChainReader = async (target) =>
  new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(isIP(target.serverName ?? target.host) === 0 ? { servername: target.serverName ?? target.host } : {}),
      ALPNProtocols: ["h2"],
      rejectUnauthorized: false,
    });
    socket.setTimeout(target.timeoutMs ?? joinTimeoutMs, () => socket.destroy(new Error(`TLS handshake with ${target.host}:${target.port} timed out`)));
    socket.on("error", (error) => reject(new Error(`connect to ${target.host}:${target.port}`, { cause: error })));
    socket.once("secureConnect", () => {
      const chain: Buffer[] = [];
      let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (current?.raw !== undefined && chain.length < peerChainCertificatesMax) {
        chain.push(current.raw);
        const issuer: DetailedPeerCertificate | undefined = current.issuerCertificate;
        if (issuer === undefined || issuer === current || issuer.raw === undefined || issuer.raw.equals(current.raw)) break;
        current = issuer;
      }
      socket.destroy();
      resolve(chain);
    });
  });

/** The credentials saved in `dataDir` for `nodeName`, or undefined when there are none. */
export function loadCredentials(dataDir: string, nodeName: string): NodeCredentials | undefined {
  const paths = [nodeCertificateFileName, nodeKeyFileName, caFileName, replicasFileName].map((name) => join(dataDir, name));
  if (!paths.every((path) => existsSync(path))) return undefined;
  const [certificatePem = "", privateKeyPem = "", caCertificatePem = "", replicasJson = "[]"] = paths.map((path) => readFileSync(path, "utf8"));
  const subject = new X509Certificate(certificatePem).subject;
  // A data directory from another name does not carry over: that would be another node.
  if (!subject.split("\n").includes(`CN=system:node:${nodeName}`)) return undefined;
  return { nodeName, certificatePem, privateKeyPem, caCertificatePem, replicas: JSON.parse(replicasJson) as string[] };
}

/** Writes the credentials to `dataDir` (the certificate last, so a half-written set is never loaded). */
export async function saveCredentials(dataDir: string, credentials: NodeCredentials): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const write = async (name: string, text: string, mode: number): Promise<void> => writeFileAtomic(join(dataDir, name), text, { mode, overwrite: true });
  await write(nodeKeyFileName, credentials.privateKeyPem, secretFileMode);
  await write(caFileName, credentials.caCertificatePem, publicFileMode);
  await write(replicasFileName, JSON.stringify(credentials.replicas), publicFileMode);
  // The certificate last: its presence says the set is complete.
  await write(nodeCertificateFileName, credentials.certificatePem, publicFileMode);
}

async function callJoin(target: { host: string; port: number }, caPem: string, request: JoinRequest): Promise<JoinResponse> {
  const NodeApi = loadNodeApi();
  const client = new NodeApi(`${target.host}:${target.port}`, grpcCredentials.createSsl(Buffer.from(caPem)));
  try {
    return await new Promise<JoinResponse>((resolve, reject) => {
      const deadline = new Date(Date.now() + joinTimeoutMs);
      (client as unknown as { Join: (r: JoinRequest, o: object, cb: (e: ServiceError | null, v: JoinResponse) => void) => void }).Join(request, { deadline }, (error, response) =>
        error === null ? resolve(response) : reject(new JoinError(`join refused by ${target.host}:${target.port}: ${error.details}`, { cause: error })),
      );
    });
  } finally {
    client.close();
  }
}

/** Saved credentials when the data directory has them; else a join with the token. */
export async function joinOrLoad(options: JoinOptions): Promise<NodeCredentials> {
  const saved = loadCredentials(options.dataDir, options.nodeName);
  if (saved !== undefined) return saved;
  const token = parseJoinToken(options.token);
  if (token.caHashHex === null) throw new JoinError("the join token has no CA hash (K10<hash>::<id>.<secret>): the server cannot be verified");
  const target = nodeApiTarget(options.server);
  const caPem = await bootstrapServerCa({ target, caHashHex: token.caHashHex, nowMs: options.nowMs ?? Date.now(), readPeerChain: readGrpcPeerChainUnverified });
  const keys = await generateKeyPairPem("ecdsa-p256");
  const request: JoinRequest = {
    token: options.token.trim(),
    node_name: options.nodeName,
    certificate_request_pem: await createCertificateRequest(keys.privateKeyPem, `system:node:${options.nodeName}`),
    labels: { ...(options.labels ?? {}) },
    taints_json: Buffer.from(JSON.stringify(options.taints ?? [])),
  };
  const response = await callJoin(target, caPem, request);
  const joined = `${target.host}:${target.port}`;
  const credentials: NodeCredentials = {
    nodeName: options.nodeName,
    certificatePem: response.certificate_pem,
    privateKeyPem: keys.privateKeyPem,
    caCertificatePem: response.ca_certificate_pem,
    replicas: [joined, ...response.replicas.filter((address) => address !== joined)],
  };
  await saveCredentials(options.dataDir, credentials);
  return credentials;
}
