/**
 * Test helpers: a TLS server on 127.0.0.1 that greets each client with the identity it verified,
 * and a client that returns what the server said or the error that stopped it.
 */
import { connect, createServer } from "node:tls";
import type { ConnectionOptions, PeerCertificate, TLSSocket, TlsOptions } from "node:tls";
import type { AddressInfo } from "node:net";

export const tlsTestTimeoutMs = 5_000;

export interface TestTlsServer {
  readonly port: number;
  close(): Promise<void>;
}

function describePeer(socket: TLSSocket): string {
  if (!socket.authorized) {
    // Only a server that does not reject unauthorized clients gets here with a reason to show.
    const reason: unknown = socket.authorizationError;
    const code = reason instanceof Error ? ((reason as NodeJS.ErrnoException).code ?? reason.message) : reason;
    return code === null || code === undefined ? "anonymous" : `anonymous (${String(code)})`;
  }
  const peer: PeerCertificate = socket.getPeerCertificate();
  const organizations = peer.subject.O;
  const organization = Array.isArray(organizations) ? organizations.join("+") : (organizations ?? "");
  return `CN=${peer.subject.CN} O=${organization}`;
}

/** Starts a TLS server that writes `hello <peer>` and closes; a port of 0 picks a free one. */
export async function startTlsServer(options: TlsOptions): Promise<TestTlsServer> {
  const sockets = new Set<TLSSocket>();
  const server = createServer(options, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.end(`hello ${describePeer(socket)}\n`);
  });
  // Handshake failures are what several tests provoke; the clients' side is what they check.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Connects, reads until the server closes, and returns the text; rejects on any TLS error. A
 * server that refuses a client certificate under TLS 1.3 may just close: the text is then empty.
 */
export async function tlsGreeting(options: ConnectionOptions): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", ...options });
    let text = "";
    socket.setTimeout(tlsTestTimeoutMs, () => socket.destroy(new Error(`no answer within ${tlsTestTimeoutMs} ms`)));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.once("end", () => {
      socket.destroy();
      resolve(text);
    });
  });
}
