/**
 * Bootstrap tokens, as upstream keeps them: a Secret `kube-system/bootstrap-token-<id>` of type
 * `bootstrap.kubernetes.io/token` holding token-id, token-secret, expiration and usages, made by
 * `flotilla token create`. A bearer token `<id>.<secret>` whose Secret allows authentication
 * authenticates as `system:bootstrap:<id>` in `system:bootstrappers` (plus its auth-extra-groups)
 * until it expires. The secret is compared in constant time.
 */
import { timingSafeEqual } from "node:crypto";
import type { UserInfo } from "./context.ts";
import { authenticatedGroup } from "./authn.ts";

export const bootstrapTokenSecretType = "bootstrap.kubernetes.io/token";
export const bootstrapTokenSecretPrefix = "bootstrap-token-";
export const bootstrappersGroup = "system:bootstrappers";
const bootstrapTokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** The Secret's string data (base64-decoded), or undefined when there is no such Secret. */
export type BootstrapSecretLookup = (name: string) => Promise<Readonly<Record<string, string>> | undefined>;

export function isBootstrapToken(token: string): boolean {
  return bootstrapTokenPattern.test(token);
}

function equalSecrets(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The user of a valid bootstrap token, or undefined. */
export async function authenticateBootstrapToken(token: string, lookup: BootstrapSecretLookup, nowMs: number): Promise<UserInfo | undefined> {
  const match = bootstrapTokenPattern.exec(token);
  const [, id = "", secret = ""] = match ?? [];
  if (match === null) return undefined;
  const data = await lookup(`${bootstrapTokenSecretPrefix}${id}`);
  if (data === undefined || data["token-id"] !== id || !equalSecrets(data["token-secret"] ?? "", secret)) return undefined;
  if (data["usage-bootstrap-authentication"] !== "true") return undefined;
  const expiration = data["expiration"];
  if (expiration !== undefined && !(Date.parse(expiration) > nowMs)) return undefined;
  const extra = (data["auth-extra-groups"] ?? "").split(",").filter((group) => group.startsWith("system:bootstrappers:"));
  return { name: `system:bootstrap:${id}`, groups: [bootstrappersGroup, ...extra, authenticatedGroup] };
}

/** The Secret `flotilla token create` stores for a new token. */
export function bootstrapTokenSecret(id: string, secret: string, expiresAtMs: number | null, description: string, extraGroups: readonly string[]): Record<string, unknown> {
  const stringData: Record<string, string> = {
    "token-id": id,
    "token-secret": secret,
    "usage-bootstrap-authentication": "true",
    "usage-bootstrap-signing": "true",
    description,
  };
  if (expiresAtMs !== null) stringData["expiration"] = new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  if (extraGroups.length > 0) stringData["auth-extra-groups"] = extraGroups.join(",");
  const data = Object.fromEntries(Object.entries(stringData).map(([key, value]) => [key, Buffer.from(value).toString("base64")]));
  return { apiVersion: "v1", kind: "Secret", metadata: { name: `${bootstrapTokenSecretPrefix}${id}`, namespace: "kube-system" }, type: bootstrapTokenSecretType, data };
}
