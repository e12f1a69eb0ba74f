import { describe, expect, it } from "vitest";
import { decodeContinue, encodeContinue, latestRevisionMarker } from "./continue.ts";
import { BadRequestError } from "./errors.ts";

const prefix = "/registry/core/pods/";
const token = (json: string) => Buffer.from(json, "utf8").toString("base64url");

describe("continue tokens", () => {
  it("encode upstream's JSON (v, rv, start relative to the prefix) as unpadded base64url", () => {
    const encoded = encodeContinue(`${prefix}default/web-1\x00`, prefix, 42);
    expect(encoded).not.toMatch(/[=+/]/);
    expect(Buffer.from(encoded, "base64url").toString("utf8")).toBe('{"v":"meta.k8s.io/v1","rv":42,"start":"default/web-1\\u0000"}');
  });

  it("decode back to the full start key and revision", () => {
    const point = decodeContinue(encodeContinue(`${prefix}default/web-1\x00`, prefix, 42), prefix);
    expect(point).toEqual({ startKey: `${prefix}default/web-1\x00`, revision: 42 });
  });

  it("read a negative revision as 'the latest'", () => {
    expect(decodeContinue(token('{"v":"meta.k8s.io/v1","rv":-1,"start":"a"}'), prefix).revision).toBe(latestRevisionMarker);
  });

  it("refuse tokens upstream refuses", () => {
    const refused = [
      token('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}'),
      token('{"v":"meta.k8s.io/v1","rv":3,"start":""}'),
      token('{"v":"meta.k8s.io/v2","rv":3,"start":"a"}'),
      token('{"v":"meta.k8s.io/v1","rv":3,"start":"../secrets/x"}'),
      token('{"v":"meta.k8s.io/v1","rv":3,"start":"a/./b"}'),
      token("[1,2]"),
      "%%%",
    ];
    for (const value of refused) expect(() => decodeContinue(value, prefix), value).toThrow(BadRequestError);
  });

  it("cannot encode a key outside the prefix", () => {
    expect(() => encodeContinue("/registry/core/secrets/x", prefix, 1)).toThrow(/do not match/);
  });
});
