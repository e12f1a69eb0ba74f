import { describe, expect, it } from "vitest";
import { isAuthorized, isPublicPath, userFromSubject } from "./authn.ts";

describe("authentication by certificate subject", () => {
  it("takes the user from CN and the groups from every O", () => {
    expect(userFromSubject({ CN: "admin", O: "system:masters" })).toEqual({ name: "admin", groups: ["system:masters", "system:authenticated"] });
    expect(userFromSubject({ CN: "system:node:n1", O: ["system:nodes", "extra"] })?.groups).toEqual(["system:nodes", "extra", "system:authenticated"]);
  });

  it("refuses a subject without a common name", () => {
    expect(userFromSubject({ O: "system:masters" })).toBeUndefined();
    expect(userFromSubject({ CN: "" })).toBeUndefined();
  });

  it("authorizes system:masters only, for now", () => {
    expect(isAuthorized({ name: "admin", groups: ["system:masters"] })).toBe(true);
    expect(isAuthorized({ name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] })).toBe(false);
  });

  it("lets anonymous clients reach health and version only", () => {
    for (const path of ["/healthz", "/livez", "/readyz/", "/version"]) expect(isPublicPath(path), path).toBe(true);
    for (const path of ["/api", "/apis", "/api/v1/namespaces", "/openapi/v3", "/healthzx"]) expect(isPublicPath(path), path).toBe(false);
  });
});
