import { createPublicKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { JwtError, JwtSigner, JwtVerifier, keyIdOf, serviceAccountClaims } from "./jwt.ts";
import type { JwtErrorReason, ServiceAccountClaims, VerifyOptions } from "./jwt.ts";
import { generateKeyPairPem } from "./keys.ts";

const issuer = "https://kubernetes.default.svc.cluster.local";
const audience = "https://kubernetes.default.svc.cluster.local";
const nowSeconds = 1_900_000_000;
let ecSigner: JwtSigner;
let rsaSigner: JwtSigner;
let strangerSigner: JwtSigner;

beforeAll(async () => {
  ecSigner = new JwtSigner((await generateKeyPairPem("ecdsa-p256")).privateKeyPem);
  rsaSigner = new JwtSigner((await generateKeyPairPem("rsa-2048")).privateKeyPem);
  strangerSigner = new JwtSigner((await generateKeyPairPem("ecdsa-p256")).privateKeyPem);
});

function claims(overrides: Partial<Parameters<typeof serviceAccountClaims>[0]> = {}): ServiceAccountClaims {
  return serviceAccountClaims({
    issuer,
    audiences: [audience],
    namespace: "default",
    serviceAccount: { name: "builder", uid: "7f0e-sa" },
    pod: { name: "builder-0", uid: "a1b2-pod" },
    node: { name: "rpi-1", uid: "c3d4-node" },
    nowSeconds,
    expirationSeconds: 3600,
    jti: "jti-1",
    ...overrides,
  });
}

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { nowSeconds, issuers: [issuer], audiences: [audience], ...overrides };
}

function expectRefused(verifier: JwtVerifier, token: string, reason: JwtErrorReason, verifyOptions = options()): void {
  let caught: unknown;
  try {
    verifier.verify(token, verifyOptions);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(JwtError);
  expect((caught as JwtError).reason).toBe(reason);
}

function part(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("service account claims", () => {
  it("have upstream's shape: subject, audiences, times and the kubernetes.io object", () => {
    expect(claims()).toEqual({
      iss: issuer,
      sub: "system:serviceaccount:default:builder",
      aud: [audience],
      exp: nowSeconds + 3600,
      nbf: nowSeconds,
      iat: nowSeconds,
      jti: "jti-1",
      "kubernetes.io": {
        namespace: "default",
        serviceaccount: { name: "builder", uid: "7f0e-sa" },
        pod: { name: "builder-0", uid: "a1b2-pod" },
        node: { name: "rpi-1", uid: "c3d4-node" },
      },
    });
  });

  it("refuse lifetimes under ten minutes and tokens without an audience", () => {
    expect(() => claims({ expirationSeconds: 599 })).toThrow(RangeError);
    expect(() => claims({ audiences: [] })).toThrow(/audience/);
  });
});

describe("signing and verifying", () => {
  it("an ES256 token verifies and yields its claims; the header names the key id", () => {
    const token = ecSigner.sign(claims());
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(header).toEqual({ alg: "ES256", kid: keyIdOf(createPublicKey(ecSigner.publicKeyPem)) });
    expect(new JwtVerifier([ecSigner.publicKeyPem]).verify(token, options())).toEqual(claims());
  });

  it("an RS256 token verifies", () => {
    const token = rsaSigner.sign(claims());
    expect(rsaSigner.algorithm).toBe("RS256");
    expect(new JwtVerifier([rsaSigner.publicKeyPem]).verify(token, options()).sub).toBe("system:serviceaccount:default:builder");
  });

  it("a verifier with old and new keys accepts tokens from both (key rotation)", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem, rsaSigner.publicKeyPem]);
    expect(verifier.verify(ecSigner.sign(claims()), options()).jti).toBe("jti-1");
    expect(verifier.verify(rsaSigner.sign(claims({ jti: "jti-2" })), options()).jti).toBe("jti-2");
  });

  it("the public JWK carries the key id and algorithm for the discovery document", () => {
    expect(ecSigner.publicJwk()).toMatchObject({ kty: "EC", crv: "P-256", kid: ecSigner.keyId, alg: "ES256", use: "sig" });
    expect(JSON.stringify(ecSigner.publicJwk())).not.toContain('"d"');
  });
});

