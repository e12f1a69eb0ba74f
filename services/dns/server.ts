/**
 * The DNS server's sockets: one UDP socket and one TCP listener on the same address and port,
 * both handing messages to a Responder. TCP carries RFC 1035's 2-byte length prefix, several
 * queries per connection, bounded in connections, bytes and idle time.
 */
import dgram from "node:dgram";
import net from "node:net";
import type { Logger } from "../../libs/log/index.ts";
import type { Responder } from "./responder.ts";

/** Open TCP connections at most; more are closed at once. */
export const tcpConnectionsMax = 256;
/** A TCP connection idle this long is closed (RFC 7766 suggests seconds, not minutes). */
export const tcpIdleMs = 10_000;
/** Bytes buffered for one TCP connection at most: a length prefix plus the largest message. */
const tcpBufferBytesMax = 2 + 65_535;

export interface DnsServerOptions {
  /** An IPv4 or IPv6 address to bind, e.g. the node's cluster DNS address or 127.0.0.1. */
  host: string;
  /** 53 in production; 0 picks a free port (tests). */
  port: number;
  responder: Responder;
  log: Logger;
}

export interface DnsServer {
  /** The port both sockets listen on (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const tcp = await listenTcp(options);
  const port = (tcp.address() as net.AddressInfo).port;
  let udp: dgram.Socket;
  try {
    udp = await bindUdp(options, port);
  } catch (error) {
    tcp.close();
    throw new Error(`bind UDP ${options.host}:${port}`, { cause: error });
  }
  return {
    port,
    close: async () => {
      await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), closeTcp(tcp)]);
    },
  };
}

async function bindUdp(options: DnsServerOptions, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket(net.isIPv6(options.host) ? "udp6" : "udp4");
  socket.on("message", (message, remote) => {
    options.responder.answer(message, "udp").then(
      (reply) => {
        if (reply !== undefined) socket.send(reply, remote.port, remote.address);
      },
      (error: unknown) => options.log.warn({ err: error }, "dns: answering a UDP query failed"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, options.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", (error) => options.log.warn({ err: error }, "dns: UDP socket error"));
  return socket;
}

async function listenTcp(options: DnsServerOptions): Promise<net.Server> {
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    if (connections.size >= tcpConnectionsMax) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
    serveTcpConnection(socket, options);
  });
  server.on("close", () => {
    for (const socket of connections) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

function serveTcpConnection(socket: net.Socket, options: DnsServerOptions): void {
  let buffered = Buffer.alloc(0);
  socket.setTimeout(tcpIdleMs, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length > tcpBufferBytesMax) {
      socket.destroy();
      return;
    }
    for (;;) {
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) return;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      answerTcp(socket, message, options);
    }
  });
}

function answerTcp(socket: net.Socket, message: Buffer, options: DnsServerOptions): void {
  options.responder.answer(message, "tcp").then(
    (reply) => {
      if (reply === undefined || socket.destroyed) return;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(reply.length);
      socket.write(Buffer.concat([prefix, reply]));
    },
    (error: unknown) => options.log.warn({ err: error }, "dns: answering a TCP query failed"),
  );
}

function closeTcp(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
