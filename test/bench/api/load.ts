/**
 * The API bench's load: N clients spread round-robin over the replicas, each with a watch on
 * the bench namespace's pods open from the start, then four phases:
 *  - create: the clients create `podCount` pods between them, one request at a time each;
 *  - watch: every watcher must see every pod's ADDED event (latency = event seen minus the
 *    create request's start, so it includes the create itself);
 *  - get: `podCount` gets of single pods by name, spread over the clients;
 *  - list, list-paged, list-rv0: each client lists every pod cluster-wide `listsPerClient` times,
 *    unpaged, paged, and from the watch cache (see listPhase).
 * Every phase stops issuing requests at the run's deadline, and says so.
 */
import { performance } from "node:perf_hooks";
import { BenchClient, type Credentials } from "./http.ts";

export const benchNamespace = "bench";
const listsPerClient = 2;
/** Strides for picking pods to get, so that clients do not walk the same names in step. */
const getStridePrime = 7919;

export interface PhaseSamples {
  readonly name: string;
  readonly latenciesMs: number[];
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
  truncated: boolean;
}

function newPhase(name: string): PhaseSamples {
  return { name, latenciesMs: [], errors: 0, firstError: undefined, elapsedMs: 0, truncated: false };
}

export function podName(index: number): string {
  return `bench-${String(index).padStart(6, "0")}`;
}

/** A pod the server accepts as written (it defaults the rest): one container, requests set. */
export function podManifest(index: number): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: podName(index), namespace: benchNamespace, labels: { app: "bench", shard: String(index % 16) } },
    spec: {
      containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    },
  });
}

export interface LoadOptions {
  readonly clientCount: number;
  readonly podCount: number;
  readonly deadlineMs: number;
}

export interface LoadResult {
  readonly phases: PhaseSamples[];
  readonly watchEventsSeen: number;
  readonly watchEventsExpected: number;
}

function recordError(phase: PhaseSamples, message: string): void {
  phase.errors++;
  phase.firstError ??= message;
}

/** Runs `work(client, clientIndex)` on every client at once and times the phase. */
async function runPhase(phase: PhaseSamples, clients: readonly BenchClient[], work: (client: BenchClient, clientIndex: number) => Promise<void>): Promise<void> {
  const startMs = performance.now();
  await Promise.all(clients.map((client, index) => work(client, index)));
  phase.elapsedMs = performance.now() - startMs;
}

