/**
 * Join token records, kept as kubeadm keeps bootstrap tokens: Secret
 * `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` with data `token-id`,
 * the secret either as `token-secret` (kubeadm's plain form) or as `token-secret-sha256` (hex
 * digest, what libs/pki's TokenRecord holds), `expiration` (RFC 3339, optional) and
 * `usage-bootstrap-authentication: "true"`. Whoever writes tokens (`flotilla token create`) may
 * use either secret form; the node API reads both.
 */
import { createHash } from "node:crypto";
import type { TokenRecord } from "../../libs/pki/index.ts";
import type { StoredObject } from "../apiserver/storage/index.ts";

export const bootstrapTokenNamespace = "kube-system";
export const bootstrapTokenSecretType = "bootstrap.kubernetes.io/token";
export const bootstrapTokenSecretPrefix = "bootstrap-token-";

const decode = (data: Record<string, unknown>, field: string): string | undefined =>
  typeof data[field] === "string" ? Buffer.from(data[field], "base64").toString("utf8") : undefined;

/** The record a bootstrap-token Secret describes, or undefined when it is not one. */
export function tokenRecordFromSecret(secret: StoredObject): TokenRecord | undefined {
  if (secret["type"] !== bootstrapTokenSecretType) return undefined;
  const data = (secret["data"] ?? {}) as Record<string, unknown>;
  const id = decode(data, "token-id");
  const plain = decode(data, "token-secret");
  const digest = decode(data, "token-secret-sha256") ?? (plain === undefined ? undefined : createHash("sha256").update(plain, "utf8").digest("hex"));
  if (id === undefined || digest === undefined) return undefined;
  const expiration = decode(data, "expiration");
  const expiresAtMs = expiration === undefined ? null : Date.parse(expiration);
  // An unparseable expiry makes the token useless rather than eternal.
  if (expiresAtMs !== null && Number.isNaN(expiresAtMs)) return undefined;
  const joins = decode(data, "usage-bootstrap-authentication") === "true";
  return {
    id,
    secretSha256Hex: digest,
    usages: joins ? ["join"] : [],
    user: { name: `system:bootstrap:${id}`, groups: ["system:bootstrappers"] },
    createdAtMs: 0,
    expiresAtMs,
    description: decode(data, "description") ?? "",
  };
}

/** A bootstrap-token Secret for `record` (tests and tools that make tokens). */
export function bootstrapTokenSecret(id: string, secretSha256Hex: string, expiresAtMs: number | null): StoredObject {
  const encode = (text: string): string => Buffer.from(text, "utf8").toString("base64");
  const data: Record<string, string> = {
    "token-id": encode(id),
    "token-secret-sha256": encode(secretSha256Hex),
    "usage-bootstrap-authentication": encode("true"),
  };
  if (expiresAtMs !== null) data["expiration"] = encode(new Date(expiresAtMs).toISOString());
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `${bootstrapTokenSecretPrefix}${id}`, namespace: bootstrapTokenNamespace },
    type: bootstrapTokenSecretType,
    data,
  };
}
