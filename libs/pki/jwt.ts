/**
 * Service account tokens: JWS compact serialization signed with ES256 (EC P-256) or RS256 (RSA),
 * with the claims upstream's bound tokens carry (iss, sub `system:serviceaccount:<ns>:<name>`,
 * aud, exp/nbf/iat, jti and the `kubernetes.io` object). The key id is upstream's too: base64url
 * of SHA-256 over the public key's DER, so several keys (rotation) can verify side by side.
 * node:crypto does the signing; the format is small enough that a JWT library adds nothing.
 */
import { createHash, createPublicKey, randomUUID, sign, verify } from "node:crypto";
import type { JsonWebKey, KeyObject } from "node:crypto";
import { keyAlgorithmOf, parsePrivateKeyPem, parsePublicKeyPem } from "./keys.ts";

export type JwtAlgorithm = "ES256" | "RS256";

/** Longer tokens are refused before any parsing (a header carries a few kilobytes at most). */
export const jwtBytesMax = 16 * 1024;
export const verifyKeysMax = 64;
export const serviceAccountTokenSecondsDefault = 60 * 60;
/** Upstream's lower bound for requested token lifetimes (10 minutes). */
export const serviceAccountTokenSecondsMin = 10 * 60;
const es256SignatureBytes = 64;
const base64UrlPattern = /^[A-Za-z0-9_-]*$/;
const subjectPrefix = "system:serviceaccount:";

export interface ObjectReference {
  readonly name: string;
  readonly uid: string;
}

export interface KubernetesClaims {
  readonly namespace: string;
  readonly serviceaccount: ObjectReference;
  readonly pod?: ObjectReference;
  readonly node?: ObjectReference;
  readonly secret?: ObjectReference;
}

export interface ServiceAccountClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  readonly jti: string;
  readonly "kubernetes.io": KubernetesClaims;
}

export type JwtErrorReason =
  | "malformed"
  | "unsupported-algorithm"
  | "unknown-key"
  | "bad-signature"
  | "expired"
  | "not-yet-valid"
  | "wrong-issuer"
  | "wrong-audience"
  | "bad-claims";

/** Why a token was refused; the reason is for logs, clients hear only 401. */
export class JwtError extends Error {
  readonly reason: JwtErrorReason;

  constructor(reason: JwtErrorReason, message: string) {
    super(`service account token refused (${reason}): ${message}`);
    this.name = "JwtError";
    this.reason = reason;
  }
}

/** Upstream's key id: base64url(SHA-256(public key DER)). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("base64url");
}

function jwtAlgorithmOf(key: KeyObject): JwtAlgorithm {
  return keyAlgorithmOf(key) === "ecdsa-p256" ? "ES256" : "RS256";
}

export interface ServiceAccountTokenRequest {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly namespace: string;
  readonly serviceAccount: ObjectReference;
  readonly nowSeconds: number;
  readonly expirationSeconds?: number;
  /** Binds the token to a pod (and its node): it dies with them. */
  readonly pod?: ObjectReference;
  readonly node?: ObjectReference;
  readonly jti?: string;
}

/** The claims of a bound service account token, as the TokenRequest API writes them. */
export function serviceAccountClaims(request: ServiceAccountTokenRequest): ServiceAccountClaims {
  const expirationSeconds = request.expirationSeconds ?? serviceAccountTokenSecondsDefault;
  if (!Number.isSafeInteger(expirationSeconds) || expirationSeconds < serviceAccountTokenSecondsMin) {
    throw new RangeError(`token lifetime must be at least ${serviceAccountTokenSecondsMin} s, got ${expirationSeconds}`);
  }
  if (request.audiences.length === 0) throw new Error("a service account token needs at least one audience");
  if (request.namespace.includes(":") || request.serviceAccount.name.includes(":")) {
    throw new Error("namespace and service account names cannot contain ':'");
  }
  const nowSeconds = Math.floor(request.nowSeconds);
  return {
    iss: request.issuer,
    sub: `${subjectPrefix}${request.namespace}:${request.serviceAccount.name}`,
    aud: [...request.audiences],
    exp: nowSeconds + expirationSeconds,
    nbf: nowSeconds,
    iat: nowSeconds,
    jti: request.jti ?? randomUUID(),
    "kubernetes.io": {
      namespace: request.namespace,
      serviceaccount: { ...request.serviceAccount },
      ...(request.pod === undefined ? {} : { pod: { ...request.pod } }),
      ...(request.node === undefined ? {} : { node: { ...request.node } }),
    },
  };
}

