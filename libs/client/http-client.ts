/**
 * The ApiClient over HTTPS: the cluster CA, a client certificate or a bearer token (from a
 * kubeconfig or given explicitly), JSON bodies, Status answers turned into libs/api StatusErrors,
 * watches as async iterables over the JSON-lines stream, and a list of server URLs tried in turn
 * when one cannot be reached or does not answer in time. Every call has an overall deadline
 * (requestTimeoutMs). Reads (GET, and the start of a watch) are idempotent: each attempt has its
 * own bounded timeout, and a server that hangs, resets or answers 502/503/504 is left for the next
 * one. Writes move on only when the request never left (connection refused, unreachable): a write
 * that timed out may have been applied, so it fails with an error that says so. Any other answer
 * from a server is never retried here. When the deadline passes, the error names every server
 * tried and what each one did.
 */
import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import {
  StatusError,
  apiVersionOf,
  type DeleteOptions,
  type KubeObject,
  type List,
  type Status,
  type WatchEvent,
} from "../api/index.ts";
import { parseKubeconfig, type KubeconfigCredentials } from "../pki/index.ts";
import type { ApiClient, ListOptions, PatchType, Resource, WatchOptions, WriteOptions } from "./types.ts";
import { sleepOrAbort } from "./sleep.ts";

/** A call that has not answered in this long fails, all attempts included (watches: until headers). */
export const requestTimeoutMsDefault = 30_000;
/** One attempt of a read on one server; past it the next server is tried. */
export const attemptTimeoutMsDefault = 10_000;
/** Answers of a read that mean "this replica cannot serve now": the next server is tried. */
const unavailableStatusCodes = new Set([502, 503, 504]);
/** Rounds over the server list before a connection failure is final. */
export const connectRoundsMax = 3;
/** Pause between two rounds over the server list. */
export const connectRetryDelayMs = 200;
/** An answer body larger than this is refused (the API server's own limit is 3 MiB per object). */
export const responseBytesMax = 256 * 1024 * 1024;
/** One watch event line larger than this ends the watch with an error. */
export const watchLineBytesMax = 16 * 1024 * 1024;
/** A watch stream silent this much longer than the timeoutSeconds it asked for is dead. */
export const watchSilenceSlackSeconds = 30;
/** Sockets per server for ordinary requests (they queue beyond this). */
export const socketsPerServerMax = 64;
/** A free keep-alive socket is closed after this long (or sooner if the server's hint says so). */
const idleSocketTimeoutMs = 30_000;
/**
 * Sockets per server for watches, which each hold one for minutes: apart from the request
 * sockets, so that many informers (the garbage collector watches every resource) never starve
 * ordinary requests.
 */
export const watchSocketsPerServerMax = 1_024;

export interface HttpClientOptions {
  /** https URLs of the API servers; the first that answers is used until it fails. */
  readonly servers: readonly string[];
  readonly caCertificatePem: string;
  readonly credentials: KubeconfigCredentials;
  /** Overall deadline of one call, every attempt and pause included. */
  readonly requestTimeoutMs?: number;
  /** Deadline of one attempt of a read on one server (capped by what is left of the overall one). */
  readonly attemptTimeoutMs?: number;
  readonly userAgent?: string;
}

/** One attempt of a call that failed: which server, and what happened. */
export interface FailedAttempt {
  readonly server: string;
  readonly reason: string;
}

/**
 * A call that no server completed within its deadline, or that no server could be reached for.
 * `code` is ETIMEDOUT when the deadline passed, else the last connection error's code.
 */
export class ApiUnavailableError extends Error {
  readonly code: string;
  readonly attempts: readonly FailedAttempt[];
  readonly elapsedMs: number;

  constructor(what: string, attempts: readonly FailedAttempt[], elapsedMs: number, code: string, cause: unknown) {
    const tried = attempts.map((attempt) => `${attempt.server}: ${attempt.reason}`).join("; ");
    super(`${what}: no API server answered within ${elapsedMs.toFixed(0)} ms (${tried === "" ? "no attempt" : tried})`, { cause });
    this.name = "ApiUnavailableError";
    this.code = code;
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
  }
}

/** Options from a kubeconfig's current context (embedded data only, as libs/pki writes them). */
export function optionsFromKubeconfig(text: string, extraServers: readonly string[] = []): HttpClientOptions {
  const params = parseKubeconfig(text);
  return { servers: [params.serverUrl, ...extraServers], caCertificatePem: params.caCertificatePem, credentials: params.credentials };
}

const connectionErrorCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND"]);
/** Failures that happen before the request reached the server: safe to retry for any verb. */
const notSentErrorCodes = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const patchContentTypes: Readonly<Record<PatchType, string>> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** The URL path of a resource, an object or its subresource. */
export function resourcePath(resource: Resource, namespace: string | undefined, name?: string, subresource?: string): string {
  const prefix = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope = resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const object = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  const sub = subresource === undefined ? "" : `/${subresource}`;
  return `${prefix}${scope}/${resource.resource}${object}${sub}`;
}

function query(entries: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(entries)) if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function listQuery(options: ListOptions): Record<string, string | number | undefined> {
  return {
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
    limit: options.limit,
    continue: options.continue,
    resourceVersion: options.resourceVersion,
  };
}

function writeQuery(options: WriteOptions | undefined): string {
  return query({ fieldManager: options?.fieldManager, force: options?.force === true ? true : undefined, dryRun: options?.dryRun === true ? "All" : undefined });
}

/** A Status for an error answer that did not carry one (a proxy, a crash page). */
function statusFromBody(code: number, body: string): Status {
  try {
    const parsed = JSON.parse(body) as Partial<Status>;
    if (parsed.kind === "Status") return parsed as Status;
  } catch {
    // Not JSON: fall through to a synthesized Status.
  }
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code, message: body.slice(0, 1024) || `HTTP ${code}`, reason: code === 404 ? "NotFound" : "" } as Status;
}

interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Watches: the body is streamed, and the timeout is how long the stream may stay silent. */
  readonly stream?: boolean;
  readonly idleTimeoutMs?: number;
}

export class HttpApiClient implements ApiClient {
  readonly #servers: readonly URL[];
  readonly #agent: Agent;
  readonly #watchAgent: Agent;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #attemptTimeoutMs: number;
  #current = 0;

  constructor(options: HttpClientOptions) {
    if (options.servers.length === 0) throw new Error("HttpApiClient needs at least one server URL");
    this.#servers = options.servers.map((server) => new URL(server));
    const credentials = options.credentials;
    const tls = {
      ca: options.caCertificatePem,
      ...(credentials.kind === "client-certificate" ? { cert: credentials.certificatePem, key: credentials.privateKeyPem } : {}),
    };
    // An idle timeout makes Node's agent honour the server's `Keep-Alive: timeout=N` hint (it closes
    // a free socket 1 s before the server would); with none it keeps sockets forever and a request
    // sent just as the server closes an idle one fails with ECONNRESET.
    this.#agent = new Agent({ keepAlive: true, maxSockets: socketsPerServerMax, timeout: idleSocketTimeoutMs, ...tls });
    this.#watchAgent = new Agent({ keepAlive: false, maxSockets: watchSocketsPerServerMax, ...tls });
    this.#headers = { Accept: "application/json", "User-Agent": options.userAgent ?? "flotilla-client" };
    if (credentials.kind === "token") this.#headers["Authorization"] = `Bearer ${credentials.token}`;
    this.#timeoutMs = options.requestTimeoutMs ?? requestTimeoutMsDefault;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? attemptTimeoutMsDefault;
  }