describe("refusals", () => {
  it("refuses a token at and after exp, and accepts it within the leeway", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    const token = ecSigner.sign(claims());
    expect(verifier.verify(token, options({ nowSeconds: nowSeconds + 3599 })).exp).toBe(nowSeconds + 3600);
    expectRefused(verifier, token, "expired", options({ nowSeconds: nowSeconds + 3600 }));
    expect(verifier.verify(token, options({ nowSeconds: nowSeconds + 3630, leewaySeconds: 60 })).exp).toBe(nowSeconds + 3600);
  });

  it("refuses a token before nbf", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    expectRefused(verifier, ecSigner.sign(claims()), "not-yet-valid", options({ nowSeconds: nowSeconds - 1 }));
  });

  it("refuses a token whose payload was changed after signing", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    const [header, , signature] = ecSigner.sign(claims()).split(".");
    const escalated = { ...claims(), sub: "system:serviceaccount:kube-system:admin", "kubernetes.io": { ...claims()["kubernetes.io"], namespace: "kube-system" } };
    expectRefused(verifier, `${header}.${part(escalated)}.${signature}`, "bad-signature");
  });

  it("refuses a token whose signature was changed", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    const token = ecSigner.sign(claims());
    const last = token.at(-2) === "A" ? "B" : "A";
    expectRefused(verifier, `${token.slice(0, -2)}${last}${token.at(-1)}`, "bad-signature");
  });

  it("refuses alg none and algorithms it does not use", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    expectRefused(verifier, `${part({ alg: "none" })}.${part(claims())}.x`, "unsupported-algorithm");
    expectRefused(verifier, `${part({ alg: "HS256", kid: ecSigner.keyId })}.${part(claims())}.x`, "unsupported-algorithm");
  });

  it("refuses a header that claims RS256 for an EC key", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    const [, payload, signature] = ecSigner.sign(claims()).split(".");
    expectRefused(verifier, `${part({ alg: "RS256", kid: ecSigner.keyId })}.${payload}.${signature}`, "unknown-key");
  });

  it("refuses a token signed by a key it does not hold", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    expectRefused(verifier, strangerSigner.sign(claims()), "unknown-key");
    // Without a kid every key of the algorithm is tried, and none verifies.
    const [, payload, signature] = strangerSigner.sign(claims()).split(".");
    expectRefused(verifier, `${part({ alg: "ES256" })}.${payload}.${signature}`, "bad-signature");
  });

  it("refuses the wrong issuer and the wrong audience", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    expectRefused(verifier, ecSigner.sign(claims({ issuer: "https://elsewhere" })), "wrong-issuer");
    expectRefused(verifier, ecSigner.sign(claims({ audiences: ["vault"] })), "wrong-audience");
  });

  it("refuses a subject that disagrees with the kubernetes.io claims, though signed", () => {
    const verifier = new JwtVerifier([ecSigner.publicKeyPem]);
    expectRefused(verifier, ecSigner.sign({ ...claims(), sub: "system:serviceaccount:kube-system:builder" }), "bad-claims");
  });

  it.each([
    ["two parts", "a.b"],
    ["an empty part", "a..c"],
    ["characters outside base64url", "a+b.c.d"],
    ["a header that is not JSON", `${Buffer.from("{nope").toString("base64url")}.e30.c2ln`],
    ["a header that is a JSON array", `${part([1])}.e30.c2ln`],
    ["more than 16 KiB", `${"a".repeat(16 * 1024)}.b.c`],
  ])("refuses %s as malformed", (_what, token) => {
    expectRefused(new JwtVerifier([ecSigner.publicKeyPem]), token, "malformed");
  });
});
