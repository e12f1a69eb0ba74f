/**
 * Lists from the store, with upstream's resourceVersion, paging and filtering semantics
 * (k8s.io/apiserver pkg/storage/etcd3 store.GetList and the API concepts page):
 *
 * | paging                   | rv unset    | rv "0"            | rv N            |
 * |--------------------------|-------------|-------------------|-----------------|
 * | no limit                 | most recent | any               | not older than  |
 * | limit, no continue       | most recent | any               | exact           |
 * | continue                 | the token's revision (rv must be unset or "0")               |
 *
 * resourceVersionMatch NotOlderThan / Exact override the table. "Most recent" is a linearizable
 * read, "any" a serializable one. A filter runs before the limit: pages are read until `limit`
 * items match or the range ends, doubling the page size each time up to listFetchItemsMax, all at
 * the revision of the first read. The list's resourceVersion is that revision.
 */
import { prefixEnd } from "../../../libs/etcd-client/index.ts";
import type { RangeRequest, RangeResponse__Output } from "../../../libs/etcdpb/index.ts";
import { decodeContinue, encodeContinue, latestRevisionMarker } from "./continue.ts";
import { BadRequestError, GoneError, InternalError, TooLargeResourceVersionError, type StorageError } from "./errors.ts";
import { headerRevision, kvErrorKind, transportError, wireNumber, type KvClient } from "./kv.ts";
import { decodeObject, type GetAttrs, type ObjectFilter, type StoredObject } from "./objects.ts";
import { parseResourceVersion, type ResourceVersionMatch } from "./resource-version.ts";

/** Upstream's texts for lists that hit compaction (k8s.io/apiserver pkg/storage/etcd3/errors.go). */
export const listExpiredMessages = {
  expired: "The resourceVersion for the provided list is too old.",
  continueExpired:
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
  inconsistentContinue:
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, " +
    "or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an " +
    "inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
} as const;

export const listDefaults = {
  /** Upstream's maxLimit: the page size a filtered list grows to, at most. */
  listFetchItemsMax: 10_000,
  /**
   * Range calls one list request makes at most. A very selective filter over a large range would
   * otherwise read the whole range in one request; past the bound the page is returned short
   * with a continue token, which the API allows (a page may hold fewer than `limit` items).
   */
  listRangeCallsMax: 64,
} as const;

/** Deadline of a range with no limit: kube-apiserver's default request timeout (60 s). */
const unlimitedRangeTimeoutMs = 60_000;

export interface ListOptions {
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: ResourceVersionMatch | undefined;
  /** 0 or absent: everything in one page. */
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  readonly filter?: ObjectFilter | undefined;
}

export interface ListEntry {
  readonly key: string;
  readonly object: StoredObject;
}

export interface ListResult {
  readonly items: StoredObject[];
  /** The store revision the list was read at. */
  readonly resourceVersion: string;
  /** Set when more items may follow; pass it back as `continue`. */
  readonly continue?: string;
  /** Items after this page; only for unfiltered pages that have a continue token (as upstream). */
  readonly remainingItemCount?: number;
}

export interface EntryPage {
  readonly entries: ListEntry[];
  readonly revision: number;
  readonly continue: string | undefined;
  readonly remainingItemCount: number | undefined;
}

/** What one list request reads: where, at which revision and how consistently. */
export interface ListPlan {
  /** The list prefix (ends in "/"); continue tokens are relative to it. */
  readonly keyPrefix: string;
  readonly startKey: string;
  /** 0: the latest revision. */
  readonly revision: number;
  readonly serializable: boolean;
  /** For "not older than": the revision read must be at least this. */
  readonly minimumRevision: number | undefined;
  /** Continuing a paged list (compaction then yields upstream's continue-specific 410). */
  readonly continuing: boolean;
  /** 0: no paging. */
  readonly limit: number;
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return 0;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new BadRequestError(`invalid limit: ${limit}`);
  return limit;
}

/** Decides revision and consistency from the options, as upstream's GetList does. */
export function planList(keyPrefix: string, options: ListOptions): ListPlan {
  const limit = checkLimit(options.limit);
  const resourceVersion = parseResourceVersion(options.resourceVersion);
  const base = { keyPrefix, startKey: keyPrefix, limit, continuing: false, serializable: false, minimumRevision: undefined, revision: 0 };
  if (options.continue !== undefined && options.continue !== "") {
    if (resourceVersion !== undefined && resourceVersion !== 0) throw new BadRequestError("specifying resource version is not allowed when using continue");
    const point = decodeContinue(options.continue, keyPrefix);
    const revision = point.revision === latestRevisionMarker ? 0 : point.revision;
    return { ...base, startKey: point.startKey, revision, continuing: true };
  }
  const match = options.resourceVersionMatch;
  if (match !== undefined && resourceVersion === undefined) {
    throw new BadRequestError(`resourceVersionMatch is forbidden unless resourceVersion is provided`);
  }
  if (match === "Exact") {
    if (resourceVersion === 0) throw new BadRequestError(`resourceVersionMatch "Exact" is forbidden for resourceVersion "0"`);
    return { ...base, revision: resourceVersion ?? 0 };
  }
  if (match !== undefined && match !== "NotOlderThan") throw new BadRequestError(`unknown ResourceVersionMatch value: ${String(match)}`);
  if (resourceVersion === undefined) return base;
  if (resourceVersion === 0) return { ...base, serializable: true };
  // Legacy rule (no match given): a paged list at rv N is exact, an unpaged one "not older than".
  if (match === undefined && limit > 0) return { ...base, revision: resourceVersion };
  return { ...base, minimumRevision: resourceVersion };
}

