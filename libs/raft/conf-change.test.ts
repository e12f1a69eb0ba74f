import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { decodeConfChange, encodeConfChange } from "./conf-change.ts";
import { ConfChangeType } from "./types.ts";
import type { ConfChange } from "./types.ts";

// The ConfChange definitions of proto/raft.proto, for protobufjs to encode independently.
const protoText = `
syntax = "proto3";
package flotilla.raft;
enum ConfChangeType {
  CONF_CHANGE_ADD_NODE = 0;
  CONF_CHANGE_REMOVE_NODE = 1;
  CONF_CHANGE_ADD_LEARNER_NODE = 2;
}
message ConfChange {
  ConfChangeType type = 1;
  uint64 node_id = 2;
  bytes context = 3;
}`;
const ProtoConfChange = protobuf.parse(protoText).root.lookupType("flotilla.raft.ConfChange");

function protobufEncode(change: ConfChange): Uint8Array {
  const encoded = ProtoConfChange.encode(ProtoConfChange.create({ type: change.type, nodeId: change.nodeId, context: change.context })).finish();
  return new Uint8Array(encoded); // protobufjs hands out a Buffer under Node
}

const samples: ConfChange[] = [
  { type: ConfChangeType.AddNode, nodeId: 1, context: new Uint8Array() },
  { type: ConfChangeType.RemoveNode, nodeId: 300, context: new Uint8Array([1, 2, 3]) },
  { type: ConfChangeType.AddLearnerNode, nodeId: 2 ** 40 + 5, context: new TextEncoder().encode("ctx") },
  { type: ConfChangeType.AddNode, nodeId: 0, context: new Uint8Array() },
  { type: ConfChangeType.RemoveNode, nodeId: Number.MAX_SAFE_INTEGER, context: new Uint8Array(200).fill(9) },
];

describe("encodeConfChange / decodeConfChange", () => {
  it("encodes byte for byte as protobuf does (field 1 varint type, 2 varint node_id, 3 bytes context)", () => {
    for (const change of samples) expect(encodeConfChange(change)).toEqual(protobufEncode(change));
  });

  it("writes the exact wire bytes for a small example", () => {
    const bytes = encodeConfChange({ type: ConfChangeType.AddLearnerNode, nodeId: 300, context: new Uint8Array([1, 2]) });
    expect([...bytes]).toEqual([0x08, 0x02, 0x10, 0xac, 0x02, 0x1a, 0x02, 0x01, 0x02]);
  });

  it("decodes what it encodes", () => {
    for (const change of samples) expect(decodeConfChange(encodeConfChange(change))).toEqual(change);
  });

  it("decodes fields in any order and skips unknown fields", () => {
    // field 3 (bytes "x"), unknown field 9 varint 5, unknown field 10 fixed32, field 2 = 7, field 1 = 1
    const bytes = new Uint8Array([0x1a, 0x01, 0x78, 0x48, 0x05, 0x55, 1, 2, 3, 4, 0x10, 0x07, 0x08, 0x01]);
    expect(decodeConfChange(bytes)).toEqual({ type: ConfChangeType.RemoveNode, nodeId: 7, context: new Uint8Array([0x78]) });
  });

  it("rejects truncated input, an unknown type and ids beyond the safe integer range", () => {
    expect(() => decodeConfChange(new Uint8Array([0x10, 0x80]))).toThrow(/truncated varint/);
    expect(() => decodeConfChange(new Uint8Array([0x1a, 0x05, 0x01]))).toThrow(/truncated bytes/);
    expect(() => decodeConfChange(new Uint8Array([0x08, 0x09]))).toThrow(/unknown type 9/);
    const huge = new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => decodeConfChange(huge)).toThrow(/safe integer/);
    expect(() => encodeConfChange({ type: ConfChangeType.AddNode, nodeId: -1, context: new Uint8Array() })).toThrow(RangeError);
  });
});
