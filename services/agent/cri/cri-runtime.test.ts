/**
 * CriRuntime against an in-process gRPC server that serves our own proto/cri/api.proto on a
 * unix socket: requests survive protobuf encoding with the right values, failures come back as
 * RuntimeErrors that name the method, and a server that never answers hits the deadline.
 */
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CriRuntime, socketAddress } from "./cri-runtime.ts";
import { RuntimeError } from "./errors.ts";
import { loadCriServices } from "./proto.ts";

type Handler = (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => void;

const shortTimeoutMs = 300;

let directory: string;
let server: Server | undefined;
let runtime: CriRuntime | undefined;
const received: Record<string, unknown>[] = [];
/** Held calls of the never-answering handler, answered at teardown so the server can stop. */
const heldCallbacks: sendUnaryData<unknown>[] = [];

async function serve(runtimeHandlers: Record<string, Handler>, imageHandlers: Record<string, Handler> = {}): Promise<string> {
  const services = loadCriServices();
  server = new Server();
  server.addService(services.RuntimeService.service, runtimeHandlers as UntypedServiceImplementation);
  server.addService(services.ImageService.service, imageHandlers as UntypedServiceImplementation);
  const socket = join(directory, "cri.sock");
  await new Promise<void>((resolve, reject) => server?.bindAsync(socketAddress(socket), ServerCredentials.createInsecure(), (error) => (error === null ? resolve() : reject(error))));
  return socket;
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "fl-cri-unit-"));
  received.length = 0;
});

afterEach(async () => {
  runtime?.close();
  runtime = undefined;
  for (const callback of heldCallbacks.splice(0)) callback(null, { containers: [] });
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.tryShutdown(() => resolve())));
  server = undefined;
  rmSync(directory, { recursive: true, force: true });
});

describe("CriRuntime", () => {
  it("sends RunPodSandbox with the sandbox config intact through protobuf", async () => {
    const socket = await serve({
      RunPodSandbox: (call, callback) => {
        received.push(call.request);
        callback(null, { pod_sandbox_id: "sandbox-1" });
      },
    });
    runtime = new CriRuntime({ socket });
    const id = await runtime.runSandbox({
      name: "web",
      namespace: "shop",
      uid: "u1",
      attempt: 1,
      hostname: "web",
      logDirectory: "/logs",
      portMappings: [{ protocol: "UDP", containerPort: 53, hostPort: 5353 }],
      cgroupParent: "/pods",
      securityContext: { runAsUser: 0 },
    });
    expect(id).toBe("sandbox-1");
    const config = received[0]?.["config"] as Record<string, unknown> & { linux: Record<string, unknown> & { security_context: Record<string, unknown> } };
    expect(config["metadata"]).toEqual({ name: "web", uid: "u1", namespace: "shop", attempt: 1 });
    expect(config["port_mappings"]).toEqual([{ protocol: "UDP", container_port: 53, host_port: 5353, host_ip: "" }]);
    expect(config.linux["cgroup_parent"]).toBe("/pods");
    // An explicit uid 0 must arrive as a set wrapper, not as "unset".
    expect(config.linux.security_context["run_as_user"]).toEqual({ value: "0" });
  });

  it("turns NOT_FOUND into a NotFound RuntimeError naming the method and the socket", async () => {
    const socket = await serve({ ContainerStatus: (_call, callback) => callback({ code: status.NOT_FOUND, details: 'container "x" not found' }) });
    runtime = new CriRuntime({ socket });
    const error = await runtime.containerStatus("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).kind).toBe("NotFound");
    expect((error as RuntimeError).grpcCode).toBe("NOT_FOUND");
    expect((error as RuntimeError).message).toContain("RuntimeService/ContainerStatus");
    expect((error as RuntimeError).message).toContain(socket);
  });

  it("gives up on a runtime that never answers after the call deadline", async () => {
    const socket = await serve({ ListContainers: (_call, callback) => heldCallbacks.push(callback) });
    runtime = new CriRuntime({ socket, callTimeoutMs: shortTimeoutMs });
    const startedAt = Date.now();
    const error = await runtime.listContainers().catch((caught: unknown) => caught);
    expect((error as RuntimeError).kind).toBe("DeadlineExceeded");
    expect(Date.now() - startedAt).toBeLessThan(shortTimeoutMs * 10);
  });

  it("reports a socket nobody listens on as Unavailable", async () => {
    runtime = new CriRuntime({ socket: join(directory, "absent.sock"), callTimeoutMs: 2000 });
    const error = await runtime.version().catch((caught: unknown) => caught);
    expect((error as RuntimeError).kind).toBe("Unavailable");
    expect((error as RuntimeError).message).toContain("is containerd running");
  });

  it("reads ExecSync output as bytes and an absent image as undefined", async () => {
    const socket = await serve(
      { ExecSync: (_call, callback) => callback(null, { stdout: Buffer.from("hi\n"), stderr: Buffer.alloc(0), exit_code: 4 }) },
      { ImageStatus: (_call, callback) => callback(null, {}) },
    );
    runtime = new CriRuntime({ socket });
    const result = await runtime.execSync("c1", ["echo", "hi"], 5);
    expect(result.stdout.toString()).toBe("hi\n");
    expect(result.exitCode).toBe(4);
    expect(await runtime.imageStatus("docker.io/flotilla/absent:1")).toBeUndefined();
  });

  it("socketAddress accepts a path or a unix URL and refuses a relative path", () => {
    expect(socketAddress("/run/containerd/containerd.sock")).toBe("unix:///run/containerd/containerd.sock");
    expect(socketAddress("unix:///run/x.sock")).toBe("unix:///run/x.sock");
    expect(() => socketAddress("run/x.sock")).toThrow(/absolute/);
  });
});
