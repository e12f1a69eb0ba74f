/**
 * The API server: HTTPS (HTTP/1.1) with authentication (client certificates against the cluster
 * CA, service account bearer tokens), authorization (system:masters, the node authorizer, RBAC), a
 * max-in-flight limit (429), request timeouts (504) and the body limit (413), in front of the
 * router. `run(config, signal)` starts it and stops it when the signal aborts;
 * `startApiServer` does the same for callers that compose it (tests, `flotilla server`).
 */
import { createHash, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { findResource } from "../../libs/api/registry.ts";
import { newTimeoutError, newTooManyRequests, newForbiddenAccess, newUnauthorized } from "../../libs/api/status-errors.ts";
import { EtcdClient } from "../../libs/etcd-client/index.ts";
import { createPrng } from "../../libs/prng/index.ts";
import { createLogger, type Logger } from "../../libs/log/index.ts";
import { anonymousUser, authenticateRequest, isPublicPath, type TokenAuthenticator } from "./authn.ts";
import { authenticateBootstrapToken, isBootstrapToken } from "./authn-bootstrap.ts";
import { ServiceAccountTokens, type UidLookup } from "./authn-serviceaccount.ts";
import { fieldSelectorTerms, type Attributes } from "./authz/attributes.ts";
import { CachedAuthorizer } from "./authz/cached.ts";
import { ensureBootstrapObjects } from "./authz/ensure.ts";
import { registerServiceAllocators, type ServiceAllocators } from "./allocator/services.ts";
import { ensureKubernetesService } from "./allocator/kubernetes-service.ts";
import { nodePortStaticBandSize, parsePortRange, parseServiceCidr } from "./allocator/range.ts";
import { StoredRange, nodePortsKey, serviceIpsKey } from "./allocator/store.ts";
import { startAdminKubeconfigRotation, startServingRotation } from "./cert-rotation.ts";
import { ensureAdminKubeconfig, loadOrCreateServiceAccountKey, prepareServingMaterial } from "./certs.ts";
import type { UserInfo } from "./context.ts";
import { serviceClusterIpRangeDefault, serviceNodePortRangeDefault, type ApiServerConfig } from "./config.ts";
import { retryAfterSeconds, toStatusError, writeStatusError } from "./http.ts";
import { metadataOf } from "./object-meta.ts";
import { handleJoin, joinPath, type JoinDeps } from "./replica-join.ts";
import { parseRequestInfo, type NonResourceRequest, type ResourceRequest } from "./request-info.ts";
import { etcdUsageStore } from "./metrics/samples.ts";
import { serveNonResource, serveResource, type RouterDeps } from "./router.ts";
import { Storages } from "./storages.ts";
import { isLongRunningRequest, streamingUpgradeHandler } from "./streaming/index.ts";
import { startSessionRouting } from "../nodeapi/session-routing.ts";
import { NotFoundError, objectKey } from "./storage/index.ts";

/** How long stop() lets open requests finish before it closes their connections. */
export const shutdownGraceMs = 2_000;
/** How long an idle keep-alive connection stays open (kube-apiserver's IdleTimeout). */
const keepAliveIdleMs = 90_000;

export interface ApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly kubeconfigPath: string;
  readonly caCertificatePem: string;
  /** Calls `listener` with each renewed serving certificate (the node API serves the same one). */
  onServingCertificateRenewed(listener: (material: { cert: string; key: string }) => void): void;
  stop(): Promise<void>;
}

function flotillaVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return manifest.version ?? "0.0.0";
}

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
  readonly tokens: TokenAuthenticator;
  readonly authorizer: CachedAuthorizer;
  readonly join: JoinDeps;
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

function attributesOf(info: ResourceRequest | NonResourceRequest, user: UserInfo, query: URLSearchParams): Attributes {
  if (info.kind === "nonResource") return { kind: "nonResource", user, verb: info.verb, path: info.path };
  const { verb, group, resource, subresource, namespace, name } = info;
  return { kind: "resource", user, verb, apiGroup: group, resource, subresource, namespace, name, fieldSelector: fieldSelectorTerms(query.get("fieldSelector")) };
}

