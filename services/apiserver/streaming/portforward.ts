/**
 * pods/portforward as kubectl 1.32 asks for it: SPDY/3.1 carrying upstream's portforward.k8s.io
 * streams, either tunnelled in a WebSocket (subprotocol "SPDY/3.1+portforward.k8s.io", tried
 * first) or on the upgraded connection itself ("Upgrade: SPDY/3.1", the fallback). For every
 * local connection kubectl opens an error stream and a data stream with the same requestID and
 * a port; each pair becomes one "portforward" session to the pod's node (parameter port), with
 * channel 0 the data both ways, channel 1 error text from the node, and channel 255 [0] the
 * client's end of its data.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { newBadRequest } from "../../../libs/api/status-errors.ts";
import type { NodeSession } from "../../nodeapi/stream-hub.ts";
import type { StoredObject } from "../storage/index.ts";
import { openNodeSession, type PodTarget } from "./pod-target.ts";
import { SpdyServerSession, type SpdyTransport } from "./spdy.ts";
import type { StreamingUpgradeDeps } from "./upgrade.ts";

export const portForwardProtocol = "portforward.k8s.io";
export const tunnelProtocol = `SPDY/3.1+${portForwardProtocol}`;
/** Port pairs (kubectl's local connections) one forwarding connection may have open. */
export const pairsPerConnectionMax = 128;
const clientClosedChannel = 255;

export interface PortForwardUpgrade {
  readonly request: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly url: URL;
  readonly pod: StoredObject;
  readonly path: { readonly namespace: string; readonly name: string };
}

interface Pair {
  dataStream?: number;
  errorStream?: number;
  session?: NodeSession | undefined;
  port: string;
  /** Set once the session is asked for; the session may come from another replica, later. */
  opening?: boolean;
  /** What the client sent before the session opened (channel, bytes); undefined once it opened. */
  waiting?: Array<[number, Buffer]> | undefined;
  waitingBytes?: number;
  /** The client went away before the session opened: close it as soon as it does. */
  abandoned?: boolean;
}

/** Bytes one pair holds for its node session while that is being opened. */
export const waitingBytesMax = 1024 * 1024;

/** Sends to the pair's node session, or holds the bytes until it opens; false when too much waits. */
function toNode(pair: Pair, channel: number, data: Buffer): boolean {
  if (pair.session !== undefined) {
    pair.session.send(channel, data);
    return true;
  }
  if (pair.waiting === undefined) return true;
  pair.waitingBytes = (pair.waitingBytes ?? 0) + data.length;
  if (pair.waitingBytes > waitingBytesMax) return false;
  pair.waiting.push([channel, data]);
  return true;
}

/**
 * ws refuses "SPDY/3.1+portforward.k8s.io" as a subprotocol ("/" is not a token character in
 * RFC 6455), so the request's header is taken off before the handshake and the chosen protocol
 * put on the response here; kubectl checks that the answer names what it offered.
 */
const tunnelResponses = new WeakSet<IncomingMessage>();
const tunnelServer = new WebSocketServer({ noServer: true });
tunnelServer.on("headers", (headers: string[], request: IncomingMessage) => {
  if (tunnelResponses.has(request)) headers.push(`Sec-WebSocket-Protocol: ${tunnelProtocol}`);
});

