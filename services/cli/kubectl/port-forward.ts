/**
 * `flotilla port-forward pod/NAME|deploy/NAME|svc/NAME|NAME [LOCAL:]REMOTE... [--address A]`:
 * listens locally and carries each local connection to the pod over pods/portforward, SPDY/3.1
 * on the upgraded HTTPS connection (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version:
 * portforward.k8s.io`, the fallback kubectl itself keeps; `ws` refuses the "/" of the tunnelled
 * WebSocket subprotocol on the client side too). Per local connection, as kubectl: an error stream
 * and a data stream sharing a requestID and the remote port. A service's port is translated to
 * its pods' target port, a named port to the container's.
 */
import { request } from "node:https";
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Pod } from "../../../libs/api/index.ts";
import { runVerb, type CliContext } from "./context.ts";
import { flagList, UsageError, type FlagSpec, type ParsedArgs } from "./flags.ts";
import { podFor } from "./pods.ts";
import { readAll, statusErrorOf } from "./raw.ts";
import { resolveOne } from "./resources.ts";
import { SpdyClientSession } from "../../../libs/spdy/index.ts";

export const portForwardFlags: FlagSpec = { values: ["address", "pod-running-timeout"] };

/** Local connections one forward carries at once (the server's bound per SPDY connection). */
export const localConnectionsMax = 128;

export interface PortPair {
  /** 0: any free port. */
  readonly local: number;
  /** A number or a port name. */
  readonly remote: string;
}

export function parsePortPairs(args: readonly string[]): PortPair[] {
  if (args.length === 0) throw new UsageError("TYPE/NAME and list of ports are required for port-forward");
  return args.map((arg) => {
    const [localText = "", remoteText] = arg.includes(":") ? arg.split(":", 2) : [arg, arg];
    const remote = remoteText ?? "";
    const local = localText === "" ? 0 : Number(localText);
    if (!Number.isInteger(local) || local < 0 || local > 65535) throw new UsageError(`Error parsing local port '${localText}': not a port number`);
    if (remote === "") throw new UsageError(`Error parsing remote port in '${arg}'`);
    return { local, remote };
  });
}

interface ServicePort {
  port?: number;
  name?: string;
  targetPort?: number | string;
}

function containerPort(pod: Pod, name: string): number {
  for (const container of pod.spec?.containers ?? []) {
    const found = (container.ports ?? []).find((port) => port.name === name);
    if (found !== undefined) return found.containerPort;
  }
  throw new UsageError(`Pod '${pod.metadata.name ?? ""}' does not have a named port '${name}'`);
}

/** The pod's port a remote port of the target means (services translate to their target port). */
export async function podPort(context: CliContext, target: string, pod: Pod, remote: string): Promise<number> {
  const slash = target.indexOf("/");
  if (slash > 0 && resolveOne(target.slice(0, slash)).resource === "services") {
    const service = await context.client.get<{ metadata: { name?: string }; spec?: { ports?: ServicePort[] } }>(resolveOne("services"), context.namespace, target.slice(slash + 1));
    const port = (service.spec?.ports ?? []).find((candidate) => String(candidate.port) === remote || candidate.name === remote);
    if (port === undefined) throw new UsageError(`Service ${service.metadata.name ?? ""} does not have a service port ${remote}`);
    const targetPort = port.targetPort ?? port.port ?? 0;
    return typeof targetPort === "number" ? targetPort : /^\d+$/.test(targetPort) ? Number(targetPort) : containerPort(pod, targetPort);
  }
  return /^\d+$/.test(remote) ? Number(remote) : containerPort(pod, remote);
}