/** Who sent the request and whether they may do it: 401 or 403 (in upstream's words) when not. */
async function admit(request: IncomingMessage, info: ResourceRequest | NonResourceRequest, url: URL, deps: ServeDeps): Promise<UserInfo> {
  const authentication = await authenticateRequest(request, deps.tokens);
  if (authentication.kind === "invalid") throw newUnauthorized("Unauthorized");
  if (authentication.kind === "anonymous") {
    if (!isPublicPath(url.pathname)) throw newUnauthorized("Unauthorized");
    return anonymousUser;
  }
  const user = authentication.user;
  if (info.kind === "nonResource" && isPublicPath(url.pathname)) return user;
  const decision = await deps.authorizer.authorize(attributesOf(info, user, url.searchParams));
  if (decision.decision === "allow") return user;
  const attributes =
    info.kind === "resource"
      ? { user: user.name, verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name }
      : { user: user.name, verb: info.verb, path: url.pathname };
  throw newForbiddenAccess(attributes, decision.reason);
}

async function serve(request: IncomingMessage, response: ServerResponse, deps: ServeDeps, signal: AbortSignal): Promise<void> {
  const url = new URL(request.url ?? "/", "https://localhost");
  if (url.pathname === joinPath && request.method === "POST") return handleJoin(request, response, deps.join);
  const info = parseRequestInfo(request.method ?? "GET", url.pathname, url.searchParams);
  const user = await admit(request, info, url, deps);
  if (info.kind === "resource" && isLongRunningRequest(info)) {
    // Long-running (watch, logs, exec, attach, port-forward, proxy), as upstream: not counted in
    // flight and not timed out; a watch's timeoutSeconds or the client ends them.
    await serveResource(request, response, info, user, signal, deps);
    return;
  }
  if (!deps.gate.tryEnter()) throw newTooManyRequests("Too many requests, please try again later.", retryAfterSeconds);
  try {
    const work = info.kind === "resource" ? serveResource(request, response, info, user, signal, deps) : Promise.resolve(serveNonResource(request, response, info, deps));
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

function serviceAllocators(config: ApiServerConfig, client: EtcdClient): ServiceAllocators {
  // Replicas pick from different random points, so concurrent picks rarely collide (and CAS settles those that do).
  const prng = createPrng(randomInt(2 ** 31));
  return {
    ips: new StoredRange(client, serviceIpsKey, parseServiceCidr(config.serviceClusterIpRange ?? serviceClusterIpRangeDefault), prng),
    ports: new StoredRange(client, nodePortsKey, parsePortRange(config.serviceNodePortRange ?? serviceNodePortRangeDefault), prng, nodePortStaticBandSize),
  };
}

/** Bootstrap tokens (`<id>.<secret>`, Secrets in kube-system) and service account JWTs. */
function bearerTokens(serviceAccounts: ServiceAccountTokens, storages: Storages): TokenAuthenticator {
  const secrets = findResource("", "v1", "secrets");
  const lookup = async (name: string): Promise<Record<string, string> | undefined> => {
    if (secrets === undefined) return undefined;
    try {
      const secret = await storages.cacherFor(secrets).get(objectKey({ group: "", resource: "secrets" }, "kube-system", name));
      const data = (secret["data"] ?? {}) as Record<string, string>;
      return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]));
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  };
  return {
    authenticateToken: async (token) => (isBootstrapToken(token) ? await authenticateBootstrapToken(token, lookup, Date.now()) : await serviceAccounts.authenticateToken(token)),
  };
}

