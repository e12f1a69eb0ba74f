/**
 * One DNS message in, one out: decodes a query with dns-packet, answers names of the cluster zone
 * from ClusterZone, hands every other name to a Forwarder, and encodes the reply, truncated for
 * UDP when it does not fit the client's buffer.
 */
import dnsPacket from "dns-packet";
import type { Answer, Packet, Question } from "dns-packet";
import type { ClusterZone, ZoneRecord } from "./zone.ts";

/** Response codes (RFC 1035 §4.1.1), carried in the low 4 bits of the header flags. */
export const rcode = { noError: 0, formatError: 1, serverFailure: 2, nameError: 3, notImplemented: 4, refused: 5 } as const;

/** RFC 1035's UDP limit when the client sends no EDNS OPT record. */
export const udpPayloadBytesDefault = 512;
/** We never answer more than this over UDP, whatever the client advertises. */
export const udpPayloadBytesMax = 4096;

/** Asks the node's resolvers about names outside the cluster zone; resolves a whole reply. */
export interface Forwarder {
  forward(query: Packet): Promise<Packet>;
}

export interface ResponderOptions {
  zone: ClusterZone;
  /** Absent: names outside the zone get REFUSED (tests never reach outside resolvers). */
  forwarder?: Forwarder;
}

export type Transport = "udp" | "tcp";

export class Responder {
  readonly #zone: ClusterZone;
  readonly #forwarder: Forwarder | undefined;

  constructor(options: ResponderOptions) {
    this.#zone = options.zone;
    this.#forwarder = options.forwarder;
  }

  /** Answers one wire-format message; undefined when it is not worth an answer (a response, garbage). */
  async answer(message: Buffer, transport: Transport): Promise<Buffer | undefined> {
    let query: Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return formatErrorReply(message);
    }
    if (query.type === "response") return undefined;
    const reply = await this.#reply(query);
    return encodeForTransport(reply, transport, advertisedPayloadBytes(query));
  }

  async #reply(query: Packet): Promise<Packet> {
    const question = query.questions?.[0];
    if (question === undefined || (query.questions?.length ?? 0) !== 1) return replyTo(query, rcode.formatError, []);
    const result = this.#zone.lookup(question.name, question.type);
    switch (result.kind) {
      case "answer":
        return replyTo(query, rcode.noError, result.records.map((record) => toAnswer(record, question)), true);
      case "nodata":
        return { ...replyTo(query, rcode.noError, [], true), authorities: [this.#soa()] };
      case "nxdomain":
        return { ...replyTo(query, rcode.nameError, [], true), authorities: [this.#soa()] };
      case "outside":
        return this.#forward(query);
    }
  }

  async #forward(query: Packet): Promise<Packet> {
    if (this.#forwarder === undefined) return replyTo(query, rcode.refused, []);
    try {
      const upstream = await this.#forwarder.forward(query);
      return { ...upstream, id: query.id ?? 0 };
    } catch {
      return replyTo(query, rcode.serverFailure, []);
    }
  }

  /** The zone's SOA, sent with negative answers so resolvers cache them for the zone's TTL. */
  #soa(): Answer {
    const domain = this.#zone.domain;
    return {
      name: domain,
      type: "SOA",
      ttl: 5,
      data: {
        mname: `ns.dns.${domain}`,
        rname: `hostmaster.${domain}`,
        serial: 1,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 5,
      },
    };
  }
}

function replyTo(query: Packet, code: number, answers: Answer[], authoritative = false): Packet {
  const recursionDesired = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const flags = code | recursionDesired | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0);
  return { type: "response", id: query.id ?? 0, flags, questions: query.questions ?? [], answers, authorities: [], additionals: [] };
}

function toAnswer(record: ZoneRecord, question: Question): Answer {
  const base = { name: question.name.replace(/\.$/, ""), ttl: record.ttlSeconds, class: "IN" as const };
  // A CNAME answers whatever type was asked; the record keeps the owner name as asked.
  if (typeof record.data === "string") return { ...base, type: record.type as "A", data: record.data };
  return { ...base, type: "SRV", data: { ...record.data } };
}

function advertisedPayloadBytes(query: Packet): number {
  const opt = query.additionals?.find((answer) => answer.type === "OPT");
  if (opt === undefined || !("udpPayloadSize" in opt)) return udpPayloadBytesDefault;
  return Math.min(Math.max(opt.udpPayloadSize, udpPayloadBytesDefault), udpPayloadBytesMax);
}

function encodeForTransport(reply: Packet, transport: Transport, payloadBytes: number): Buffer {
  const encoded = dnsPacket.encode(reply);
  if (transport === "tcp" || encoded.length <= payloadBytes) return encoded;
  // Too big for this datagram: say so (TC) with no records, and the client retries over TCP.
  const truncated = { ...reply, flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] };
  return dnsPacket.encode(truncated);
}

/** FORMERR for a message we cannot parse, echoing its id when the header is there. */
function formatErrorReply(message: Buffer): Buffer | undefined {
  if (message.length < 2) return undefined;
  return dnsPacket.encode({ type: "response", id: message.readUInt16BE(0), flags: rcode.formatError, questions: [], answers: [] });
}