/** The upgraded connection to pods/portforward. */
async function upgrade(context: CliContext, pod: Pod): Promise<Duplex> {
  const raw = context.raw;
  if (raw === undefined) throw new UsageError("port-forward needs a connection to the API server");
  const server = raw.serverUrl;
  const tls = raw.tlsOptions();
  const path = `/api/v1/namespaces/${encodeURIComponent(context.namespace)}/pods/${encodeURIComponent(pod.metadata.name ?? "")}/portforward`;
  const headers = { ...tls.headers, Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": "portforward.k8s.io" };
  return new Promise((resolve, reject) => {
    const outgoing = request({ method: "POST", host: server.hostname, port: server.port, path, ...tls, headers });
    outgoing.on("upgrade", (_response, socket) => resolve(socket));
    outgoing.on("response", (response) => {
      readAll(response).then((body) => reject(statusErrorOf(response.statusCode ?? 0, body)), reject);
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

interface Forward {
  readonly spdy: SpdyClientSession;
  readonly sockets: Map<number, Socket>;
  readonly errorStreams: Map<number, string>;
  requestId: number;
}

function carry(context: CliContext, forward: Forward, socket: Socket, pair: PortPair, local: number, remote: number): void {
  context.stdout.write(`Handling connection for ${local}\n`);
  if (forward.sockets.size >= localConnectionsMax * 2) {
    socket.destroy();
    return;
  }
  const requestId = String(forward.requestId++);
  const errorStream = forward.spdy.open(new Map([["streamtype", "error"], ["port", String(remote)], ["requestid", requestId]]));
  const dataStream = forward.spdy.open(new Map([["streamtype", "data"], ["port", String(remote)], ["requestid", requestId]]));
  forward.sockets.set(dataStream, socket);
  forward.errorStreams.set(errorStream, `${pair.local === 0 ? local : pair.local} -> ${remote}`);
  socket.on("data", (chunk: Buffer) => forward.spdy.send(dataStream, chunk));
  socket.on("end", () => forward.spdy.send(dataStream, Buffer.alloc(0), true));
  socket.on("error", () => socket.destroy());
  socket.on("close", () => forward.sockets.delete(dataStream));
}

async function listen(address: string, port: number): Promise<Server | undefined> {
  // Half-open: a client that has sent everything still reads the answer, as through kubectl.
  const server = createServer({ allowHalfOpen: true });
  return new Promise((resolve) => {
    server.once("error", () => resolve(undefined));
    server.listen(port, address, () => resolve(server));
  });
}

/** Listeners for one pair on each address (localhost: 127.0.0.1 and ::1, as kubectl). */
async function listenersFor(context: CliContext, addresses: readonly string[], pair: PortPair, remote: number): Promise<Server[]> {
  const servers: Server[] = [];
  let port = pair.local;
  for (const address of addresses.flatMap((item) => (item === "localhost" ? ["127.0.0.1", "::1"] : [item]))) {
    const server = await listen(address, port);
    if (server === undefined) continue;
    const bound = server.address();
    port = typeof bound === "object" && bound !== null ? bound.port : port;
    context.stdout.write(`Forwarding from ${address.includes(":") ? `[${address}]` : address}:${port} -> ${remote}\n`);
    servers.push(server);
  }
  if (servers.length === 0) throw new Error(`unable to listen on any of the requested ports: [{${pair.local} ${remote}}]`);
  return servers;
}

async function portForward(context: CliContext, parsed: ParsedArgs): Promise<number> {
  const [target, ...portArgs] = parsed.positionals;
  if (target === undefined) throw new UsageError("TYPE/NAME and list of ports are required for port-forward");
  const pairs = parsePortPairs(portArgs);
  const pod = await podFor(context, target);
  if (pod.status?.phase !== "Running") throw new Error(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? "Unknown"}`);
  const remotes = await Promise.all(pairs.map(async (pair) => podPort(context, target, pod, pair.remote)));
  const connection = await upgrade(context, pod);
  const listeners: Server[] = [];
  const done = new Promise<number>((resolve) => {
    const forward: Forward = {
      spdy: new SpdyClientSession((bytes) => void connection.write(bytes), {
        onData: (streamId, data) => {
          const socket = forward.sockets.get(streamId);
          if (socket !== undefined) socket.write(data);
          else if (forward.errorStreams.has(streamId)) context.stderr.write(`error: an error occurred forwarding ${forward.errorStreams.get(streamId) ?? ""}: ${data.toString("utf8")}\n`);
        },
        onStreamEnd: (streamId, reset) => {
          const socket = forward.sockets.get(streamId);
          if (reset) socket?.destroy();
          else socket?.end();
        },
        onClose: () => resolve(context.signal.aborted ? 0 : 1),
      }),
      sockets: new Map(),
      errorStreams: new Map(),
      requestId: 0,
    };
    connection.on("data", (bytes: Buffer) => forward.spdy.received(bytes));
    connection.on("close", () => {
      if (!context.signal.aborted) context.stderr.write("error: lost connection to pod\n");
      forward.spdy.close();
    });
    connection.on("error", () => connection.destroy());
    context.signal.addEventListener("abort", () => connection.destroy(), { once: true });
    const addresses = flagList(parsed, "address");
    pairs.forEach((pair, index) => {
      const remote = remotes[index] ?? 0;
      listenersFor(context, addresses.length === 0 ? ["localhost"] : addresses, pair, remote).then(
        (servers) => {
          listeners.push(...servers);
          for (const server of servers) server.on("connection", (socket: Socket) => carry(context, forward, socket, pair, (server.address() as { port: number }).port, remote));
        },
        (error: unknown) => {
          context.stderr.write(`error: ${(error as Error).message}\n`);
          connection.destroy();
        },
      );
    });
  });
  const code = await done;
  for (const server of listeners) server.close();
  return code;
}

export async function main(args: readonly string[]): Promise<number> {
  return runVerb(args, portForwardFlags, portForward);
}

export { portForward };
