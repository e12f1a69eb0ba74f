/**
 * Join tokens and bearer tokens.
 *
 * A join token has k3s's secure shape, `K10<ca hash>::<id>.<secret>`: the hash (SHA-256 of the
 * cluster CA certificate's DER, 64 lowercase hex digits) lets a joining machine check the server
 * before it sends anything; `<id>.<secret>` is a kubeadm bootstrap token (`[a-z0-9]{6}` and
 * `[a-z0-9]{16}`) that authenticates the machine to the server. The short form `<id>.<secret>`
 * (no hash) is accepted too, for a machine that already holds the CA.
 *
 * Bearer tokens (admin, nodes) are `<id>.<secret>` with a 32-character secret. Servers keep a
 * `TokenRecord` per token: the id, a SHA-256 of the secret (never the secret), expiry and usages.
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { parseCertificatePem, sha256Hex } from "./certificate.ts";

export const joinTokenPrefix = "K10";
export const tokenIdLength = 6;
export const joinSecretLength = 16;
export const bearerSecretLength = 32;
/** Longest text `parseJoinToken` looks at: prefix, hash, separator, id, dot and a bearer secret. */
export const tokenTextLengthMax = 3 + 64 + 2 + tokenIdLength + 1 + bearerSecretLength;
const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
const caHashPattern = /^[0-9a-f]{64}$/;
const idPattern = /^[a-z0-9]{6}$/;
const secretPattern = /^[a-z0-9]+$/;

export type TokenUsage = "join" | "bearer";

export interface TokenCredential {
  readonly id: string;
  readonly secret: string;
}

export interface JoinToken extends TokenCredential {
  /** null for the short form, which does not let the joiner check the server. */
  readonly caHashHex: string | null;
}

/** The user a token authenticates as. Join tokens use Kubernetes' bootstrap user and group. */
export interface TokenUser {
  readonly name: string;
  readonly groups: readonly string[];
}

/** What a server stores for a token: enough to check it, not enough to use it. */
export interface TokenRecord {
  readonly id: string;
  readonly secretSha256Hex: string;
  readonly usages: readonly TokenUsage[];
  readonly user: TokenUser;
  readonly createdAtMs: number;
  /** null: never expires (bearer tokens for admin may be so; join tokens should not). */
  readonly expiresAtMs: number | null;
  readonly description: string;
}

export class TokenFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenFormatError";
  }
}

export class CaHashMismatchError extends Error {
  readonly expectedHashHex: string;
  readonly actualHashHexes: readonly string[];

  constructor(expectedHashHex: string, actualHashHexes: readonly string[]) {
    super(
      `server CA does not match the join token: token has CA hash ${expectedHashHex}, server presented ` +
        (actualHashHexes.length === 0 ? "no certificates" : actualHashHexes.join(", ")),
    );
    this.name = "CaHashMismatchError";
    this.expectedHashHex = expectedHashHex;
    this.actualHashHexes = actualHashHexes;
  }
}

/** Random `[a-z0-9]` characters, each drawn uniformly (randomInt rejects biased draws). */
export function randomTokenCharacters(length: number): string {
  let text = "";
  for (let index = 0; index < length; index++) text += tokenAlphabet[randomInt(tokenAlphabet.length)];
  return text;
}

export function formatJoinToken(token: JoinToken): string {
  checkCredential(token, joinSecretLength);
  if (token.caHashHex === null) return `${token.id}.${token.secret}`;
  if (!caHashPattern.test(token.caHashHex)) throw new TokenFormatError("CA hash must be 64 lowercase hex digits");
  return `${joinTokenPrefix}${token.caHashHex}::${token.id}.${token.secret}`;
}

/** Parses a join token in the secure (`K10<hash>::<id>.<secret>`) or short (`<id>.<secret>`) form. */
export function parseJoinToken(text: string): JoinToken {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new TokenFormatError("join token is empty");
  if (trimmed.length > tokenTextLengthMax) throw new TokenFormatError(`join token is longer than ${tokenTextLengthMax} characters`);
  if (!trimmed.startsWith(joinTokenPrefix)) {
    if (trimmed.includes("::")) throw new TokenFormatError(`a join token with a CA hash starts with "${joinTokenPrefix}"`);
    return { caHashHex: null, ...parseCredential(trimmed, joinSecretLength) };
  }
  const separator = trimmed.indexOf("::");
  if (separator < 0) throw new TokenFormatError(`join token "${joinTokenPrefix}..." has no "::" between CA hash and credentials`);
  const caHashHex = trimmed.slice(joinTokenPrefix.length, separator);
  if (!caHashPattern.test(caHashHex)) {
    throw new TokenFormatError(`join token CA hash must be 64 lowercase hex digits (SHA-256), got ${caHashHex.length} characters`);
  }
  return { caHashHex, ...parseCredential(trimmed.slice(separator + 2), joinSecretLength) };
}