async function timed(phase: PhaseSamples, client: BenchClient, method: string, path: string, okStatus: number, body?: string): Promise<boolean> {
  const startMs = performance.now();
  try {
    const answer = await client.send(method, path, body);
    if (answer.status !== okStatus) {
      recordError(phase, `${method} ${path}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
      return false;
    }
    phase.latenciesMs.push(performance.now() - startMs);
    return true;
  } catch (error) {
    recordError(phase, `${method} ${path}: ${(error as Error).message}`);
    return false;
  }
}

class WatchTracker {
  readonly createStartMs = new Map<string, number>();
  readonly phase = newPhase("watch");
  seen = 0;

  onLine(line: string): void {
    const event = JSON.parse(line) as { type?: string; object?: { metadata?: { name?: string } } };
    if (event.type !== "ADDED") return;
    const startMs = this.createStartMs.get(event.object?.metadata?.name ?? "");
    if (startMs === undefined) return;
    this.seen++;
    this.phase.latenciesMs.push(performance.now() - startMs);
  }
}

export async function runLoad(apiUrls: readonly string[], credentials: Credentials, options: LoadOptions, onPhase: (name: string, starting: boolean) => void): Promise<LoadResult> {
  const clients = Array.from({ length: options.clientCount }, (_, index) => new BenchClient(apiUrls[index % apiUrls.length] as string, credentials));
  const tracker = new WatchTracker();
  const watches: { stop: () => void }[] = [];
  try {
    const setup = await clients[0]?.send("POST", "/api/v1/namespaces", JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: benchNamespace } }));
    if (setup?.status !== 201) throw new Error(`creating namespace ${benchNamespace}: HTTP ${setup?.status ?? 0} ${setup?.body ?? ""}`);
    for (const client of clients) watches.push(await client.watch(`/api/v1/namespaces/${benchNamespace}/pods?watch=1`, (line) => tracker.onLine(line)));
    const create = await createPhase(clients, tracker, options, onPhase);
    const watchPhase = await watchDrain(tracker, options, create.latenciesMs.length * clients.length, onPhase);
    // Watch throughput counts from the first create to the last event seen.
    watchPhase.elapsedMs += create.elapsedMs;
    const created = create.latenciesMs.length;
    const get = await getPhase(clients, created, options, onPhase);
    const lists = [await listPhase("list", clients, options, onPhase), await listPhase("list-paged", clients, options, onPhase), await listPhase("list-rv0", clients, options, onPhase)];
    return { phases: [create, watchPhase, get, ...lists], watchEventsSeen: tracker.seen, watchEventsExpected: created * clients.length };
  } finally {
    for (const watch of watches) watch.stop();
    for (const client of clients) client.close();
  }
}

async function createPhase(clients: readonly BenchClient[], tracker: WatchTracker, options: LoadOptions, onPhase: (name: string, starting: boolean) => void): Promise<PhaseSamples> {
  const phase = newPhase("create");
  onPhase(phase.name, true);
  let next = 0;
  await runPhase(phase, clients, async (client) => {
    while (next < options.podCount) {
      if (Date.now() >= options.deadlineMs) { phase.truncated = true; return; }
      const index = next++;
      tracker.createStartMs.set(podName(index), performance.now());
      await timed(phase, client, "POST", `/api/v1/namespaces/${benchNamespace}/pods`, 201, podManifest(index));
    }
  });
  onPhase(phase.name, false);
  return phase;
}

/** Waits (bounded by the deadline) until every watcher has seen every created pod. */
async function watchDrain(tracker: WatchTracker, options: LoadOptions, expected: number, onPhase: (name: string, starting: boolean) => void): Promise<PhaseSamples> {
  onPhase("watch", true);
  const startMs = performance.now();
  const pollMs = 50;
  while (tracker.seen < expected && Date.now() < options.deadlineMs) await new Promise((resolve) => setTimeout(resolve, pollMs));
  tracker.phase.truncated = tracker.seen < expected;
  tracker.phase.elapsedMs = performance.now() - startMs;
  onPhase("watch", false);
  return tracker.phase;
}

async function getPhase(clients: readonly BenchClient[], created: number, options: LoadOptions, onPhase: (name: string, starting: boolean) => void): Promise<PhaseSamples> {
  const phase = newPhase("get");
  onPhase(phase.name, true);
  let issued = 0;
  await runPhase(phase, clients, async (client, clientIndex) => {
    let step = 0;
    while (created > 0 && issued < options.podCount) {
      if (Date.now() >= options.deadlineMs) { phase.truncated = true; return; }
      issued++;
      const index = (clientIndex * getStridePrime + step++ * (getStridePrime + clients.length)) % created;
      await timed(phase, client, "GET", `/api/v1/namespaces/${benchNamespace}/pods/${podName(index)}`, 200);
    }
  });
  onPhase(phase.name, false);
  return phase;
}

/**
 * Cluster-wide pod lists, three ways: unpaged and consistent (`GET /api/v1/pods`, read from the
 * store in one range), paged and consistent (limit=500 and continue tokens, as kubectl does; one
 * sample is the whole walk), and resourceVersion=0 (served from the watch cache, as informers'
 * first list is).
 */
const listPageItems = 500;
/** Bound on pages in one paged list walk (10 000 pods at scale 1 take 20). */
const listPagesMax = 1000;

async function pagedList(phase: PhaseSamples, client: BenchClient): Promise<void> {
  const startMs = performance.now();
  let continueToken = "";
  for (let page = 0; page < listPagesMax; page++) {
    const path = `/api/v1/pods?limit=${listPageItems}${continueToken === "" ? "" : `&continue=${encodeURIComponent(continueToken)}`}`;
    try {
      const answer = await client.send("GET", path);
      if (answer.status !== 200) { recordError(phase, `GET ${path}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`); return; }
      continueToken = (JSON.parse(answer.body) as { metadata?: { continue?: string } }).metadata?.continue ?? "";
    } catch (error) {
      recordError(phase, `GET ${path}: ${(error as Error).message}`);
      return;
    }
    if (continueToken === "") { phase.latenciesMs.push(performance.now() - startMs); return; }
  }
  recordError(phase, `paged list did not end within ${listPagesMax} pages`);
}

async function listPhase(kind: "list" | "list-paged" | "list-rv0", clients: readonly BenchClient[], options: LoadOptions, onPhase: (name: string, starting: boolean) => void): Promise<PhaseSamples> {
  const phase = newPhase(kind);
  onPhase(phase.name, true);
  await runPhase(phase, clients, async (client) => {
    for (let round = 0; round < listsPerClient; round++) {
      if (Date.now() >= options.deadlineMs) { phase.truncated = true; return; }
      if (kind === "list-paged") await pagedList(phase, client);
      else await timed(phase, client, "GET", kind === "list" ? "/api/v1/pods" : "/api/v1/pods?resourceVersion=0", 200);
    }
  });
  onPhase(phase.name, false);
  return phase;
}
