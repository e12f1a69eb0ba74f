import { describe, expect, it } from "vitest";
import { bearerTokenOf, isPublicPath, userFromSubject } from "./authn.ts";

describe("authentication by certificate subject", () => {
  it("takes the user from CN and the groups from every O", () => {
    expect(userFromSubject({ CN: "admin", O: "system:masters" })).toEqual({ name: "admin", groups: ["system:masters", "system:authenticated"] });
    expect(userFromSubject({ CN: "system:node:n1", O: ["system:nodes", "extra"] })?.groups).toEqual(["system:nodes", "extra", "system:authenticated"]);
  });

  it("refuses a subject without a common name", () => {
    expect(userFromSubject({ O: "system:masters" })).toBeUndefined();
    expect(userFromSubject({ CN: "" })).toBeUndefined();
  });

  it("reads the token of a Bearer authorization header only", () => {
    expect(bearerTokenOf("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerTokenOf("bearer  xyz ")).toBe("xyz");
    expect(bearerTokenOf("Basic dXNlcjpwYXNz")).toBeUndefined();
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });

  it("lets anonymous clients reach health and version only", () => {
    for (const path of ["/healthz", "/livez", "/readyz/", "/version"]) expect(isPublicPath(path), path).toBe(true);
    for (const path of ["/api", "/apis", "/api/v1/namespaces", "/openapi/v3", "/healthzx"]) expect(isPublicPath(path), path).toBe(false);
  });
});
