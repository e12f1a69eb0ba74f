import { describe, expect, test } from "vitest";
import { fieldInvalid, fieldRequired, fieldTooMany } from "./field-errors.ts";
import { fieldPath } from "./field-path.ts";
import {
  forbiddenMessage,
  isStatusError,
  newAlreadyExists,
  newBadRequest,
  newConflictModified,
  newForbiddenAccess,
  newGone,
  newInternalError,
  newInvalid,
  newMethodNotSupported,
  newNotFound,
  newRequestEntityTooLarge,
  newServerTimeout,
  newTimeoutError,
  newTooManyRequests,
  newTooOldResourceVersion,
  newUnauthorized,
  successStatus,
} from "./status-errors.ts";

const pods = { group: "", resource: "pods" };
const deployments = { group: "apps", resource: "deployments" };

describe("status errors", () => {
  test("NotFound is upstream's JSON, key for key, with the core group left out", () => {
    const error = newNotFound(pods, "x");
    expect(JSON.stringify(error.status)).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"x\\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}',
    );
    expect(error.message).toBe('pods "x" not found');
    expect(isStatusError(error, "NotFound")).toBe(true);
    expect(isStatusError(error, "Conflict")).toBe(false);
  });

  test("AlreadyExists names the group-qualified resource", () => {
    expect(newAlreadyExists(deployments, "web").status).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'deployments.apps "web" already exists',
      reason: "AlreadyExists",
      details: { name: "web", group: "apps", kind: "deployments" },
      code: 409,
    });
  });

  test("Conflict on a stale resourceVersion says the object has been modified", () => {
    const status = newConflictModified(deployments, "web").status;
    expect(status.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect([status.code, status.reason]).toEqual([409, "Conflict"]);
  });

  test("Invalid lists each field error as a cause and aggregates the message", () => {
    const error = newInvalid({ group: "apps", kind: "Deployment" }, "web", [
      fieldRequired(fieldPath("spec", "template", "spec").child("containers").index(0).child("image")),
    ]);
    expect(JSON.stringify(error.status)).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",' +
        '"message":"Deployment.apps \\"web\\" is invalid: spec.template.spec.containers[0].image: Required value",' +
        '"reason":"Invalid","details":{"name":"web","group":"apps","kind":"Deployment",' +
        '"causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.template.spec.containers[0].image"}]},"code":422}',
    );
  });

  test("Invalid with several errors brackets them and drops duplicate texts from the message only", () => {
    const replicas = fieldInvalid("spec.replicas", -1, "must be greater than or equal to 0");
    const error = newInvalid({ group: "", kind: "Pod" }, "p", [replicas, replicas, fieldTooMany("spec.containers", 3, 2)]);
    expect(error.message).toBe(
      'Pod "p" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.containers: Too many: 3: must have at most 2 items]',
    );
    expect(error.status.details?.causes).toHaveLength(3);
    expect(newInvalid({ group: "", kind: "Pod" }, "p", []).message).toBe('Pod "p" is invalid');
  });

  test("Forbidden carries the authorizer's sentence for namespaced, cluster and path requests", () => {
    const error = newForbiddenAccess({ user: "x", verb: "list", group: "", resource: "pods", namespace: "y" });
    expect(error.status).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "y"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
    expect(forbiddenMessage({ user: "x", verb: "get", group: "apps", resource: "deployments", subresource: "scale" })).toBe(
      'User "x" cannot get resource "deployments/scale" in API group "apps" at the cluster scope',
    );
    expect(newForbiddenAccess({ user: "x", verb: "get", path: "/healthz" }).message).toBe('forbidden: User "x" cannot get path "/healthz"');
    expect(newForbiddenAccess({ user: "x", verb: "get", group: "", resource: "secrets", namespace: "n", name: "s" }, "no RBAC").message).toBe(
      'secrets "s" is forbidden: User "x" cannot get resource "secrets" in API group "" in the namespace "n": no RBAC',
    );
  });

  test("Gone for a compacted watch reads 'too old resource version' with reason Expired", () => {
    const status = newTooOldResourceVersion(5, 9).status;
    expect([status.code, status.reason, status.message]).toEqual([410, "Expired", "too old resource version: 5 (9)"]);
    expect(newGone("gone").status.reason).toBe("Gone");
  });

  test("the remaining builders use upstream's codes, reasons and message prefixes", () => {
    const summary = [
      newBadRequest("bad"),
      newUnauthorized(),
      newTooManyRequests("slow down", 1),
      newMethodNotSupported(pods, "deletecollection"),
      newRequestEntityTooLarge("limit is 3145728"),
      newInternalError("boom"),
      newTimeoutError("request did not complete within 60s", 0),
      newServerTimeout(pods, "create", 2),
    ].map((error) => [error.code, error.reason, error.message]);
    expect(summary).toEqual([
      [400, "BadRequest", "bad"],
      [401, "Unauthorized", "not authorized"],
      [429, "TooManyRequests", "slow down"],
      [405, "MethodNotAllowed", 'deletecollection is not supported on resources of kind "pods"'],
      [413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"],
      [500, "InternalError", "Internal error occurred: boom"],
      [504, "Timeout", "Timeout: request did not complete within 60s"],
      [500, "ServerTimeout", "The create operation against pods could not be completed at this time, please try again."],
    ]);
    expect(newInternalError("boom").status.details).toEqual({ causes: [{ message: "boom" }] });
    expect(newTimeoutError("t", 0).status.details).toEqual({});
    expect(newTooManyRequests("t", 3).status.details).toEqual({ retryAfterSeconds: 3 });
  });

  test("a successful delete without an object answers with a Success status", () => {
    expect(successStatus({ name: "x", kind: "pods", uid: "u" })).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: "x", kind: "pods", uid: "u" },
    });
  });
});
