import { describe, expect, it } from "vitest";
import { generateKeyPairPem } from "../../libs/pki/index.ts";
import { ServiceAccountTokens, serviceAccountIssuer, type UidLookup } from "./authn-serviceaccount.ts";

const nowMs = 1_800_000_000_000;

async function tokensWith(live: Record<string, string>, clockMs = (): number => nowMs): Promise<ServiceAccountTokens> {
  const { privateKeyPem } = await generateKeyPairPem("ecdsa-p256");
  const lookup: UidLookup = async (resource, namespace, name) => live[`${resource}/${namespace}/${name}`];
  return new ServiceAccountTokens({ privateKeyPem, lookup, nowMs: clockMs });
}

describe("service account tokens", () => {
  it("authenticate as the service account with upstream's groups", async () => {
    const tokens = await tokensWith({ "serviceaccounts/team/robot": "uid-1" });
    const { token } = tokens.issue({ namespace: "team", serviceAccount: { name: "robot", uid: "uid-1" }, audiences: [serviceAccountIssuer], expirationSeconds: 3600 });
    expect(await tokens.authenticateToken(token)).toEqual({
      name: "system:serviceaccount:team:robot",
      groups: ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"],
    });
  });

  it("stop working when the service account is deleted or recreated", async () => {
    const live: Record<string, string> = { "serviceaccounts/team/robot": "uid-1" };
    const tokens = await tokensWith(live);
    const { token } = tokens.issue({ namespace: "team", serviceAccount: { name: "robot", uid: "uid-1" }, audiences: [serviceAccountIssuer], expirationSeconds: 3600 });
    live["serviceaccounts/team/robot"] = "uid-2";
    expect(await tokens.authenticateToken(token)).toBeUndefined();
  });

  it("refuse tokens for another audience, expired tokens and tokens of another key", async () => {
    let clockMs = nowMs;
    const tokens = await tokensWith({ "serviceaccounts/team/robot": "uid-1" }, () => clockMs);
    const account = { namespace: "team", serviceAccount: { name: "robot", uid: "uid-1" } };
    const otherAudience = tokens.issue({ ...account, audiences: ["vault"], expirationSeconds: 3600 }).token;
    expect(await tokens.authenticateToken(otherAudience)).toBeUndefined();
    const shortLived = tokens.issue({ ...account, audiences: [serviceAccountIssuer], expirationSeconds: 600 }).token;
    clockMs = nowMs + 700_000;
    expect(await tokens.authenticateToken(shortLived)).toBeUndefined();
    const stranger = await tokensWith({ "serviceaccounts/team/robot": "uid-1" });
    const foreign = stranger.issue({ ...account, audiences: [serviceAccountIssuer], expirationSeconds: 3600 }).token;
    clockMs = nowMs;
    expect(await tokens.authenticateToken(foreign)).toBeUndefined();
    expect(await tokens.authenticateToken("not-a-jwt")).toBeUndefined();
  });

  it("bound to a pod, die with the pod", async () => {
    const live: Record<string, string> = { "serviceaccounts/team/robot": "uid-1", "pods/team/web": "pod-1" };
    const tokens = await tokensWith(live);
    const { token } = tokens.issue({ namespace: "team", serviceAccount: { name: "robot", uid: "uid-1" }, audiences: [serviceAccountIssuer], expirationSeconds: 3600, pod: { name: "web", uid: "pod-1" } });
    expect((await tokens.authenticateToken(token))?.name).toBe("system:serviceaccount:team:robot");
    delete live["pods/team/web"];
    expect(await tokens.authenticateToken(token)).toBeUndefined();
  });
});
