/**
 * Node sessions between replicas. A replica whose hub lacks a node's stream connection opens the
 * session on the replica that has it: a WebSocket to that replica's API server at
 * `/flotilla/v1/node-sessions/<node>?open=<request>`, authenticated with a replica client
 * certificate from the cluster CA (O=flotilla:replicas). The user's request was authenticated and
 * authorized by the first replica; the second only checks that the caller is a replica. Each
 * binary message is one channel byte and its data, both ways, as on the node stream; a text
 * message `{"error": "..."}` says why the session is about to end; a normal close (1000) with no
 * error message is a normal end.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { WebSocket, type WebSocketServer } from "ws";
import { newBadRequest, newForbidden, newServiceUnavailable, newUnauthorized } from "../../libs/api/status-errors.ts";
import type { CertificateProfile } from "../../libs/pki/index.ts";
import type { NodeSession, NodeStreamHub, StreamOpenRequest } from "./stream-hub.ts";

export const sessionProxyPathPrefix = "/flotilla/v1/node-sessions/";
export const replicasGroup = "flotilla:replicas";
/** How long a replica waits for another to accept a proxied session. */
export const dialTimeoutMs = 5_000;
/** Data bytes per WebSocket message on the hop, well under the receiving server's 1 MiB message limit. */
export const hopChunkBytesMax = 256 * 1024;
/** Bytes of a refusal's body read for its message. */
const refusalBodyBytesMax = 4096;
const normalClose = 1000;

/** The TLS material one replica uses to reach another's API server. */
export interface ReplicaTls {
  readonly caPem: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A replica's client certificate: the group is what the receiving side checks. */
export function replicaClientProfile(apiUrl: string): CertificateProfile {
  return { usage: "client", commonName: `system:flotilla-replica:${apiUrl}`, organizations: [replicasGroup] };
}

/** A replica that refused or could not be reached; `statusCode` is its HTTP answer, 0 without one. */
export class RemoteSessionError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = "RemoteSessionError";
  }
}

interface WireOpen {
  readonly kind: StreamOpenRequest["kind"];
  readonly namespace: string;
  readonly podName: string;
  readonly container: string;
  readonly parameters: Array<[string, string[]]>;
}

export function encodeOpen(request: StreamOpenRequest): string {
  const wire: WireOpen = { ...request, parameters: [...request.parameters].map(([name, values]) => [name, [...values]]) };
  return Buffer.from(JSON.stringify(wire)).toString("base64url");
}

export function decodeOpen(text: string): StreamOpenRequest {
  const wire = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<WireOpen>;
  const kinds: ReadonlyArray<StreamOpenRequest["kind"]> = ["log", "exec", "attach", "portforward"];
  if (wire.kind === undefined || !kinds.includes(wire.kind) || !Array.isArray(wire.parameters)) throw new Error("malformed session request");
  return { kind: wire.kind, namespace: String(wire.namespace ?? ""), podName: String(wire.podName ?? ""), container: String(wire.container ?? ""), parameters: new Map(wire.parameters) };
}

/** One end of a proxied session: frames over a WebSocket. */
class WebSocketSession implements NodeSession {
  #dataHandler: ((channel: number, data: Buffer) => void) | undefined;
  #closeHandler: (error: string | undefined) => void = () => undefined;
  #pending: Array<[number, Buffer]> = [];
  #closed = false;
  #error: string | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on("message", (message: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#error = errorOf(message);
      else if (message.length > 0) this.#received(message[0] ?? 0, message.subarray(1));
    });
    socket.on("close", (code: number) => this.#ended(this.#error ?? (code === normalClose ? undefined : `the connection to the other replica closed (code ${code})`)));
    // A failed socket also emits "close", which ends the session.
    socket.on("error", () => undefined);
  }

  send(channel: number, data: Uint8Array): void {
    if (this.#closed || this.socket.readyState !== WebSocket.OPEN) return;
    // An empty message still carries its channel (the far end may act on an empty write).
    for (let offset = 0; offset === 0 || offset < data.length; offset += hopChunkBytesMax) {
      this.socket.send(Buffer.concat([Buffer.from([channel]), data.subarray(offset, offset + hopChunkBytesMax)]), { binary: true });
    }
  }

  onData(handler: (channel: number, data: Buffer) => void): void {
    this.#dataHandler = handler;
    for (const [channel, data] of this.#pending) handler(channel, data);
    this.#pending = [];
  }

  onClose(handler: (error: string | undefined) => void): void {
    this.#closeHandler = handler;
  }

  close(error?: string): void {
    if (this.#closed) return;
    if (error !== undefined && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ error }));
    this.socket.close(normalClose);
    this.#ended(error);
  }

  #received(channel: number, data: Buffer): void {
    if (this.#closed) return;
    // As in the hub: data before the handler is installed waits (bounded by what the far end sends before it).
    if (this.#dataHandler === undefined) this.#pending.push([channel, data]);
    else this.#dataHandler(channel, data);
  }

  #ended(error: string | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeHandler(error);
  }
}

