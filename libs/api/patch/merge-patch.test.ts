import { describe, expect, it } from "vitest";
import type { JsonValue } from "./json.ts";
import { applyMergePatch, createMergePatch, createThreeWayJsonMergePatch } from "./merge-patch.ts";

// RFC 7386 appendix A: original, patch, result.
const appendixA: Array<[JsonValue, JsonValue, JsonValue]> = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe("applyMergePatch()", () => {
  it.each(appendixA)("RFC 7386 appendix A: %j patched with %j", (original, patch, result) => {
    expect(applyMergePatch(original, patch)).toEqual(result);
  });

  it("follows the RFC 7386 section 3 example", () => {
    const original = { title: "Goodbye!", author: { givenName: "John", familyName: "Doe" }, tags: ["example", "sample"], content: "This will be unchanged" };
    const patch = { title: "Hello!", phoneNumber: "+01-123-456-7890", author: { familyName: null }, tags: ["example"] };
    expect(applyMergePatch(original, patch)).toEqual({
      title: "Hello!",
      author: { givenName: "John" },
      tags: ["example"],
      content: "This will be unchanged",
      phoneNumber: "+01-123-456-7890",
    });
  });

  it("does not modify its arguments", () => {
    const original = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    applyMergePatch(original, patch);
    expect(original).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});

describe("createMergePatch()", () => {
  it("produces a patch that turns the original into the modified document", () => {
    const original = { a: 1, b: { c: 2, d: 3 }, list: [1, 2] };
    const modified = { a: 1, b: { c: 5 }, list: [2], e: "new" };
    const patch = createMergePatch(original, modified);
    expect(patch).toEqual({ b: { c: 5, d: null }, list: [2], e: "new" });
    expect(applyMergePatch(original, patch)).toEqual(modified);
  });
});

describe("createThreeWayJsonMergePatch()", () => {
  it("deletes what the last manifest had and the new one dropped, and keeps fields set by others", () => {
    const original = { spec: { a: 1, b: 2 } };
    const modified = { spec: { a: 3 } };
    const current = { spec: { a: 1, b: 2, replicas: 5 } };
    const patch = createThreeWayJsonMergePatch(original, modified, current);
    expect(patch).toEqual({ spec: { a: 3, b: null } });
    expect(applyMergePatch(current, patch)).toEqual({ spec: { a: 3, replicas: 5 } });
  });
});
