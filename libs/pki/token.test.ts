import { beforeAll, describe, expect, it } from "vitest";
import { createCa } from "./ca.ts";
import type { ClusterCa } from "./ca.ts";
import {
  CaHashMismatchError,
  TokenFormatError,
  caHashOf,
  checkToken,
  createToken,
  formatJoinToken,
  parseBearerToken,
  parseJoinToken,
  verifyCaHash,
} from "./token.ts";

const nowMs = Date.UTC(2030, 0, 15, 12, 0, 0);
const hourMs = 60 * 60 * 1000;
const hash = "a".repeat(64);
let ca: ClusterCa;
let otherCa: ClusterCa;

beforeAll(async () => {
  ca = await createCa({ nowMs });
  otherCa = await createCa({ nowMs });
});

describe("join token text", () => {
  it("formats as K10<hash>::<id>.<secret> and parses back", () => {
    const token = { caHashHex: ca.hashHex, id: "abc123", secret: "0123456789abcdef" };
    const text = formatJoinToken(token);
    expect(text).toBe(`K10${ca.hashHex}::abc123.0123456789abcdef`);
    expect(parseJoinToken(text)).toEqual(token);
  });

  it("accepts the short form <id>.<secret> without a CA hash, and surrounding whitespace", () => {
    expect(parseJoinToken(" abc123.0123456789abcdef\n")).toEqual({ caHashHex: null, id: "abc123", secret: "0123456789abcdef" });
    expect(formatJoinToken({ caHashHex: null, id: "abc123", secret: "0123456789abcdef" })).toBe("abc123.0123456789abcdef");
  });

  it.each([
    ["", /empty/],
    [`K10${hash}abc123.0123456789abcdef`, /no "::"/],
    [`K10${"a".repeat(63)}::abc123.0123456789abcdef`, /64 lowercase hex digits.*63 characters/],
    [`K10${"A".repeat(64)}::abc123.0123456789abcdef`, /64 lowercase hex digits/],
    [`K11${hash}::abc123.0123456789abcdef`, /starts with "K10"/],
    [`K10${hash}::abc12.0123456789abcdef`, /id must be 6 characters/],
    [`K10${hash}::abc123.0123456789abcde`, /secret must be 16 characters/],
    [`K10${hash}::abc123.0123456789ABCDEF`, /secret must be 16 characters of \[a-z0-9\]/],
    [`K10${hash}::abc123:0123456789abcdef`, /"<id>.<secret>", got 0 dots/],
    [`K10${hash}::abc123.0123.456789abcdef`, /got 2 dots/],
    ["x".repeat(500), /longer than/],
  ])("rejects %j with a clear error", (text, message) => {
    expect(() => parseJoinToken(text)).toThrow(TokenFormatError);
    expect(() => parseJoinToken(text)).toThrow(message);
  });

  it("parseBearerToken wants a 32-character secret", () => {
    expect(parseBearerToken(`abc123.${"x".repeat(32)}`)).toEqual({ id: "abc123", secret: "x".repeat(32) });
    expect(() => parseBearerToken("abc123.0123456789abcdef")).toThrow(/32 characters/);
  });
});

describe("token records", () => {
  it("a join token checks out until its TTL runs out, then is expired", () => {
    const { credential, record } = createToken({ usages: ["join"], nowMs, ttlMs: hourMs });
    expect(credential.id).toMatch(/^[a-z0-9]{6}$/);
    expect(credential.secret).toMatch(/^[a-z0-9]{16}$/);
    expect(record.user).toEqual({ name: `system:bootstrap:${credential.id}`, groups: ["system:bootstrappers"] });
    expect(checkToken(record, credential, "join", nowMs + hourMs - 1)).toEqual({ ok: true, record });
    expect(checkToken(record, credential, "join", nowMs + hourMs)).toEqual({ ok: false, reason: "expired" });
  });

  it("stores a hash of the secret, never the secret", () => {
    const { credential, record } = createToken({ usages: ["join"], nowMs, ttlMs: hourMs });
    expect(JSON.stringify(record)).not.toContain(credential.secret);
    expect(record.secretSha256Hex).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses a wrong secret, an unknown id and the wrong usage", () => {
    const { credential, record } = createToken({ usages: ["join"], nowMs, ttlMs: hourMs });
    const wrongSecret = { id: credential.id, secret: credential.secret === "a".repeat(16) ? "b".repeat(16) : "a".repeat(16) };
    expect(checkToken(record, wrongSecret, "join", nowMs)).toEqual({ ok: false, reason: "wrong-secret" });
    expect(checkToken(undefined, credential, "join", nowMs)).toEqual({ ok: false, reason: "unknown-id" });
    expect(checkToken(record, credential, "bearer", nowMs)).toEqual({ ok: false, reason: "wrong-usage" });
  });

  it("a bearer token for the admin has a 32-character secret, its user, and may never expire", () => {
    const user = { name: "admin", groups: ["system:masters"] };
    const { credential, record } = createToken({ usages: ["bearer"], nowMs, ttlMs: null, user });
    expect(credential.secret).toMatch(/^[a-z0-9]{32}$/);
    expect(parseBearerToken(`${credential.id}.${credential.secret}`)).toEqual(credential);
    const result = checkToken(record, credential, "bearer", nowMs + 100 * 365 * 24 * hourMs);
    expect(result.ok && result.record.user).toEqual(user);
  });

  it("draws different credentials each time", () => {
    const ids = new Set(Array.from({ length: 50 }, () => createToken({ usages: ["join"], nowMs, ttlMs: hourMs }).credential.id));
    expect(ids.size).toBe(50);
  });

  it("refuses a nonsensical TTL", () => {
    expect(() => createToken({ usages: ["join"], nowMs, ttlMs: 0 })).toThrow(RangeError);
    expect(() => createToken({ usages: [], nowMs, ttlMs: hourMs })).toThrow(/at least one usage/);
  });
});

describe("CA hash", () => {
  it("verifyCaHash accepts the CA the token names", () => {
    expect(caHashOf(ca.certificatePem)).toBe(ca.hashHex);
    expect(() => verifyCaHash(ca.certificatePem, ca.hashHex)).not.toThrow();
  });

  it("verifyCaHash refuses another CA, naming both hashes", () => {
    expect(() => verifyCaHash(otherCa.certificatePem, ca.hashHex)).toThrow(CaHashMismatchError);
    expect(() => verifyCaHash(otherCa.certificatePem, ca.hashHex)).toThrow(new RegExp(`${ca.hashHex}.*${otherCa.hashHex}`));
  });

  it("verifyCaHash refuses a malformed expected hash", () => {
    expect(() => verifyCaHash(ca.certificatePem, ca.hashHex.slice(2))).toThrow(CaHashMismatchError);
  });
});
