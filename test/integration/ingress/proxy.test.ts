/**
 * The ingress proxy on loopback: two backend HTTP servers stand in for the endpoints of two
 * Services; requests go through the proxy over HTTP and HTTPS (certificates from a libs/pki test
 * CA, verified by the client with SNI).
 */
import { once } from "node:events";
import http from "node:http";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { EndpointSlice, Ingress, Secret, Service } from "../../../libs/api/index.ts";
import { createCa, servingProfile } from "../../../libs/pki/index.ts";
import { IngressProxy } from "../../../services/ingress/index.ts";
import { waitFor } from "../../harness/wait.ts";

interface Echo {
  backend: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

interface Backend {
  readonly name: string;
  readonly server: http.Server;
  port: number;
  /** Ends the open /slow responses. */
  readonly slowFinishers: (() => void)[];
}

async function startBackend(name: string): Promise<Backend> {
  const slowFinishers: (() => void)[] = [];
  const server = http.createServer((request, response) => {
    if (request.url?.endsWith("/slow") === true) {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write(`${name}:first;`);
      slowFinishers.push(() => response.end(`${name}:last`));
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body: Echo & { body: string } = { backend: name, url: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString() };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    });
  });
  const sockets = new WebSocketServer({ server });
  sockets.on("connection", (socket) => socket.on("message", (data: Buffer) => socket.send(`${name} echoes ${data.toString()}`)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { name, server, port: (server.address() as AddressInfo).port, slowFinishers };
}

function service(name: string, port: { name?: string; port: number; targetPort: number | string }): Service {
  return { metadata: { name, namespace: "web" }, spec: { ports: [port] } };
}

function slice(serviceName: string, portName: string | undefined, port: number, ready = true): EndpointSlice {
  return {
    metadata: { name: `${serviceName}-abc`, namespace: "web", labels: { "kubernetes.io/service-name": serviceName } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready } }],
    ports: [{ ...(portName === undefined ? {} : { name: portName }), port, protocol: "TCP" }],
  };
}

function tlsSecret(name: string, certificatePem: string, keyPem: string): Secret {
  return {
    metadata: { name, namespace: "web", resourceVersion: "1" },
    type: "kubernetes.io/tls",
    data: { "tls.crt": Buffer.from(certificatePem).toString("base64"), "tls.key": Buffer.from(keyPem).toString("base64") },
  };
}

/** a.test: / → one, /api → two; b.test: / → two; empty.test → a service with no ready endpoint. */
function siteIngress(apiService: "one" | "two"): Ingress {
  const to = (name: string, port: { number: number } | { name: string }) => ({ service: { name, port } });
  return {
    metadata: { name: "site", namespace: "web", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: {
      tls: [
        { hosts: ["a.test"], secretName: "a-cert" },
        { hosts: ["b.test"], secretName: "b-cert" },
      ],
      rules: [
        { host: "a.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: to("one", { name: "http" }) }, { path: "/api", pathType: "Prefix", backend: apiService === "one" ? to("one", { name: "http" }) : to("two", { number: 8080 }) }] } },
        { host: "b.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: to("two", { number: 8080 }) }] } },
        { host: "empty.test", http: { paths: [{ path: "/", pathType: "Exact", backend: to("empty", { number: 80 }) }] } },
      ],
    },
  };
}

interface Reply {
  status: number;
  body: string;
  reusedSocket: boolean;
  peerCommonName?: string;
}

function request(options: https.RequestOptions & { secure?: boolean }, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { secure, ...rest } = options;
    const outgoing = secure === true ? https.request(rest) : http.request(rest);
    outgoing.on("error", reject);
    outgoing.on("response", (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      const peer = secure === true ? (response.socket as TLSSocket).getPeerCertificate() : undefined;
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const reply: Reply = { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), reusedSocket: outgoing.reusedSocket };
        if (peer?.subject?.CN !== undefined) reply.peerCommonName = String(peer.subject.CN);
        resolve(reply);
      });
    });
    outgoing.end(body);
  });
}

