/**
 * List continue tokens in upstream's format (k8s.io/apiserver pkg/storage/continue.go), so a token
 * is opaque to clients but the same bytes a kube-apiserver would give: unpadded base64url of
 * {"v":"meta.k8s.io/v1","rv":<revision>,"start":<next key relative to the list prefix>}.
 * rv -1 means "continue at the latest revision" (the token a 410 on a compacted list offers).
 */
import { BadRequestError } from "./errors.ts";
import { isCleanPath } from "./keys.ts";

const tokenVersion = "meta.k8s.io/v1";

/** Upstream's rv for "go on reading at the latest revision" (an inconsistent continuation). */
export const latestRevisionMarker = -1;

/** Upstream's texts, behind "invalid continue token: ". */
const invalid = {
  generic: "continue key is not valid",
  startRv: "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
  emptyStart: "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)",
  version: "continue key is not valid: server does not recognize this encoded version",
} as const;

export interface ContinuePoint {
  /** The full key to start reading at (inclusive). */
  readonly startKey: string;
  /** The revision to read at; latestRevisionMarker (-1) for the latest. */
  readonly revision: number;
}

/** Encodes where the next page starts: `startKey` must lie under `keyPrefix`. */
export function encodeContinue(startKey: string, keyPrefix: string, revision: number): string {
  if (!startKey.startsWith(keyPrefix) || startKey.length === keyPrefix.length) {
    throw new Error(`unable to encode next field: the key and key prefix do not match ${keyPrefix} ${startKey}`);
  }
  const token = { v: tokenVersion, rv: revision, start: startKey.slice(keyPrefix.length) };
  return Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
}

const badToken = (detail: string) => new BadRequestError(`invalid continue token: ${detail}`);

function parseToken(token: string): Record<string, unknown> {
  // Strict base64url without padding, as Go's base64.RawURLEncoding accepts.
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length % 4 === 1) throw badToken(`${invalid.generic}: illegal base64 data`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch (error) {
    throw badToken(`${invalid.generic}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw badToken(`${invalid.generic}: not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Decodes a token for a list under `keyPrefix`; throws BadRequestError with upstream's reasons. */
export function decodeContinue(token: string, keyPrefix: string): ContinuePoint {
  const parsed = parseToken(token);
  if (parsed["v"] !== tokenVersion) throw badToken(`${invalid.version} ${String(parsed["v"] ?? "")}`);
  const revision = parsed["rv"];
  if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision === 0) throw badToken(invalid.startRv);
  const start = parsed["start"];
  if (typeof start !== "string" || start === "") throw badToken(invalid.emptyStart);
  // A start key may not climb out of the list's prefix: it must be a clean relative path.
  const rooted = start.startsWith("/") ? start : `/${start}`;
  if (!isCleanPath(rooted)) throw badToken(`${invalid.generic}: ${start}`);
  // Upstream reads any negative revision as "the latest".
  return { startKey: keyPrefix + rooted.slice(1), revision: revision < 0 ? latestRevisionMarker : revision };
}
