/**
 * `flotilla port-forward` through a real `flotilla server` (node API on) and the test agent
 * (test/harness/test-agent.ts), whose port-forward connects to 127.0.0.1:<port> on this machine:
 * an echo server stands in for the pod's listener. The pod and a service in front of it are
 * forwarded; the "Forwarding from" lines must be kubectl's.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeApiServer } from "../../harness/node-api-server.ts";
import { freePorts } from "../../harness/ports.ts";
import { Daemon } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const flotillaBin = join(resolve(import.meta.dirname, "../../.."), "scripts/flotilla");
const kubectlBin = "/usr/bin/kubectl";
const commandTimeoutMs = 30_000;
const nodeName = "pf-node";

/** Sends `text` to 127.0.0.1:port, half-closes, and resolves with everything that came back. */
async function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
    socket.on("end", () => resolvePromise(received));
    socket.on("error", reject);
  });
}

describe("flotilla port-forward through the node API", () => {
  let server: NodeApiServer;
  let echo: Server | undefined;
  let echoPort = 0;
  const forwards: Daemon[] = [];

  const logOf = (name: string) => `${readFileSync(join(server.workDir, `${name}.log`), "utf8")}\n--- server ---\n${server.serverLog()}`;

  /** Starts a forward and resolves with its "Forwarding from" lines once it listens. */
  async function forward(command: string, args: readonly string[], name: string): Promise<string[]> {
    const log = join(server.workDir, `${name}.log`);
    forwards.push(new Daemon(command, ["port-forward", "-n", "apps", ...args], log, server.environment));
    return waitFor(
      () => {
        const lines = existsSync(log) ? readFileSync(log, "utf8").split("\n") : [];
        const forwarding = lines.filter((line) => line.startsWith("Forwarding from 127.0.0.1"));
        return forwarding.length > 0 ? lines.filter((line) => line.startsWith("Forwarding from")) : undefined;
      },
      { timeoutMs: commandTimeoutMs, description: `${name} to listen` },
    );
  }

  beforeAll(async () => {
    const [echoFree] = await freePorts(1);
    echoPort = echoFree ?? 0;
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((done) => echo?.listen(echoPort, "127.0.0.1", done));
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "echo", namespace: "apps", labels: { app: "echo" } }, spec: { nodeName, containers: [{ name: "main", image: "flotilla/busybox:1", ports: [{ name: "echo", containerPort: echoPort }] }] } };
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "echo", namespace: "apps" }, spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: "echo" }] } };
    server = await NodeApiServer.start({ name: "cli-pf", nodeName, namespace: "apps", objects: [pod, service] });
    // No kubelet runs containers here: say the pod runs, as port-forward (ours and kubectl's) requires.
    await server.kubectlOk(["-n", "apps", "patch", "pod", "echo", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Running"}}']);
  });

  afterAll(async () => {
    for (const daemon of forwards) await daemon.stop();
    await server.stop();
    echo?.close();
  });

  it("forwards a local port to the pod and prints kubectl's lines", async () => {
    const [ours, theirs] = await freePorts(2);
    const kubectlLines = await forward(kubectlBin, ["pod/echo", `${theirs}:${echoPort}`], "kubectl");
    expect(await exchange(theirs ?? 0, "hello through kubectl"), logOf("kubectl")).toBe("hello through kubectl");
    const lines = await forward(flotillaBin, ["pod/echo", `${ours}:${echoPort}`], "ours");
    expect(await exchange(ours ?? 0, "hello through the pod"), logOf("ours")).toBe("hello through the pod");
    expect(await exchange(ours ?? 0, "and again")).toBe("and again");
    expect(lines[0]).toBe(`Forwarding from 127.0.0.1:${ours} -> ${echoPort}`);
    // Both have served a connection by now, so each printed all its listeners.
    const printed = (name: string) => readFileSync(join(server.workDir, `${name}.log`), "utf8").split("\n").filter((line) => line.startsWith("Forwarding from"));
    expect(printed("ours")).toEqual(printed("kubectl").map((line) => line.replace(String(theirs), String(ours))));
    expect(kubectlLines.length).toBeGreaterThan(0);
  });

  it("forwards a service's port to its pod's named target port", async () => {
    const [local] = await freePorts(1);
    const lines = await forward(flotillaBin, ["svc/echo", `${local}:80`], "service");
    expect(lines[0]).toBe(`Forwarding from 127.0.0.1:${local} -> ${echoPort}`);
    expect(await exchange(local ?? 0, "via the service")).toBe("via the service");
  });
});
