import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { classifyError } from "./classify.ts";

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details });
}

describe("classifyError", () => {
  it("counts any failed read as failed, since a read changes nothing", () => {
    expect(classifyError("get", grpcError(status.DEADLINE_EXCEEDED, "Deadline exceeded"))).toBe("failed");
  });

  it("counts a write that found no connection as failed: it never left the client", () => {
    const error = grpcError(status.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED 10.0.0.2:2379");
    expect(classifyError("put", error)).toBe("failed");
  });

  it("counts a write whose connection broke as unknown", () => {
    expect(classifyError("put", grpcError(status.UNAVAILABLE, "Connection dropped"))).toBe("unknown");
  });

  it("counts a write past its deadline as unknown", () => {
    expect(classifyError("cas", grpcError(status.DEADLINE_EXCEEDED, "Deadline exceeded after 1.001s"))).toBe("unknown");
  });

  it("counts a store-side timeout as unknown: the proposal may still commit", () => {
    expect(classifyError("delete", grpcError(status.UNAVAILABLE, "etcdserver: request timed out"))).toBe("unknown");
  });

  it("counts etcd's too-many-requests refusal as failed", () => {
    expect(classifyError("put", grpcError(status.RESOURCE_EXHAUSTED, "etcdserver: too many requests"))).toBe("failed");
  });

  it("counts a call on a closed client as failed and anything else thrown as unknown", () => {
    expect(classifyError("put", new Error("Channel has been shut down"))).toBe("failed");
    expect(classifyError("put", new Error("something else"))).toBe("unknown");
    expect(classifyError("put", "a string")).toBe("unknown");
  });
});