function errorOf(message: Buffer): string {
  try {
    const parsed = JSON.parse(message.toString("utf8")) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : "the other replica ended the session";
  } catch {
    return "the other replica ended the session";
  }
}

/** Opens `request` to `nodeName` through the replica at `apiUrl`; rejects with a RemoteSessionError. */
export async function dialRemoteSession(apiUrl: string, nodeName: string, request: StreamOpenRequest, tls: ReplicaTls): Promise<NodeSession> {
  const url = new URL(`${sessionProxyPathPrefix}${encodeURIComponent(nodeName)}`, apiUrl.replace(/^https:/, "wss:"));
  url.searchParams.set("open", encodeOpen(request));
  const socket = new WebSocket(url, { ca: tls.caPem, cert: tls.certificatePem, key: tls.privateKeyPem, handshakeTimeout: dialTimeoutMs, perMessageDeflate: false });
  return new Promise<NodeSession>((resolve, reject) => {
    socket.once("open", () => resolve(new WebSocketSession(socket)));
    socket.once("unexpected-response", (_request, response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on("data", (chunk: Buffer) => {
        if (bytes < refusalBodyBytesMax) chunks.push(chunk);
        bytes += chunk.length;
      });
      response.on("end", () => reject(new RemoteSessionError(refusalMessage(Buffer.concat(chunks).subarray(0, refusalBodyBytesMax)), response.statusCode ?? 0)));
      response.on("error", (error) => reject(new RemoteSessionError(error.message, response.statusCode ?? 0)));
    });
    socket.once("error", (error) => reject(new RemoteSessionError(error.message, 0)));
  });
}

function refusalMessage(body: Buffer): string {
  try {
    const status = JSON.parse(body.toString("utf8")) as { message?: unknown };
    if (typeof status.message === "string") return status.message;
  } catch {
    // Not a Status: the text is the message.
  }
  return body.toString("utf8");
}

export function isSessionProxyPath(pathname: string): boolean {
  return pathname.startsWith(sessionProxyPathPrefix);
}

function checkReplicaCertificate(request: IncomingMessage): void {
  const socket = request.socket as TLSSocket;
  if (socket.authorized !== true) throw newUnauthorized("Unauthorized");
  const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const organizations = subject?.["O"];
  const groups = organizations === undefined ? [] : Array.isArray(organizations) ? organizations : [organizations];
  if (!groups.includes(replicasGroup)) throw newForbidden({ group: "", resource: "nodes" }, "", `only API server replicas (group ${replicasGroup}) may open node sessions here`);
}

/**
 * The receiving replica's side: checks the replica certificate, opens the session on its own hub
 * (503 when the node's agent is not connected here, so the caller tries the next record) and
 * relays it over the upgraded WebSocket. Throws a StatusError before the upgrade.
 */
export function acceptRemoteSession(hub: NodeStreamHub, webSockets: WebSocketServer, upgrade: { request: IncomingMessage; socket: Duplex; head: Buffer; url: URL }): void {
  checkReplicaCertificate(upgrade.request);
  if ((upgrade.request.headers.upgrade ?? "").toLowerCase() !== "websocket") throw newBadRequest("node sessions take a WebSocket upgrade");
  const nodeName = decodeURIComponent(upgrade.url.pathname.slice(sessionProxyPathPrefix.length));
  let request: StreamOpenRequest;
  try {
    request = decodeOpen(upgrade.url.searchParams.get("open") ?? "");
  } catch (error) {
    throw newBadRequest(`node session: ${error instanceof Error ? error.message : String(error)}`);
  }
  const session = hub.open(nodeName, request);
  if (session === undefined) throw newServiceUnavailable(`node ${nodeName} has no stream connection to this API server replica`);
  let upgraded = false;
  // A handshake ws refuses never calls back: the agent's session must not outlive it.
  upgrade.socket.once("close", () => {
    if (!upgraded) session.close("the proxying replica went away before the upgrade");
  });
  webSockets.handleUpgrade(upgrade.request, upgrade.socket, upgrade.head, (socket) => {
    upgraded = true;
    relay(socket, session);
  });
}

function relay(socket: WebSocket, session: NodeSession): void {
  const far = new WebSocketSession(socket);
  session.onData((channel, data) => far.send(channel, data));
  session.onClose((error) => far.close(error));
  far.onData((channel, data) => session.send(channel, data));
  far.onClose((error) => session.close(error ?? "the proxying replica closed the session"));
}
