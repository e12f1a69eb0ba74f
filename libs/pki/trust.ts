/**
 * Trust bootstrap for a joining machine: it has a join token but not the cluster CA yet. It opens
 * a TLS connection without verifying the server, reads the chain the server sent, finds the
 * certificate whose SHA-256 equals the token's CA hash, and then checks the chain itself: the
 * server's certificate must be issued by that CA, valid now, and name the address dialled. The
 * TLS handshake has already proved that the server holds the key of the certificate it sent.
 * Only after all that does the machine send its token (over a new, verified connection).
 *
 * Servers must therefore send the CA with their certificate (`SignedCertificate.chainPem`).
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { connect } from "node:tls";
import type { DetailedPeerCertificate } from "node:tls";
import { sha256Hex } from "./certificate.ts";
import { CaHashMismatchError } from "./token.ts";

/** A server never needs to send more than leaf, a few intermediates and the root. */
export const peerChainCertificatesMax = 8;
export const trustConnectTimeoutMsDefault = 10_000;
const serverAuthOid = "1.3.6.1.5.5.7.3.1";

export interface TrustTarget {
  readonly host: string;
  readonly port: number;
  /** The name to check the server's certificate against; defaults to `host`. */
  readonly serverName?: string;
  readonly timeoutMs?: number;
}

/** Returns the certificates the server sent, DER, its own first. */
export type PeerChainReader = (target: TrustTarget) => Promise<Buffer[]>;

export class ServerVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerVerificationError";
  }
}

/**
 * Connects with verification off (the only time Flotilla does) and returns the chain the server
 * presented. Nothing is sent over this connection but the handshake.
 */
export const readPeerChainUnverified: PeerChainReader = async (target) => {
  const timeoutMs = target.timeoutMs ?? trustConnectTimeoutMsDefault;
  const serverName = target.serverName ?? target.host;
  return await new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      // SNI carries names only; an IP address would be rejected by some servers.
      ...(isIP(serverName) === 0 ? { servername: serverName } : {}),
      rejectUnauthorized: false,
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`TLS handshake with ${target.host}:${target.port} took longer than ${timeoutMs} ms`));
    });
    // `on`, not `once`: a second error event without a listener would crash the process.
    socket.on("error", (error) => reject(new Error(`connect to ${target.host}:${target.port}`, { cause: error })));
    socket.once("secureConnect", () => {
      const chain = collectChain(socket.getPeerCertificate(true));
      socket.destroy();
      resolve(chain);
    });
  });
};

function collectChain(peer: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  let current: DetailedPeerCertificate | undefined = peer;
  // Node links each certificate to its issuer; a self-signed root links to itself.
  while (current?.raw !== undefined && chain.length < peerChainCertificatesMax) {
    chain.push(current.raw);
    const issuer: DetailedPeerCertificate | undefined = current.issuerCertificate;
    if (issuer === undefined || issuer === current || issuer.raw === undefined || issuer.raw.equals(current.raw)) break;
    current = issuer;
  }
  return chain;
}

export interface BootstrapTrustOptions {
  readonly target: TrustTarget;
  readonly caHashHex: string;
  readonly nowMs: number;
  readonly readPeerChain?: PeerChainReader;
}

/** Fetches the cluster CA from a server and returns it (PEM) only if it matches the token's hash
 * and the server's certificate chains to it. */
export async function bootstrapServerCa(options: BootstrapTrustOptions): Promise<string> {
  const readPeerChain = options.readPeerChain ?? readPeerChainUnverified;
  const chainDer = await readPeerChain(options.target);
  return verifyPeerChainAgainstCaHash(chainDer, options.caHashHex, options.target.serverName ?? options.target.host, options.nowMs);
}

/** The checks of `bootstrapServerCa` on a chain already read: returns the CA as PEM. */
export function verifyPeerChainAgainstCaHash(chainDer: readonly Buffer[], caHashHex: string, serverName: string, nowMs: number): string {
  if (chainDer.length === 0) throw new ServerVerificationError("server presented no certificate");
  if (chainDer.length > peerChainCertificatesMax) {
    throw new ServerVerificationError(`server presented ${chainDer.length} certificates (at most ${peerChainCertificatesMax})`);
  }
  const hashes = chainDer.map((der) => sha256Hex(der));
  const rootIndex = hashes.indexOf(caHashHex.toLowerCase());
  if (rootIndex < 0) throw new CaHashMismatchError(caHashHex, hashes);
  const chain = chainDer.slice(0, rootIndex + 1).map((der) => new X509Certificate(der));
  const root = chain[rootIndex];
  const leaf = chain[0];
  if (root === undefined || leaf === undefined) throw new ServerVerificationError("empty chain");
  if (!root.ca || !root.verify(root.publicKey)) throw new ServerVerificationError("the certificate matching the CA hash is not a self-signed CA");
  for (let index = 0; index < rootIndex; index++) {
    const child = chain[index];
    const parent = chain[index + 1];
    if (child === undefined || parent === undefined) throw new ServerVerificationError("broken chain");
    if (index > 0 && !child.ca) throw new ServerVerificationError(`intermediate ${child.subject} is not a CA`);
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new ServerVerificationError(`${child.subject} is not signed by ${parent.subject}`);
    }
  }
  for (const certificate of chain) checkValidAt(certificate, nowMs);
  checkServerName(leaf, serverName);
  // Node exposes the extended key usages as `keyUsage`; a client-only certificate may not serve.
  const extendedKeyUsages = leaf.keyUsage as string[] | undefined;
  if (extendedKeyUsages !== undefined && !extendedKeyUsages.includes(serverAuthOid)) {
    throw new ServerVerificationError("server certificate is not for server authentication");
  }
  return root.toString();
}

function checkValidAt(certificate: X509Certificate, nowMs: number): void {
  const notBeforeMs = Date.parse(certificate.validFrom);
  const notAfterMs = Date.parse(certificate.validTo);
  if (!(nowMs >= notBeforeMs && nowMs <= notAfterMs)) {
    throw new ServerVerificationError(
      `certificate ${certificate.subject} is valid ${certificate.validFrom} .. ${certificate.validTo}, not at ${new Date(nowMs).toISOString()}`,
    );
  }
}

function checkServerName(leaf: X509Certificate, serverName: string): void {
  const matched = isIP(serverName) === 0 ? leaf.checkHost(serverName, { subject: "never" }) : leaf.checkIP(serverName);
  if (matched === undefined) {
    throw new ServerVerificationError(`server certificate does not name ${serverName} (subject alternative names: ${leaf.subjectAltName ?? "none"})`);
  }
}
