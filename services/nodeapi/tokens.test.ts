import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkToken, createToken } from "../../libs/pki/index.ts";
import { bootstrapTokenSecret, tokenRecordFromSecret } from "./tokens.ts";

const encode = (text: string): string => Buffer.from(text).toString("base64");

describe("bootstrap token secrets", () => {
  it("round-trip a token record so that checkToken accepts its credential and refuses another secret", () => {
    const nowMs = Date.parse("2026-11-22T00:00:00Z");
    const { credential, record } = createToken({ usages: ["join"], nowMs, ttlMs: 60_000 });
    const read = tokenRecordFromSecret(bootstrapTokenSecret(record.id, record.secretSha256Hex, record.expiresAtMs));
    expect(checkToken(read, credential, "join", nowMs)).toMatchObject({ ok: true });
    expect(checkToken(read, { ...credential, secret: "0".repeat(16) }, "join", nowMs)).toEqual({ ok: false, reason: "wrong-secret" });
    expect(checkToken(read, credential, "join", nowMs + 60_000)).toEqual({ ok: false, reason: "expired" });
  });

  it("read kubeadm's plain token-secret form too", () => {
    const secret = { type: "bootstrap.kubernetes.io/token", data: { "token-id": encode("abcdef"), "token-secret": encode("0123456789abcdef"), "usage-bootstrap-authentication": encode("true") } };
    const record = tokenRecordFromSecret(secret);
    expect(record?.secretSha256Hex).toBe(createHash("sha256").update("0123456789abcdef").digest("hex"));
    expect(record?.expiresAtMs).toBeNull();
    expect(checkToken(record, { id: "abcdef", secret: "0123456789abcdef" }, "join", 0)).toMatchObject({ ok: true });
  });

  it("give no record for other secret types, and a record without the join usage when authentication is not allowed", () => {
    expect(tokenRecordFromSecret({ type: "Opaque", data: {} })).toBeUndefined();
    const noUsage = { type: "bootstrap.kubernetes.io/token", data: { "token-id": encode("abcdef"), "token-secret": encode("0123456789abcdef") } };
    expect(checkToken(tokenRecordFromSecret(noUsage), { id: "abcdef", secret: "0123456789abcdef" }, "join", 0)).toEqual({ ok: false, reason: "wrong-usage" });
    const badExpiry = { type: "bootstrap.kubernetes.io/token", data: { "token-id": encode("abcdef"), "token-secret": encode("x"), expiration: encode("soon") } };
    expect(tokenRecordFromSecret(badExpiry)).toBeUndefined();
  });
});
