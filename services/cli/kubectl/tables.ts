/**
 * Where `get` gets its Tables from. kubectl asks the server for them
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), so the columns are the server's; so
 * does ServerTables here, over its own HTTPS request because libs/client's ApiClient speaks only
 * objects. LocalTables prints with libs/api's printers (the server's own code) from any
 * ApiClient: unit tests use it with the fake client.
 */
import { request, type RequestOptions } from "node:https";
import type { IncomingMessage } from "node:http";
import { listTable, objectTable, StatusError } from "../../../libs/api/index.ts";
import type { KubeObject, Status, Table, WatchEventType } from "../../../libs/api/index.ts";
import { resourcePath, type HttpClientOptions } from "../../../libs/client/index.ts";
import type { ApiClient, ListOptions, Resource } from "../../../libs/client/index.ts";

export interface TableEvent {
  type: WatchEventType;
  /** A Table of one row (no column definitions after the first), or a Status for ERROR. */
  object: Table;
}

export interface TableSource {
  list(resource: Resource, namespace: string | undefined, options: ListOptions): Promise<Table>;
  get(resource: Resource, namespace: string | undefined, name: string): Promise<Table>;
  /** Watch from `resourceVersion` on; ends when the server ends it or `signal` aborts. */
  watch(resource: Resource, namespace: string | undefined, options: ListOptions & { resourceVersion: string; fieldSelector?: string }, signal: AbortSignal): AsyncIterable<TableEvent>;
}

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
/** A Table answer is read whole; bound it as libs/client bounds its answers. */
const tableBytesMax = 64 * 1024 * 1024;
const tableTimeoutMs = 30_000;

function queryString(options: ListOptions & { watch?: boolean }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

export class ServerTables implements TableSource {
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  async list(resource: Resource, namespace: string | undefined, options: ListOptions): Promise<Table> {
    return this.#json(resourcePath(resource, namespace) + queryString(options));
  }

  async get(resource: Resource, namespace: string | undefined, name: string): Promise<Table> {
    return this.#json(resourcePath(resource, namespace, name));
  }

  async *watch(resource: Resource, namespace: string | undefined, options: ListOptions, signal: AbortSignal): AsyncIterable<TableEvent> {
    const response = await this.#send(resourcePath(resource, namespace) + queryString({ ...options, watch: true }), signal);
    if ((response.statusCode ?? 0) >= 400) throw errorOf(response.statusCode ?? 0, await readAll(response));
    let buffered = "";
    try {
      for await (const chunk of response) {
        buffered += (chunk as Buffer).toString("utf8");
        if (buffered.length > tableBytesMax) throw new Error(`a watch event is longer than ${tableBytesMax} bytes`);
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== "") yield JSON.parse(line) as TableEvent;
          newline = buffered.indexOf("\n");
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      response.destroy();
    }
  }

  async #json(path: string): Promise<Table> {
    const response = await this.#send(path, AbortSignal.timeout(tableTimeoutMs));
    const body = await readAll(response);
    if ((response.statusCode ?? 0) >= 400) throw errorOf(response.statusCode ?? 0, body);
    return JSON.parse(body) as Table;
  }

  async #send(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const server = new URL(this.#options.servers[0] ?? "");
    const credentials = this.#options.credentials;
    const options: RequestOptions = {
      method: "GET",
      host: server.hostname,
      port: server.port,
      path,
      ca: this.#options.caCertificatePem,
      headers: { Accept: tableAccept, "User-Agent": "flotilla-cli", ...(credentials.kind === "token" ? { Authorization: `Bearer ${credentials.token}` } : {}) },
      ...(credentials.kind === "client-certificate" ? { cert: credentials.certificatePem, key: credentials.privateKeyPem } : {}),
      signal,
    };
    return new Promise((resolve, reject) => {
      const outgoing = request(options, resolve);
      outgoing.on("error", reject);
      outgoing.end();
    });
  }
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    bytes += (chunk as Buffer).length;
    if (bytes > tableBytesMax) throw new Error(`an answer longer than ${tableBytesMax} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function errorOf(code: number, body: string): StatusError {
  try {
    const parsed = JSON.parse(body) as Status;
    if (parsed.kind === "Status") return new StatusError(parsed);
  } catch {
    // Not a Status: synthesize one below.
  }
  return new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code, message: body.slice(0, 1024), reason: "" } as Status);
}

/** Tables printed here with libs/api's printers, from any ApiClient (the fake one in tests). */
export class LocalTables implements TableSource {
  constructor(
    private readonly client: ApiClient,
    private readonly nowMs: () => number,
  ) {}

  async list(resource: Resource, namespace: string | undefined, options: ListOptions): Promise<Table> {
    const list = await this.client.list(resource, namespace, options);
    return listTable(resource.group, resource.resource, list.items, list.metadata, { nowMs: this.nowMs() });
  }

  async get(resource: Resource, namespace: string | undefined, name: string): Promise<Table> {
    return objectTable(resource.group, resource.resource, await this.client.get(resource, namespace, name), { nowMs: this.nowMs() });
  }

  async *watch(resource: Resource, namespace: string | undefined, options: ListOptions & { resourceVersion: string }, signal: AbortSignal): AsyncIterable<TableEvent> {
    for await (const event of this.client.watch<KubeObject>(resource, namespace, options, signal)) {
      if (event.type === "ERROR" || event.type === "BOOKMARK") continue;
      yield { type: event.type, object: objectTable(resource.group, resource.resource, event.object, { nowMs: this.nowMs() }) };
    }
  }
}
