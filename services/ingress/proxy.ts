/**
 * The ingress proxy every agent runs: HTTP and HTTPS listeners that route each request through
 * the current RouteTable to a ready endpoint of the backend Service (round-robin), streaming
 * bodies both ways and passing WebSocket upgrades through. Object changes rebuild the table and
 * swap it; a request already routed keeps going, and the next request on a keep-alive
 * connection is routed by the new table.
 */
import http from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { SecureContext } from "node:tls";
import type { EndpointSlice, Ingress, IngressClass, Secret, Service } from "../../libs/api/index.ts";
import { buildRouteTable, RouteTable, serviceNameLabel } from "./routes.ts";
import type { ProxyState, ResolvedBackend, TlsCertificate, Upstream } from "./routes.ts";

/** Idle sockets kept per upstream for reuse. */
export const upstreamIdleSocketsMax = 64;
/** Concurrent sockets per upstream; more requests wait in the agent's queue. */
export const upstreamSocketsMax = 1024;
/** A connection to an upstream that stays silent this long is cut (a 504 if nothing was sent yet). */
export const upstreamIdleTimeoutMs = 60_000;
/** Secure contexts kept across table swaps (keyed by secret and resourceVersion). */
export const secureContextsMax = 4096;

/** Hop-by-hop headers (RFC 9110 7.6.1) never forwarded; Upgrade is re-added for upgrades. */
const hopByHopHeaders = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

export interface ListenOptions {
  /** Port 0 picks a free port (tests); leave a protocol out of `serve` to not listen for it. */
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly host?: string;
  /** Which listeners to open (default both): the agent's --ingress-*-port 0 turns one off. */
  readonly serve?: readonly ("http" | "https")[];
}

/** The bound ports; 0 for a protocol not served. */
export interface BoundPorts {
  readonly httpPort: number;
  readonly httpsPort: number;
}

function keyOf(object: { metadata: { namespace?: string; name?: string } }): string {
  return `${object.metadata.namespace ?? "default"}/${object.metadata.name ?? ""}`;
}

export class IngressProxy {
  readonly #ingresses = new Map<string, Ingress>();
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, Map<string, EndpointSlice>>();
  readonly #secrets = new Map<string, Secret>();
  readonly #classes = new Map<string, IngressClass>();
  #table: RouteTable = RouteTable.empty();
  #stale = false;
  /** Round-robin positions by backend key; outlive table swaps so a change does not reset them. */
  readonly #nextUpstream = new Map<string, number>();
  readonly #secureContexts = new Map<string, SecureContext>();
  readonly #agent = new http.Agent({ keepAlive: true, maxFreeSockets: upstreamIdleSocketsMax, maxSockets: upstreamSocketsMax });
  readonly #upgraded = new Set<Duplex>();
  #httpServer: http.Server | undefined;
  #httpsServer: https.Server | undefined;

  /** The table requests are routed by now (immutable; replaced on change). */
  get table(): RouteTable {
    return this.#current();
  }

  upsertIngress(ingress: Ingress): void {
    this.#ingresses.set(keyOf(ingress), ingress);
    this.#rebuild();
  }

