/**
 * Where `get` gets its Tables from. kubectl asks the server for them
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), so the columns are the server's; so
 * does ServerTables here, over its own HTTPS request because libs/client's ApiClient speaks only
 * objects. LocalTables prints with libs/api's printers (the server's own code) from any
 * ApiClient: unit tests use it with the fake client.
 */
import { listTable, objectTable } from "../../../libs/api/index.ts";
import type { KubeObject, Table, WatchEventType } from "../../../libs/api/index.ts";
import { resourcePath } from "../../../libs/client/index.ts";
import type { ApiClient, ListOptions, Resource } from "../../../libs/client/index.ts";
import { rawAnswerBytesMax, readAll, type RawHttp } from "./raw.ts";

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
const tableTimeoutMs = 30_000;

function queryString(options: ListOptions & { watch?: boolean }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

export class ServerTables implements TableSource {
  constructor(private readonly raw: RawHttp) {}

  async list(resource: Resource, namespace: string | undefined, options: ListOptions): Promise<Table> {
    return this.#json(resourcePath(resource, namespace) + queryString(options));
  }

  async get(resource: Resource, namespace: string | undefined, name: string): Promise<Table> {
    return this.#json(resourcePath(resource, namespace, name));
  }

  async *watch(resource: Resource, namespace: string | undefined, options: ListOptions, signal: AbortSignal): AsyncIterable<TableEvent> {
    const response = await this.raw.get(resourcePath(resource, namespace) + queryString({ ...options, watch: true }), tableAccept, signal);
    let buffered = "";
    try {
      for await (const chunk of response) {
        buffered += (chunk as Buffer).toString("utf8");
        if (buffered.length > rawAnswerBytesMax) throw new Error(`a watch event is longer than ${rawAnswerBytesMax} bytes`);
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
    return JSON.parse(await readAll(await this.raw.get(path, tableAccept, AbortSignal.timeout(tableTimeoutMs)))) as Table;
  }
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
