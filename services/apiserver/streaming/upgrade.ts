/**
 * WebSocket upgrades for pods/exec and pods/attach on the API server: authenticate
 * the client certificate, find the pod's node, negotiate `v5.channel.k8s.io` (or
 * `v4.channel.k8s.io`), and relay frames between the WebSocket and a session on the node's
 * stream connection. Each binary message is one channel byte and its data, as upstream: 0 stdin,
 * 1 stdout, 2 stderr, 3 error (a Status carrying the exit code), 4 resize; v5 adds 255, a client's
 * "this channel is closed" signal, which goes to the agent as channel 255 with the closed channel
 * as its byte (stdin's EOF). Attach is exec without a command: the agent joins the container's
 * own stdio (CRI Attach). `ws` does the RFC 6455 framing, masking and close handshake.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { WebSocketServer, type WebSocket } from "ws";
import { StatusError, newBadRequest, newForbidden, newUnauthorized } from "../../../libs/api/status-errors.ts";
import type { Logger } from "../../../libs/log/index.ts";
import { mastersGroup, userFromSubject } from "../authn.ts";
import type { UserInfo } from "../context.ts";
import { toStatusError } from "../http.ts";
import type { Storages } from "../storages.ts";
import { acceptRemoteSession, isSessionProxyPath } from "../../nodeapi/session-proxy.ts";
import { defaultNodeStreamHub, type NodeSession } from "../../nodeapi/stream-hub.ts";
import { findPod, openNodeSession, parametersOf, podTarget } from "./pod-target.ts";
import { servePortForward } from "./portforward.ts";

export const execProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"] as const;
/** Largest WebSocket message accepted from a client (stdin chunks are far smaller). */
export const webSocketMessageBytesMax = 1024 * 1024;
const streamCloseChannel = 255;

export interface StreamingUpgradeDeps {
  readonly storages: Storages;
  readonly logger: Logger;
  /**
   * The server's authentication and authorization of the upgrade request (as a `create` of
   * pods/exec or pods/portforward, as upstream checks WebSocket upgrades); throws a Status when
   * refused. Without it, client certificates in system:masters only.
   */
  readonly admit?: (request: IncomingMessage) => Promise<UserInfo>;
}

interface PodStreamPath {
  readonly namespace: string;
  readonly name: string;
  readonly subresource: "exec" | "attach" | "portforward";
}

const podStreamPattern = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/;

export function podStreamPath(pathname: string): PodStreamPath | undefined {
  const match = podStreamPattern.exec(pathname);
  if (match === null) return undefined;
  const [, namespace = "", name = "", subresource = ""] = match;
  return { namespace: decodeURIComponent(namespace), name: decodeURIComponent(name), subresource: subresource as PodStreamPath["subresource"] };
}

/** Client-certificate users in system:masters: the fallback when the server passes no admit(). */
function admitUpgrade(request: IncomingMessage, path: PodStreamPath): UserInfo {
  const socket = request.socket as TLSSocket;
  const subject = socket.authorized === true ? (socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined> | undefined) : undefined;
  const user = subject === undefined ? undefined : userFromSubject(subject);
  if (user === undefined) throw newUnauthorized("Unauthorized");
  if (!user.groups.includes(mastersGroup)) {
    throw newForbidden({ group: "", resource: `pods/${path.subresource}` }, path.name, `User "${user.name}" cannot create resource "pods/${path.subresource}" in API group "" in the namespace "${path.namespace}"`);
  }
  return user;
}

function refuse(socket: Duplex, error: unknown): void {
  const status = toStatusError(error);
  const body = JSON.stringify(status.status);
  socket.end(
    `HTTP/1.1 ${status.code} ${status.status.reason ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The listener for the HTTPS server's "upgrade" event. */
export function streamingUpgradeHandler(deps: StreamingUpgradeDeps): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: webSocketMessageBytesMax, handleProtocols: (offered) => execProtocols.find((p) => offered.has(p)) ?? false });
  return (request, socket, head) => {
    socket.on("error", () => socket.destroy());
    upgrade(deps, webSockets, request, socket, head).catch((error: unknown) => {
      if (!(error instanceof StatusError) || error.code >= 500) deps.logger.warn({ err: error, url: request.url }, "streaming upgrade failed");
      refuse(socket, error);
    });
  };
}

async function upgrade(deps: StreamingUpgradeDeps, webSockets: WebSocketServer, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(request.url ?? "/", "https://localhost");
  // Another replica opening a session on a node whose agent is connected here (its own certificate check).
  if (isSessionProxyPath(url.pathname)) return acceptRemoteSession(defaultNodeStreamHub, webSockets, { request, socket, head, url });
  const path = podStreamPath(url.pathname);
  if (path === undefined) throw newBadRequest(`upgrade to ${request.headers.upgrade ?? "nothing"} is not served for ${url.pathname}`);
  if (deps.admit === undefined) admitUpgrade(request, path);
  else await deps.admit(request);
  const pod = await findPod(deps.storages, path.namespace, path.name);
  if (path.subresource === "portforward") {
    await servePortForward(deps, webSockets, { request, socket, head, url, pod, path });
    return;
  }
  const kind = path.subresource;
  if ((request.headers.upgrade ?? "").toLowerCase() !== "websocket") {
    throw newBadRequest(`upgrade to ${request.headers.upgrade ?? "nothing"} is not served for pods/${kind}: it takes WebSocket (${execProtocols.join(", ")})`);
  }
  const target = podTarget(pod, path.name, url.searchParams.get("container") ?? "");
  if (kind === "exec" && url.searchParams.getAll("command").length === 0) throw newBadRequest("you must specify at least 1 command");
  const session = await openNodeSession(target, { kind, namespace: path.namespace, podName: path.name, container: target.container, parameters: parametersOf(url.searchParams, ["container"]) });
  webSockets.handleUpgrade(request, socket, head, (webSocket) => relayExec(webSocket, session));
}

function relayExec(webSocket: WebSocket, session: NodeSession): void {
  const supportsClose = webSocket.protocol === "v5.channel.k8s.io";
  session.onData((channel, data) => {
    if (webSocket.readyState !== webSocket.OPEN) return;
    webSocket.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true });
  });
  session.onClose((error) => {
    if (error !== undefined && webSocket.readyState === webSocket.OPEN) {
      const status = { metadata: {}, status: "Failure", message: error, reason: "InternalError", code: 500 };
      webSocket.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(status))]), { binary: true });
    }
    webSocket.close(1000);
  });
  webSocket.on("message", (message: Buffer, isBinary: boolean) => {
    if (!isBinary || message.length === 0) return;
    const channel = message[0] ?? 0;
    if (channel === streamCloseChannel && !supportsClose) return;
    session.send(channel, message.subarray(1));
  });
  webSocket.on("close", () => session.close("the client closed the connection"));
  webSocket.on("error", () => session.close("the client connection failed"));
}
