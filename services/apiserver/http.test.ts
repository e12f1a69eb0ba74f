import { describe, expect, it } from "vitest";
import { newNotFound } from "../../libs/api/status-errors.ts";
import { AlreadyExistsError, ConflictError, GoneError, NotFoundError, StorageUnavailableError } from "./storage/index.ts";
import { BodyTooLargeError, toStatusError } from "./http.ts";

const configMaps = { group: "", resource: "configmaps" };
const deployments = { group: "apps", resource: "deployments" };

describe("toStatusError", () => {
  it("maps storage errors to upstream's Status with the resource and name", () => {
    expect(toStatusError(new NotFoundError(configMaps, "/registry/core/configmaps/ns/a")).status).toMatchObject({ code: 404, reason: "NotFound", message: 'configmaps "a" not found', details: { name: "a", kind: "configmaps" } });
    expect(toStatusError(new AlreadyExistsError(deployments, "/registry/apps/deployments/ns/web")).status).toMatchObject({ code: 409, reason: "AlreadyExists", message: 'deployments.apps "web" already exists' });
  });

  it("keeps the storage layer's conflict detail once, after upstream's prefix", () => {
    const error = new ConflictError(configMaps, "/registry/core/configmaps/ns/a", "resourceVersion", "7", "the object has been modified; please apply your changes to the latest version and try again");
    expect(toStatusError(error).status.message).toBe('Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again');
  });

  it("maps expiry to 410, unavailability to 503, body size to 413 and unknown errors to 500", () => {
    expect(toStatusError(new GoneError("too old resource version: 1 (5)")).status).toMatchObject({ code: 410, reason: "Expired" });
    expect(toStatusError(new StorageUnavailableError("store down")).code).toBe(503);
    expect(toStatusError(new BodyTooLargeError(10)).code).toBe(413);
    expect(toStatusError(new Error("boom")).status).toMatchObject({ code: 500, reason: "InternalError" });
  });

  it("passes a StatusError through unchanged", () => {
    const error = newNotFound(configMaps, "x");
    expect(toStatusError(error)).toBe(error);
  });
});