/** Signs tokens with one private key; its algorithm follows from the key. */
export class JwtSigner {
  readonly algorithm: JwtAlgorithm;
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly #privateKey: KeyObject;

  constructor(privateKeyPem: string) {
    this.#privateKey = parsePrivateKeyPem(privateKeyPem, "service account signing key");
    const publicKey = createPublicKey(this.#privateKey);
    this.algorithm = jwtAlgorithmOf(this.#privateKey);
    this.keyId = keyIdOf(publicKey);
    this.publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  }

  sign(claims: ServiceAccountClaims): string {
    const header = { alg: this.algorithm, kid: this.keyId };
    const signingInput = `${encodeJson(header)}.${encodeJson(claims)}`;
    const signature = sign("sha256", Buffer.from(signingInput), { key: this.#privateKey, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${signature.toString("base64url")}`;
  }

  /** The public key as a JWK with its kid, for the OIDC discovery key set. */
  publicJwk(): JsonWebKey {
    const jwk = createPublicKey(this.#privateKey).export({ format: "jwk" });
    return { ...jwk, kid: this.keyId, alg: this.algorithm, use: "sig" };
  }
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export interface VerifyOptions {
  readonly nowSeconds: number;
  readonly issuers: readonly string[];
  /** The token must name at least one of these. */
  readonly audiences: readonly string[];
  /** Clock difference tolerated on exp, nbf and iat (default 0). */
  readonly leewaySeconds?: number;
}

interface VerifyKey {
  readonly key: KeyObject;
  readonly algorithm: JwtAlgorithm;
}

/** Verifies tokens signed by any of a set of public keys (old and new during rotation). */
export class JwtVerifier {
  readonly #keys = new Map<string, VerifyKey>();

  constructor(publicKeyPems: readonly string[]) {
    if (publicKeyPems.length === 0 || publicKeyPems.length > verifyKeysMax) {
      throw new Error(`a verifier takes 1..${verifyKeysMax} public keys, got ${publicKeyPems.length}`);
    }
    for (const pem of publicKeyPems) {
      const key = parsePublicKeyPem(pem, "service account public key");
      this.#keys.set(keyIdOf(key), { key, algorithm: jwtAlgorithmOf(key) });
    }
  }

  /** Returns the claims of a valid token or throws JwtError saying why it is not. */
  verify(token: string, options: VerifyOptions): ServiceAccountClaims {
    const [headerPart, payloadPart, signaturePart] = splitCompact(token);
    const header = decodeJsonObject(headerPart, "header");
    const algorithm = header["alg"];
    if (algorithm !== "ES256" && algorithm !== "RS256") {
      throw new JwtError("unsupported-algorithm", `alg ${JSON.stringify(algorithm)} (accepted: ES256, RS256)`);
    }
    if (header["crit"] !== undefined) throw new JwtError("malformed", "critical header parameters are not supported");
    const signature = Buffer.from(signaturePart, "base64url");
    const signingInput = Buffer.from(`${headerPart}.${payloadPart}`);
    if (!this.#candidates(header["kid"], algorithm).some((candidate) => checkSignature(candidate, signingInput, signature))) {
      throw new JwtError("bad-signature", "no key of this verifier signed the token");
    }
    const claims = decodeJsonObject(payloadPart, "payload");
    return checkClaims(claims, options);
  }

  #candidates(keyId: unknown, algorithm: JwtAlgorithm): VerifyKey[] {
    if (keyId !== undefined && typeof keyId !== "string") throw new JwtError("malformed", "kid is not a string");
    const candidates = keyId === undefined ? [...this.#keys.values()] : [this.#keys.get(keyId)].filter((key) => key !== undefined);
    // The key decides the algorithm, never the header: an RSA key is not tried for ES256 or back.
    const matching = candidates.filter((candidate) => candidate.algorithm === algorithm);
    if (matching.length === 0) throw new JwtError("unknown-key", `no ${algorithm} key with kid ${String(keyId)}`);
    return matching;
  }
}

function checkSignature(candidate: VerifyKey, signingInput: Buffer, signature: Buffer): boolean {
  if (candidate.algorithm === "ES256" && signature.length !== es256SignatureBytes) return false;
  return verify("sha256", signingInput, { key: candidate.key, dsaEncoding: "ieee-p1363" }, signature);
}

function splitCompact(token: string): [string, string, string] {
  if (token.length > jwtBytesMax) throw new JwtError("malformed", `longer than ${jwtBytesMax} bytes`);
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("malformed", `a JWS has 3 parts, this has ${parts.length}`);
  const [header = "", payload = "", signature = ""] = parts;
  for (const part of parts) {
    if (part.length === 0 || !base64UrlPattern.test(part)) throw new JwtError("malformed", "parts must be non-empty base64url");
  }
  return [header, payload, signature];
}

function decodeJsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw new JwtError("malformed", `${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new JwtError("malformed", `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function checkClaims(claims: Record<string, unknown>, options: VerifyOptions): ServiceAccountClaims {
  const leewaySeconds = options.leewaySeconds ?? 0;
  const { exp, nbf, iat, iss, sub, jti } = claims;
  if (typeof exp !== "number" || typeof iat !== "number") throw new JwtError("bad-claims", "exp and iat must be numbers");
  const notBeforeSeconds = nbf ?? iat;
  if (typeof notBeforeSeconds !== "number") throw new JwtError("bad-claims", "nbf must be a number");
  if (options.nowSeconds >= exp + leewaySeconds) throw new JwtError("expired", `expired at ${exp}, now ${options.nowSeconds}`);
  if (options.nowSeconds + leewaySeconds < notBeforeSeconds || options.nowSeconds + leewaySeconds < iat) {
    throw new JwtError("not-yet-valid", `valid from ${notBeforeSeconds} (issued ${iat}), now ${options.nowSeconds}`);
  }
  if (typeof iss !== "string" || !options.issuers.includes(iss)) throw new JwtError("wrong-issuer", `issuer ${JSON.stringify(iss)}`);
  const audiences = typeof claims["aud"] === "string" ? [claims["aud"]] : claims["aud"];
  if (!Array.isArray(audiences) || !audiences.every((audience) => typeof audience === "string")) {
    throw new JwtError("bad-claims", "aud must be a string or an array of strings");
  }
  if (!audiences.some((audience: string) => options.audiences.includes(audience))) {
    throw new JwtError("wrong-audience", `token is for ${JSON.stringify(audiences)}`);
  }
  const kubernetes = checkKubernetesClaims(claims["kubernetes.io"], sub);
  return { iss, sub: sub as string, aud: audiences as string[], exp, nbf: notBeforeSeconds, iat, jti: typeof jti === "string" ? jti : "", "kubernetes.io": kubernetes };
}

function checkKubernetesClaims(value: unknown, subject: unknown): KubernetesClaims {
  if (typeof value !== "object" || value === null) throw new JwtError("bad-claims", "no kubernetes.io claims");
  const claims = value as Record<string, unknown>;
  const namespace = claims["namespace"];
  const serviceAccount = readReference(claims["serviceaccount"], "serviceaccount");
  if (typeof namespace !== "string" || serviceAccount === undefined) {
    throw new JwtError("bad-claims", "kubernetes.io must name a namespace and a service account");
  }
  // The subject must say what kubernetes.io says, or a token could claim one identity in each.
  if (subject !== `${subjectPrefix}${namespace}:${serviceAccount.name}`) {
    throw new JwtError("bad-claims", `sub ${JSON.stringify(subject)} does not match the kubernetes.io claims`);
  }
  const pod = readReference(claims["pod"], "pod");
  const node = readReference(claims["node"], "node");
  const secret = readReference(claims["secret"], "secret");
  return {
    namespace,
    serviceaccount: serviceAccount,
    ...(pod === undefined ? {} : { pod }),
    ...(node === undefined ? {} : { node }),
    ...(secret === undefined ? {} : { secret }),
  };
}

function readReference(value: unknown, what: string): ObjectReference | undefined {
  if (value === undefined) return undefined;
  const reference = value as Record<string, unknown> | null;
  if (typeof reference !== "object" || reference === null || typeof reference["name"] !== "string" || typeof reference["uid"] !== "string") {
    throw new JwtError("bad-claims", `kubernetes.io ${what} must have a string name and uid`);
  }
  return { name: reference["name"], uid: reference["uid"] };
}