describe("ingress proxy on loopback", () => {
  const proxy = new IngressProxy();
  let one: Backend;
  let two: Backend;
  let httpPort = 0;
  let httpsPort = 0;
  let caPem = "";

  beforeAll(async () => {
    one = await startBackend("one");
    two = await startBackend("two");
    const nowMs = Date.now();
    const ca = await createCa({ nowMs, commonName: "ingress-test-ca" });
    caPem = ca.certificatePem;
    const aCert = await ca.issue(servingProfile("a.test", ["a.test"]), nowMs);
    const bCert = await ca.issue(servingProfile("b.test", ["b.test"]), nowMs);
    proxy.upsertService(service("one", { name: "http", port: 80, targetPort: "web" }));
    proxy.upsertService(service("two", { port: 8080, targetPort: two.port }));
    proxy.upsertService(service("empty", { port: 80, targetPort: 80 }));
    proxy.upsertEndpointSlice(slice("one", "http", one.port));
    proxy.upsertEndpointSlice(slice("two", undefined, two.port));
    proxy.upsertEndpointSlice(slice("empty", undefined, 80, false));
    proxy.upsertSecret(tlsSecret("a-cert", aCert.certificatePem, aCert.privateKeyPem));
    proxy.upsertSecret(tlsSecret("b-cert", bCert.certificatePem, bCert.privateKeyPem));
    proxy.upsertIngress(siteIngress("two"));
    ({ httpPort, httpsPort } = await proxy.listen({ httpPort: 0, httpsPort: 0, host: "127.0.0.1" }));
  });

  afterAll(async () => {
    await proxy.close();
    for (const backend of [one, two]) {
      backend.server.closeAllConnections();
      await new Promise<void>((resolve) => backend.server.close(() => resolve()));
    }
  });

  const plain = (host: string, path: string) => request({ host: "127.0.0.1", port: httpPort, path, headers: { host }, agent: false });
  const secure = (host: string, path: string) => request({ secure: true, host: "127.0.0.1", port: httpsPort, path, servername: host, ca: caPem, headers: { host }, agent: false });

  it("routes two hosts and two paths to the right backends over HTTP and HTTPS", async () => {
    for (const send of [plain, secure]) {
      const routes: [string, string, string][] = [
        ["a.test", "/", "one"],
        ["a.test", "/index.html", "one"],
        ["a.test", "/api/users", "two"],
        ["b.test", "/anything", "two"],
      ];
      for (const [host, path, backend] of routes) {
        const reply = await send(host, path);
        expect(reply.status, `${host}${path}`).toBe(200);
        const echo = JSON.parse(reply.body) as Echo;
        expect([echo.backend, echo.url]).toEqual([backend, path]);
      }
    }
  });

  it("picks the certificate by SNI, verified against the test CA", async () => {
    expect((await secure("a.test", "/")).peerCommonName).toBe("a.test");
    expect((await secure("b.test", "/")).peerCommonName).toBe("b.test");
    // An unknown name gets the default (first) certificate; the chain still verifies.
    const unknown = await request({ secure: true, host: "127.0.0.1", port: httpsPort, path: "/", servername: "other.test", ca: caPem, headers: { host: "a.test" }, agent: false, checkServerIdentity: () => undefined });
    expect(unknown.peerCommonName).toBe("a.test");
    const noServerName = await request({ secure: true, host: "127.0.0.1", port: httpsPort, path: "/", servername: "", ca: caPem, headers: { host: "b.test" }, agent: false, checkServerIdentity: () => undefined });
    expect([noServerName.peerCommonName, (JSON.parse(noServerName.body) as Echo).backend]).toEqual(["a.test", "two"]);
  });

  it("sets the forwarding headers and streams a request body through", async () => {
    const reply = await request(
      { host: "127.0.0.1", port: httpsPort, path: "/echo", method: "POST", secure: true, servername: "a.test", ca: caPem, headers: { host: "a.test", "x-forwarded-for": "6.6.6.6" }, agent: false },
      "hello body",
    );
    const echo = JSON.parse(reply.body) as Echo & { body: string };
    expect(echo.body).toBe("hello body");
    expect(echo.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(echo.headers["x-real-ip"]).toBe("127.0.0.1");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-host"]).toBe("a.test");
    expect(echo.headers["x-forwarded-port"]).toBe(String(httpsPort));
    expect(echo.headers.host).toBe("a.test");
  });

  it("answers 404 when no rule matches and 503 when the backend has no ready endpoint", async () => {
    expect((await plain("unknown.test", "/")).status).toBe(404);
    expect((await plain("empty.test", "/")).status).toBe(503);
    expect((await plain("empty.test", "/deeper")).status).toBe(404);
  });

  it("a route change keeps a keep-alive connection and a slow streaming response working", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await request({ host: "127.0.0.1", port: httpPort, path: "/api/x", headers: { host: "a.test" }, agent });
      expect((JSON.parse(before.body) as Echo).backend).toBe("two");
      // A slow response from backend two, on the very route that changes, is open meanwhile.
      const slow = http.get({ host: "127.0.0.1", port: httpPort, path: "/api/slow", headers: { host: "a.test" }, agent: false });
      const [slowResponse] = (await once(slow, "response")) as [IncomingMessage];
      const received: Buffer[] = [];
      slowResponse.on("data", (chunk: Buffer) => received.push(chunk));
      await waitFor(() => (Buffer.concat(received).toString() === "two:first;" ? true : undefined), { timeoutMs: 5000, description: "the slow response's first chunk" });

      proxy.upsertIngress(siteIngress("one"));
      const after = await request({ host: "127.0.0.1", port: httpPort, path: "/api/x", headers: { host: "a.test" }, agent });
      expect(after.reusedSocket).toBe(true);
      expect((JSON.parse(after.body) as Echo).backend).toBe("one");

      for (const finish of two.slowFinishers.splice(0)) finish();
      await once(slowResponse, "end");
      expect(Buffer.concat(received).toString()).toBe("two:first;two:last");
    } finally {
      agent.destroy();
      proxy.upsertIngress(siteIngress("two"));
    }
  });

  it("passes a WebSocket upgrade through to the backend", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { headers: { host: "a.test" } });
    try {
      await once(socket, "open");
      socket.send("ping");
      const [message] = (await once(socket, "message")) as [Buffer];
      expect(message.toString()).toBe("one echoes ping");
    } finally {
      socket.close();
    }
  });

  it("round-robins across the ready endpoints of a service and follows endpoint changes", async () => {
    const pairSlice = (name: string, port: number, ready: boolean): EndpointSlice => ({ ...slice("pair", undefined, port, ready), metadata: { name, namespace: "web", labels: { "kubernetes.io/service-name": "pair" } } });
    proxy.upsertService(service("pair", { port: 80, targetPort: 80 }));
    proxy.upsertEndpointSlice(pairSlice("pair-1", one.port, true));
    proxy.upsertEndpointSlice(pairSlice("pair-2", two.port, true));
    proxy.upsertIngress({ metadata: { name: "pair", namespace: "web" }, spec: { rules: [{ host: "pair.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "pair", port: { number: 80 } } } }] } }] } });
    try {
      const backends: string[] = [];
      for (let round = 0; round < 4; round++) backends.push((JSON.parse((await plain("pair.test", "/")).body) as Echo).backend);
      expect(backends.sort()).toEqual(["one", "one", "two", "two"]);
      proxy.upsertEndpointSlice(pairSlice("pair-1", one.port, false));
      for (let round = 0; round < 2; round++) expect((JSON.parse((await plain("pair.test", "/")).body) as Echo).backend).toBe("two");
      proxy.deleteEndpointSlice("web", "pair-2");
      expect((await plain("pair.test", "/")).status).toBe(503);
    } finally {
      proxy.deleteIngress("web", "pair");
    }
  });

  it("relays a backend whose headers end in a bare LF (busybox httpd's CGI answers), as nginx does", async () => {
    const lenient = createTcpServer((socket) => {
      socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\n\nfrom cgi\n"));
    });
    lenient.listen(0, "127.0.0.1");
    await once(lenient, "listening");
    const port = (lenient.address() as AddressInfo).port;
    proxy.upsertService(service("cgi", { port: 80, targetPort: port }));
    proxy.upsertEndpointSlice(slice("cgi", undefined, port));
    proxy.upsertIngress({ metadata: { name: "cgi", namespace: "web" }, spec: { rules: [{ host: "cgi.test", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "cgi", port: { number: 80 } } } }] } }] } });
    try {
      const reply = await plain("cgi.test", "/cgi-bin/x");
      expect([reply.status, reply.body]).toEqual([200, "from cgi\n"]);
    } finally {
      proxy.deleteIngress("web", "cgi");
      lenient.close();
    }
  });

  it("refuses a WebSocket upgrade with 404 when no rule matches", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { headers: { host: "unknown.test" } });
    const [upgradeRequest, response] = (await once(socket, "unexpected-response")) as [http.ClientRequest, IncomingMessage];
    expect(response.statusCode).toBe(404);
    // ws leaves an unexpected response to the caller, who ends the request.
    upgradeRequest.destroy();
  });
});
