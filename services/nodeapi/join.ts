/**
 * Join: a join token and a certificate request in, a node certificate (CN=system:node:<name>,
 * O=system:nodes) out. The Node object records the SHA-256 of the machine's public key, so a
 * second machine cannot take a name another machine holds; the same machine (same key) may join
 * again. Deleting the Node object frees the name.
 */
import { X509Certificate, createHash } from "node:crypto";
import { isDns1123Subdomain } from "../../libs/api/index.ts";
import { TokenFormatError, caHashOf, checkToken, nodeClientProfile, parseJoinToken, type ClusterCa } from "../../libs/pki/index.ts";
import type { Storages } from "../apiserver/storages.ts";
import { isStorageError, type StoredObject } from "../apiserver/storage/index.ts";
import { alreadyExists, invalidArgument, unauthenticated } from "./errors.ts";
import { getIfPresent, keyFor, newObject, nodesResource, secretsResource } from "./objects.ts";
import { bootstrapTokenNamespace, bootstrapTokenSecretPrefix, tokenRecordFromSecret } from "./tokens.ts";
import type { JoinRequest, JoinResponse } from "./wire.ts";

/** The annotation on a Node that names the key of the machine holding it. */
export const nodeKeyAnnotation = "flotilla.io/node-key-sha256";
const certificateRequestBytesMax = 16 * 1024;

export interface JoinDeps {
  readonly storages: Storages;
  readonly ca: ClusterCa;
  readonly nowMs: () => number;
  readonly replicas: () => Promise<string[]>;
  /** Lifetime of the node certificate (default: libs/pki's leaf default, a year). */
  readonly validityMs?: number | undefined;
}

async function checkJoinToken(deps: JoinDeps, text: string): Promise<void> {
  let token;
  try {
    token = parseJoinToken(text);
  } catch (error) {
    if (error instanceof TokenFormatError) throw unauthenticated(`join token refused: malformed: ${error.message}`);
    throw error;
  }
  if (token.caHashHex !== null && token.caHashHex !== caHashOf(deps.ca.certificatePem)) {
    throw unauthenticated("join token refused: it names another cluster's CA");
  }
  const secret = await getIfPresent(deps.storages, secretsResource(), bootstrapTokenNamespace, `${bootstrapTokenSecretPrefix}${token.id}`);
  const record = secret === undefined ? undefined : tokenRecordFromSecret(secret);
  const check = checkToken(record, token, "join", deps.nowMs());
  if (check.ok) return;
  if (check.reason === "expired") throw unauthenticated("join token refused: the token has expired");
  if (check.reason === "wrong-usage") throw unauthenticated("join token refused: the token may not be used to join");
  // Unknown id and wrong secret read the same, so the answer does not tell which ids exist.
  throw unauthenticated("join token refused: no such token (unknown id or wrong secret)");
}

function publicKeySha256(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

function nodeObject(name: string, keyHash: string, request: JoinRequest, nowMs: number): StoredObject {
  const taints = request.taints_json.length === 0 ? [] : (JSON.parse(request.taints_json.toString("utf8")) as unknown[]);
  const spec = taints.length === 0 ? {} : { taints };
  return newObject({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { ...request.labels }, annotations: { [nodeKeyAnnotation]: keyHash } }, spec }, nowMs);
}

/** Creates the Node, or accepts it when the same machine holds it (or nobody does yet). */
async function claimNodeName(deps: JoinDeps, name: string, keyHash: string, request: JoinRequest): Promise<void> {
  const info = nodesResource();
  const cacher = deps.storages.cacherFor(info);
  const existing = await getIfPresent(deps.storages, info, "", name);
  if (existing === undefined) {
    try {
      await cacher.create(nodeObject(name, keyHash, request, deps.nowMs()));
      return;
    } catch (error) {
      if (!(isStorageError(error) && error.reason === "AlreadyExists")) throw error;
    }
  }
  await cacher.update(keyFor(info, "", name), (current) => {
    const metadata = { ...(current["metadata"] as Record<string, unknown>) };
    const annotations = { ...((metadata["annotations"] ?? {}) as Record<string, string>) };
    const holder = annotations[nodeKeyAnnotation];
    if (holder !== undefined && holder !== keyHash) {
      throw alreadyExists(`node name "${name}" is held by another machine (a different key); delete the Node object to free it`);
    }
    annotations[nodeKeyAnnotation] = keyHash;
    return { ...current, metadata: { ...metadata, annotations } };
  });
}

export async function join(deps: JoinDeps, request: JoinRequest): Promise<JoinResponse> {
  await checkJoinToken(deps, request.token);
  const name = request.node_name;
  const nameErrors = isDns1123Subdomain(name);
  if (nameErrors.length > 0) throw invalidArgument(`node name "${name}" is invalid: ${nameErrors.join("; ")}`);
  if (request.certificate_request_pem.length === 0 || request.certificate_request_pem.length > certificateRequestBytesMax) {
    throw invalidArgument(`a join needs a certificate request (PEM, at most ${certificateRequestBytesMax} bytes)`);
  }
  let signed;
  try {
    const profile = { ...nodeClientProfile(name), ...(deps.validityMs === undefined ? {} : { validityMs: deps.validityMs }) };
    signed = await deps.ca.signCsr(request.certificate_request_pem, profile, deps.nowMs());
  } catch (error) {
    throw invalidArgument(`certificate request refused: ${error instanceof Error ? error.message : String(error)}`);
  }
  await claimNodeName(deps, name, publicKeySha256(signed.certificatePem), request);
  return { certificate_pem: signed.certificatePem, ca_certificate_pem: deps.ca.certificatePem, replicas: await deps.replicas() };
}
