import { describe, expect, it } from "vitest";
import { decodeProtobufObject, protobufMagic, ProtobufDecodeError } from "./protobuf.ts";

// A tiny encoder for the test: length-delimited fields and varints.
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
const bytesField = (number: number, value: Buffer | string): Buffer => {
  const payload = Buffer.from(value);
  return Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
};
const varintField = (number: number, value: number): Buffer => Buffer.concat([varint(number << 3), varint(value)]);
const mapEntry = (number: number, key: string, value: string): Buffer => bytesField(number, Buffer.concat([bytesField(1, key), bytesField(2, value)]));

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)]);
  return Buffer.concat([protobufMagic, bytesField(1, typeMeta), bytesField(2, raw), bytesField(4, "")]);
}

describe("decodeProtobufObject", () => {
  it("reads a Namespace with labels and spec finalizers", () => {
    const metadata = Buffer.concat([bytesField(1, "demo"), mapEntry(11, "team", "a"), mapEntry(12, "note", "x")]);
    const raw = Buffer.concat([bytesField(1, metadata), bytesField(2, bytesField(1, "kubernetes"))]);
    expect(decodeProtobufObject(envelope("v1", "Namespace", raw))).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "demo", labels: { team: "a" }, annotations: { note: "x" } },
      spec: { finalizers: ["kubernetes"] },
    });
  });

  it("reads a ConfigMap's data and a Secret's bytes as base64", () => {
    const configMap = Buffer.concat([bytesField(1, bytesField(1, "cm")), mapEntry(2, "a", "b"), varintField(4, 1)]);
    expect(decodeProtobufObject(envelope("v1", "ConfigMap", configMap))).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { a: "b" }, immutable: true });
    const secret = Buffer.concat([bytesField(1, bytesField(1, "s")), mapEntry(2, "p", "q"), bytesField(3, "Opaque")]);
    expect(decodeProtobufObject(envelope("v1", "Secret", secret))).toEqual({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { p: "cQ==" }, type: "Opaque" });
  });

  it("returns undefined for kinds it does not know, and throws on bad bytes", () => {
    expect(decodeProtobufObject(envelope("apps/v1", "Deployment", bytesField(1, bytesField(1, "d"))))).toBeUndefined();
    expect(() => decodeProtobufObject(Buffer.from("{}"))).toThrow(ProtobufDecodeError);
    expect(() => decodeProtobufObject(Buffer.concat([protobufMagic, Buffer.from([0x0a, 0x20, 0x01])]))).toThrow(ProtobufDecodeError);
  });
});
