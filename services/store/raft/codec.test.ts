import { describe, expect, it } from "vitest";
import { EntryType } from "../../../libs/raft/index.ts";
import {
  ByteReader,
  ByteWriter,
  CodecError,
  decodeEntry,
  decodeEnvelope,
  decodeHardState,
  decodeNodeSnapshot,
  decodePeers,
  decodeSnapshotRecord,
  encodeEntry,
  encodeEnvelope,
  encodeHardState,
  encodeNodeSnapshot,
  encodePeers,
  encodeSnapshotRecord,
  type SnapshotRecord,
} from "./codec.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("codec", () => {
  it("round-trips entries, hard states, peers and envelopes", () => {
    const entry = { term: 2 ** 40, index: 2 ** 53 - 1, type: EntryType.ConfChange, data: bytes("payload") };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    const hardState = { term: 9, vote: 3, commit: 1234 };
    expect(decodeHardState(encodeHardState(hardState))).toEqual(hardState);
    const peers = new Map([
      [3, "http://c:2380"],
      [1, "http://a:2380"],
    ]);
    expect(decodePeers(encodePeers(peers))).toEqual(peers);
    const envelope = decodeEnvelope(encodeEnvelope(0xfedc_ba98_7654_3210n, bytes("body")));
    expect(envelope.requestId).toBe(0xfedc_ba98_7654_3210n);
    expect(new TextDecoder().decode(envelope.payload)).toBe("body");
  });

  it("keeps every envelope intact while many share slabs, and gives a large one its own buffer", () => {
    // Enough envelopes of odd sizes to fill several 64 KiB slabs.
    const sizes = Array.from({ length: 2000 }, (_, index) => (index * 37) % 301);
    const envelopes = sizes.map((size, index) => encodeEnvelope(BigInt(index) * 0x1_0000_0001n, new Uint8Array(size).fill(index % 251)));
    envelopes.forEach((encoded, index) => {
      const { requestId, payload } = decodeEnvelope(encoded);
      expect(requestId).toBe(BigInt(index) * 0x1_0000_0001n);
      expect(payload.length).toBe(sizes[index]);
      expect(payload.every((byte) => byte === index % 251)).toBe(true);
    });
    const shared = new Set(envelopes.map((encoded) => encoded.buffer));
    expect(shared.size).toBeLessThan(envelopes.length / 100);
    const large = encodeEnvelope(7n, new Uint8Array(10_000).fill(3));
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(10_008);
    expect(decodeEnvelope(large).requestId).toBe(7n);
  });

  it("round-trips snapshot records with inline data and with a file name", () => {
    const metadata = { index: 77, term: 5, confState: { voters: [1, 2, 3], learners: [4] } };
    const inline: SnapshotRecord = { metadata, dataBytes: 3, dataCrc32c: 0xdeadbeef, location: { kind: "inline", data: Uint8Array.of(1, 2, 3) } };
    const file: SnapshotRecord = { metadata, dataBytes: 1 << 30, dataCrc32c: 1, location: { kind: "file", fileName: "x.snap" } };
    expect(decodeSnapshotRecord(encodeSnapshotRecord(inline))).toEqual(inline);
    expect(decodeSnapshotRecord(encodeSnapshotRecord(file))).toEqual(file);
  });

  it("round-trips a node snapshot: members, removed members and the state machine's bytes", () => {
    const snapshot = { peers: new Map([[1, "http://a:2380"]]), removed: new Set([9, 4]), stateMachine: bytes("state") };
    const decoded = decodeNodeSnapshot(encodeNodeSnapshot(snapshot));
    expect(decoded.peers).toEqual(snapshot.peers);
    expect([...decoded.removed].sort()).toEqual([4, 9]);
    expect(new TextDecoder().decode(decoded.stateMachine)).toBe("state");
  });

  it("names the field a truncated record ran out in", () => {
    const encoded = encodeHardState({ term: 1, vote: 2, commit: 3 });
    expect(() => decodeHardState(encoded.subarray(0, 20))).toThrow(/truncated: commit needs 8 bytes/);
    expect(() => decodeHardState(Uint8Array.of(...encoded, 0))).toThrow(CodecError);
  });

  it("refuses 64-bit values beyond the safe integers, on write and on read", () => {
    expect(() => new ByteWriter().u64(2 ** 53)).toThrow(/u64 is a non-negative safe integer/);
    const tooLarge = Uint8Array.of(0x00, 0x20, 0, 0, 0, 0, 0, 0);
    expect(() => new ByteReader(tooLarge).u64("term")).toThrow(/term .* is not a safe integer/);
  });

  it("refuses an unknown entry type and an envelope shorter than its request id", () => {
    const entry = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) });
    entry[16] = 9;
    expect(() => decodeEntry(entry)).toThrow(/entry type 9 is unknown/);
    expect(() => decodeEnvelope(Uint8Array.of(1, 2, 3))).toThrow(/shorter than its request id/);
  });
});
