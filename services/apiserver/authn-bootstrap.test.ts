import { describe, expect, it } from "vitest";
import { authenticateBootstrapToken, bootstrapTokenSecret, type BootstrapSecretLookup } from "./authn-bootstrap.ts";

const nowMs = Date.parse("2026-11-22T04:00:00Z");

function lookupOf(secrets: Record<string, unknown>[]): BootstrapSecretLookup {
  return async (name) => {
    const secret = secrets.find((candidate) => (candidate["metadata"] as { name: string }).name === name);
    if (secret === undefined) return undefined;
    const data = secret["data"] as Record<string, string>;
    return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]));
  };
}

describe("bootstrap tokens", () => {
  it("authenticate as system:bootstrap:<id> until they expire", async () => {
    const lookup = lookupOf([bootstrapTokenSecret("abc123", "0123456789abcdef", nowMs + 60_000, "", ["system:bootstrappers:flotilla:servers"])]);
    expect(await authenticateBootstrapToken("abc123.0123456789abcdef", lookup, nowMs)).toEqual({
      name: "system:bootstrap:abc123",
      groups: ["system:bootstrappers", "system:bootstrappers:flotilla:servers", "system:authenticated"],
    });
    expect(await authenticateBootstrapToken("abc123.0123456789abcdef", lookup, nowMs + 61_000)).toBeUndefined();
  });

  it("refuse a wrong secret, an unknown id and a malformed token", async () => {
    const lookup = lookupOf([bootstrapTokenSecret("abc123", "0123456789abcdef", null, "", [])]);
    expect(await authenticateBootstrapToken("abc123.0123456789abcdee", lookup, nowMs)).toBeUndefined();
    expect(await authenticateBootstrapToken("zzz999.0123456789abcdef", lookup, nowMs)).toBeUndefined();
    expect(await authenticateBootstrapToken("abc123.short", lookup, nowMs)).toBeUndefined();
    expect((await authenticateBootstrapToken("abc123.0123456789abcdef", lookup, nowMs))?.name).toBe("system:bootstrap:abc123");
  });
});
