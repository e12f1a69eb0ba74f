/**
 * Names outside the cluster zone go to the node's own resolvers (from /etc/resolv.conf), over UDP,
 * one resolver after another, with a small positive and negative cache. Tests never reach it:
 * the testbed has no resolver outside itself, and the test-built Responder has no forwarder.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import dnsPacket from "dns-packet";
import type { Packet } from "dns-packet";
import type { Forwarder } from "./responder.ts";

/** How long one resolver gets before the next is tried. */
export const upstreamTimeoutMs = 2_000;
/** Cached replies at most; the oldest goes first. */
export const cacheEntriesMax = 10_000;
/** Upper bound on how long any reply is cached, whatever its TTL says. */
export const cacheTtlSecondsMax = 300;
/** Resolvers tried per query at most (resolv.conf allows 3). */
export const upstreamsMax = 3;

interface CacheEntry {
  reply: Packet;
  expiresAtMs: number;
}

export class UpstreamForwarder implements Forwarder {
  readonly #upstreams: string[];
  readonly #nowMs: () => number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(upstreams: readonly string[], nowMs: () => number = Date.now) {
    this.#upstreams = upstreams.slice(0, upstreamsMax);
    this.#nowMs = nowMs;
  }

  async forward(query: Packet): Promise<Packet> {
    const key = cacheKey(query);
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.expiresAtMs > this.#nowMs()) return cached.reply;
    if (this.#upstreams.length === 0) throw new Error("no upstream resolvers configured");
    let lastError: unknown;
    for (const upstream of this.#upstreams) {
      try {
        const reply = await askUpstream(upstream, query);
        this.#remember(key, reply);
        return reply;
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error("every upstream resolver failed", { cause: lastError });
  }

  #remember(key: string, reply: Packet): void {
    const ttlSeconds = Math.min(cacheTtlSecondsMax, ...(reply.answers ?? []).map((answer) => ("ttl" in answer ? (answer.ttl ?? 0) : 0)));
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) return;
    if (this.#cache.size >= cacheEntriesMax) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, { reply, expiresAtMs: this.#nowMs() + ttlSeconds * 1000 });
  }
}

function cacheKey(query: Packet): string {
  const question = query.questions?.[0];
  return `${question?.name.toLowerCase() ?? ""}|${question?.type ?? ""}`;
}

async function askUpstream(upstream: string, query: Packet): Promise<Packet> {
  const socket = dgram.createSocket(net.isIPv6(upstream) ? "udp6" : "udp4");
  const id = Math.floor(Math.random() * 0x10000);
  try {
    return await new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`resolver ${upstream} did not answer in ${upstreamTimeoutMs} ms`)), upstreamTimeoutMs);
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("message", (message) => {
        const reply = dnsPacket.decode(message);
        if (reply.id !== id) return;
        clearTimeout(timer);
        resolve(reply);
      });
      socket.send(dnsPacket.encode({ ...query, id }), 53, upstream);
    });
  } finally {
    socket.close();
  }
}

/** The `nameserver` lines of a resolv.conf, skipping loopback stubs that would loop back to us. */
export function resolversFromResolvConf(path = "/etc/resolv.conf"): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[0] === "nameserver" && fields[1] !== undefined && net.isIP(fields[1]) !== 0)
    .map((fields) => fields[1] ?? "")
    .filter((address) => !address.startsWith("127.") && address !== "::1");
}
