import { describe, expect, it } from "vitest";
import { decodeTokenRequestProtobuf } from "./token.ts";
import { k8sProtobufMagic } from "./wire.ts";

function field(number: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, payload.length]), payload]);
}

function varintField(number: number, value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.push((rest & 0x7f) | (rest >= 0x80 ? 0x80 : 0));
    rest = Math.floor(rest / 128);
  } while (rest > 0);
  return Buffer.from([(number << 3) | 0, ...bytes]);
}

describe("decodeTokenRequestProtobuf()", () => {
  it("reads audiences, expirationSeconds and the bound object from kubectl's envelope", () => {
    const bound = Buffer.concat([field(1, Buffer.from("Pod")), field(2, Buffer.from("v1")), field(3, Buffer.from("web")), field(4, Buffer.from("u-1"))]);
    const spec = Buffer.concat([field(1, Buffer.from("a")), field(1, Buffer.from("b")), field(3, bound), varintField(4, 7200)]);
    const typeMeta = Buffer.concat([field(1, Buffer.from("authentication.k8s.io/v1")), field(2, Buffer.from("TokenRequest"))]);
    const unknown = Buffer.concat([field(1, typeMeta), field(2, field(2, spec))]);
    const body = Buffer.concat([k8sProtobufMagic, unknown]);
    expect(decodeTokenRequestProtobuf(body)).toEqual({
      spec: { audiences: ["a", "b"], expirationSeconds: 7200, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web", uid: "u-1" } },
    });
  });

  it("refuses a body without the magic", () => {
    expect(() => decodeTokenRequestProtobuf(Buffer.from("{}"))).toThrow("magic");
  });
});
