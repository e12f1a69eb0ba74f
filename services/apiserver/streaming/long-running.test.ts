import { describe, expect, it } from "vitest";
import { parseRequestInfo } from "../request-info.ts";
import { isLongRunningRequest } from "./long-running.ts";

function longRunning(method: string, path: string): boolean {
  const url = new URL(path, "https://localhost");
  return isLongRunningRequest(parseRequestInfo(method, url.pathname, url.searchParams));
}

describe("isLongRunningRequest", () => {
  it("counts watches, logs (followed or not), exec, attach and port-forward as long-running, as upstream", () => {
    expect(longRunning("GET", "/api/v1/namespaces/apps/pods?watch=true")).toBe(true);
    expect(longRunning("GET", "/api/v1/namespaces/apps/pods/web/log?follow=true")).toBe(true);
    expect(longRunning("GET", "/api/v1/namespaces/apps/pods/web/log")).toBe(true);
    expect(longRunning("POST", "/api/v1/namespaces/apps/pods/web/exec?command=sh")).toBe(true);
    expect(longRunning("POST", "/api/v1/namespaces/apps/pods/web/attach")).toBe(true);
    expect(longRunning("POST", "/api/v1/namespaces/apps/pods/web/portforward")).toBe(true);
  });

  it("keeps the timeout for ordinary reads and writes, subresources like status, and non-resource paths", () => {
    expect(longRunning("GET", "/api/v1/namespaces/apps/pods")).toBe(false);
    expect(longRunning("GET", "/api/v1/namespaces/apps/pods/web")).toBe(false);
    expect(longRunning("PUT", "/api/v1/namespaces/apps/pods/web/status")).toBe(false);
    expect(longRunning("POST", "/apis/apps/v1/namespaces/apps/deployments")).toBe(false);
    expect(longRunning("GET", "/healthz")).toBe(false);
  });
});
