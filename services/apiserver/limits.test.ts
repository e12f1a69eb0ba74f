import { describe, expect, it } from "vitest";
import { StatusError } from "../../libs/api/status-errors.ts";
import { checkObjectSize, isDryRun, objectBytesMax } from "./limits.ts";

describe("object size limit", () => {
  it("lets an object up to 1.5 MiB through and refuses a larger one with etcd's words", () => {
    const small = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { x: "y".repeat(1024) } };
    expect(checkObjectSize(small)).toBe(small);
    const large = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { x: "y".repeat(objectBytesMax) } };
    let caught: unknown;
    try {
      checkObjectSize(large);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StatusError);
    expect((caught as StatusError).status).toMatchObject({ code: 500, message: "etcdserver: request is too large" });
  });
});

describe("isDryRun()", () => {
  it("is true only for dryRun=All and refuses other values with 422", () => {
    expect(isDryRun(new URLSearchParams(""), "create")).toBe(false);
    expect(isDryRun(new URLSearchParams("dryRun=All"), "create")).toBe(true);
    expect(() => isDryRun(new URLSearchParams("dryRun=Some"), "patch")).toThrow('dryRun: Unsupported value: ["Some"]');
  });
});