export async function servePortForward(_deps: StreamingUpgradeDeps, _webSockets: WebSocketServer, upgrade: PortForwardUpgrade): Promise<void> {
  await Promise.resolve();
  const nodeName = ((upgrade.pod["spec"] ?? {}) as { nodeName?: string }).nodeName ?? "";
  if (nodeName === "") throw newBadRequest(`pod ${upgrade.path.name} does not have a host assigned`);
  const target: PodTarget = { pod: upgrade.pod, nodeName, container: "" };
  const kind = (upgrade.request.headers.upgrade ?? "").toLowerCase();
  if (kind === "websocket") {
    const offered = (upgrade.request.headers["sec-websocket-protocol"] ?? "").split(",").map((item) => item.trim());
    if (!offered.includes(tunnelProtocol)) throw newBadRequest(`pods/portforward over WebSocket takes the subprotocol ${tunnelProtocol}`);
    delete upgrade.request.headers["sec-websocket-protocol"];
    tunnelResponses.add(upgrade.request);
    tunnelServer.handleUpgrade(upgrade.request, upgrade.socket, upgrade.head, (webSocket) => serveTunnel(webSocket, target, upgrade));
    return;
  }
  if (kind !== "spdy/3.1") throw newBadRequest(`pods/portforward takes WebSocket (${tunnelProtocol}) or SPDY/3.1, not ${kind}`);
  upgrade.socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${portForwardProtocol}\r\n\r\n`,
  );
  const transport: SpdyTransport = { write: (bytes) => void upgrade.socket.write(bytes), close: () => upgrade.socket.end() };
  const spdy = forwarder(transport, target, upgrade);
  if (upgrade.head.length > 0) spdy.received(upgrade.head);
  upgrade.socket.on("data", (bytes: Buffer) => spdy.received(bytes));
  upgrade.socket.on("close", () => spdy.close());
}

function serveTunnel(webSocket: WebSocket, target: PodTarget, upgrade: PortForwardUpgrade): void {
  const transport: SpdyTransport = {
    write: (bytes) => {
      if (webSocket.readyState === webSocket.OPEN) webSocket.send(bytes, { binary: true });
    },
    close: () => webSocket.close(1000),
  };
  const spdy = forwarder(transport, target, upgrade);
  webSocket.on("message", (message: Buffer) => spdy.received(message));
  webSocket.on("close", () => spdy.close());
  webSocket.on("error", () => spdy.close());
}

/** The SPDY session whose stream pairs become node sessions. */
function forwarder(transport: SpdyTransport, target: PodTarget, upgrade: PortForwardUpgrade): { received: (bytes: Buffer) => void; close: () => void } {
  const pairs = new Map<string, Pair>();
  const byStream = new Map<number, string>();
  const closeAll = (): void => {
    for (const pair of pairs.values()) {
      pair.abandoned = true;
      pair.session?.close("the port-forward connection closed");
    }
    pairs.clear();
  };
  const spdy: SpdyServerSession = new SpdyServerSession(
    { write: (bytes) => transport.write(bytes), close: () => (closeAll(), transport.close()) },
    {
      onStream: (streamId, headers) => {
        const requestId = headers.get("requestid") ?? String(streamId);
        const port = headers.get("port") ?? "";
        if (!pairs.has(requestId) && pairs.size >= pairsPerConnectionMax) return spdy.send(streamId, Buffer.alloc(0), true);
        const pair = pairs.get(requestId) ?? { port };
        pairs.set(requestId, pair);
        byStream.set(streamId, requestId);
        if (headers.get("streamtype") === "error") pair.errorStream = streamId;
        else pair.dataStream = streamId;
        if (pair.opening !== true && pair.dataStream !== undefined) {
          pair.opening = true;
          pair.waiting = [];
          openPair(spdy, pair, target, upgrade, () => pairs.delete(requestId));
        }
      },
      onData: (streamId, data) => {
        const pair = pairs.get(byStream.get(streamId) ?? "");
        if (pair === undefined || streamId !== pair.dataStream || toNode(pair, 0, data)) return;
        pair.abandoned = true;
        spdy.send(streamId, Buffer.alloc(0), true);
      },
      onStreamEnd: (streamId, reset) => {
        const pair = pairs.get(byStream.get(streamId) ?? "");
        if (pair === undefined || streamId !== pair.dataStream) return;
        if (!reset) toNode(pair, clientClosedChannel, Buffer.from([0]));
        else if (pair.session !== undefined) pair.session.close("the client reset the stream");
        else pair.abandoned = true;
      },
    },
  );
  return { received: (bytes) => spdy.received(bytes), close: () => spdy.close() };
}

/**
 * Opens the pair's node session (possibly through another replica, so asynchronously). Data the
 * client sends meanwhile waits in `pair.waiting`, at most `waitingBytesMax`; more ends the pair (its data stream is closed and the session, once open, with it).
 */
function openPair(spdy: SpdyServerSession, pair: Pair, target: PodTarget, upgrade: PortForwardUpgrade, forget: () => void): void {
  const parameters = new Map([["port", [pair.port]]]);
  const endStreams = (error: string | undefined): void => {
    if (error !== undefined && pair.errorStream !== undefined) spdy.send(pair.errorStream, Buffer.from(error));
    if (pair.errorStream !== undefined) spdy.send(pair.errorStream, Buffer.alloc(0), true);
    if (pair.dataStream !== undefined) spdy.send(pair.dataStream, Buffer.alloc(0), true);
    forget();
  };
  openNodeSession(target, { kind: "portforward", namespace: upgrade.path.namespace, podName: upgrade.path.name, container: "", parameters }).then(
    (session) => {
      if (pair.abandoned === true) {
        session.close("the port-forward connection closed");
        forget();
        return;
      }
      pair.session = session;
      session.onData((channel, data) => {
        if (channel === 0 && pair.dataStream !== undefined) spdy.send(pair.dataStream, data);
        else if (channel === 1 && pair.errorStream !== undefined) spdy.send(pair.errorStream, data);
      });
      session.onClose(endStreams);
      for (const [channel, data] of pair.waiting ?? []) session.send(channel, data);
      pair.waiting = undefined;
    },
    (error: unknown) => endStreams(error instanceof Error ? error.message : String(error)),
  );
}