/** The live uid of a service account or pod (from the watch cache, confirmed by the store on a miss). */
function uidLookup(storages: Storages): UidLookup {
  return async (resource, namespace, name) => {
    const info = findResource("", "v1", resource);
    if (info === undefined) return undefined;
    const key = objectKey({ group: "", resource }, namespace, name);
    for (const resourceVersion of ["0", ""]) {
      try {
        return metadataOf(await storages.cacherFor(info).get(key, { resourceVersion })).uid ?? undefined;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    return undefined;
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
  const material = await prepareServingMaterial(config.dataDir, config.certificateNames, Date.now(), config.servingCertificateValidityMs).catch((cause: unknown) => {
    throw new Error("prepare the CA and serving certificate", { cause });
  });
  const client = new EtcdClient({ endpoints: config.storeEndpoints });
  const storages = new Storages(client, logger);
  const version = flotillaVersion();
  const serviceAccountKeyPem = await loadOrCreateServiceAccountKey(config.dataDir);
  const serviceAccountTokens = new ServiceAccountTokens({ privateKeyPem: serviceAccountKeyPem, lookup: uidLookup(storages), nowMs: () => Date.now(), logger });
  const tokens = bearerTokens(serviceAccountTokens, storages);
  const allocators = serviceAllocators(config, client);
  registerServiceAllocators(storages, allocators);
  await ensureBootstrapObjects(storages, Date.now()).catch((cause: unknown) => {
    throw new Error("create the bootstrap RBAC roles and system namespaces", { cause });
  });
  const deps: ServeDeps = {
    storages,
    serverAddress: "",
    flotillaVersion: version,
    openApiHash: createHash("sha256").update(version).digest("hex").slice(0, 16),
    nowMs: () => Date.now(),
    gate: new RequestGate(config.maxRequestsInflight),
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    logger,
    tokens,
    authorizer: new CachedAuthorizer(storages),
    subresources: { tokens: serviceAccountTokens },
    metrics: { usage: etcdUsageStore(client), storages, nowMs: () => Date.now() },
    join: { tokens, caCertificatePem: material.ca.certificatePem, caKeyPem: material.ca.exportPrivateKeyPem(), serviceAccountKeyPem, storeEndpoints: config.storeEndpoints },
  };
  const server = createServer({ cert: material.certificateChainPem, key: material.privateKeyPem, ca: material.ca.certificatePem, requestCert: true, rejectUnauthorized: false }, handler(deps));
  server.on("tlsClientError", (error) => logger.debug({ err: error }, "TLS handshake failed"));
  // kube-apiserver's idle keep-alive time (90 s) rather than Node's 5 s: clients reuse connections
  // across pauses, and it is announced in `Keep-Alive: timeout=90` so they close them first.
  server.keepAliveTimeout = keepAliveIdleMs;
  // The serving certificate is renewed in place before it expires: no restart, open connections kept.
  const renewalListeners: ((material: { cert: string; key: string }) => void)[] = [];
  const rotation = startServingRotation(server, material.ca, material, config.dataDir, {
    validityMs: config.servingCertificateValidityMs,
    onMaterial: (renewed) => {
      for (const listener of renewalListeners) listener(renewed);
    },
    onError: (error) => logger.warn({ err: error }, "renewing the serving certificate failed (retried)"),
    onRenewed: (window) => logger.info({ notAfter: new Date(window.notAfterMs).toISOString() }, "serving certificate renewed"),
  });
  // Upgrades (exec, port-forward) are authorized as a create of the subresource, as upstream does.
  const admitUpgrade = async (request: IncomingMessage): Promise<UserInfo> => {
    const url = new URL(request.url ?? "/", "https://localhost");
    return admit(request, parseRequestInfo("POST", url.pathname, url.searchParams), url, deps);
  };
  server.on("upgrade", streamingUpgradeHandler({ storages, logger, admit: admitUpgrade }));
  const port = await listen(server, config.port, config.listenAddress).catch((cause: unknown) => {
    throw new Error(`listen on ${config.listenAddress}:${config.port}`, { cause });
  });
  const url = `https://127.0.0.1:${port}`;
  await ensureKubernetesService(storages, allocators, { ip: config.advertiseAddress ?? "127.0.0.1", port }, Date.now()).catch((cause: unknown) => {
    throw new Error("create the kubernetes Service and add this server to its Endpoints", { cause });
  });
  // The admin kubeconfig names the address clients elsewhere reach (the serving certificate holds it).
  const kubeconfigUrl = config.advertiseAddress === undefined ? url : `https://${config.advertiseAddress}:${port}`;
  const kubeconfigPath = await ensureAdminKubeconfig(config.dataDir, material.ca, kubeconfigUrl, Date.now(), config.servingCertificateValidityMs);
  const adminRotation = await startAdminKubeconfigRotation(kubeconfigPath, material.ca, {
    validityMs: config.servingCertificateValidityMs,
    onError: (error) => logger.warn({ err: error }, "renewing the admin kubeconfig's certificate failed (retried)"),
    onRenewed: (window) => logger.info({ kubeconfigPath, notAfter: new Date(window.notAfterMs).toISOString() }, "admin kubeconfig certificate renewed"),
  });
  // Records which nodes' streams this replica holds and opens the others' sessions through their replicas.
  const routing = await startSessionRouting({ client, apiUrl: kubeconfigUrl, ca: material.ca, logger, nowMs: Date.now() });
  logger.info({ url, kubeconfigPath, store: config.storeEndpoints }, "API server ready");
  const stop = async (): Promise<void> => {
    rotation.stop();
    adminRotation?.stop();
    await routing.stop();
    await stopServer(server, storages, client);
  };
  return { url, port, kubeconfigPath, caCertificatePem: material.ca.certificatePem, onServingCertificateRenewed: (listener) => void renewalListeners.push(listener), stop };
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
