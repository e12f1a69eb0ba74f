import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "./fake-runtime.ts";
import { ProbeState, runProbeAction, type ProbeTarget } from "./probes.ts";

describe("probe state", () => {
  it("flips to failure only after failureThreshold consecutive failures", () => {
    const state = new ProbeState({ failureThreshold: 3 }, "success");
    expect(state.record("failure")).toBe(false);
    expect(state.record("failure")).toBe(false);
    expect(state.record("success")).toBe(false);
    expect(state.record("failure")).toBe(false);
    expect(state.record("failure")).toBe(false);
    expect(state.record("failure")).toBe(true);
    expect(state.result).toBe("failure");
  });

  it("needs successThreshold consecutive successes to flip back", () => {
    const state = new ProbeState({ successThreshold: 2, failureThreshold: 1 }, "failure");
    expect(state.record("success")).toBe(false);
    expect(state.record("failure")).toBe(false);
    expect(state.record("success")).toBe(false);
    expect(state.record("success")).toBe(true);
    expect(state.result).toBe("success");
  });

  it("uses upstream's defaults: three failures, one success", () => {
    const state = new ProbeState({}, "success");
    expect(state.failureThreshold).toBe(3);
    expect(state.successThreshold).toBe(1);
  });
});

describe("probe actions", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.statusCode = request.url === "/healthz" ? 200 : 503;
      response.end(request.headers["user-agent"]);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const target = (runtime = new FakeRuntime()): ProbeTarget => ({ runtime, containerId: "none", container: { name: "main", ports: [{ name: "http", containerPort: port }] }, podIp: "127.0.0.1" });

  it("httpGet succeeds on 2xx and fails with the status code otherwise, resolving named ports", async () => {
    expect(await runProbeAction({ httpGet: { path: "/healthz", port: "http" } }, target())).toEqual({ result: "success", message: "" });
    expect(await runProbeAction({ httpGet: { path: "/broken", port } }, target())).toEqual({ result: "failure", message: "HTTP probe failed with statuscode: 503" });
  });

  it("tcpSocket succeeds when the port accepts and fails when nothing listens", async () => {
    expect((await runProbeAction({ tcpSocket: { port } }, target())).result).toBe("success");
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect((await runProbeAction({ tcpSocket: { port: closedPort } }, target())).result).toBe("failure");
  });

  it("exec passes on exit code 0 and fails otherwise, in the container", async () => {
    const runtime = new FakeRuntime({ images: ["busybox:1"] });
    const sandboxId = await runtime.runSandbox({ name: "p", namespace: "n", uid: "u", attempt: 0, hostname: "p", logDirectory: "/tmp/x" });
    const sandbox = { name: "p", namespace: "n", uid: "u", attempt: 0, hostname: "p", logDirectory: "/tmp/x" };
    const containerId = await runtime.createContainer(sandboxId, { name: "main", attempt: 0, image: "busybox:1", logPath: "main/0.log" }, sandbox);
    await runtime.startContainer(containerId);
    runtime.execHandler = (_container, command) => ({ stdout: Buffer.from("out"), stderr: Buffer.alloc(0), exitCode: command[0] === "true" ? 0 : 1 });
    const execTarget = { ...target(runtime), containerId };
    expect((await runProbeAction({ exec: { command: ["true"] } }, execTarget)).result).toBe("success");
    const failed = await runProbeAction({ exec: { command: ["false"] } }, execTarget);
    expect(failed.result).toBe("failure");
    expect(failed.message).toContain("exited with 1");
  });
});
