import { describe, expect, it } from "vitest";
import { findResource } from "../../libs/api/registry.ts";
import { StatusError } from "../../libs/api/status-errors.ts";
import type { HandlerContext } from "./context.ts";
import { checkWrittenFields, parseJsonBody } from "./field-validation.ts";
import type { StoredObject } from "./storage/index.ts";

interface FakeContext {
  readonly context: HandlerContext;
  readonly headers: Map<string, unknown>;
}

function fakeContext(verb: "create" | "update" | "patch", query: string): FakeContext {
  const info = findResource("apps", "v1", "deployments");
  if (info === undefined) throw new Error("no deployments resource");
  const headers = new Map<string, unknown>();
  const response = { setHeader: (name: string, value: unknown) => headers.set(name, value) };
  const request = { kind: "resource", verb, group: "apps", version: "v1", namespace: "demo", resource: "deployments", name: "web", subresource: "" };
  const context = { info, request, query: new URLSearchParams(query), response } as unknown as HandlerContext;
  return { context, headers };
}

function deployment(spec: Record<string, unknown>): StoredObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec } as StoredObject;
}

function statusErrorOf(action: () => unknown): StatusError {
  try {
    action();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error("expected a StatusError");
}

describe("checkWrittenFields()", () => {
  it("refuses unknown fields under Strict with upstream's 400 and words", () => {
    const { context } = fakeContext("create", "fieldValidation=Strict");
    const error = statusErrorOf(() => checkWrittenFields(context, deployment({ replicas: 1, foo: true, template: { spec: { containers: [{ name: "a", bar: 1 }] } } })));
    expect(error.status.code).toBe(400);
    expect(error.status.reason).toBe("BadRequest");
    expect(error.status.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar"',
    );
  });

  it("words a patch's strict error without the decoding prefix, as upstream", () => {
    const { context } = fakeContext("patch", "fieldValidation=Strict");
    const error = statusErrorOf(() => checkWrittenFields(context, deployment({ foo: 1 }), { spec: { foo: 1 } }));
    expect(error.status.message).toBe('strict decoding error: unknown field "spec.foo"');
  });

  it("warns about unknown fields by default (Warn) with 299 headers, and drops them", () => {
    const { context, headers } = fakeContext("update", "");
    const kept = checkWrittenFields(context, deployment({ replicas: 2, foo: 1 }));
    expect(kept).toEqual(deployment({ replicas: 2 }));
    expect(headers.get("Warning")).toEqual(['299 - "unknown field \\"spec.foo\\""']);
  });

  it("drops unknown fields silently under Ignore", () => {
    const { context, headers } = fakeContext("create", "fieldValidation=Ignore");
    expect(checkWrittenFields(context, deployment({ foo: 1 }))).toEqual(deployment({}));
    expect(headers.size).toBe(0);
  });

  it("reports duplicate keys of the JSON body, found while it was parsed", () => {
    const text = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"replicas":2}}';
    const strict = fakeContext("create", "fieldValidation=Strict");
    const body = parseJsonBody(strict.context, text) as StoredObject;
    expect(statusErrorOf(() => checkWrittenFields(strict.context, body)).status.message).toContain('strict decoding error: duplicate field "spec.replicas"');
    const warn = fakeContext("create", "fieldValidation=Warn");
    checkWrittenFields(warn.context, parseJsonBody(warn.context, text) as StoredObject);
    expect(warn.headers.get("Warning")).toEqual(['299 - "duplicate field \\"spec.replicas\\""']);
    const ignore = fakeContext("create", "fieldValidation=Ignore");
    checkWrittenFields(ignore.context, parseJsonBody(ignore.context, text) as StoredObject);
    expect(ignore.headers.size).toBe(0);
  });

  it("refuses a wrong type in every mode, naming the field", () => {
    for (const mode of ["Strict", "Warn", "Ignore"]) {
      const { context } = fakeContext("create", `fieldValidation=${mode}`);
      const error = statusErrorOf(() => checkWrittenFields(context, deployment({ replicas: "two" })));
      expect(error.status.code).toBe(400);
      expect(error.status.message).toBe(
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
      );
    }
  });

  it("refuses an unsupported directive with 422", () => {
    const { context } = fakeContext("create", "fieldValidation=strict");
    const error = statusErrorOf(() => checkWrittenFields(context, deployment({})));
    expect(error.status.code).toBe(422);
    expect(error.status.message).toContain('fieldValidation: Unsupported value: "strict"');
  });
});
