/**
 * The API server: HTTPS (HTTP/1.1) with client-certificate authentication against the cluster
 * CA, a max-in-flight limit (429), request timeouts (504) and the body limit (413), in front of
 * the router. `run(config, signal)` starts it and stops it when the signal aborts;
 * `startApiServer` does the same for callers that compose it (tests, `flotilla server`).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { newTimeoutError, newTooManyRequests, newForbiddenAccess, newUnauthorized } from "../../libs/api/status-errors.ts";
import { EtcdClient } from "../../libs/etcd-client/index.ts";
import { createLogger, type Logger } from "../../libs/log/index.ts";
import { authenticate, isAuthorized, isPublicPath } from "./authn.ts";
import { ensureAdminKubeconfig, prepareServingMaterial } from "./certs.ts";
import type { ApiServerConfig } from "./config.ts";
import { retryAfterSeconds, toStatusError, writeStatusError } from "./http.ts";
import { parseRequestInfo } from "./request-info.ts";
import { serveNonResource, serveResource, type RouterDeps } from "./router.ts";
import { Storages } from "./storages.ts";
import { streamingUpgradeHandler } from "./streaming/index.ts";

/** How long stop() lets open requests finish before it closes their connections. */
export const shutdownGraceMs = 2_000;

export interface ApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly kubeconfigPath: string;
  readonly caCertificatePem: string;
  stop(): Promise<void>;
}

function flotillaVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return manifest.version ?? "0.0.0";
}

// Only reached for public paths, which are never resource requests; kept for the types.
const anonymous = { name: "system:anonymous", groups: ["system:unauthenticated"] };

class RequestGate {
  #inflight = 0;
  constructor(readonly limit: number) {}
  tryEnter(): boolean {
    if (this.#inflight >= this.limit) return false;
    this.#inflight++;
    return true;
  }
  leave(): void {
    this.#inflight--;
  }
}

interface ServeDeps extends RouterDeps {
  readonly gate: RequestGate;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}

async function withTimeout(work: Promise<void>, response: ServerResponse, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      writeStatusError(response, newTimeoutError("request did not complete within the allotted timeout", retryAfterSeconds));
      resolve();
    }, timeoutMs);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function serve(request: IncomingMessage, response: ServerResponse, deps: ServeDeps, signal: AbortSignal): Promise<void> {
  const url = new URL(request.url ?? "/", "https://localhost");
  const info = parseRequestInfo(request.method ?? "GET", url.pathname, url.searchParams);
  const user = authenticate(request);
  if (user === undefined && !isPublicPath(url.pathname)) throw newUnauthorized("Unauthorized");
  if (user !== undefined && !isAuthorized(user)) {
    const attributes =
      info.kind === "resource"
        ? { user: user.name, verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name }
        : { user: user.name, verb: info.verb, path: url.pathname };
    throw newForbiddenAccess(attributes);
  }
  if (info.kind === "resource" && info.verb === "watch") {
    // Watches are long-running: not counted in flight and not timed out (timeoutSeconds ends them).
    await serveResource(request, response, info, user ?? anonymous, signal, deps);
    return;
  }
  if (!deps.gate.tryEnter()) throw newTooManyRequests("Too many requests, please try again later.", retryAfterSeconds);
  try {
    const work = info.kind === "resource" ? serveResource(request, response, info, user ?? anonymous, signal, deps) : Promise.resolve(serveNonResource(request, response, info, deps));
    await withTimeout(work, response, deps.requestTimeoutMs);
  } finally {
    deps.gate.leave();
  }
}

function handler(deps: ServeDeps): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const controller = new AbortController();
    response.on("close", () => controller.abort());
    serve(request, response, deps, controller.signal).catch((error: unknown) => {
      const status = toStatusError(error);
      if (status.code >= 500) deps.logger.warn({ err: error, method: request.method, url: request.url }, "request failed");
      writeStatusError(response, status);
    });
  };
}

async function listen(server: Server, port: number, address: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Starts the API server: TLS material, store client, HTTPS listener, admin kubeconfig. */
export async function startApiServer(config: ApiServerConfig, logger: Logger = createLogger("apiserver")): Promise<ApiServer> {
  const material = await prepareServingMaterial(config.dataDir, config.certificateNames, Date.now()).catch((cause: unknown) => {
    throw new Error("prepare the CA and serving certificate", { cause });
  });
  const client = new EtcdClient({ endpoints: config.storeEndpoints });
  const storages = new Storages(client, logger);
  const version = flotillaVersion();
  const deps: ServeDeps = {
    storages,
    serverAddress: "",
    flotillaVersion: version,
    openApiHash: createHash("sha256").update(version).digest("hex").slice(0, 16),
    nowMs: () => Date.now(),
    gate: new RequestGate(config.maxRequestsInflight),
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    logger,
  };
  const server = createServer({ cert: material.certificateChainPem, key: material.privateKeyPem, ca: material.ca.certificatePem, requestCert: true, rejectUnauthorized: false }, handler(deps));
  server.on("tlsClientError", (error) => logger.debug({ err: error }, "TLS handshake failed"));
  server.on("upgrade", streamingUpgradeHandler({ storages, logger }));
  const port = await listen(server, config.port, config.listenAddress).catch((cause: unknown) => {
    throw new Error(`listen on ${config.listenAddress}:${config.port}`, { cause });
  });
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = await ensureAdminKubeconfig(config.dataDir, material.ca, url, Date.now());
  logger.info({ url, kubeconfigPath, store: config.storeEndpoints }, "API server ready");
  return { url, port, kubeconfigPath, caCertificatePem: material.ca.certificatePem, stop: async () => stopServer(server, storages, client) };
}

async function stopServer(server: Server, storages: Storages, client: EtcdClient): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
  await storages.stop();
  server.closeAllConnections();
  await closed;
  clearTimeout(timer);
  client.close();
}

/** `flotilla apiserver`: serves until `signal` aborts. */
export async function run(config: ApiServerConfig, signal: AbortSignal): Promise<void> {
  const server = await startApiServer(config);
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  await server.stop();
}