  deleteIngress(namespace: string, name: string): void {
    if (this.#ingresses.delete(`${namespace}/${name}`)) this.#rebuild();
  }

  upsertService(service: Service): void {
    this.#services.set(keyOf(service), service);
    this.#rebuild();
  }

  deleteService(namespace: string, name: string): void {
    if (this.#services.delete(`${namespace}/${name}`)) this.#rebuild();
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const serviceName = slice.metadata.labels?.[serviceNameLabel];
    if (serviceName === undefined) return;
    const namespace = slice.metadata.namespace ?? "default";
    // A slice re-labelled to another service must leave its old one.
    this.#removeSlice(namespace, slice.metadata.name ?? "");
    const key = `${namespace}/${serviceName}`;
    let slices = this.#slices.get(key);
    if (slices === undefined) {
      slices = new Map();
      this.#slices.set(key, slices);
    }
    slices.set(slice.metadata.name ?? "", slice);
    this.#rebuild();
  }

  deleteEndpointSlice(namespace: string, name: string): void {
    if (this.#removeSlice(namespace, name)) this.#rebuild();
  }

  upsertSecret(secret: Secret): void {
    this.#secrets.set(keyOf(secret), secret);
    this.#rebuild();
  }

  /** IngressClasses decide which Ingresses are ours (see isOurIngress). */
  upsertIngressClass(ingressClass: IngressClass): void {
    this.#classes.set(ingressClass.metadata.name ?? "", ingressClass);
    this.#rebuild();
  }

  deleteIngressClass(name: string): void {
    if (this.#classes.delete(name)) this.#rebuild();
  }

  deleteSecret(namespace: string, name: string): void {
    if (this.#secrets.delete(`${namespace}/${name}`)) this.#rebuild();
  }

  #removeSlice(namespace: string, name: string): boolean {
    for (const [key, slices] of this.#slices) {
      if (!key.startsWith(`${namespace}/`) || !slices.delete(name)) continue;
      if (slices.size === 0) this.#slices.delete(key);
      return true;
    }
    return false;
  }

  /**
   * Marks the table stale. The rebuild runs once for a burst of changes (a resync delivers
   * thousands of objects in one go): at the end of the current task, or at the next lookup.
   */
  #rebuild(): void {
    if (this.#stale) return;
    this.#stale = true;
    queueMicrotask(() => this.#current());
  }

  /** The table to route by, rebuilt first if a change is pending. */
  #current(): RouteTable {
    if (!this.#stale) return this.#table;
    this.#stale = false;
    const state: ProxyState = { ingresses: [...this.#ingresses.values()], services: this.#services, slices: this.#slices, secrets: this.#secrets, classes: this.#classes };
    this.#table = buildRouteTable(state);
    this.#applyDefaultCertificate();
    return this.#table;
  }

  /** The certificate for clients that send no SNI name or an unknown one. */
  #applyDefaultCertificate(): void {
    const certificate = this.#table.defaultCertificate;
    if (this.#httpsServer === undefined || certificate === undefined) return;
    try {
      this.#httpsServer.setSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
    } catch {
      // A malformed default keeps the previous one; SNI lookups still serve valid names.
    }
  }

  #secureContextFor(certificate: TlsCertificate): SecureContext | undefined {
    const cached = this.#secureContexts.get(certificate.key);
    if (cached !== undefined) return cached;
    let context: SecureContext;
    try {
      context = tls.createSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
    } catch {
      return undefined;
    }
    if (this.#secureContexts.size >= secureContextsMax) this.#secureContexts.clear();
    this.#secureContexts.set(certificate.key, context);
    return context;
  }

  #sniCallback(serverName: string, callback: (error: Error | null, context?: SecureContext) => void): void {
    const table = this.#current();
    const certificate = table.certificateFor(serverName) ?? table.defaultCertificate;
    const context = certificate === undefined ? undefined : this.#secureContextFor(certificate);
    if (context === undefined) callback(new Error(`no certificate for ${serverName}`));
    else callback(null, context);
  }

  async listen(options: ListenOptions): Promise<BoundPorts> {
    const httpServer = http.createServer((request, response) => this.#handle(request, response, "http"));
    const httpsServer = https.createServer({ SNICallback: (name, callback) => this.#sniCallback(name, callback) }, (request, response) => this.#handle(request, response, "https"));
    httpServer.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(request, socket, head, "http"));
    httpsServer.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(request, socket, head, "https"));
    this.#httpServer = httpServer;
    this.#httpsServer = httpsServer;
    this.#current();
    this.#applyDefaultCertificate();
    const serve = options.serve ?? ["http", "https"];
    const httpPort = serve.includes("http") ? await listenOn(httpServer, options.httpPort, options.host) : 0;
    const httpsPort = serve.includes("https") ? await listenOn(httpsServer, options.httpsPort, options.host) : 0;
    return { httpPort, httpsPort };
  }

  /** Stops listening and cuts every connection, upgraded ones included. */
  async close(): Promise<void> {
    const servers = [this.#httpServer, this.#httpsServer].filter((server) => server !== undefined);
    this.#httpServer = undefined;
    this.#httpsServer = undefined;
    const closed = servers.filter((server) => server.listening).map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of servers) server.closeAllConnections();
    for (const socket of this.#upgraded) socket.destroy();
    this.#upgraded.clear();
    this.#agent.destroy();
    await Promise.all(closed);
  }

  #pick(backend: ResolvedBackend): Upstream | undefined {
    const count = backend.upstreams.length;
    if (count === 0) return undefined;
    const position = (this.#nextUpstream.get(backend.key) ?? 0) % count;
    this.#nextUpstream.set(backend.key, position + 1);
    return backend.upstreams[position];
  }

  #route(request: IncomingMessage): { status: 404 | 503 } | { upstream: Upstream } {
    const backend = this.#current().match(request.headers.host, request.url ?? "/");
    if (backend === undefined) return { status: 404 };
    const upstream = this.#pick(backend);
    return upstream === undefined ? { status: 503 } : { upstream };
  }

  #handle(request: IncomingMessage, response: ServerResponse, scheme: "http" | "https"): void {
    const routed = this.#route(request);
    if ("status" in routed) {
      request.resume();
      respondPlain(response, routed.status);
      return;
    }
    const upstreamRequest = http.request({
      host: routed.upstream.address,
      port: routed.upstream.port,
      method: request.method,
      path: request.url,
      headers: forwardedHeaders(request, scheme, false),
      agent: this.#agent,
      // Backends are lenient servers (busybox httpd sends CGI headers ending in a bare LF), as
      // nginx accepts them; clients of the proxy still meet Node's strict parser.
      insecureHTTPParser: true,
    });
    upstreamRequest.setTimeout(upstreamIdleTimeoutMs, () => upstreamRequest.destroy(new Error("upstream idle timeout")));
    upstreamRequest.on("response", (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.statusMessage, endToEndHeaders(upstreamResponse.headers));
      upstreamResponse.pipe(response);
      upstreamResponse.on("error", () => response.destroy());
    });
    upstreamRequest.on("error", (error) => {
      if (!response.headersSent) respondPlain(response, error.message === "upstream idle timeout" ? 504 : 502);
      else response.destroy();
    });
    // A client that goes away mid-request or mid-response releases the upstream too.
    response.on("close", () => {
      if (!response.writableFinished) upstreamRequest.destroy();
    });
    request.pipe(upstreamRequest);
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, scheme: "http" | "https"): void {
    // A client reset must not become an uncaught error; each path below closes what it opened.
    socket.on("error", () => socket.destroy());
    const routed = this.#route(request);
    if ("status" in routed) {
      socket.end(`HTTP/1.1 ${routed.status} ${http.STATUS_CODES[routed.status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.#track(socket);
    const upstreamRequest = http.request({
      host: routed.upstream.address,
      port: routed.upstream.port,
      method: request.method,
      path: request.url,
      headers: forwardedHeaders(request, scheme, true),
      agent: false,
      insecureHTTPParser: true,
    });
    upstreamRequest.on("upgrade", (upstreamResponse: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
      this.#track(upstreamSocket);
      socket.write(rawResponseHead(upstreamResponse));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
      upstreamSocket.on("error", () => socket.destroy());
      socket.on("error", () => upstreamSocket.destroy());
      socket.on("close", () => upstreamSocket.destroy());
      upstreamSocket.on("close", () => socket.destroy());
    });
    // The backend refused the upgrade: relay its answer and close.
    upstreamRequest.on("response", (upstreamResponse) => {
      socket.write(rawResponseHead(upstreamResponse, true));
      upstreamResponse.on("error", () => socket.destroy());
      upstreamResponse.pipe(socket);
    });
    upstreamRequest.on("error", () => socket.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    socket.on("error", () => upstreamRequest.destroy());
    upstreamRequest.end();
  }

  #track(socket: Duplex): void {
    this.#upgraded.add(socket);
    socket.on("close", () => this.#upgraded.delete(socket));
  }
}

function listenOn(server: http.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function respondPlain(response: ServerResponse, status: number): void {
  const body = `${status} ${http.STATUS_CODES[status] ?? ""}\n`;
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

/** Headers without hop-by-hop ones, and without any the Connection header names. */
function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set((headers.connection ?? "").split(",").map((token) => token.trim().toLowerCase()));
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHopHeaders.has(name) || named.has(name)) continue;
    result[name] = value;
  }
  return result;
}

/**
 * The request headers for the upstream. X-Forwarded-* and X-Real-IP are replaced, not appended:
 * the proxy is the cluster's edge, and a client's own values would let it spoof its address.
 */
function forwardedHeaders(request: IncomingMessage, scheme: "http" | "https", upgrade: boolean): OutgoingHttpHeaders {
  const headers = endToEndHeaders(request.headers);
  const clientAddress = request.socket.remoteAddress ?? "";
  headers["x-forwarded-for"] = clientAddress;
  headers["x-real-ip"] = clientAddress;
  headers["x-forwarded-proto"] = scheme;
  headers["x-forwarded-host"] = request.headers.host ?? "";
  headers["x-forwarded-port"] = String(request.socket.localPort ?? "");
  if (upgrade) {
    headers["connection"] = "Upgrade";
    headers["upgrade"] = request.headers.upgrade ?? "";
  }
  return headers;
}

/**
 * The status line and headers of an upstream answer, as raw bytes for the client's socket. A
 * refused upgrade is relayed as a body delimited by closing the connection (node has already
 * decoded any chunking), so its framing headers are dropped.
 */
function rawResponseHead(response: IncomingMessage, closeDelimited = false): string {
  const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ""}`];
  for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
    const name = response.rawHeaders[index] ?? "";
    const lower = name.toLowerCase();
    if (closeDelimited && (hopByHopHeaders.has(lower) || lower === "content-length")) continue;
    lines.push(`${name}: ${response.rawHeaders[index + 1] ?? ""}`);
  }
  if (closeDelimited) lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}
