import { describe, expect, it } from "vitest";
import { objectJsonBytes, requestedOptionalKinds } from "./wire.ts";

describe("objectJsonBytes", () => {
  it("encodes a frozen object once and hands every stream the same bytes", () => {
    const node = Object.freeze({ kind: "Node", metadata: Object.freeze({ name: "n1" }) });
    const first = objectJsonBytes(node);
    expect(JSON.parse(first.toString("utf8"))).toEqual({ kind: "Node", metadata: { name: "n1" } });
    expect(objectJsonBytes(node)).toBe(first);
  });

  it("encodes an object that may still change every time", () => {
    const stub: { kind: string; metadata: { name: string } } = { kind: "Secret", metadata: { name: "a" } };
    expect(objectJsonBytes(stub).toString("utf8")).toContain('"a"');
    stub.metadata.name = "b";
    expect(objectJsonBytes(stub).toString("utf8")).toContain('"b"');
  });
});

describe("requestedOptionalKinds", () => {
  it("means every kind for a request without the filter flag", () => {
    expect(requestedOptionalKinds({})).toBeUndefined();
    expect(requestedOptionalKinds({ filter_optional_kinds: false, optional_kinds: ["NODE"] })).toBeUndefined();
  });

  it("means only the listed kinds, possibly none, with the flag", () => {
    expect(requestedOptionalKinds({ filter_optional_kinds: true, optional_kinds: [] })).toEqual(new Set());
    expect(requestedOptionalKinds({ filter_optional_kinds: true, optional_kinds: ["NODE"] })).toEqual(new Set(["NODE"]));
  });
});