export interface ListContext {
  readonly client: KvClient;
  readonly getAttrs: GetAttrs;
  readonly listFetchItemsMax: number;
  readonly listRangeCallsMax: number;
}

interface PageState {
  readonly entries: ListEntry[];
  key: string;
  revision: number;
  fetchLimit: number;
  lastKey: string | undefined;
  hasMore: boolean;
  lastCount: number;
  lastConsumed: number;
}

/** Reads one page of entries (up to plan.limit matching `filter`) under the plan. */
export async function readPage(context: ListContext, plan: ListPlan, filter: ObjectFilter | undefined): Promise<EntryPage> {
  const paging = plan.limit > 0;
  const state: PageState = {
    entries: [],
    key: plan.startKey,
    revision: plan.revision,
    fetchLimit: plan.limit,
    lastKey: undefined,
    hasMore: false,
    lastCount: 0,
    lastConsumed: 0,
  };
  for (let call = 0; ; call++) {
    if (call >= context.listRangeCallsMax) {
      state.hasMore = true;
      break;
    }
    const response = await rangeForList(context, plan, state, call === 0);
    takeKvs(context, plan, state, response, filter);
    if (!state.hasMore || !paging || state.entries.length >= plan.limit) break;
    // The filter dropped items: read on, with bigger pages, at the revision of the first read.
    state.fetchLimit = Math.min(state.fetchLimit * 2, Math.max(plan.limit, context.listFetchItemsMax));
    state.key = `${state.lastKey ?? state.key}\x00`;
  }
  return finishPage(plan, state, filter);
}

async function rangeForList(context: ListContext, plan: ListPlan, state: PageState, first: boolean): Promise<RangeResponse__Output> {
  const request: RangeRequest = {
    key: Buffer.from(state.key),
    range_end: prefixEnd(plan.keyPrefix),
    limit: plan.limit > 0 ? state.fetchLimit : 0,
    revision: state.revision,
    serializable: first && plan.serializable,
  };
  let response: RangeResponse__Output;
  try {
    // A whole-collection read (no limit) of many objects can outlast the client's 5 s point-read
    // deadline when several run at once; the HTTP request's own timeout bounds it as upstream.
    const timeoutMs = request.limit === 0 ? unlimitedRangeTimeoutMs : undefined;
    response = await context.client.range(request, undefined, timeoutMs);
  } catch (error) {
    throw await listError(context, plan, error);
  }
  const revision = headerRevision(response.header);
  if (state.revision === 0) {
    if (plan.minimumRevision !== undefined && plan.minimumRevision > revision) throw new TooLargeResourceVersionError(plan.minimumRevision, revision);
    state.revision = revision;
  }
  if (response.kvs.length === 0 && response.more) throw new InternalError("no results were found, but the store indicated there were more values remaining");
  return response;
}

function takeKvs(context: ListContext, plan: ListPlan, state: PageState, response: RangeResponse__Output, filter: ObjectFilter | undefined): void {
  state.hasMore = response.more;
  state.lastCount = wireNumber(response.count);
  state.lastConsumed = 0;
  for (const kv of response.kvs) {
    if (plan.limit > 0 && state.entries.length >= plan.limit) {
      state.hasMore = true;
      break;
    }
    const key = kv.key.toString("utf8");
    state.lastKey = key;
    state.lastConsumed++;
    const object = decodeObject(kv.value, key, wireNumber(kv.mod_revision));
    if (filter === undefined || filter(context.getAttrs(object), object)) state.entries.push({ key, object });
  }
}

function finishPage(plan: ListPlan, state: PageState, filter: ObjectFilter | undefined): EntryPage {
  if (!state.hasMore || state.lastKey === undefined) {
    return { entries: state.entries, revision: state.revision, continue: undefined, remainingItemCount: undefined };
  }
  const token = encodeContinue(`${state.lastKey}\x00`, plan.keyPrefix, state.revision);
  // The store's count includes items a filter would drop, so upstream gives no count then.
  const remainingItemCount = filter === undefined ? state.lastCount - state.lastConsumed : undefined;
  return { entries: state.entries, revision: state.revision, continue: token, remainingItemCount };
}

async function listError(context: ListContext, plan: ListPlan, error: unknown): Promise<StorageError> {
  const kind = kvErrorKind(error);
  if (kind === "compacted") {
    if (!plan.continuing) return new GoneError(listExpiredMessages.expired);
    return new GoneError(listExpiredMessages.inconsistentContinue, encodeContinue(plan.startKey, plan.keyPrefix, latestRevisionMarker));
  }
  if (kind === "futureRevision") return new TooLargeResourceVersionError(plan.revision, await currentRevisionOrZero(context.client, plan.keyPrefix));
  return transportError(error, "list") ?? new InternalError(`list ${plan.keyPrefix}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** The store's current revision for an error message; 0 when even that read fails. */
export async function currentRevisionOrZero(client: KvClient, key: string): Promise<number> {
  try {
    return headerRevision((await client.range({ key: Buffer.from(key), count_only: true })).header);
  } catch {
    return 0;
  }
}

export function toListResult(page: EntryPage): ListResult {
  return {
    items: page.entries.map((entry) => entry.object),
    resourceVersion: String(page.revision),
    ...(page.continue === undefined ? {} : { continue: page.continue }),
    ...(page.remainingItemCount === undefined ? {} : { remainingItemCount: page.remainingItemCount }),
  };
}
