import dnsPacket from "dns-packet";
import { describe, expect, it } from "vitest";
import { Responder, rcode } from "./responder.ts";
import { ClusterZone } from "./zone.ts";

const responder = new Responder({ zone: new ClusterZone({ domain: "cluster.local", ttlSeconds: 5 }) });

describe("Responder", () => {
  it("answers an unparseable message with FORMERR and its id", async () => {
    const garbage = Buffer.from([0x12, 0x34, 0x00, 0x00, 0x00, 0x05]);
    const reply = await responder.answer(garbage, "udp");
    const decoded = dnsPacket.decode(reply ?? Buffer.alloc(0));
    expect(decoded.id).toBe(0x1234);
    expect((decoded.flags ?? 0) & 0xf).toBe(rcode.formatError);
  });

  it("does not answer a response (no reflection loops)", async () => {
    const response = dnsPacket.encode({ type: "response", id: 7, questions: [{ type: "A", name: "x.cluster.local" }], answers: [] });
    expect(await responder.answer(response, "udp")).toBeUndefined();
  });

  it("refuses a message with two questions as FORMERR", async () => {
    const query = dnsPacket.encode({ type: "query", id: 9, questions: [{ type: "A", name: "a.cluster.local" }, { type: "A", name: "b.cluster.local" }] });
    const decoded = dnsPacket.decode((await responder.answer(query, "udp")) ?? Buffer.alloc(0));
    expect((decoded.flags ?? 0) & 0xf).toBe(rcode.formatError);
  });

  it("copies the recursion-desired bit and marks cluster answers authoritative", async () => {
    const query = dnsPacket.encode({ type: "query", id: 11, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name: "nope.default.svc.cluster.local" }] });
    const decoded = dnsPacket.decode((await responder.answer(query, "udp")) ?? Buffer.alloc(0));
    expect(decoded.flag_rd).toBe(true);
    expect(decoded.flag_aa).toBe(true);
    expect((decoded.flags ?? 0) & 0xf).toBe(rcode.nameError);
  });
});