/** Parses `<id>.<secret>` as presented in an `Authorization: Bearer` header. */
export function parseBearerToken(text: string): TokenCredential {
  if (text.length > tokenTextLengthMax) throw new TokenFormatError(`bearer token is longer than ${tokenTextLengthMax} characters`);
  return parseCredential(text, bearerSecretLength);
}

function parseCredential(text: string, secretLength: number): TokenCredential {
  const parts = text.split(".");
  if (parts.length !== 2) throw new TokenFormatError(`token credentials must be "<id>.<secret>", got ${parts.length - 1} dots`);
  const [id = "", secret = ""] = parts;
  const credential = { id, secret };
  checkCredential(credential, secretLength);
  return credential;
}

function checkCredential(credential: TokenCredential, secretLength: number): void {
  if (!idPattern.test(credential.id)) throw new TokenFormatError(`token id must be ${tokenIdLength} characters of [a-z0-9]`);
  if (credential.secret.length !== secretLength || !secretPattern.test(credential.secret)) {
    throw new TokenFormatError(`token secret must be ${secretLength} characters of [a-z0-9]`);
  }
}

export interface NewTokenOptions {
  readonly usages: readonly TokenUsage[];
  readonly nowMs: number;
  /** null: never expires. */
  readonly ttlMs: number | null;
  /** Defaults to the bootstrap user `system:bootstrap:<id>` in `system:bootstrappers`. */
  readonly user?: TokenUser;
  readonly description?: string;
}

/** Makes a token: the credential goes to its holder once, the record to the server's store. */
export function createToken(options: NewTokenOptions): { credential: TokenCredential; record: TokenRecord } {
  if (options.usages.length === 0) throw new Error("a token needs at least one usage");
  if (options.ttlMs !== null && (!Number.isSafeInteger(options.ttlMs) || options.ttlMs <= 0)) {
    throw new RangeError(`token ttl must be a positive integer of ms or null, got ${options.ttlMs}`);
  }
  // A bearer token's secret is longer: it may live for years; a join token is short-lived.
  const secretLength = options.usages.includes("bearer") ? bearerSecretLength : joinSecretLength;
  const credential = { id: randomTokenCharacters(tokenIdLength), secret: randomTokenCharacters(secretLength) };
  const record: TokenRecord = {
    id: credential.id,
    secretSha256Hex: secretDigest(credential.secret).toString("hex"),
    usages: [...options.usages],
    user: options.user ?? { name: `system:bootstrap:${credential.id}`, groups: ["system:bootstrappers"] },
    createdAtMs: options.nowMs,
    expiresAtMs: options.ttlMs === null ? null : options.nowMs + options.ttlMs,
    description: options.description ?? "",
  };
  return { credential, record };
}

export type TokenCheck =
  | { readonly ok: true; readonly record: TokenRecord }
  | { readonly ok: false; readonly reason: "unknown-id" | "wrong-secret" | "expired" | "wrong-usage" };

/**
 * Checks a presented credential against the record stored under its id (undefined when there is
 * none). The secret is compared in constant time, and a dummy comparison runs for an unknown id,
 * so timing tells an attacker neither. The reason is for the server's log; a client is told only
 * that authentication failed.
 */
export function checkToken(record: TokenRecord | undefined, presented: TokenCredential, usage: TokenUsage, nowMs: number): TokenCheck {
  const presentedDigest = secretDigest(presented.secret);
  const storedDigest = record === undefined ? dummyDigest : Buffer.from(record.secretSha256Hex, "hex");
  const secretMatches = storedDigest.length === presentedDigest.length && timingSafeEqual(storedDigest, presentedDigest);
  if (record === undefined || record.id !== presented.id) return { ok: false, reason: "unknown-id" };
  if (!secretMatches) return { ok: false, reason: "wrong-secret" };
  if (record.expiresAtMs !== null && nowMs >= record.expiresAtMs) return { ok: false, reason: "expired" };
  if (!record.usages.includes(usage)) return { ok: false, reason: "wrong-usage" };
  return { ok: true, record };
}

const dummyDigest = createHash("sha256").update("flotilla: no such token").digest();

function secretDigest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** The hash a join token carries for this CA certificate: SHA-256 of its DER, in lowercase hex. */
export function caHashOf(caCertificatePem: string): string {
  return sha256Hex(parseCertificatePem(caCertificatePem, "CA certificate").raw);
}

/** Throws CaHashMismatchError unless `caCertificatePem` is the CA the token names. */
export function verifyCaHash(caCertificatePem: string, expectedHashHex: string): void {
  const actualHashHex = caHashOf(caCertificatePem);
  const expected = Buffer.from(expectedHashHex, "hex");
  const actual = Buffer.from(actualHashHex, "hex");
  if (!caHashPattern.test(expectedHashHex) || !timingSafeEqual(expected, actual)) {
    throw new CaHashMismatchError(expectedHashHex, [actualHashHex]);
  }
}