  /** The server URL requests currently go to. */
  get currentServer(): string {
    return (this.#servers[this.#current] as URL).toString();
  }

  close(): void {
    this.#agent.destroy();
    this.#watchAgent.destroy();
  }

  async get<T extends KubeObject>(resource: Resource, namespace: string | undefined, name: string): Promise<T> {
    return (await this.#json({ method: "GET", path: resourcePath(resource, namespace, name) })) as T;
  }

  async list<T extends KubeObject>(resource: Resource, namespace: string | undefined, options: ListOptions = {}): Promise<List<T>> {
    return (await this.#json({ method: "GET", path: resourcePath(resource, namespace) + query(listQuery(options)) })) as List<T>;
  }

  async create<T extends KubeObject>(resource: Resource, object: T, options?: WriteOptions): Promise<T> {
    const path = resourcePath(resource, object.metadata.namespace, options?.subresource === undefined ? undefined : object.metadata.name, options?.subresource);
    return (await this.#json({ method: "POST", path: path + writeQuery(options), body: withTypeMeta(resource, object) })) as T;
  }

  async update<T extends KubeObject>(resource: Resource, object: T, options?: WriteOptions): Promise<T> {
    const path = resourcePath(resource, object.metadata.namespace, object.metadata.name, options?.subresource);
    return (await this.#json({ method: "PUT", path: path + writeQuery(options), body: withTypeMeta(resource, object) })) as T;
  }

  async patch<T extends KubeObject>(
    resource: Resource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    options?: WriteOptions,
  ): Promise<T> {
    const path = resourcePath(resource, namespace, name, options?.subresource) + writeQuery(options);
    return (await this.#json({ method: "PATCH", path, body, contentType: patchContentTypes[type] })) as T;
  }

  async delete(resource: Resource, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<void> {
    const body = options === undefined ? undefined : { kind: "DeleteOptions", apiVersion: "v1", ...options };
    await this.#json({ method: "DELETE", path: resourcePath(resource, namespace, name), body });
  }

  async createSubresource<R>(resource: Resource, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<R> {
    return (await this.#json({ method: "POST", path: resourcePath(resource, namespace, name, subresource), body })) as R;
  }

  watch<T extends KubeObject>(resource: Resource, namespace: string | undefined, options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent<T>> {
    const path =
      resourcePath(resource, namespace) +
      query({
        ...listQuery(options),
        watch: true,
        allowWatchBookmarks: options.allowWatchBookmarks === true ? true : undefined,
        timeoutSeconds: options.timeoutSeconds,
      });
    // The server ends a watch at timeoutSeconds; a stream silent for longer is a dead connection.
    const idleTimeoutMs = options.timeoutSeconds === undefined ? undefined : (options.timeoutSeconds + watchSilenceSlackSeconds) * 1000;
    return this.#watchEvents<T>(path, signal, idleTimeoutMs);
  }

  async *#watchEvents<T extends KubeObject>(path: string, signal: AbortSignal, idleTimeoutMs: number | undefined): AsyncGenerator<WatchEvent<T>> {
    const response = await this.#call({ method: "GET", path, signal, stream: true, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }) }, (answer) => Promise.resolve(answer));
    if ((response.statusCode ?? 0) >= 400) throw new StatusError(statusFromBody(response.statusCode ?? 0, await readBody(response)));
    let buffered = "";
    try {
      for await (const chunk of response) {
        buffered += (chunk as Buffer).toString("utf8");
        if (buffered.length > watchLineBytesMax) throw new Error(`watch event line longer than ${watchLineBytesMax} bytes`);
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== "") yield JSON.parse(line) as WatchEvent<T>;
          newline = buffered.indexOf("\n");
        }
      }
    } catch (error) {
      // The caller's abort ends the stream quietly; anything else is the caller's to handle.
      if (signal.aborted) return;
      throw error;
    } finally {
      response.destroy();
    }
  }

  async #json(raw: RawRequest): Promise<unknown> {
    const { code, body } = await this.#call(raw, async (response) => ({ code: response.statusCode ?? 0, body: await readBody(response) }));
    if (code >= 400 || code === 0) throw new StatusError(statusFromBody(code, body));
    return body === "" ? {} : JSON.parse(body);
  }

  /**
   * Runs `consume` on the first good answer, moving along the server list (bounded rounds, one
   * overall deadline). What may be retried is decided by retryReason().
   */
  async #call<T>(raw: RawRequest, consume: (response: IncomingMessage) => Promise<T>): Promise<T> {
    const startedMs = Date.now();
    const deadlineMs = startedMs + this.#timeoutMs;
    const idempotent = raw.method === "GET";
    const attemptsMax = connectRoundsMax * this.#servers.length;
    const failed: FailedAttempt[] = [];
    let lastError: unknown;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      if (attempt > 0 && attempt % this.#servers.length === 0) await sleepOrAbort(Math.min(connectRetryDelayMs, Math.max(0, deadlineMs - Date.now())), raw.signal);
      if (isAborted(raw.signal)) throw raw.signal?.reason;
      const leftMs = deadlineMs - Date.now();
      if (leftMs <= 0) break;
      const server = this.#servers[this.#current] as URL;
      try {
        return await this.#attempt(server, raw, idempotent ? Math.min(this.#attemptTimeoutMs, leftMs) : leftMs, idempotent, consume);
      } catch (error) {
        if (isAborted(raw.signal)) throw error;
        const what = `${raw.method} ${raw.path}`;
        const reason = retryReason(error, idempotent);
        if (reason === undefined) {
          if (error instanceof AttemptTimeoutError) {
            const attempts = [...failed, { server: server.origin, reason: error.message }];
            throw new ApiUnavailableError(`${what} (a write that timed out may have been applied)`, attempts, Date.now() - startedMs, "ETIMEDOUT", error);
          }
          throw error;
        }
        failed.push({ server: server.origin, reason });
        lastError = error;
        this.#current = (this.#current + 1) % this.#servers.length;
      }
    }
    // A server's own answer (503 after every round) is more useful to callers than a summary.
    if (lastError instanceof UnavailableAnswer && Date.now() < deadlineMs) throw lastError.statusError;
    const code = Date.now() >= deadlineMs ? "ETIMEDOUT" : (errorCode(lastError) ?? "EUNAVAILABLE");
    throw new ApiUnavailableError(`${raw.method} ${raw.path}`, failed, Date.now() - startedMs, code, lastError);
  }

  /**
   * One attempt on one server under its own timer (until `consume` returns: the whole body for
   * JSON, the headers for a watch). The caller's signal stays linked for a watch's stream.
   */
  async #attempt<T>(server: URL, raw: RawRequest, timeoutMs: number, idempotent: boolean, consume: (response: IncomingMessage) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const onCallerAbort = (): void => controller.abort(raw.signal?.reason);
    raw.signal?.addEventListener("abort", onCallerAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let streaming = false;
    try {
      const response = await this.#sendOnce(server, raw, controller.signal);
      const code = response.statusCode ?? 0;
      if (idempotent && unavailableStatusCodes.has(code)) throw new UnavailableAnswer(new StatusError(statusFromBody(code, await readBody(response))));
      const result = await consume(response);
      streaming = raw.stream === true;
      if (streaming) response.once("close", () => raw.signal?.removeEventListener("abort", onCallerAbort));
      return result;
    } catch (error) {
      if (timedOut) throw new AttemptTimeoutError(`no answer within ${timeoutMs} ms`, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      if (!streaming) raw.signal?.removeEventListener("abort", onCallerAbort);
    }
  }

  async #sendOnce(server: URL, raw: RawRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const payload = raw.body === undefined ? undefined : Buffer.from(JSON.stringify(raw.body));
    const headers: Record<string, string | number> = { ...this.#headers };
    if (payload !== undefined) {
      headers["Content-Type"] = raw.contentType ?? "application/json";
      headers["Content-Length"] = payload.length;
    }
    const host = server.hostname.replace(/^\[|\]$/g, "");
    const options: RequestOptions = {
      agent: raw.stream === true ? this.#watchAgent : this.#agent,
      host,
      port: server.port === "" ? 443 : Number(server.port),
      path: raw.path,
      method: raw.method,
      headers,
      signal,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // A watch's stream may stay silent this long; other calls are bounded by the attempt timer.
      ...(raw.stream === true && raw.idleTimeoutMs !== undefined ? { timeout: raw.idleTimeoutMs } : {}),
    };
    return new Promise((resolve, reject) => {
      const request = httpsRequest(options, resolve);
      request.on("error", reject);
      request.on("timeout", () => request.destroy(Object.assign(new Error(`watch ${server.host}${raw.path} silent for ${options.timeout ?? 0} ms`), { code: "ETIMEDOUT" })));
      request.end(payload);
    });
  }
}

/** An attempt that ran out of its own time (the server may still be working on it). */
class AttemptTimeoutError extends Error {}

/** A read answered 502/503/504: worth asking another replica. */
class UnavailableAnswer extends Error {
  readonly statusError: StatusError;
  constructor(statusError: StatusError) {
    super(`answered ${statusError.status.code ?? 0} ${statusError.message}`);
    this.statusError = statusError;
  }
}

/** Why a failed attempt may be tried on the next server, or undefined when it may not. */
function retryReason(error: unknown, idempotent: boolean): string | undefined {
  if (error instanceof UnavailableAnswer) return error.message;
  if (error instanceof AttemptTimeoutError) return idempotent ? error.message : undefined;
  const code = errorCode(error);
  if (code === undefined) return undefined;
  const retryable = idempotent ? connectionErrorCodes.has(code) : notSentErrorCodes.has(code);
  return retryable ? `${code} (${(error as Error).message})` : undefined;
}

function withTypeMeta<T extends KubeObject>(resource: Resource, object: T): T {
  if (object.kind !== undefined && object.apiVersion !== undefined) return object;
  return { ...object, kind: object.kind ?? resource.kind, apiVersion: object.apiVersion ?? apiVersionOf(resource) };
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response) {
    total += (chunk as Buffer).length;
    if (total > responseBytesMax) {
      response.destroy();
      throw new Error(`answer larger than ${responseBytesMax} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// A function, so that the compiler does not narrow `aborted` across an await.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
