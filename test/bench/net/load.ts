/**
 * The network bench's load generators, run in a child process (inside a lab host's network
 * namespace for HTTP) so that the measured server never shares an event loop with its client:
 * closed loops of `concurrency` callers, each issuing its next request when the last one is
 * answered, for `durationMs`. Latency is measured per request from send to full answer.
 */
import dgram from "node:dgram";
import http from "node:http";
import dnsPacket from "dns-packet";
import { ratePerSecond, summarize } from "../store/stats.ts";

/** In-flight requests at most per generator (a bound on sockets and timers). */
export const concurrencyMax = 256;
/** A DNS query unanswered this long counts as an error (UDP loses nothing on loopback, but bound it). */
const dnsTimeoutMs = 1_000;
/** An HTTP request slower than this counts as an error. */
const httpTimeoutMs = 5_000;

export interface LoadResult {
  readonly completed: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
}

export interface HttpLoadOptions {
  readonly url: string;
  readonly concurrency: number;
  readonly durationMs: number;
  /** false: a new TCP connection per request (the path where DNAT and conntrack cost most). */
  readonly keepAlive: boolean;
}

function checkConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > concurrencyMax) throw new Error(`concurrency must be 1..${concurrencyMax}, got ${concurrency}`);
}

function httpGet(url: string, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, timeout: httpTimeoutMs }, (response) => {
      response.on("data", () => undefined);
      response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode ?? 0}`))));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
  });
}

/** Runs `concurrency` loops of `once` until `durationMs` passed; every call is timed. */
async function closedLoop(concurrency: number, durationMs: number, once: () => Promise<void>): Promise<LoadResult> {
  checkConcurrency(concurrency);
  const latenciesMs: number[] = [];
  let errors = 0;
  const startMs = performance.now();
  const deadlineMs = startMs + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadlineMs) {
      const sentMs = performance.now();
      try {
        await once();
        latenciesMs.push(performance.now() - sentMs);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { completed: latenciesMs.length, errors, elapsedMs: performance.now() - startMs, latenciesMs };
}

export async function runHttpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: options.keepAlive, maxSockets: options.concurrency });
  try {
    return await closedLoop(options.concurrency, options.durationMs, () => httpGet(options.url, agent));
  } finally {
    agent.destroy();
  }
}

export interface DnsLoadOptions {
  readonly server: string;
  readonly port: number;
  /** Names asked for A records, round robin. */
  readonly names: readonly string[];
  readonly concurrency: number;
  readonly durationMs: number;
}

/** One UDP socket; queries are matched to answers by their 16-bit id. */
export async function runDnsLoad(options: DnsLoadOptions): Promise<LoadResult> {
  if (options.names.length === 0) throw new Error("runDnsLoad needs at least one name");
  const socket = dgram.createSocket("udp4");
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  socket.on("message", (message) => {
    const id = message.readUInt16BE(0);
    const waiter = pending.get(id);
    if (waiter === undefined) return;
    pending.delete(id);
    clearTimeout(waiter.timer);
    // RCODE is the low 4 bits of byte 3: anything but NOERROR is an error for names that exist.
    if (((message[3] ?? 0) & 0x0f) === 0) waiter.resolve();
    else waiter.reject(new Error(`rcode ${(message[3] ?? 0) & 0x0f}`));
  });
  let nextId = 0;
  let nextName = 0;
  const query = (): Promise<void> =>
    new Promise((resolve, reject) => {
      nextId = (nextId + 1) & 0xffff;
      const id = nextId;
      const name = options.names[nextName++ % options.names.length] ?? "";
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("timeout"));
      }, dnsTimeoutMs);
      pending.set(id, { resolve, reject, timer });
      socket.send(dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name }] }), options.port, options.server);
    });
  try {
    return await closedLoop(options.concurrency, options.durationMs, query);
  } finally {
    socket.close();
  }
}

/** What the bench's child process is asked to do (child.ts). */
export type ChildJob = { mode: "serve-http"; port: number } | ({ mode: "http-load" } & HttpLoadOptions) | ({ mode: "dns-load" } & DnsLoadOptions);

export interface LoadSummary {
  readonly completed: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export function summarizeLoad(result: LoadResult): LoadSummary {
  const latency = summarize(result.latenciesMs);
  return { completed: result.completed, errors: result.errors, perSecond: ratePerSecond(result.completed, result.elapsedMs), p50Ms: latency?.p50Ms ?? 0, p99Ms: latency?.p99Ms ?? 0 };
}
