/**
 * get, list and watch over a resource's watch cache. Lists and watch events become Tables when
 * the client asks for one. A watch is a chunked stream of JSON WatchEvents, one per line, that
 * ends at timeoutSeconds, when the client goes away or when the cache drops the watcher.
 */
import { randomInt } from "node:crypto";
import { apiVersionOf, listKindOf } from "../../libs/api/registry.ts";
import { newBadRequest } from "../../libs/api/status-errors.ts";
import { keyOf, prefixOf, type HandlerContext } from "./context.ts";
import { toStatusError, writeJson } from "./http.ts";
import { selectorFilter } from "./storages.ts";
import { GoneError, type ListOptions, type ResourceVersionMatch, type StoredObject, type WatchEvent } from "./storage/index.ts";
import { includeObjectPolicy, toTable, wantsTable } from "./table.ts";

/** Upstream's --min-request-timeout: a watch without timeoutSeconds lasts 30 to 60 minutes. */
export const watchTimeoutSecondsMin = 1800;
/** The longest timeoutSeconds honoured. */
export const watchTimeoutSecondsMax = 3600;
/** Upstream caps list pages at this many items per request when a client asks for more. */
export const listLimitMax = 10_000;

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw newBadRequest(`invalid value ${JSON.stringify(raw)} for ${name}: must be a non-negative integer`);
  return value;
}

function resourceVersionMatchParam(query: URLSearchParams): ResourceVersionMatch | undefined {
  const raw = query.get("resourceVersionMatch");
  if (raw === null || raw === "") return undefined;
  if (raw !== "Exact" && raw !== "NotOlderThan") throw newBadRequest(`invalid resourceVersionMatch ${JSON.stringify(raw)}: must be Exact or NotOlderThan`);
  return raw;
}

function nameFilteredSelector(context: HandlerContext): string | null {
  const fieldSelector = context.query.get("fieldSelector");
  if (context.request.name === "") return fieldSelector;
  const byName = `metadata.name=${context.request.name}`;
  return fieldSelector === null || fieldSelector === "" ? byName : `${fieldSelector},${byName}`;
}

export async function handleGet(context: HandlerContext): Promise<void> {
  const resourceVersion = context.query.get("resourceVersion") ?? undefined;
  const object = await context.cacher.get(keyOf(context), { resourceVersion });
  if (wantsTable(context.http.headers.accept)) {
    writeJson(context.response, 200, toTable(context.info, [object], { resourceVersion: resourceVersionOf(object) }, context.nowMs(), includeObjectPolicy(context.query.get("includeObject"))));
    return;
  }
  writeJson(context.response, 200, object);
}

function resourceVersionOf(object: StoredObject): string {
  const metadata = object["metadata"] as { resourceVersion?: string } | undefined;
  return metadata?.resourceVersion ?? "";
}

export async function handleList(context: HandlerContext): Promise<void> {
  const limit = integerParam(context.query, "limit");
  const options: ListOptions = {
    resourceVersion: context.query.get("resourceVersion") ?? undefined,
    resourceVersionMatch: resourceVersionMatchParam(context.query),
    limit: limit === undefined ? undefined : Math.min(limit, listLimitMax),
    continue: context.query.get("continue") ?? undefined,
    filter: selectorFilter(context.info, context.query.get("labelSelector"), nameFilteredSelector(context)),
  };
  const result = await context.cacher.list(prefixOf(context), options);
  const listMeta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue !== undefined) listMeta["continue"] = result.continue;
  if (result.remainingItemCount !== undefined) listMeta["remainingItemCount"] = result.remainingItemCount;
  if (wantsTable(context.http.headers.accept)) {
    writeJson(context.response, 200, toTable(context.info, result.items, listMeta, context.nowMs(), includeObjectPolicy(context.query.get("includeObject"))));
    return;
  }
  writeJson(context.response, 200, { kind: listKindOf(context.info), apiVersion: apiVersionOf(context.info), metadata: listMeta, items: result.items });
}

function watchTimeoutMs(query: URLSearchParams): number {
  const requested = integerParam(query, "timeoutSeconds");
  const seconds = requested === undefined || requested === 0 ? watchTimeoutSecondsMin + randomInt(watchTimeoutSecondsMin) : Math.min(requested, watchTimeoutSecondsMax);
  return seconds * 1000;
}

function eventLine(context: HandlerContext, event: WatchEvent, asTable: boolean): string {
  let object: unknown = event.object;
  if (event.type === "BOOKMARK") object = { kind: context.info.kind, apiVersion: apiVersionOf(context.info), ...event.object };
  else if (asTable) object = toTable(context.info, [event.object], { resourceVersion: resourceVersionOf(event.object) }, context.nowMs(), includeObjectPolicy(context.query.get("includeObject")));
  return `${JSON.stringify({ type: event.type, object })}\n`;
}

export async function handleWatch(context: HandlerContext): Promise<void> {
  const sendInitialEvents = context.query.get("sendInitialEvents");
  const target = context.request.name === "" ? prefixOf(context) : keyOf(context);
  const response = context.response;
  let watcher;
  try {
    watcher = await context.cacher.watch(target, {
      resourceVersion: context.query.get("resourceVersion") ?? undefined,
      filter: selectorFilter(context.info, context.query.get("labelSelector"), context.query.get("fieldSelector")),
      allowBookmarks: context.query.get("allowWatchBookmarks") === "true",
      sendInitialEvents: sendInitialEvents === null ? undefined : sendInitialEvents === "true",
    });
  } catch (error) {
    if (!(error instanceof GoneError)) throw error;
    // As upstream: a watch from a compacted resourceVersion is a 200 stream with one ERROR event.
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(`${JSON.stringify({ type: "ERROR", object: toStatusError(error).status })}\n`);
    return;
  }
  const asTable = wantsTable(context.http.headers.accept);
  const timer = setTimeout(() => watcher.stop(), watchTimeoutMs(context.query));
  const stop = () => watcher.stop();
  context.signal.addEventListener("abort", stop, { once: true });
  response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private" });
  response.flushHeaders();
  try {
    for await (const event of watcher) {
      if (!response.write(eventLine(context, event, asTable))) await drained(response, context.signal);
    }
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener("abort", stop);
    response.end();
  }
}

// Waits for the socket to take more, or for the client to go away.
async function drained(response: HandlerContext["response"], signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      response.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    response.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
