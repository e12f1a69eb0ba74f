import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { StatusError } from "../../libs/api/status-errors.ts";
import { adminClientProfile, createCa, servingProfile, type ClusterCa } from "../../libs/pki/index.ts";
import { RemoteSessionError, hopChunkBytesMax, decodeOpen, dialRemoteSession, encodeOpen, acceptRemoteSession, replicaClientProfile, type ReplicaTls } from "./session-proxy.ts";
import { NodeStreamHub, type NodeSession } from "./stream-hub.ts";
import type { StreamFrame } from "./wire.ts";

const request = { kind: "exec" as const, namespace: "apps", podName: "web", container: "main", parameters: new Map([["command", ["sh", "-c", "echo hi"]], ["stdin", ["true"]]]) };

/** Resolves on the first call of a callback-registering method. */
async function first<T>(register: (handler: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

describe("replica-to-replica node sessions", () => {
  let ca: ClusterCa;
  let server: Server;
  let apiUrl = "";
  let replicaTls: ReplicaTls;
  let adminTls: ReplicaTls;
  const hub = new NodeStreamHub();
  const agentFrames: StreamFrame[] = [];
  let agent: ReturnType<NodeStreamHub["attach"]>;
  let frameArrived: () => void = () => undefined;

  beforeAll(async () => {
    ca = await createCa({ nowMs: Date.now() });
    const serving = await ca.issue(servingProfile("replica-b", ["127.0.0.1"]), Date.now());
    const webSockets = new WebSocketServer({ noServer: true });
    server = createServer({ cert: serving.chainPem, key: serving.privateKeyPem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: false });
    server.on("upgrade", (incoming, socket, head) => {
      try {
        acceptRemoteSession(hub, webSockets, { request: incoming, socket, head, url: new URL(incoming.url ?? "/", "https://localhost") });
      } catch (error) {
        const status = error as StatusError;
        const body = JSON.stringify(status.status);
        socket.end(`HTTP/1.1 ${status.code} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const replica = await ca.issue(replicaClientProfile("https://replica-a:6443"), Date.now());
    replicaTls = { caPem: ca.certificatePem, certificatePem: replica.chainPem, privateKeyPem: replica.privateKeyPem };
    const admin = await ca.issue(adminClientProfile(), Date.now());
    adminTls = { caPem: ca.certificatePem, certificatePem: admin.chainPem, privateKeyPem: admin.privateKeyPem };
    agent = hub.attach("node-b", {
      write: (frame) => {
        agentFrames.push(frame);
        frameArrived();
      },
    });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The agent's frame number `index` (0-based), once it has arrived. */
  async function frameAt(index: number): Promise<StreamFrame> {
    while (agentFrames.length <= index) await new Promise<void>((resolve) => (frameArrived = resolve));
    return agentFrames[index] as StreamFrame;
  }

  /** The next frame the agent gets; called before the action that sends it. */
  async function nextFrame(): Promise<StreamFrame> {
    return frameAt(agentFrames.length);
  }

  it("encodeOpen and decodeOpen carry a request whole, parameters with several values included", () => {
    expect(decodeOpen(encodeOpen(request))).toEqual(request);
    expect(() => decodeOpen(Buffer.from(JSON.stringify({ kind: "shell", parameters: [] })).toString("base64url"))).toThrow("malformed");
  });

  it("opens the session on the replica that holds the node and relays data and the agent's close both ways", async () => {
    const opened = nextFrame();
    const session: NodeSession = await dialRemoteSession(apiUrl, "node-b", request, replicaTls);
    const open = await opened;
    expect(open.open).toMatchObject({ kind: "exec", pod_name: "web", container: "main", parameters: [{ name: "command", values: ["sh", "-c", "echo hi"] }, { name: "stdin", values: ["true"] }] });
    const stdin = nextFrame();
    session.send(0, Buffer.from("input"));
    expect((await stdin).data).toMatchObject({ channel: 0, data: Buffer.from("input") });
    const output = first<[number, Buffer]>((handler) => session.onData((channel, data) => handler([channel, data])));
    agent.received({ session_id: open.session_id, data: { channel: 1, data: Buffer.from("hi\n") } });
    expect(await output).toEqual([1, Buffer.from("hi\n")]);
    const closed = first<string | undefined>((handler) => session.onClose(handler));
    agent.received({ session_id: open.session_id, close: { error: "container exited badly" } });
    expect(await closed).toBe("container exited badly");
  });

  it("splits data larger than one hop message into chunks that arrive in order", async () => {
    const opened = nextFrame();
    const session = await dialRemoteSession(apiUrl, "node-b", request, replicaTls);
    const open = await opened;
    const data = Buffer.alloc(hopChunkBytesMax * 2 + 7, "x");
    data.write("end", data.length - 3);
    const first = agentFrames.length;
    session.send(0, data);
    const received: Buffer[] = [];
    while (Buffer.concat(received).length < data.length) received.push((await frameAt(first + received.length)).data?.data ?? Buffer.alloc(0));
    expect(received.map((chunk) => chunk.length)).toEqual([hopChunkBytesMax, hopChunkBytesMax, 7]);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    const closing = nextFrame();
    session.close();
    expect(await closing).toMatchObject({ session_id: open.session_id, close: { error: "the proxying replica closed the session" } });
  });

  it("tells the agent when the proxying replica's side ends the session", async () => {
    const opened = nextFrame();
    const session = await dialRemoteSession(apiUrl, "node-b", request, replicaTls);
    const open = await opened;
    const closeFrame = nextFrame();
    session.close("the client closed the connection");
    expect(await closeFrame).toMatchObject({ session_id: open.session_id, close: { error: "the client closed the connection" } });
  });

  it("answers 503 for a node whose agent is not connected to that replica", async () => {
    await expect(dialRemoteSession(apiUrl, "node-z", request, replicaTls)).rejects.toMatchObject({
      statusCode: 503,
      message: "node node-z has no stream connection to this API server replica",
    });
  });

  it("refuses a client certificate that is not a replica's, even an admin's", async () => {
    const refused = dialRemoteSession(apiUrl, "node-b", request, adminTls);
    await expect(refused).rejects.toBeInstanceOf(RemoteSessionError);
    await expect(refused).rejects.toMatchObject({ statusCode: 403 });
  });
});
